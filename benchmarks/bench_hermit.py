"""Benchmark: HermiT's consistency check of the entity layer after an edit, cold and kept warm.

Writes (or reuses) ``bench_build.py``'s synthetic project, reads its entity layer (what a build
hands HermiT), then makes ``--edits`` edits of the kind that needs HermiT in a rebuild: one
entity's part-of edge moved to another whole. After each edit it checks the new layer both ways,
one after the other in the same run:

- ``cold``: HermiT's command line on the whole layer (:class:`neuromech.reasoning.HermitProcess`,
  what a one-off ``neuromech build`` runs: a JVM started, the layer parsed, clausified, a model);
- ``warm``: :class:`neuromech.hermit_server.WarmHermit`, what ``neuromech build --watch`` keeps:
  one JVM for the whole run, sent only the axioms the edit changed.

It prints each pair of times, their ratio, and both verdicts (they must agree). The warm HermiT's
first check reads the whole layer (its JVM starts then) and is printed apart.

Usage: ``python benchmarks/bench_hermit.py [--triples 1000000] [--edits 5] [--root DIR]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench_build import add_project_arguments, project_root

from neuromech import loading, reasoning
from neuromech.entity_check import entity_layer
from neuromech.errors import InconsistentOntology
from neuromech.hermit_server import WarmHermit
from neuromech.paths import ProjectPaths

PART_OF = b"<http://purl.obolibrary.org/obo/BFO_0000050>"


def _cold(layer: bytes) -> bool:
    try:
        reasoning.check_consistent_ntriples(layer)
    except InconsistentOntology:
        return False
    return True


def moved_part_of_edges(layer: bytes, edits: int) -> list[bytes]:
    """Return ``edits`` versions of ``layer``, each with one more part-of edge moved to another whole."""
    lines = layer.split(b"\n")
    edges = [i for i, line in enumerate(lines) if line.split(b" ")[1:2] == [PART_OF] and b"_:" not in line]
    wholes = sorted({lines[i].split(b" ")[2] for i in edges})
    if len(edges) < edits or len(wholes) < 2:
        raise RuntimeError(f"the layer has {len(edges)} part-of edges: too few to edit")
    versions = []
    for n in range(edits):
        line = edges[(n * 7919) % len(edges)]
        subject, predicate, whole, dot = lines[line].split(b" ")
        others = [w for w in wholes if w not in (whole, subject)]
        lines[line] = b" ".join((subject, predicate, others[(n * 104729) % len(others)], dot))
        versions.append(b"\n".join(lines))
    return versions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_project_arguments(parser)
    parser.add_argument("--edits", type=int, default=5)
    args = parser.parse_args()
    paths = ProjectPaths(project_root(args, "neuromech-hermit-"))
    source = loading.load_project_store(paths)
    layer, _ = entity_layer(source)
    del source
    triples = layer.count(b"\n")
    print(f"entity layer: {triples:,} triples")
    warm = WarmHermit(paths.dist_dir / ".cache")  # where a build session compiles the server
    try:
        started = time.perf_counter()
        verdict = warm.consistent(layer)
        first = time.perf_counter() - started
        print(f"warm HermiT's first check (javac if needed, JVM start, whole layer read): {first:.2f} s, {verdict}")
        ratios = []
        print(f"{'edit':>4} {'cold':>8} {'warm':>8} {'cold/warm':>9}  verdicts")
        for n, version in enumerate(moved_part_of_edges(layer, args.edits), 1):
            started = time.perf_counter()
            cold_verdict = _cold(version)
            cold = time.perf_counter() - started
            started = time.perf_counter()
            warm_verdict = warm.consistent(version)
            hot = time.perf_counter() - started
            ratios.append(cold / hot)
            agree = "agree" if cold_verdict == warm_verdict else "DISAGREE"
            print(f"{n:>4} {cold:7.2f}s {hot:7.2f}s {cold / hot:8.1f}x  {cold_verdict}/{warm_verdict} ({agree})")
        sent = f"{warm.applies} of {warm.applies + warm.loads} warm checks sent only the changed axioms"
        print(f"median cold/warm: {statistics.median(ratios):.1f}x ({sent})")
    finally:
        warm.close()


if __name__ == "__main__":
    main()
