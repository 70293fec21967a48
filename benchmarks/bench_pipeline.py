"""Benchmark: the whole pipeline at 10^4, 10^5, 10^6 triples, default vs naive rdflib + pyshacl.

For each size it writes a seeded synthetic findings graph (benchmarks/synthetic.py: the
project's finding model, thousands of entities, findings spread unevenly over conditions and
entities, a part-of hierarchy) merged with the real ontology to a Turtle file, then runs two
pipelines, each in a fresh child process so that peak memory (ru_maxrss) is its own:

- ``default``: what ``neuromech build`` and the query commands do today: rdflib parse
  (``neuromech.loading``), pySHACL validation and, beside it, the same shapes compiled to
  SPARQL on the pyoxigraph store (``validation.validate_store``), rule materialisation,
  every stored query on pyoxigraph, export (Turtle, RDF/XML, JSON-LD, findings.tsv); plus
  ``load (pyoxigraph parse)`` for what a pyoxigraph-only loader would take;
- ``reference``: plain rdflib + pySHACL: the same parse and validation, materialisation and
  every stored query on an rdflib Dataset, export by rdflib.

Each step is capped (``--cap`` seconds, SIGALRM; rdflib and pySHACL are pure Python, so the
alarm interrupts them): a capped step prints ``>cap`` and its ratio as a lower bound.
Usage: ``python benchmarks/bench_pipeline.py [--triples 10000 100000] [--repeat 3] [--cap 120]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox
from capping import TreeSampler, arm, peak_mb, run_step
from rdflib import Graph
from synthetic import PARAMETER_VALUES as VALUES
from synthetic import synthetic_graph

from neuromech import export, loading, queries, validation
from neuromech.paths import project
from neuromech.reasoning import materialise
from neuromech.rules import load_rules
from neuromech.store import OxigraphStore, RdflibStore, Store

TRIPLES_PER_FINDING = 17.2  # measured on synthetic_graph


def child(kind: str, turtle: Path, cap: float, repeat: int) -> dict[str, object]:
    """Run one pipeline on ``turtle`` and return its step times and peak memory."""
    arm()
    paths = project()
    results: dict[str, float | None] = {}
    started = time.perf_counter()
    source = run_step(results, "load (rdflib parse)", lambda: loading.load_files([turtle]), cap)
    if kind == "default":
        run_step(
            results, "load (pyoxigraph parse)", lambda: ox.Store().load(path=turtle, format=ox.RdfFormat.TURTLE), cap
        )
    if not isinstance(source, loading.SourceGraph):
        return {"steps": results, "peak_mb": peak_mb(), "total": None}
    shapes = loading.load_shapes(paths)
    factory = OxigraphStore if kind == "default" else RdflibStore
    store: Store = factory.from_graph(source.graph)
    run_step(results, "validate (pySHACL)", lambda: validation.validate(source, shapes, paths.root), cap)
    if isinstance(store, OxigraphStore):
        run_step(
            results,
            "validate (SHACL as SPARQL, Oxigraph)",
            lambda: validation.validate_store(store, shapes, source.file_of, paths.root),
            cap,
        )
    run_step(results, "materialise rules", lambda: materialise(store, load_rules(paths.rules_dir)), cap)
    catalogue = queries.load_catalogue(paths.queries_dir)
    for name, query in catalogue.items():
        bound = queries.bind_parameters(query, {p.name: VALUES[p.name] for p in query.parameters if p.required})
        times: list[float] = []
        for _ in range(repeat):
            one: dict[str, float | None] = {}
            run_step(one, name, lambda q=query, b=bound: store.select(q.text, b), cap)  # type: ignore[misc]
            if one[name] is None:
                break
            times.append(float(one[name] or 0.0))
        results[f"query {name}"] = statistics.median(times) if len(times) == repeat else None

    def export_all() -> None:
        full = store.to_graph()
        export.graph_serialisations(full)
        export.findings_tsv(store.select(catalogue["findings"].text))

    run_step(results, "export", export_all, cap)
    capped = any(v is None for v in results.values())
    total = None if capped else time.perf_counter() - started
    return {"steps": results, "peak_mb": peak_mb(), "total": total}


def _run_child(kind: str, turtle: Path, cap: float, repeat: int) -> dict[str, object]:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            kind,
            "--turtle",
            str(turtle),
            "--cap",
            str(cap),
            "--repeat",
            str(repeat),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _cell(value: float | None, cap: float) -> str:
    return f">{cap:g}" if value is None else f"{value:.4f}"


def _ratio(slow: float | None, fast: float | None, cap: float) -> str:
    if fast is None:
        return "-"
    if slow is None:
        return f">{cap / max(fast, 1e-9):.0f}x"
    return f"{slow / max(fast, 1e-9):.1f}x"


def main() -> None:
    """Generate each size, run both pipelines, print one table per size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--triples", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cap", type=float, default=120.0, help="seconds allowed to one step")
    parser.add_argument("--only", choices=["default", "reference"], help="run one pipeline only")
    parser.add_argument("--child", choices=["default", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--turtle", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        TreeSampler()  # the peak memory of the pipeline and any child, sampled
        print(json.dumps(child(args.child, args.turtle, args.cap, args.repeat)))
        return
    paths = project()
    ontology = loading.load_files(paths.ontology_files()).graph
    kinds = [args.only] if args.only else ["default", "reference"]
    with tempfile.TemporaryDirectory(prefix="neuromech-bench-") as tmp:
        for target in args.triples:
            findings = max(10, int((target - len(ontology)) / TRIPLES_PER_FINDING))
            graph: Graph = synthetic_graph(findings) + ontology
            turtle = Path(tmp) / f"synthetic-{target}.ttl"
            graph.serialize(turtle, format="turtle")
            n_triples = len(graph)
            del graph
            runs = {kind: _run_child(kind, turtle, args.cap, args.repeat) for kind in kinds}
            print(
                f"\n{findings} findings, {n_triples} triples (step cap {args.cap:g} s; query medians of {args.repeat})"
            )
            header = f"{'step':36}" + "".join(f"{k + ' s':>12}" for k in kinds)
            print(header + (f"{'ref/default':>13}" if len(kinds) == 2 else ""))
            steps: list[str] = []
            for run in runs.values():
                steps += [s for s in run["steps"] if s not in steps]  # type: ignore[union-attr]
            for step in steps:
                values = [run["steps"].get(step, None) if step in run["steps"] else "n/a" for run in runs.values()]  # type: ignore[union-attr]
                cells = "".join(f"{'n/a' if v == 'n/a' else _cell(v, args.cap):>12}" for v in values)  # type: ignore[arg-type]
                line = f"{step:36}{cells}"
                if len(kinds) == 2 and "n/a" not in values:
                    line += f"{_ratio(values[1], values[0], args.cap):>13}"  # type: ignore[arg-type]
                print(line)
            totals = "".join(f"{_cell(run['total'], args.cap * 20):>12}" for run in runs.values())  # type: ignore[arg-type]
            peaks = "".join(f"{run['peak_mb']:>12.0f}" for run in runs.values())
            print(f"{'total wall (s; > if a step capped)':36}{totals}")
            print(f"{'peak memory (MB)':36}{peaks}")


if __name__ == "__main__":
    main()
