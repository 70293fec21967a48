"""The ``neuromech`` command: a thin layer over the library, one function call per command."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from neuromech import __version__, canonical, curation, queries
from neuromech.build import build, open_graph, validate_project
from neuromech.errors import NeuroMechError, UsageError, ValidationFailed
from neuromech.loading import load_project
from neuromech.mechanisms import shared_mechanisms
from neuromech.paths import ProjectPaths, project
from neuromech.report import FORMATS, cell, render_rows, render_table
from neuromech.site import build_site

Handler = Callable[[argparse.Namespace, ProjectPaths], int]


def _cmd_build(args: argparse.Namespace, paths: ProjectPaths) -> int:
    result = build(paths, check_reasoner=not args.no_reasoner)
    summary = result.summary
    print(f"built {len(result.written)} files in {paths.dist_dir}: " + ", ".join(p.name for p in result.written))
    print(
        f"{summary['findings']} findings, {summary['triples_asserted']} asserted + "
        f"{summary['triples_inferred']} inferred triples; timings (s): {summary['timings_s']}"
    )
    return 0


def _cmd_validate(args: argparse.Namespace, paths: ProjectPaths) -> int:
    extra = [p.resolve() for p in args.paths if not p.resolve().is_relative_to(paths.data_dir)]
    report = validate_project(paths, extra)
    if args.paths:
        named = [p.resolve() for p in args.paths]
        report = report.for_files(
            {str(p.relative_to(paths.root)) if p.is_relative_to(paths.root) else str(p) for p in named}
        )
    if not report.conforms:
        raise ValidationFailed(report.render())
    print(report.render())
    return 0


def _cmd_queries(args: argparse.Namespace, paths: ProjectPaths) -> int:
    catalogue = queries.load_catalogue(paths.queries_dir)
    rows = []
    for query in catalogue.values():
        params = ", ".join(
            f"{p.name}:{p.type}{'' if p.required else '?'}" + (f"={p.default}" if p.default else "")
            for p in query.parameters
        )
        rows.append([query.name, query.summary, params])
    print(render_rows(["query", "summary", "parameters"], rows, args.format, max_width=80))
    return 0


def _parse_params(raw: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in raw:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--param takes name=value, got {item!r}")
        values[name.strip()] = value
    return values


def _cmd_query(args: argparse.Namespace, paths: ProjectPaths) -> int:
    kg = open_graph(paths)
    print(render_table(kg.query(args.name, _parse_params(args.param)), args.format))
    return 0


def _cmd_findings(args: argparse.Namespace, paths: ProjectPaths) -> int:
    kg = open_graph(paths)
    values = {k: v for k, v in (("condition", args.condition), ("entity", args.entity), ("review", args.review)) if v}
    table = kg.query("findings", values)
    if args.format == "table":
        columns = [
            "finding",
            "condition_label",
            "measured_label",
            "partner_label",
            "measure_label",
            "direction_label",
            "cited_study",
        ]
        index = [table.variables.index(c) for c in columns]
        rows = [[cell(row[i]) for i in index] for row in table.rows]
        print(render_rows(columns, rows, "table"))
    else:
        print(render_table(table, args.format))
    return 0


def _cmd_shared(args: argparse.Namespace, paths: ProjectPaths) -> int:
    report = shared_mechanisms(open_graph(paths), args.a, args.b)
    if args.format == "json":
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return 0
    rows = []
    for item in report.shared:
        for side, findings in (("A", item.findings_a), ("B", item.findings_b)):
            for f in findings:
                rows.append([item.kind, item.label, side, f.finding, f.measure, f.direction, f.partner, f.cited_study])
    print(f"A = {report.a_label} ({report.a}); B = {report.b_label} ({report.b}); {len(report.shared)} shared entities")
    print(
        render_rows(
            ["kind", "entity", "side", "finding", "measure", "direction", "partner", "cited study"], rows, args.format
        )
    )
    return 0


def _cmd_site(args: argparse.Namespace, paths: ProjectPaths) -> int:
    result = build_site(paths, args.out.resolve() if args.out else None)
    print(
        f"built the site in {result.target}: {result.pages} pages, {result.files} files, "
        f"{result.bytes / 1e6:.1f} MB in {result.seconds:.1f} s; open {result.target / 'index.html'}"
    )
    return 0


def _cmd_fmt(args: argparse.Namespace, paths: ProjectPaths) -> int:
    targets = [p.resolve() for p in args.paths] or paths.data_files()
    result = canonical.format_files(targets, check=args.check)
    for path in result.changed:
        print(f"{'would reformat' if args.check else 'reformatted'} {path}")
    print(f"{len(result.changed)} of {result.checked} files {'not canonical' if args.check else 'rewritten'}")
    return 1 if args.check and result.changed else 0


def _cmd_check_quotes(args: argparse.Namespace, paths: ProjectPaths) -> int:
    report = curation.check_quotes(load_project(paths).graph, args.seeds or paths.seeds_dir)
    for problem in report.problems:
        print(problem.render())
    print(f"{report.checked - len(report.problems)} of {report.checked} quotes found verbatim")
    return 1 if report.problems else 0


def _parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, help="project checkout (default: found from the working directory)")
    common.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    formats = argparse.ArgumentParser(add_help=False)
    formats.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")

    parser = argparse.ArgumentParser(
        prog="neuromech", description="NeuroMech KG command-line interface", parents=[common]
    )
    parser.add_argument("--version", action="version", version=f"neuromech {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    handlers: dict[str, Handler] = {}

    def add(name: str, handler: Handler, help_text: str, *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:
        handlers[name] = handler
        return sub.add_parser(name, help=help_text, description=help_text, parents=[common, *parents])

    p = add("build", _cmd_build, "load, validate, reason and export the graph to dist/")
    p.add_argument("--no-reasoner", action="store_true", help="skip the HermiT consistency check")
    p = add("validate", _cmd_validate, "check the data against the SHACL shapes")
    p.add_argument("paths", nargs="*", type=Path, help="only report on these data files (others are loaded too)")
    add("queries", _cmd_queries, "list the stored queries with their parameters", formats)
    p = add("query", _cmd_query, "run a stored query", formats)
    p.add_argument("name", help="stored query name (see `neuromech queries`)")
    p.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE", help="a parameter value")
    p = add("findings", _cmd_findings, "list findings, optionally by condition, entity and review", formats)
    p.add_argument("--condition", help="condition label, CURIE or IRI")
    p.add_argument("--entity", help="entity label, CURIE or IRI")
    p.add_argument("--review", help="review CURIE, e.g. nmr:nssi")
    p = add("shared", _cmd_shared, "entities implicated in both of two conditions, with evidence", formats)
    p.add_argument("a", help="first condition (label, CURIE, IRI or external CURIE)")
    p.add_argument("b", help="second condition")
    p = add("site", _cmd_site, "build the static, bilingual mechanism explorer into dist/site/")
    p.add_argument("--out", type=Path, help="output folder (default: dist/site)")
    p = add("fmt", _cmd_fmt, "rewrite data files in canonical form")
    p.add_argument("paths", nargs="*", type=Path, help="files to format (default: all of data/)")
    p.add_argument("--check", action="store_true", help="only report files that are not canonical")
    curate = sub.add_parser("curate", help="curation checks", parents=[common])
    curate_sub = curate.add_subparsers(dest="curate_command", required=True, metavar="CHECK")
    p = curate_sub.add_parser("check-quotes", help="check that every quote occurs in its review", parents=[common])
    p.add_argument("--seeds", type=Path, help="folder of the review texts (default: ../shared/seeds)")
    handlers["curate check-quotes"] = _cmd_check_quotes
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    parser, handlers = _parser()
    args = parser.parse_args(argv)
    # build reports its steps (it takes seconds); other commands only with --verbose
    chatty = args.verbose or args.command == "build"
    logging.basicConfig(level=logging.INFO if chatty else logging.WARNING, format="%(message)s", stream=sys.stderr)
    key = f"curate {args.curate_command}" if args.command == "curate" else args.command
    try:
        return handlers[key](args, project(args.root))
    except NeuroMechError as err:
        print(f"neuromech: error: {err}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    sys.exit(main())
