"""Benchmark: `neuromech build` at 10^4-10^6 triples, full and after one edit, vs rdflib + pySHACL.

For each size it writes a synthetic *project* (the real ontology, import modules, shapes,
rules, queries, entity files and mapping set, plus seeded synthetic findings from
``synthetic.py`` split over ``--files`` Turtle files and made to conform to the shapes), then
runs in fresh child processes, side by side:

- ``default``: :class:`neuromech.pipeline.BuildSession` — a full build (load, validate,
  materialise, export, with HermiT checking the entity layer in a child process meanwhile),
  then one finding's direction is edited in one data file and
  :meth:`~neuromech.pipeline.BuildSession.rebuild` runs; ``hermit`` is the time the build
  waited for HermiT's verdict after its other steps, and the peak memory adds HermiT's;
- ``reference``: the naive pipeline — rdflib parse, pySHACL, the same rules on an rdflib
  Dataset, rdflib serialisers — each step capped (``--cap``; a capped step prints ``>cap``).

Usage: ``python benchmarks/bench_build.py --triples 10000 100000 [--files 20] [--cap 120]
[--rebuilds N]`` (N rebuilds after the build: the edit, its revert, the edit again...; each
rebuild's way of keeping the inferred graph up to date is printed).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from capping import TreeSampler, arm, peak_mb, run_step
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS
from rdflib.term import Node
from synthetic import synthetic_graph

from neuromech import export, loading, reasoning, validation
from neuromech.namespaces import IAO_DEFINITION, NM, NME, NMF, NMR, PART_OF
from neuromech.paths import ProjectPaths, project
from neuromech.pipeline import BuildSession
from neuromech.rules import load_rules
from neuromech.store import RdflibStore

TRIPLES_PER_FINDING = 17.5
COPIED = ("ontology", "shapes", "queries", "data/entities", "data/mappings", "data/modules")


def _letters(number: int) -> str:
    return "".join(chr(ord("a") + int(d)) for d in f"{number:03d}")


def write_project(root: Path, findings: int, files: int) -> int:  # noqa: PLR0912 -- one pass per fix-up
    """Write a conforming synthetic project under ``root``; return its number of data triples."""
    repo = project().root
    for folder in COPIED:
        if (repo / folder).exists():
            shutil.copytree(repo / folder, root / folder, ignore=shutil.ignore_patterns("expected"))
    graph = synthetic_graph(findings)
    rng = random.Random(11)
    per_file = -(-findings // files)
    # finding IRIs the shapes accept (nmf:<review>-<four digits>), and the data file of each
    rename: dict[URIRef, URIRef] = {}
    file_of: dict[URIRef, int] = {}
    for i in range(findings):
        new = NMF[f"syn-{_letters(i // 9999)}-{i % 9999 + 1:04d}"]
        rename[NMF[f"synthetic-{i:07d}"]] = new
        file_of[new] = i // per_file
    review = NMR["synthetic"]
    extra: list[tuple[Node, Node, Node]] = [
        (review, RDFS.label, Literal("Synthetic review", lang="en")),
        (review, NM.source_file, Literal("000_0000000000000000.txt")),
    ]
    regions = set(graph.subjects(RDF.type, NM.BrainRegion))
    for node in set(graph.subjects(RDF.type, None)):
        kinds = set(graph.objects(node, RDF.type))
        if str(node).startswith(str(NME)) and not any(
            getattr(label, "language", None) == "zh" for label in graph.objects(node, RDFS.label)
        ):
            extra += [
                (node, RDFS.label, Literal(f"合成实体 {str(node).split('/')[-1]}", lang="zh")),
                (node, IAO_DEFINITION, Literal("A synthetic entity of the benchmark.", lang="en")),
            ]
        if NM.Gene in kinds:
            extra.append((node, SKOS.exactMatch, URIRef(f"https://identifiers.org/hgnc:{rng.randint(1, 50000)}")))
        if NM.Study in kinds:
            extra += [
                (node, RDFS.label, Literal(f"Synthetic study {str(node).split('/')[-1]}")),
                (node, NM.cited_in, review),
            ]
    for finding in list(graph.subjects(NM.has_measure, NM.functional_connectivity)):
        if not any(graph.objects(finding, NM.has_partner_entity)):
            extra.append((finding, NM.has_partner_entity, rng.choice(sorted(regions, key=str))))
    for triple in list(graph.triples((None, PART_OF, None))):
        if triple[0] in regions and triple[2] not in regions:
            graph.remove(triple)
    for triple in extra:
        graph.add(triple)
    chunks: list[list[str]] = [[] for _ in range(files + 1)]
    for subject, predicate, value in graph:
        s = rename.get(subject, subject)  # type: ignore[call-overload]
        o = rename.get(value, value)  # type: ignore[call-overload]
        chunks[file_of.get(s, files)].append(f"{s.n3()} {predicate.n3()} {o.n3()} .\n")
    data = root / "data" / "findings"
    data.mkdir(parents=True, exist_ok=True)
    for n, lines in enumerate(chunks):
        name = data / (f"synthetic-{n:03d}.ttl" if n < files else "../entities/synthetic-entities.ttl")
        name.resolve().write_text("".join(lines), encoding="utf-8")
    return len(graph)


def edit_one_file(paths: ProjectPaths) -> Path:
    """Flip the direction of the first finding of the first synthetic data file."""
    target = paths.data_dir / "findings" / "synthetic-000.ttl"
    text = target.read_text(encoding="utf-8")
    for old, new in (("#increased>", "#decreased>"), ("/increased>", "/decreased>"), ("/decreased>", "/increased>")):
        if old in text:
            target.write_text(text.replace(old, new, 1), encoding="utf-8")
            return target
    raise RuntimeError("no direction to edit")


def run_default(root: Path, reasoner: bool, rebuilds: int = 1) -> dict[str, object]:
    """Full build, then ``rebuilds`` rebuilds, each after one edit (the edit, then its revert, alternately)."""
    paths = ProjectPaths(root)
    session = BuildSession(paths, check_reasoner=reasoner)
    started = time.perf_counter()
    full = session.build(progress=False)
    wall_full = time.perf_counter() - started
    steps: dict[str, float | None] = {}
    for name, value in dict(full.summary["timings_s"]).items():  # type: ignore[call-overload]
        steps[f"build: {name}"] = float(value)
    steps["build: total wall"] = wall_full
    target = paths.data_dir / "findings" / "synthetic-000.ttl"
    original = target.read_bytes()
    for n in range(1, rebuilds + 1):
        if n % 2:
            edit_one_file(paths)
        else:
            target.write_bytes(original)
        started = time.perf_counter()
        again = session.rebuild(progress=False)
        wall_rebuild = time.perf_counter() - started
        label = "rebuild after 1 edit" if rebuilds == 1 else f"rebuild {n}"
        for name, value in dict(again.summary["timings_s"]).items():  # type: ignore[call-overload]
            steps[f"{label}: {name}"] = float(value)
        steps[f"{label}: total wall"] = wall_rebuild
        scope = str(dict(again.summary["materialisation"])["scope"])  # type: ignore[call-overload]
        print(f"{label}: {scope}", file=sys.stderr)
    return {"steps": steps, "peak_mb": peak_mb(), "triples": full.summary["triples_asserted"]}


def run_reference(root: Path, cap: float) -> dict[str, object]:
    """The naive pipeline: rdflib parse, pySHACL, rules on rdflib, rdflib serialisers."""
    arm()
    paths = ProjectPaths(root)
    steps: dict[str, float | None] = {}
    source = run_step(steps, "build: load", lambda: loading.load_project(paths), cap)
    if isinstance(source, loading.SourceGraph):
        shapes = loading.load_shapes(paths)
        run_step(steps, "build: validate", lambda: validation.validate(source, shapes, paths.root), cap)
        store = RdflibStore.from_graph(source.graph)
        run_step(
            steps,
            "build: materialise",
            lambda: reasoning.materialise(store, load_rules(paths.rules_dir)),
            cap,
        )
        run_step(steps, "build: export", lambda: export.graph_serialisations(store.to_graph()), cap)
    return {"steps": steps, "peak_mb": peak_mb()}


def _steps(run: dict[str, object]) -> dict[str, float | None]:
    steps = run["steps"]
    assert isinstance(steps, dict)
    return steps


def _child(kind: str, root: Path, cap: float, reasoner: bool, rebuilds: int = 1) -> dict[str, object]:
    command = [sys.executable, __file__, "--child", kind, "--root", str(root), "--cap", str(cap)]
    command += ["--rebuilds", str(rebuilds)] + ([] if reasoner else ["--no-reasoner"])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the {kind} pipeline failed:\n{done.stderr[-3000:]}")
    for line in done.stderr.splitlines():  # how each rebuild kept the inferred graph up to date
        if line.startswith("rebuild"):
            print(line)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of one reusable 10^6-triple project: ``--triples``, ``--files``, ``--root``."""
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=20, help="data files the findings are spread over")
    parser.add_argument("--root", type=Path, help="where the project is written (reused when it exists)")


def project_root(args: argparse.Namespace, prefix: str) -> Path:
    """Return the project ``add_project_arguments`` options name, writing it first unless it exists."""
    root: Path = args.root or Path(tempfile.mkdtemp(prefix=prefix))
    if not (root / "data").exists():
        written = write_project(root, int(args.triples / TRIPLES_PER_FINDING), args.files)
        print(f"project: {root} ({written:,} synthetic triples)")
    return root


def main() -> None:
    """Write each size's project, run both pipelines, print one table per size."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--triples", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--files", type=int, default=20, help="data files the findings are spread over")
    parser.add_argument("--cap", type=float, default=120.0, help="seconds allowed to one reference step")
    parser.add_argument("--only", choices=["default", "reference"], help="run one pipeline only")
    parser.add_argument("--no-reasoner", action="store_true", help="skip HermiT in the default pipeline")
    parser.add_argument("--rebuilds", type=int, default=1, help="rebuilds after the build (edit, revert, ...)")
    parser.add_argument("--child", choices=["default", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        TreeSampler()  # the peak memory of the build and its HermiT children, sampled
        result = (
            run_default(args.root, not args.no_reasoner, args.rebuilds)
            if args.child == "default"
            else run_reference(args.root, args.cap)
        )
        print(json.dumps(result))
        return
    kinds = [args.only] if args.only else ["default", "reference"]
    with tempfile.TemporaryDirectory(prefix="neuromech-bench-build-") as tmp:
        for target in args.triples:
            findings = max(20, int(target / TRIPLES_PER_FINDING))
            root = Path(tmp) / f"project-{target}"
            written = write_project(root, findings, args.files)
            runs = {kind: _child(kind, root, args.cap, not args.no_reasoner, args.rebuilds) for kind in kinds}
            print(
                f"\n{findings} synthetic findings ({written} synthetic triples) in {args.files} files"
                " + the real ontology and entities"
            )
            print(
                f"{'step':42}"
                + "".join(f"{k + ' s':>12}" for k in kinds)
                + (f"{'ref/default':>13}" if len(kinds) == 2 else "")
            )
            names: list[str] = []
            for run in runs.values():
                names += [n for n in _steps(run) if n not in names]
            for name in names:
                values = [_steps(run).get(name, "n/a") for run in runs.values()]
                cells = "".join(
                    f"{v if v == 'n/a' else ('>' + str(args.cap)) if v is None else f'{v:.3f}':>12}" for v in values
                )
                ratio = ""
                fast, slow = [*values, "n/a"][:2]
                if len(kinds) == 2 and isinstance(fast, float) and slow != "n/a":
                    ratio = f">{args.cap / fast:.0f}x" if not isinstance(slow, float) else f"{slow / fast:.1f}x"
                print(f"{name:42}{cells}{ratio:>13}")
            print(f"{'peak memory (MB)':42}" + "".join(f"{run['peak_mb']:>12.0f}" for run in runs.values()))


if __name__ == "__main__":
    main()
