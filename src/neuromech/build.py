"""The pipeline: load -> validate -> reason -> export, and the in-memory graph commands use."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import RDF

from neuromech import export, loading, mappings, queries, reasoning, validation
from neuromech.errors import UsageError, ValidationFailed
from neuromech.mapping_set import read_mapping_set
from neuromech.namespaces import NM, compress
from neuromech.paths import ProjectPaths
from neuromech.resolve import Resolver
from neuromech.store import OxigraphStore, RdflibStore, ResultTable, Store

log = logging.getLogger(__name__)


@dataclass
class KnowledgeGraph:
    """The loaded, reasoned graph of a project with its query catalogue."""

    paths: ProjectPaths
    source: loading.SourceGraph | None  # None when the graph lives in a remote store
    store: Store
    catalogue: dict[str, queries.StoredQuery]
    materialisation: reasoning.MaterialisationReport | None
    _resolver: Resolver | None = field(default=None, repr=False)

    @property
    def resolver(self) -> Resolver:
        """The name resolver, built on first use."""
        if self._resolver is None:
            self._resolver = Resolver.from_store(self.store)
        return self._resolver

    def query(self, name: str, values: dict[str, str] | None = None) -> ResultTable:
        """Run the stored query ``name`` with ``values`` (text, resolved and bound as terms)."""
        stored = queries.get_query(self.catalogue, name)
        return queries.run_query(self.store, stored, values or {}, self.resolver)


STORES = ("oxigraph", "rdflib")


def open_graph(paths: ProjectPaths, store: str = "oxigraph") -> KnowledgeGraph:
    """Open the graph of ``paths`` on the store ``store`` names.

    ``oxigraph`` (default) and ``rdflib`` load the ontology and data into an embedded store and
    materialise the derived edges (no SHACL, no HermiT); an ``http(s)://`` URL is a SPARQL 1.1
    query endpoint already holding a published build (``neuromech publish``/``serve``).

    Raises:
        UsageError: when ``store`` is neither a known store nor an http(s) URL.
    """
    catalogue = queries.load_catalogue(paths.queries_dir)
    if store.startswith(("http://", "https://")):
        from neuromech.remote_store import RemoteStore  # noqa: PLC0415 -- only needed for endpoints

        return KnowledgeGraph(paths, None, RemoteStore(store), catalogue, None)
    if store not in STORES:
        raise UsageError(f"unknown store {store!r}: give one of {', '.join(STORES)} or a SPARQL endpoint URL")
    source = loading.load_project(paths)
    embedded: Store = (
        OxigraphStore.from_graph(source.graph) if store == "oxigraph" else RdflibStore.from_graph(source.graph)
    )
    report = reasoning.materialise(embedded, reasoning.load_rules(paths.rules_dir))
    return KnowledgeGraph(paths, source, embedded, catalogue, report)


def validate_project(paths: ProjectPaths, extra: list[Path] | None = None) -> validation.ValidationReport:
    """Load a project (plus ``extra`` data files) and validate it against its shapes."""
    source = loading.load_project(paths, extra or [])
    return validation.validate(source, loading.load_shapes(paths), paths.root)


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote and measured."""

    written: list[Path]
    summary: dict[str, object]


def _counts(graph: Graph) -> dict[str, object]:
    by_class = Counter(compress(str(o)) for o in graph.objects(None, RDF.type) if str(o).startswith(str(NM)))
    by_review = Counter(
        compress(str(r)) for f in graph.subjects(RDF.type, NM.Finding) for r in graph.objects(f, NM.from_review)
    )
    return {"by_class": dict(sorted(by_class.items())), "findings_by_review": dict(sorted(by_review.items()))}


def build(paths: ProjectPaths, check_reasoner: bool = True, progress: bool = True) -> BuildResult:
    """Run the whole pipeline and write ``dist/``.

    Steps: parse every Turtle source (syntax errors name file and line), validate with SHACL,
    check consistency with HermiT, materialise derived edges, export. ``dist/`` is written
    only if every step succeeded.

    Raises:
        SourceSyntaxError: a source file does not parse.
        ValidationFailed: the data violate the shapes (the report lists every violation).
        InconsistentOntology: HermiT finds the ontology plus data inconsistent.
    """
    timings: dict[str, float] = {}

    steps = iter(range(1, 6))

    def step(name: str) -> float:
        if progress:
            log.info("[%d/5] %s ...", next(steps), name)
        return time.perf_counter()

    started = step("load")
    source = loading.load_project(paths)
    shapes = loading.load_shapes(paths)
    catalogue = queries.load_catalogue(paths.queries_dir)
    timings["load"] = time.perf_counter() - started

    started = step("validate (SHACL)")
    report = validation.validate(source, shapes, paths.root)
    timings["validate"] = time.perf_counter() - started
    if not report.conforms:
        raise ValidationFailed(report.render())

    unsatisfiable: list[str] = []
    started = step("reason (HermiT consistency)" if check_reasoner else "reason (HermiT skipped: --no-reasoner)")
    if check_reasoner:
        unsatisfiable = reasoning.check_consistency(source.graph)
        timings["hermit"] = time.perf_counter() - started

    started = step("materialise derived edges")
    store = OxigraphStore.from_graph(source.graph)
    materialised = reasoning.reason(store, paths.rules_dir)
    timings["materialise"] = time.perf_counter() - started

    started = step("export")
    full = store.to_graph()
    inferred = store.inferred_graph()
    table = queries.run_query(store, queries.get_query(catalogue, "findings"))
    summary: dict[str, object] = {
        "triples_asserted": len(source.graph),
        "triples_inferred": len(inferred),
        "findings": len(table.rows),
        **_counts(full),
        "violations": len(report.violations),
        "unsatisfiable_classes": unsatisfiable,
        "materialisation": {"rounds": materialised.rounds, "per_rule": materialised.per_rule},
    }
    files: dict[str, str | bytes] = dict(export.graph_serialisations(full))
    files["inferred.ttl"] = export.graph_serialisations(inferred)["neuromech.ttl"]
    files["findings.tsv"] = export.findings_tsv(table)
    mapping_set = read_mapping_set(paths.mappings_file)
    files.update(mappings.export_mapping_set(mapping_set))
    files["mapping-impact.tsv"] = mappings.impact_tsv(mappings.mapping_impact(store, mapping_set))
    timings["export"] = time.perf_counter() - started
    summary["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
    files["build-summary.json"] = json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
    written = export.publish_directory(files, paths.dist_dir)
    return BuildResult(written, summary)
