"""Benchmark: the rebuild after each kind of one-file edit, beside the full build, at 10^4-10^6 triples.

Writes ``bench_build.py``'s synthetic project, builds it once with
:class:`neuromech.pipeline.BuildSession`, then for each kind of edit edits one data file,
rebuilds, reverts the file and rebuilds again. It prints, for each rebuild, its wall time, its
steps, how the inferred graph was kept up to date and the full build's time divided by it
(measured in the same run), and at the end whether the inferred graph equals the full
build's, triple for triple.

The edited finding is chosen by IRI (the smallest that fits), so the same project gives the
same edits whatever order the writer put its lines in.

With ``--reasoner`` HermiT checks the entity layer as ``neuromech build --watch`` does: kept
warm between rebuilds (:class:`neuromech.hermit_server.WarmHermit`), sent only the changed
axioms; ``--cold-reasoner`` runs HermiT's command line on the whole layer at each check
instead, as a one-off ``neuromech build`` does.

Usage: ``python benchmarks/bench_rebuild_kinds.py [--triples 1000000] [--reasoner | --cold-reasoner]
[--root DIR]`` (``--root``: reuse, or keep, the written project there).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable

import pyoxigraph as ox
from bench_build import add_project_arguments, project_root

from neuromech.namespaces import INFERRED_GRAPH
from neuromech.paths import ProjectPaths
from neuromech.pipeline import BuildSession

FINDINGS_FILE = "findings/synthetic-003.ttl"
ENTITIES_FILE = "entities/synthetic-entities.ttl"
MAPPINGS_FILE = "mappings/neuromech.sssom.tsv"
# the mapped entity of the real data with the most entities under it (432 in the 10^6 project)
HUB = "nme:whole-brain"
NM = "https://w3id.org/neuromech/"
PART_OF = "http://purl.obolibrary.org/obo/BFO_0000050"
Edit = Callable[[str], str]


def _subject(line: str) -> str:
    return line.split(" ", 1)[0]


def _first(lines: list[str], predicate: str, test: Callable[[str], bool] = lambda _: True) -> str:
    """The line with ``predicate`` whose subject is the smallest IRI among those passing ``test``."""
    found = [line for line in lines if f"<{NM}{predicate}>" in line and test(line)]
    if not found:
        raise RuntimeError(f"no {predicate} line to edit")
    return min(found, key=_subject)


def _replace_line(line: str, new: str) -> Edit:
    return lambda text: text.replace(line, new, 1)


def edits(paths: ProjectPaths) -> dict[str, tuple[str, Edit]]:
    """Each kind of edit: the data file it edits (relative to ``data/``) and the change."""
    lines = (paths.data_dir / FINDINGS_FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    referenced = "".join(
        p.read_text(encoding="utf-8")
        for folder in ("entities", "modules")
        for p in (paths.data_dir / folder).glob("*.ttl")
    )
    flip = _first(lines, "has_direction", lambda line: bool(re.search(r"/(in|de)creased>", line)))
    condition = _first(lines, "has_condition")
    measured = _first(lines, "has_measured_entity", lambda line: "/entity/entity-" in line)
    victim = _subject(_first(lines, "has_direction", lambda line: _subject(line) not in referenced))
    donor = _subject(_first(lines, "has_partner_entity"))
    copy = re.sub(r"syn-[a-z]{3}-\d{4}>$", "syn-zzz-0001>", donor)
    entities = (paths.data_dir / ENTITIES_FILE).read_text(encoding="utf-8")
    label = re.search(
        rf'^<{NM}entity/entity-\d+> <http://www.w3.org/2000/01/rdf-schema#label> "[^"]*"@en \.$', entities, re.M
    )
    if label is None:
        raise RuntimeError("no English entity label to edit")
    part_of = sorted(re.findall(rf"^<{NM}entity/entity-\d+> <{PART_OF}> <[^>]+> \.$", entities, re.M), key=_subject)
    if len(part_of) < 2:
        raise RuntimeError("no part-of edges to move")
    moved = part_of[0].rsplit(" ", 2)[0] + " " + part_of[1].rsplit(" ", 2)[1] + " ."
    sssom = (paths.data_dir / MAPPINGS_FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    hub_rows = [
        row
        for row in sssom
        if row.startswith(f"{HUB}\t") and ("\tskos:exactMatch\t" in row or "\tskos:closeMatch\t" in row)
    ]
    if not hub_rows:
        raise RuntimeError(f"no exact or close mapping of {HUB} to remove")
    return {
        "direction flipped": (FINDINGS_FILE, _replace_line(flip, _flip(flip))),
        "condition changed": (
            FINDINGS_FILE,
            _replace_line(
                condition, re.sub(r"condition-(\d+)>", lambda m: f"condition-{(int(m.group(1)) + 1) % 8}>", condition)
            ),
        ),
        "measured entity changed": (
            FINDINGS_FILE,
            _replace_line(measured, re.sub(r"entity-(\d+)>", lambda m: f"entity-{int(m.group(1)) + 3}>", measured)),
        ),
        "finding deleted": (
            FINDINGS_FILE,
            lambda text: "".join(line for line in text.splitlines(keepends=True) if _subject(line) != victim),
        ),
        "finding added": (
            FINDINGS_FILE,
            lambda text: text + "".join(line.replace(donor, copy, 1) for line in lines if _subject(line) == donor),
        ),
        "entity label changed": (
            ENTITIES_FILE,
            _replace_line(label.group(0), label.group(0).replace('"@en', ' (renamed)"@en')),
        ),
        # the part-of closure, the falls_under and rolls_up_to paths, counts_for and the
        # mechanism modules change; HermiT runs again (with --reasoner)
        "part-of edge moved": (ENTITIES_FILE, _replace_line(part_of[0] + "\n", moved + "\n")),
        # the SSSOM rows of a hub: what falls under it through UBERON, counts_for, the modules
        # and the mapping impact of the findings under it change (the revert restores them)
        "hub mappings removed": (
            MAPPINGS_FILE,
            lambda text: "".join(r for r in text.splitlines(True) if r not in hub_rows),
        ),
    }


def _flip(line: str) -> str:
    return (
        line.replace("/increased>", "/decreased>")
        if "/increased>" in line
        else line.replace("/decreased>", "/increased>")
    )


def _inferred(session: BuildSession) -> set[ox.Triple]:
    assert session.source is not None
    graph = ox.NamedNode(str(INFERRED_GRAPH))
    return {q.triple for q in session.source.store.native.quads_for_pattern(None, None, None, graph)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_project_arguments(parser)
    reasoner = parser.add_mutually_exclusive_group()
    reasoner.add_argument("--reasoner", action="store_true", help="run HermiT, kept warm, as `build --watch` does")
    reasoner.add_argument("--cold-reasoner", action="store_true", help="run HermiT's command line at each check")
    args = parser.parse_args()
    paths = ProjectPaths(project_root(args, "neuromech-rebuilds-"))
    kinds = edits(paths)
    session = BuildSession(paths, check_reasoner=args.reasoner or args.cold_reasoner, warm_reasoner=args.reasoner)
    started = time.perf_counter()
    built = session.build(progress=False)
    full = time.perf_counter() - started
    print(f"full build: {full:.2f} s {built.summary['timings_s']}")
    before = _inferred(session)
    print(f"{'edit':24} {'':7} {'wall':>7} {'full/this':>9}  steps; how the inferred graph was kept up to date")
    for kind, (name, change) in kinds.items():
        target = paths.data_dir / name
        original = target.read_text(encoding="utf-8")
        edited = change(original)
        if edited == original:
            raise RuntimeError(f"the edit '{kind}' changed nothing")
        for phase, text in (("edit", edited), ("revert", original)):
            target.write_text(text, encoding="utf-8")
            started = time.perf_counter()
            result = session.rebuild(progress=False)
            wall = time.perf_counter() - started
            scope = dict(result.summary["materialisation"])["scope"]  # type: ignore[call-overload]
            print(f"{kind:24} {phase:7} {wall:6.2f}s {full / wall:8.1f}x  {result.summary['timings_s']}; {scope}")
            sys.stdout.flush()
    after = _inferred(session)
    print(f"inferred graph after the edits and reverts equals the full build's: {after == before} ({len(after):,})")
    warm = session.warm_hermit
    if warm is not None:
        print(f"warm HermiT: {warm.applies} check(s) sent the changed axioms, {warm.loads} read the whole layer")
    session.close()


if __name__ == "__main__":
    main()
