"""Benchmark: the default embedded store (pyoxigraph) against plain rdflib, side by side.

For each size it generates a seeded synthetic findings graph (benchmarks/synthetic.py) merged
with the real ontology, then measures in one run, for both stores: Turtle parsing, rule
materialisation, and every stored query (median of ``--repeat`` runs). rdflib runs in a child
process with a time cap (``--cap`` seconds), because some of its query plans take minutes on
graphs Oxigraph answers in milliseconds; a capped run is printed as ``>cap`` and its ratio as
a lower bound. Usage: ``python benchmarks/bench_stores.py [--findings 200 1000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from collections.abc import Callable

import pyoxigraph as ox
from rdflib import Graph
from synthetic import PARAMETER_VALUES as VALUES
from synthetic import synthetic_graph

from neuromech.loading import load_files
from neuromech.paths import project
from neuromech.queries import StoredQuery, bind_parameters, load_catalogue
from neuromech.reasoning import materialise
from neuromech.rules import Rule, load_rules
from neuromech.store import OxigraphStore, RdflibStore, Store, Term


def timed(action: Callable[[], object], repeat: int) -> float:
    """Return the median wall time of ``repeat`` runs of ``action``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _child(action: Callable[[], object], repeat: int, queue: multiprocessing.Queue[float]) -> None:
    queue.put(timed(action, repeat))


def capped(action: Callable[[], object], repeat: int, cap: float) -> float | None:
    """Time ``action`` in a forked child; return None when it has not finished after ``cap`` s."""
    queue: multiprocessing.Queue[float] = multiprocessing.Queue()
    child = multiprocessing.get_context("fork").Process(target=_child, args=(action, repeat, queue))
    child.start()
    child.join(cap)
    if child.is_alive():
        child.terminate()
        child.join()
        return None
    return queue.get()


def query_action(store: Store, query: StoredQuery) -> Callable[[], object]:
    """Return a call running ``query`` on ``store`` with the benchmark's parameter values."""
    bound: dict[str, Term] = bind_parameters(query, {p.name: VALUES[p.name] for p in query.parameters if p.required})
    return lambda: store.select(query.text, bound)


def parse_rdflib(turtle: str) -> Callable[[], object]:
    """Return a call parsing ``turtle`` with rdflib."""
    return lambda: Graph().parse(data=turtle, format="turtle")


def parse_oxigraph(turtle: str) -> Callable[[], object]:
    """Return a call loading ``turtle`` into a fresh pyoxigraph store."""
    data = turtle.encode()
    return lambda: ox.Store().load(data, format=ox.RdfFormat.TURTLE)


def materialise_on(factory: Callable[[Graph], Store], graph: Graph, rules: list[Rule]) -> Callable[[], object]:
    """Return a call materialising ``rules`` on a fresh store built by ``factory``."""
    return lambda: materialise(factory(graph), rules)


def main() -> None:
    """Run the benchmark and print one table per size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cap", type=float, default=20.0, help="seconds allowed to one rdflib measurement")
    args = parser.parse_args()
    paths = project()
    ontology = load_files(paths.ontology_files()).graph
    catalogue = load_catalogue(paths.queries_dir)
    rules = load_rules(paths.rules_dir)
    for size in args.findings:
        graph = synthetic_graph(size) + ontology
        turtle = graph.serialize(format="turtle")
        rows: list[tuple[str, float | None, float]] = [
            ("parse Turtle", capped(parse_rdflib(turtle), 1, args.cap), timed(parse_oxigraph(turtle), args.repeat)),
            (
                "materialise rules",
                capped(materialise_on(RdflibStore.from_graph, graph, rules), 1, args.cap),
                timed(materialise_on(OxigraphStore.from_graph, graph, rules), args.repeat),
            ),
        ]
        reference, default = RdflibStore.from_graph(graph), OxigraphStore.from_graph(graph)
        materialise(reference, rules)
        materialise(default, rules)
        for name, query in catalogue.items():
            slow = capped(query_action(reference, query), args.repeat, args.cap)
            rows.append((f"query {name}", slow, timed(query_action(default, query), args.repeat)))
        print(f"\n{size} findings, {len(graph)} triples (medians; rdflib capped at {args.cap:g} s)")
        print(f"{'step':34} {'rdflib s':>10} {'oxigraph s':>11} {'rdflib/oxigraph':>16}")
        for step, slow_time, fast in rows:
            if slow_time is None:
                capped_text, bound_text = f">{args.cap:g}", f">{args.cap / fast:.0f}"
                print(f"{step:34} {capped_text:>10} {fast:11.4f} {bound_text:>15}x")
            else:
                print(f"{step:34} {slow_time:10.4f} {fast:11.4f} {slow_time / max(fast, 1e-9):15.1f}x")


if __name__ == "__main__":
    main()
