"""The ``neuromech`` command: a thin layer over the library, one function call per command."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from neuromech import __version__, canonical, curation, federation, imports, linkcheck, mappings, queries
from neuromech.build import build, open_graph, validate_project
from neuromech.errors import NeuroMechError, UsageError, ValidationFailed
from neuromech.loading import load_project
from neuromech.mapping_set import read_mapping_set
from neuromech.mechanisms import shared_mechanisms
from neuromech.paths import ProjectPaths, project
from neuromech.report import FORMATS, cell, render_rows, render_table

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
    if args.endpoint:
        endpoint = federation.Endpoint(args.endpoint, timeout=args.timeout, retries=args.retries)
        print(
            render_table(federation.query_endpoint(paths, args.name, _parse_params(args.param), endpoint), args.format)
        )
        return 0
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


def _cmd_mappings_import_skos(args: argparse.Namespace, paths: ProjectPaths) -> int:
    result = mappings.migrate(paths, args.external, dry_run=args.dry_run)
    for conflict in result.conflicts:
        print(f"conflict: {conflict}")
    verb = "would move" if args.dry_run else "moved"
    print(
        f"{verb} {len(result.added)} new mappings to {paths.mappings_file}; "
        f"{result.already_present} were already there; "
        f"{len(result.files_changed)} entity files {'would change' if args.dry_run else 'rewritten'}; "
        f"{len(result.conflicts)} conflicts left in Turtle"
    )
    return 0 if result.ok else 1


def _cmd_mappings_fmt(args: argparse.Namespace, paths: ProjectPaths) -> int:
    changed = mappings.format_mapping_set(paths, check=args.check)
    state = ("not canonical" if args.check else "rewritten") if changed else "canonical"
    print(f"{paths.mappings_file}: {state}")
    return 1 if args.check and changed else 0


def _cmd_mappings_export(args: argparse.Namespace, paths: ProjectPaths) -> int:
    written = mappings.export_project_mappings(paths, args.out)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _cmd_mappings_impact(args: argparse.Namespace, paths: ProjectPaths) -> int:
    impacts = mappings.mapping_impact(open_graph(paths).store, read_mapping_set(paths.mappings_file))
    print(render_rows(list(mappings.IMPACT_COLUMNS), mappings.impact_rows(impacts), args.format, max_width=60))
    return 0


def _cmd_link_check(args: argparse.Namespace, paths: ProjectPaths) -> int:
    report = linkcheck.check_project(paths, args.external, _parse_sources(args.source))
    print(report.render())
    return 1 if report.errors else 0


def _cmd_imports_refresh(args: argparse.Namespace, paths: ProjectPaths) -> int:
    modules, changed = imports.refresh(paths, args.external, _parse_sources(args.source), check=args.check)
    for module in modules:
        state = ("differs" if args.check else "rewritten") if module.path in changed else "unchanged"
        print(f"{module.path.relative_to(paths.root)}: {module.terms} terms ({module.seeds} used), {state}")
    return 1 if args.check and changed else 0


def _parse_sources(raw: Sequence[str]) -> dict[str, str]:
    sources: dict[str, str] = {}
    for item in raw:
        key, sep, location = item.partition("=")
        if not sep or not key or not location:
            raise UsageError(f"--source takes KEY=PATH_OR_URL (e.g. uberon=uberon.obo), got {item!r}")
        sources[key.strip()] = location.strip()
    return sources


def _add_link_commands(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]
    handlers: dict[str, Handler],
    common: argparse.ArgumentParser,
    formats: argparse.ArgumentParser,
) -> None:
    """Declare the commands about links to external ontologies (mappings, link check, imports)."""
    external = argparse.ArgumentParser(add_help=False)
    external.add_argument(
        "--external", type=Path, help="folder of external ontology files (default: ../shared/external)"
    )
    sources = argparse.ArgumentParser(add_help=False)
    sources.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="KEY=PATH_OR_URL",
        help="read source KEY (uberon, chebi, mondo, ...) from this file or URL instead of the external folder",
    )
    group = sub.add_parser("mappings", help="the SSSOM mapping set", parents=[common])
    group_sub = group.add_subparsers(dest="mappings_command", required=True, metavar="ACTION")
    p = group_sub.add_parser(
        "import-skos",
        help="move skos:*Match triples from data/entities/*.ttl into the SSSOM mapping set (idempotent)",
        parents=[common, external],
    )
    p.add_argument("--dry-run", action="store_true", help="report what would move, write nothing")
    handlers["mappings import-skos"] = _cmd_mappings_import_skos
    p = group_sub.add_parser("fmt", help="rewrite the mapping set canonically (sorted rows)", parents=[common])
    p.add_argument("--check", action="store_true", help="only report whether it is canonical")
    handlers["mappings fmt"] = _cmd_mappings_fmt
    p = group_sub.add_parser("export", help="write the SSSOM set and its SKOS triples to dist/", parents=[common])
    p.add_argument("--out", type=Path, help="output folder (default: dist/)")
    handlers["mappings export"] = _cmd_mappings_export
    group_sub.add_parser("impact", help="for each mapping, the findings that depend on it", parents=[common, formats])
    handlers["mappings impact"] = _cmd_mappings_impact
    group = sub.add_parser("imports", help="generated import modules of external ontologies", parents=[common])
    group_sub = group.add_subparsers(dest="imports_command", required=True, metavar="ACTION")
    p = group_sub.add_parser(
        "refresh",
        help="regenerate ontology/imports/*-import.ttl from the external ontologies",
        parents=[common, external, sources],
    )
    p.add_argument("--check", action="store_true", help="only report modules that differ from a regeneration")
    handlers["imports refresh"] = _cmd_imports_refresh
    handlers["link-check"] = _cmd_link_check
    sub.add_parser(
        "link-check",
        help="check every mapping against the external ontology files",
        description="check every mapping against the external ontology files",
        parents=[common, external, sources],
    )


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
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help="SPARQL endpoint: answers the query's SERVICE block (queries/federated/), or the whole query",
    )
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request to --endpoint (default 30)")
    p.add_argument("--retries", type=int, default=2, help="retries of a failed request to --endpoint (default 2)")
    p = add("findings", _cmd_findings, "list findings, optionally by condition, entity and review", formats)
    p.add_argument("--condition", help="condition label, CURIE or IRI")
    p.add_argument("--entity", help="entity label, CURIE or IRI")
    p.add_argument("--review", help="review CURIE, e.g. nmr:nssi")
    p = add("shared", _cmd_shared, "entities implicated in both of two conditions, with evidence", formats)
    p.add_argument("a", help="first condition (label, CURIE, IRI or external CURIE)")
    p.add_argument("b", help="second condition")
    p = add("fmt", _cmd_fmt, "rewrite data files in canonical form")
    p.add_argument("paths", nargs="*", type=Path, help="files to format (default: all of data/)")
    p.add_argument("--check", action="store_true", help="only report files that are not canonical")
    curate = sub.add_parser("curate", help="curation checks", parents=[common])
    curate_sub = curate.add_subparsers(dest="curate_command", required=True, metavar="CHECK")
    p = curate_sub.add_parser("check-quotes", help="check that every quote occurs in its review", parents=[common])
    p.add_argument("--seeds", type=Path, help="folder of the review texts (default: ../shared/seeds)")
    handlers["curate check-quotes"] = _cmd_check_quotes

    _add_link_commands(sub, handlers, common, formats)
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    parser, handlers = _parser()
    args = parser.parse_args(argv)
    # build reports its steps (it takes seconds); other commands only with --verbose
    chatty = args.verbose or args.command == "build"
    logging.basicConfig(level=logging.INFO if chatty else logging.WARNING, format="%(message)s", stream=sys.stderr)
    group = getattr(args, f"{args.command.replace('-', '_')}_command", None)
    key = f"{args.command} {group}" if group else args.command
    try:
        return handlers[key](args, project(args.root))
    except NeuroMechError as err:
        print(f"neuromech: error: {err}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    sys.exit(main())
