"""Benchmark: every stored query on the default store (pyoxigraph) at 10^5 and 10^6 triples.

For each size it builds the seeded synthetic graph (``benchmarks/synthetic.py``) merged with
the real ontology and import modules, loads it into an :class:`~neuromech.store.OxigraphStore`
and materialises the rules of ``ontology/rules/``, as ``neuromech build`` does. The
materialised store is cached as an N-Quads dump (``--cache``, default
``$TMPDIR/neuromech-bench-cache``), keyed by size, seed and a hash of the rules, the ontology
files and the generator, so a rerun loads it in seconds instead of materialising again.

Then every stored query runs with the parameters of ``synthetic.PARAMETER_VALUES``, after one
untimed warm-up: the median of ``--repeat`` runs of

- ``eval``: Oxigraph's evaluation, iterating the raw pyoxigraph solutions
  (``store.native.query``), and
- ``select``: what callers get, ``OxigraphStore.select`` (evaluation plus conversion of every
  cell to an rdflib term); ``conv`` is the difference.

A query whose ``select`` median is above ``--budget`` (100 ms) at a size fails there; a query
with no rows is flagged ``(0 rows)``, since its time then says little. ``--results DIR``
writes each query's rows (as text, sorted) per size, to compare a rewritten query's answers
with the original's: ``diff -r before/ after/``.

``--skew corpus`` spreads the findings over conditions and entities as the curated corpus
does (Zipf's law) instead of the default heavy head (``synthetic.SKEWS``).

Usage: ``python benchmarks/bench_queries.py [--triples 100000 1000000] [--repeat 5] [--skew corpus]
[--only findings conflicts] [--results DIR]``.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox
from synthetic import PARAMETER_VALUES, SKEWS, synthetic_graph

from neuromech import loading, queries
from neuromech.paths import ProjectPaths, project
from neuromech.reasoning import materialise
from neuromech.rules import load_rules
from neuromech.store import OxigraphStore, with_values

TRIPLES_PER_FINDING = 15.8  # measured on synthetic_graph at 5,000 findings (findings, statements, context)


def cache_key(paths: ProjectPaths, target: int, seed: int, skew: str) -> str:
    """Return a key naming the materialised store of one size, seed, skew, rule set and generator."""
    digest = hashlib.sha256(f"{target}:{seed}:{skew}".encode())
    sources = [*sorted(paths.rules_dir.glob("*.rq")), *paths.ontology_files(), Path(__file__).with_name("synthetic.py")]
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_store(paths: ProjectPaths, target: int, seed: int, skew: str, cache: Path) -> tuple[OxigraphStore, str]:
    """Return the materialised store of about ``target`` triples and how it was obtained."""
    dump = cache / f"synthetic-{target}-seed{seed}-{skew}-{cache_key(paths, target, seed, skew)}.nq"
    store = OxigraphStore()
    if dump.exists():
        started = time.perf_counter()
        store.native.bulk_load(path=dump, format=ox.RdfFormat.N_QUADS)
        return store, f"loaded from cache {dump} in {time.perf_counter() - started:.1f} s"
    started = time.perf_counter()
    ontology = loading.load_files(paths.ontology_files()).graph
    findings = max(10, int((target - len(ontology)) / TRIPLES_PER_FINDING))
    graph = synthetic_graph(findings, seed, skew) + ontology
    store.add(graph)
    del graph
    generated = time.perf_counter() - started
    started = time.perf_counter()
    report = materialise(store, load_rules(paths.rules_dir))
    materialised = time.perf_counter() - started
    cache.mkdir(parents=True, exist_ok=True)
    partial = dump.with_suffix(".partial")
    store.native.dump(partial, ox.RdfFormat.N_QUADS)
    partial.replace(dump)  # atomic: a killed run leaves no half-written cache entry
    return store, (
        f"{findings} findings generated and loaded in {generated:.1f} s; materialised "
        f"{report.added} triples in {report.rounds} rounds in {materialised:.1f} s; cached as {dump}"
    )


def median_seconds(action: Callable[[], object], repeat: int, cap: float) -> float:
    """Return the median time of ``repeat`` runs of ``action`` (fewer once a run exceeds ``cap``)."""
    times: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
        if times[-1] > cap:
            break
    return statistics.median(times)


def time_query(
    store: OxigraphStore, query: queries.StoredQuery, repeat: int, cap: float, results: Path | None
) -> tuple[int, float, float]:
    """Time one stored query: its rows, and the eval and select median seconds."""
    values = {p.name: PARAMETER_VALUES[p.name] for p in query.parameters if p.required}
    bindings = queries.bind_parameters(query, values)
    text = with_values(query.text, bindings)

    def evaluate() -> int:
        rows = 0
        for _ in store.native.query(text, use_default_graph_as_union=True):  # type: ignore[union-attr]
            rows += 1
        return rows

    table = store.select(query.text, bindings)  # warm-up, and the rows for --results
    if results is not None:
        results.mkdir(parents=True, exist_ok=True)
        lines = sorted("\t".join(row) for row in queries.normalised_rows(table))
        body = "\t".join(table.variables) + "\n" + "".join(line + "\n" for line in lines)
        (results / f"{query.name}.tsv").write_text(body, encoding="utf-8")
    return (
        len(table.rows),
        median_seconds(evaluate, repeat, cap),
        median_seconds(lambda: store.select(query.text, bindings), repeat, cap),
    )


def _child(conn: Connection, store: OxigraphStore, query: queries.StoredQuery, options: argparse.Namespace) -> None:
    conn.send(time_query(store, query, options.repeat, options.cap, options.results_dir))


def time_queries(
    store: OxigraphStore,
    paths: ProjectPaths,
    names: list[str] | None,
    options: argparse.Namespace,
) -> dict[str, tuple[int, float, float] | None]:
    """Time every stored query (or those of ``names``), each in a forked child under a timeout.

    The child shares the loaded store copy-on-write; a query still running after
    ``options.timeout`` seconds is killed and recorded as None.
    """
    catalogue = queries.load_catalogue(paths.queries_dir)
    timings: dict[str, tuple[int, float, float] | None] = {}
    context = multiprocessing.get_context("fork")
    for name, query in catalogue.items():
        if names and name not in names:
            continue
        receive, send = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(send, store, query, options))
        child.start()
        timings[name] = receive.recv() if receive.poll(options.timeout) else None
        child.kill()
        child.join()
        done = timings[name]
        shown = f"{done[0]} rows, select {done[2] * 1000:.1f} ms" if done else f"> {options.timeout:g} s"
        print(f"  {name}: {shown}", file=sys.stderr, flush=True)
    return timings


def main() -> None:
    """Build (or load) each size, time every stored query, print one table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--skew", choices=SKEWS, default="heavy", help="how findings spread over conditions and entities (SKEWS)"
    )
    parser.add_argument("--budget", type=float, default=0.1, help="seconds allowed to one query (median)")
    parser.add_argument("--cap", type=float, default=5.0, help="stop repeating a query once one run takes this long")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds after which a query is abandoned")
    parser.add_argument("--only", nargs="+", help="time only these stored queries")
    parser.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "neuromech-bench-cache"
    )
    parser.add_argument("--results", type=Path, help="write each query's sorted rows to DIR/<triples>/<query>.tsv")
    args = parser.parse_args()
    paths = project()
    table: dict[int, dict[str, tuple[int, float, float] | None]] = {}
    for target in args.triples:
        store, how = build_store(paths, target, args.seed, args.skew, args.cache)
        print(f"{target} triples target ({args.skew} skew): {len(store)} quads; {how}", flush=True)
        args.results_dir = args.results / str(target) if args.results else None
        table[target] = time_queries(store, paths, args.only, args)
        del store
    print(f"\nmedian of {args.repeat} (ms; eval = Oxigraph evaluation, conv = conversion to rdflib terms)")
    header = f"{'query':30}" + "".join(f"{'rows':>8}{'eval':>9}{'conv':>8}{'select':>9}" for _ in args.triples)
    print(" " * 30 + "".join(f"{f'--- {t:.0e} triples ---':>34}" for t in args.triples))
    print(header + "  budget")
    failed = 0
    for name in next(iter(table.values())):
        line = f"{name:30}"
        verdict = "pass"
        for target in args.triples:
            timing = table[target][name]
            if timing is None:
                line += f"{'?':>8}{'>' + format(args.timeout, 'g') + ' s':>26}"
                verdict = f"FAIL at {target:.0e}"
                continue
            rows, evaluation, select = timing
            line += f"{rows:>8}{evaluation * 1000:>9.1f}{(select - evaluation) * 1000:>8.1f}{select * 1000:>9.1f}"
            if select > args.budget:
                verdict = f"FAIL at {target:.0e}"
        failed += verdict != "pass"
        zero = [t for t in args.triples if (table[t][name] or (1,))[0] == 0]
        print(f"{line}  {verdict}" + (" (0 rows)" if zero else ""))
    print(f"\n{failed} of {len(next(iter(table.values())))} queries above {args.budget * 1000:.0f} ms at some size")


if __name__ == "__main__":
    main()
