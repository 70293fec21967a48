"""The ``neuromech`` command: a thin layer over the library, one function call per command."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from neuromech import (
    __version__,
    api,
    canonical,
    curation,
    federation,
    imports,
    linkcheck,
    mapping_impact,
    mappings,
    publish,
    queries,
    server,
)
from neuromech.build import VALIDATORS, build, open_graph, validate_project, watch
from neuromech.conflicts import find_conflicts
from neuromech.errors import NeuroMechError, UsageError, ValidationFailed
from neuromech.explain import explain
from neuromech.loading import load_project
from neuromech.mapping_set import read_mapping_set
from neuromech.mechanisms import shared_mechanisms
from neuromech.modules import exhibited_modules
from neuromech.namespaces import INFERRED_GRAPH
from neuromech.paths import ProjectPaths, project
from neuromech.pipeline import BuildResult
from neuromech.remote_store import ASSERTED_GRAPH
from neuromech.report import FORMATS, Reportable, cell, render_rows, render_table
from neuromech.similarity import similar_conditions
from neuromech.site import build_site

Handler = Callable[[argparse.Namespace, ProjectPaths], int]


def _print_build(result: BuildResult, paths: ProjectPaths) -> None:
    summary = result.summary
    print(f"built {len(result.written)} files in {paths.dist_dir}: " + ", ".join(p.name for p in result.written))
    print(
        f"{summary['findings']} findings, {summary['triples_asserted']} asserted + "
        f"{summary['triples_inferred']} inferred triples; timings (s): {summary['timings_s']}",
        flush=True,
    )


def _cmd_build(args: argparse.Namespace, paths: ProjectPaths) -> int:
    if not args.watch:
        _print_build(build(paths, check_reasoner=not args.no_reasoner), paths)
        return 0

    def report(outcome: BuildResult | Exception) -> None:
        if isinstance(outcome, Exception):
            print(f"neuromech: build failed, waiting for the next change:\n{outcome}", file=sys.stderr, flush=True)
        else:
            _print_build(outcome, paths)

    print(f"watching {paths.root} (Ctrl-C to stop)", file=sys.stderr, flush=True)
    try:
        watch(paths, report, check_reasoner=not args.no_reasoner, interval=args.interval)
    except KeyboardInterrupt:
        print("stopped watching", file=sys.stderr)
    return 0


def _cmd_validate(args: argparse.Namespace, paths: ProjectPaths) -> int:
    extra = [p.resolve() for p in args.paths if not p.resolve().is_relative_to(paths.data_dir)]
    report = validate_project(paths, extra, engine=args.engine)
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


def _emit(report: Reportable, fmt: str, header: str = "") -> None:
    if fmt == "json":
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    if header and fmt == "table":
        print(header)
    columns, rows = report.to_rows()
    print(render_rows(columns, rows, fmt))


def _cmd_shared(args: argparse.Namespace, paths: ProjectPaths) -> int:
    report = shared_mechanisms(open_graph(paths, args.store), args.a, args.b)
    kinds = sorted({s.kind for s in report.shared})
    _emit(
        report,
        args.format,
        f"A = {report.a_label} ({report.a}); B = {report.b_label} ({report.b}); "
        f"{len(report.shared)} shared levels ({', '.join(kinds) or 'none'})",
    )
    if args.format == "table" and report.stated:
        columns, rows = report.stated_rows()
        print("\nWhat the reviews state about this pair, checked against the findings:")
        print(render_rows(columns, rows, "table"))
    return 0


def _cmd_explain(args: argparse.Namespace, paths: ProjectPaths) -> int:
    report = explain(open_graph(paths, args.store), args.condition, args.entity)
    header = f"{report.condition_label} -> {report.entity_label}: {report.link}"
    if report.axioms:
        header += "\nderived by:\n  " + "\n  ".join(report.axioms)
    _emit(report, args.format, header)
    return 0


def _cmd_similar(args: argparse.Namespace, paths: ProjectPaths) -> int:
    if args.permutations < 0:
        raise UsageError("--permutations must be 0 or more")
    report = similar_conditions(
        open_graph(paths, args.store), args.condition, permutations=args.permutations, seed=args.seed, top=args.top
    )
    _emit(
        report,
        args.format,
        f"conditions ranked by mechanistic overlap with {report.label} ({report.condition}); "
        f"{report.permutations} degree-preserving permutations, seed {report.seed}",
    )
    return 0


def _cmd_conflicts(args: argparse.Namespace, paths: ProjectPaths) -> int:
    report = find_conflicts(open_graph(paths, args.store), args.condition)
    _emit(report, args.format, f"conflicting findings ({report.condition}): {len(report.conflicts)} pairs")
    return 0


def _cmd_modules(args: argparse.Namespace, paths: ProjectPaths) -> int:
    report = exhibited_modules(open_graph(paths, args.store), args.condition)
    _emit(report, args.format, f"mechanism modules exhibited ({report.condition})")
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


def _add_reasoning_commands(
    add: Callable[..., argparse.ArgumentParser], formats: argparse.ArgumentParser, stores: argparse.ArgumentParser
) -> None:
    """Add ``explain``, ``similar``, ``conflicts`` and ``modules``."""
    p = add(
        "explain",
        _cmd_explain,
        "the findings, hierarchy steps and rules behind a condition -> entity link",
        formats,
        stores,
    )
    p.add_argument("condition", help="condition (label, CURIE, IRI or external CURIE)")
    p.add_argument("entity", help="entity (region, molecule, gene, construct …)")
    p = add(
        "similar", _cmd_similar, "rank conditions by mechanistic overlap, with a permutation p-value", formats, stores
    )
    p.add_argument("condition", help="condition to compare the others with")
    p.add_argument("--permutations", type=int, default=200, help="permuted graphs in the null (default: 200)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--top", type=int, default=5, help="heaviest shared entities listed per condition (default: 5)")
    p = add(
        "conflicts", _cmd_conflicts, "findings that disagree, and whether their contexts explain it", formats, stores
    )
    p.add_argument("--condition", help="only this condition")
    p = add("modules", _cmd_modules, "mechanism modules each condition exhibits, with the findings", formats, stores)
    p.add_argument("--condition", help="only this condition")


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


def _cmd_mappings_derive_allen(args: argparse.Namespace, paths: ProjectPaths) -> int:
    result = mappings.derive_allen_mappings(paths, args.external, dry_run=args.dry_run)
    for row in result.added:
        print(f"{row.subject_id} {row.predicate_id} {row.object_id} {row.object_label!r}")
    verb = "would add" if args.dry_run else "added"
    print(
        f"{verb} {len(result.added)} Allen atlas mappings ({result.count('HBA')} HBA, {result.count('MBA')} MBA) "
        f"to {paths.mappings_file}; {len(result.kept)} were already there"
    )
    return 0


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
    impacts = mapping_impact.mapping_impact(open_graph(paths).store, read_mapping_set(paths.mappings_file))
    rows = mapping_impact.impact_rows(impacts)
    print(render_rows(list(mapping_impact.IMPACT_COLUMNS), rows, args.format, max_width=60))
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
    p = group_sub.add_parser(
        "derive-allen",
        help="add narrowMatch rows to Allen HBA/MBA classes for brain regions' exact UBERON matches (idempotent)",
        parents=[common, external],
    )
    p.add_argument("--dry-run", action="store_true", help="report what would be added, write nothing")
    handlers["mappings derive-allen"] = _cmd_mappings_derive_allen
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
    p.add_argument(
        "--watch", action="store_true", help="stay running; rebuild incrementally whenever a source file changes"
    )
    p.add_argument("--interval", type=float, default=1.0, help="seconds between checks for changes (--watch)")
    p = add("validate", _cmd_validate, "check the data against the SHACL shapes")
    p.add_argument("paths", nargs="*", type=Path, help="only report on these data files (others are loaded too)")
    p.add_argument(
        "--engine",
        choices=VALIDATORS,
        default="sparql",
        help="sparql: shapes compiled to SPARQL on pyoxigraph (default); pyshacl: the reference validator",
    )
    add("queries", _cmd_queries, "list the stored queries with their parameters", formats)
    p = add("query", _cmd_query, "run a stored query", formats, stores)
    p.add_argument("name", help="stored query name (see `neuromech queries`)")
    p.add_argument("--param", "-p", action="append", default=[], metavar="NAME=VALUE", help="a parameter value")
    p.add_argument(
        "--endpoint",
        metavar="URL",
        help="SPARQL endpoint: answers the query's SERVICE block (queries/federated/), or the whole query",
    )
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per request to --endpoint (default 30)")
    p.add_argument("--retries", type=int, default=2, help="retries of a failed request to --endpoint (default 2)")
    p = add("findings", _cmd_findings, "list findings, optionally by condition, entity and review", formats, stores)
    p.add_argument("--condition", help="condition label, CURIE or IRI")
    p.add_argument("--entity", help="entity label, CURIE or IRI")
    p.add_argument("--review", help="review CURIE, e.g. nmr:nssi")
    p = add(
        "shared",
        _cmd_shared,
        "what two conditions share, hierarchy- and direction-aware, with evidence",
        formats,
        stores,
    )
    p.add_argument("a", help="first condition (label, CURIE, IRI or external CURIE)")
    p.add_argument("b", help="second condition")
    _add_reasoning_commands(add, formats, stores)
    p = add("site", _cmd_site, "build the static, bilingual mechanism explorer into dist/site/")
    p.add_argument("--out", type=Path, help="output folder (default: dist/site)")
    p = add("fmt", _cmd_fmt, "rewrite data files in canonical form")
    p.add_argument("paths", nargs="*", type=Path, help="files to format (default: all of data/)")
    p.add_argument("--check", action="store_true", help="only report files that are not canonical")
    _add_server_commands(add, listen, stores)
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
