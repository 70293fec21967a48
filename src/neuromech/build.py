"""The pipeline: load -> validate -> reason -> export, and the in-memory graph commands use."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from neuromech import loading, queries, reasoning, validation
from neuromech.errors import NeuroMechError, UsageError
from neuromech.paths import ProjectPaths
from neuromech.pipeline import BuildResult, BuildSession
from neuromech.resolve import Resolver
from neuromech.rules import load_rules
from neuromech.store import RdflibStore, ResultTable, Store

log = logging.getLogger(__name__)


@dataclass
class KnowledgeGraph:
    """The loaded, reasoned graph of a project with its query catalogue."""

    paths: ProjectPaths
    source: loading.Source | None  # None when the graph lives in a remote store
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
    source: loading.Source
    embedded: Store
    if store == "oxigraph":
        source = loading.load_project_store(paths)
        embedded = source.store
    else:
        source = loading.load_project(paths)
        embedded = RdflibStore.from_graph(source.graph)
    report = reasoning.materialise(embedded, load_rules(paths.rules_dir))
    return KnowledgeGraph(paths, source, embedded, catalogue, report)


VALIDATORS = ("sparql", "pyshacl")


def validate_project(
    paths: ProjectPaths, extra: list[Path] | None = None, engine: str = "sparql"
) -> validation.ValidationReport:
    """Load a project (plus ``extra`` data files) and validate it against its shapes.

    ``engine`` ``sparql`` (default) runs the shapes compiled to SPARQL on pyoxigraph;
    ``pyshacl`` runs pySHACL on an rdflib graph, the reference it is tested against.
    """
    if engine not in VALIDATORS:
        raise UsageError(f"unknown validator {engine!r}: give one of {', '.join(VALIDATORS)}")
    shapes = loading.load_shapes(paths)
    if engine == "pyshacl":
        return validation.validate(loading.load_project(paths, extra or []), shapes, paths.root)
    source = loading.load_project_store(paths, extra or [])
    return validation.validate_store(source.store, shapes, source.file_of, paths.root)


def build(paths: ProjectPaths, check_reasoner: bool = True, progress: bool = True) -> BuildResult:
    """Run the whole pipeline and write ``dist/`` (see :class:`neuromech.pipeline.BuildSession`).

    Steps: parse every Turtle source into pyoxigraph (syntax errors name file and line),
    validate with the SHACL shapes compiled to SPARQL, check the entity layer with HermiT,
    materialise derived edges, export. ``dist/`` is written only if every step succeeded.

    Raises:
        SourceSyntaxError: a source file does not parse.
        ValidationFailed: the data violate the shapes (the report lists every violation).
        InconsistentOntology: HermiT finds the ontology plus entity layer inconsistent.
    """
    return BuildSession(paths, check_reasoner).build(progress)


def watch(
    paths: ProjectPaths,
    on_result: Callable[[BuildResult | Exception], None],
    check_reasoner: bool = True,
    interval: float = 1.0,
    rounds: int | None = None,
) -> None:
    """Build, then rebuild incrementally whenever a source file changes (until interrupted).

    Each outcome (a :class:`BuildResult`, or the error a failed build raised) goes to
    ``on_result``; a failed build is retried at the next change. ``rounds`` bounds the number
    of polls (for tests); ``None`` polls until Ctrl-C.
    """
    session = BuildSession(paths, check_reasoner, warm_reasoner=True)
    try:
        _watch(session, on_result, interval, rounds)
    finally:
        session.close()


def _watch(
    session: BuildSession, on_result: Callable[[BuildResult | Exception], None], interval: float, rounds: int | None
) -> None:
    seen: dict[Path, tuple[int, int]] | None = None
    polls = 0
    while rounds is None or polls < rounds:
        polls += 1
        # a poll compares modification times and sizes; the rebuild hashes the files it is given
        now = {
            p: (p.stat().st_mtime_ns, p.stat().st_size)
            for p in [*session.frame_files(), *session.data_source_files()]
            if p.exists()
        }
        if now != seen:
            seen = now
            try:
                on_result(session.rebuild(progress=False))
            except NeuroMechError as err:
                on_result(err)
        if rounds is None or polls < rounds:
            time.sleep(interval)
