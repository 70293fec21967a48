"""The ``neuromech`` command: a thin layer over the library, one function call per command."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from neuromech import __version__, api, canonical, curation, publish, queries, server
from neuromech.build import build, open_graph, validate_project
from neuromech.errors import NeuroMechError, UsageError, ValidationFailed
from neuromech.loading import load_project
from neuromech.mechanisms import shared_mechanisms
from neuromech.namespaces import INFERRED_GRAPH
from neuromech.paths import ProjectPaths, project
from neuromech.remote_store import ASSERTED_GRAPH
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
    kg = open_graph(paths, args.store)
    print(render_table(kg.query(args.name, _parse_params(args.param)), args.format))
    return 0


def _cmd_findings(args: argparse.Namespace, paths: ProjectPaths) -> int:
    kg = open_graph(paths, args.store)
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
    report = shared_mechanisms(open_graph(paths, args.store), args.a, args.b)
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


def _cmd_serve(args: argparse.Namespace, paths: ProjectPaths) -> int:
    def ready(running: server.RunningServer) -> None:
        mode = "read-write" if running.writable else "read-only"
        counts = ", ".join(f"{n} triples in <{g}>" for g, n in running.graphs.items())
        print(f"SPARQL server ({mode}, queries cut off after {running.timeout:g} s): {counts}")
        print(f"  query UI   {running.url}/")
        print(f"  SPARQL     {running.query_url}")
        print(f"  GSP        {running.store_url}")
        print("press Ctrl-C to stop", flush=True)

    server.serve(
        paths.dist_dir,
        bind=args.bind,
        port=args.port,
        writable=args.writable,
        timeout=args.timeout,
        location=args.location,
        on_ready=ready,
    )
    print("stopped")
    return 0


def _cmd_publish(args: argparse.Namespace, paths: ProjectPaths) -> int:
    report = publish.publish(
        paths.dist_dir,
        args.endpoint,
        graph=args.graph,
        inferred=args.inferred_graph,
        user=args.user,
        password=os.environ.get("NEUROMECH_ENDPOINT_PASSWORD") if args.user else None,
        timeout=args.timeout,
    )
    for graph, count in report.graphs.items():
        print(f"loaded {count} triples into <{graph}> at {report.endpoint}")
    return 0


def _cmd_api(args: argparse.Namespace, paths: ProjectPaths) -> int:
    def ready(url: str) -> None:
        print(f"stored-query API at {url}/api/QUERY; OpenAPI description at {url}/openapi.json")
        print("press Ctrl-C to stop", flush=True)

    api.serve_api(open_graph(paths, args.store), bind=args.bind, port=args.port, on_ready=ready)
    print("stopped")
    return 0


def _add_server_commands(
    add: Callable[..., argparse.ArgumentParser], listen: argparse.ArgumentParser, stores: argparse.ArgumentParser
) -> None:
    """Add ``serve``, ``publish`` and ``api``."""
    p = add("serve", _cmd_serve, "serve the build (dist/) from a SPARQL server with a query UI, until Ctrl-C", listen)
    p.add_argument("--port", type=int, default=server.DEFAULT_PORT, help="port (default: %(default)s)")
    p.add_argument("--writable", action="store_true", help="accept SPARQL updates and Graph Store writes")
    p.add_argument(
        "--timeout", type=float, default=server.DEFAULT_TIMEOUT_S, help="cut queries off after this many seconds"
    )
    p.add_argument("--location", type=Path, help="keep the server's store in this folder (default: temporary)")
    p = add("publish", _cmd_publish, "load the build (dist/) into a SPARQL 1.1 store via the Graph Store Protocol")
    p.add_argument(
        "--endpoint",
        required=True,
        help="the store's Graph Store Protocol URL, e.g. http://127.0.0.1:7878/store (Oxigraph), "
        "http://HOST:3030/DATASET/data (Fuseki), http://HOST:8890/sparql-graph-crud-auth (Virtuoso)",
    )
    p.add_argument(
        "--graph", default=str(ASSERTED_GRAPH), help="named graph for asserted triples (default: %(default)s)"
    )
    p.add_argument(
        "--inferred-graph", default=str(INFERRED_GRAPH), help="named graph for inferred triples (default: %(default)s)"
    )
    p.add_argument("--user", help="HTTP basic-auth user; the password is read from $NEUROMECH_ENDPOINT_PASSWORD")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds allowed to each upload")
    p = add("api", _cmd_api, "serve the stored queries as an HTTP API with an OpenAPI description", listen, stores)
    p.add_argument("--port", type=int, default=api.DEFAULT_API_PORT, help="port (default: %(default)s)")


def _parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, help="project checkout (default: found from the working directory)")
    common.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    formats = argparse.ArgumentParser(add_help=False)
    formats.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    stores = argparse.ArgumentParser(add_help=False)
    stores.add_argument(
        "--store",
        default="oxigraph",
        metavar="STORE",
        help="oxigraph (default, embedded), rdflib (reference) or the URL of a SPARQL 1.1 query endpoint "
        "holding a published build (e.g. http://127.0.0.1:7878/query from `neuromech serve`)",
    )
    listen = argparse.ArgumentParser(add_help=False)
    listen.add_argument(
        "--bind", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)"
    )

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
    p = add("query", _cmd_query, "run a stored query", formats, stores)
    p.add_argument("name", help="stored query name (see `neuromech queries`)")
    p.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE", help="a parameter value")
    p = add("findings", _cmd_findings, "list findings, optionally by condition, entity and review", formats, stores)
    p.add_argument("--condition", help="condition label, CURIE or IRI")
    p.add_argument("--entity", help="entity label, CURIE or IRI")
    p.add_argument("--review", help="review CURIE, e.g. nmr:nssi")
    p = add("shared", _cmd_shared, "entities implicated in both of two conditions, with evidence", formats, stores)
    p.add_argument("a", help="first condition (label, CURIE, IRI or external CURIE)")
    p.add_argument("b", help="second condition")
    p = add("fmt", _cmd_fmt, "rewrite data files in canonical form")
    p.add_argument("paths", nargs="*", type=Path, help="files to format (default: all of data/)")
    p.add_argument("--check", action="store_true", help="only report files that are not canonical")
    _add_server_commands(add, listen, stores)
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
