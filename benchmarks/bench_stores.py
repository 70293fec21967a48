"""Benchmark: the default embedded store (pyoxigraph) against plain rdflib, side by side.

For each size it generates a seeded synthetic findings graph merged with the real ontology,
then measures in one run: Turtle parse/load, rule materialisation and every stored query
(median of several runs), for both stores, and prints the times and the rdflib/oxigraph
ratios. Usage: ``python benchmarks/bench_stores.py [--findings 1000 5000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import pyoxigraph as ox
from rdflib import Graph
from synthetic import first_condition, synthetic_graph

from neuromech.loading import load_files
from neuromech.paths import project
from neuromech.queries import bind_parameters, load_catalogue
from neuromech.reasoning import load_rules, materialise
from neuromech.store import OxigraphStore, RdflibStore, Term


def timed(action: Callable[[], object], repeat: int) -> float:
    """Return the median wall time of ``repeat`` runs of ``action``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    """Run the benchmark and print one table per size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--findings", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    paths = project()
    ontology = load_files(paths.ontology_files()).graph
    catalogue = load_catalogue(paths.queries_dir)
    rules = load_rules(paths.rules_dir)
    for size in args.findings:
        graph = synthetic_graph(size) + ontology
        turtle = graph.serialize(format="turtle")
        rows: list[tuple[str, float, float]] = []
        rows.append(
            (
                "parse Turtle",
                timed(lambda: Graph().parse(data=turtle, format="turtle"), 1),
                timed(lambda: ox.Store().load(turtle.encode(), format=ox.RdfFormat.TURTLE), args.repeat),
            )
        )
        stores = {"rdflib": RdflibStore.from_graph(graph), "oxigraph": OxigraphStore.from_graph(graph)}
        rows.append(
            (
                "materialise rules",
                timed(lambda: materialise(RdflibStore.from_graph(graph), rules), 1),
                timed(lambda: materialise(OxigraphStore.from_graph(graph), rules), args.repeat),
            )
        )
        for store in stores.values():
            materialise(store, rules)
        condition = str(first_condition(graph))
        values = {"condition": condition, "a": condition, "b": condition.replace("-0", "-1"),
                  "entity": str(graph.value(None, None, None) or ""), "method": "nme:task-fmri",
                  "study": "https://w3id.org/neuromech/study/synthetic-1"}
        for name, query in catalogue.items():
            bound: dict[str, Term] = bind_parameters(
                query, {p.name: values[p.name] for p in query.parameters if p.required}
            )
            times = [timed(lambda s=s: s.select(query.text, bound), args.repeat) for s in stores.values()]
            rows.append((f"query {name}", times[0], times[1]))
        print(f"\n{size} findings, {len(graph)} triples")
        print(f"{'step':32} {'rdflib s':>10} {'oxigraph s':>11} {'ratio':>8}")
        for step, slow, fast in rows:
            print(f"{step:32} {slow:10.4f} {fast:11.4f} {slow / max(fast, 1e-9):7.1f}x")


if __name__ == "__main__":
    main()
