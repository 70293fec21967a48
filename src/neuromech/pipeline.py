"""The build pipeline on one pyoxigraph store, in full and incrementally after edits.

A :class:`BuildSession` loads every source file into its own named graph of an in-memory
pyoxigraph store, validates with the shapes compiled to SPARQL, checks the entity layer with
HermiT, materialises the derived edges with the rules, and writes ``dist/``. It keeps the
store, so that :meth:`BuildSession.rebuild` after an edit does only what the edit requires:

- only changed data files are re-parsed (their named graph is replaced);
- only the nodes the edit touched, and their neighbours one edge away in either direction,
  are re-validated (the previous state conformed, so this gives the verdict of a full
  validation: every shape looks at most one edge beyond its focus node, or at a part-of
  cycle, which passes through an edited node);
- HermiT runs only when the entity layer (the ontology and the non-claim nodes) changed;
- the derived edges are re-materialised (semi-naive rules inside the store);
- the release files are written again, atomically.

A change to the ontology, the shapes, the rules or the queries starts a full build.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef

from neuromech import export, findings_table, incremental, loading, mappings, queries, reasoning, validation
from neuromech.entity_check import EarlyClassification, EntityLayerCheck, LayerEdit, left_out_classes, updated_layer
from neuromech.errors import ValidationFailed
from neuromech.hermit_server import WarmHermit
from neuromech.mapping_set import read_mapping_set
from neuromech.namespaces import INFERRED_GRAPH, NM, compress
from neuromech.paths import ProjectPaths
from neuromech.release import ChunkFolder, Release
from neuromech.rules import Rule, load_rules, overlaps
from neuromech.store import WORKERS, OxigraphStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote and measured."""

    written: list[Path]
    summary: dict[str, object]


@dataclass
class BuildSession:
    """One project's build state, kept between an initial build and incremental rebuilds."""

    paths: ProjectPaths
    check_reasoner: bool = True
    source: loading.SourceStore | None = None
    shapes: Graph | None = None
    catalogue: dict[str, queries.StoredQuery] = field(default_factory=dict)
    data_digests: dict[Path, str] = field(default_factory=dict)
    frame_digest: str = ""
    unsatisfiable: list[str] = field(default_factory=list)
    release: Release | None = None  # made by build(); its chunk files live under dist/.cache
    digests: loading.DigestCache = field(default_factory=loading.DigestCache)
    counts: dict[str, object] | None = None  # the last build summary's counts
    # the entity layer (N-Triples) HermiT last read, or that an annotation-only edit led to: a
    # rebuild updates it by the edit's triples instead of selecting it again (None: select it)
    layer: bytes | None = field(default=None, repr=False)
    # keep HermiT's JVM and the entity layer it last read between rebuilds (`build --watch`,
    # the benchmarks): a rebuild's consistency check then sends it only the changed axioms
    warm_reasoner: bool = False
    _warm: WarmHermit | None = field(default=None, init=False, repr=False)

    @property
    def warm_hermit(self) -> WarmHermit | None:
        """The HermiT kept warm between rebuilds (None until a check needed it, or without ``warm_reasoner``)."""
        return self._warm

    def close(self) -> None:
        """Stop the warm HermiT, if one runs, and remove the session's chunk files (idempotent).

        ``dist/`` stays as the last build left it; a later :meth:`rebuild` runs a full build.
        """
        if self._warm is not None:
            self._warm.close()
            self._warm = None
        if self.release is not None:
            self.release.folder.remove()
            self.release = None
        self.source = None
        self.layer = None

    # -- what the session watches -------------------------------------------------------------

    def frame_files(self) -> list[Path]:
        """Return the files whose change requires a full build: ontology, shapes, rules, queries."""
        return [
            *self.paths.ontology_files(),
            *self.paths.shape_files(),
            *sorted(self.paths.rules_dir.glob("*.rq")),
            *sorted(self.paths.queries_dir.glob("*.rq")),
        ]

    def data_source_files(self) -> list[Path]:
        """Return the curated data files plus the SSSOM mapping set."""
        return [*self.paths.data_files(), self.paths.mappings_file]

    def _digests(self, files: Iterable[Path]) -> dict[Path, str]:
        return {path: self.digests.digest(path) for path in files}

    def _frame_digest(self) -> str:
        digest = hashlib.sha256()
        for path, value in self._digests(self.frame_files()).items():
            digest.update(f"{path}\t{value}\n".encode())
        return digest.hexdigest()

    # -- full build -----------------------------------------------------------------------------

    def build(self, progress: bool = True) -> BuildResult:
        """Run the whole pipeline from the sources and write ``dist/``.

        Raises:
            SourceSyntaxError: a source file does not parse (every failing file is listed).
            ValidationFailed: the data violate the shapes (the report lists every violation).
            InconsistentOntology: HermiT finds the ontology plus entity layer inconsistent.
        """
        timings: dict[str, float] = {}
        say = _progress(progress, 5)
        started = say("load")
        self.frame_digest = self._frame_digest()
        self.data_digests = self._digests(self.data_source_files())
        self.layer = None  # set again once HermiT has read this build's layer
        if self.release is not None:  # chunks of files a previous build had are not carried over
            self.release.folder.remove()
        release = self.release = Release(ChunkFolder(self.paths.dist_dir / ".cache"))
        # HermiT's classification needs only the ontology files: it runs while the data load
        early = EarlyClassification.start(self.paths, self.hermit_cache) if self.check_reasoner else None
        try:
            source = loading.load_project_store(self.paths)
            self.shapes = loading.load_shapes(self.paths)
            self.catalogue = queries.load_catalogue(self.paths.queries_dir)
        except BaseException:
            if early is not None:
                early.cancel()
            raise
        timings["load"] = time.perf_counter() - started

        say("reason (HermiT on the entity layer, in the background)" if self.check_reasoner else "HermiT skipped")
        hermit = self._start_hermit(source, early, full_build=True)
        try:
            started = say("validate (SHACL compiled to SPARQL)")
            report = validation.validate_store(source.store, self.shapes, source.file_of, self.paths.root)
            timings["validate"] = time.perf_counter() - started
            if not report.conforms:
                raise ValidationFailed(report.render())

            started = say("materialise derived edges (the asserted graphs are serialised meanwhile)")
            # The rules write only to the inferred graph, so the asserted graphs' chunks are dumped
            # beside them (pyoxigraph releases the GIL while it dumps): ~6 s of CPU at 10^6 triples
            # moved off the export. Making the findings rows beside them too (Python work holding
            # the GIL) slowed the rules from 16 s to 33 s, more than it saved.
            # Then, on the core the rules leave free, the findings table's queries: they read no
            # predicate the rules derive (checked below on what the rules did derive), so their
            # answers before the rules are their answers after.
            asserted = [g for g in source.store.native.named_graphs() if g.value != str(INFERRED_GRAPH)]
            with ThreadPoolExecutor(max_workers=1) as beside:
                dumped = beside.submit(release.refresh_graphs, source.store, asserted)  # type: ignore[arg-type]
                queried = beside.submit(findings_table.query_parts, source.store, parallel=False)
                materialised = reasoning.materialise(source.store, load_rules(self.paths.rules_dir))
                timings["materialise"] = time.perf_counter() - started
                waited = time.perf_counter()
                dumped.result()
                parts: findings_table.Parts | None = queried.result()
            timings["serialise asserted, query findings (waited)"] = time.perf_counter() - waited
            read = findings_table.keys_read()
            derived = materialised.derived_keys
            if derived is None or any(overlaps(key, other) for key in derived for other in read):
                parts = None  # queried again after the rules

            self.source = source
            started = say("export")
            return self._export(
                timings,
                started,
                materialised,
                len(report.violations),
                changed_graphs=[],
                hermit=hermit,
                findings_parts=parts,
            )
        except BaseException:
            if hermit is not None:
                hermit.cancel()
            release.folder.remove()
            raise

    # -- incremental rebuild --------------------------------------------------------------------

    def changed_files(self) -> tuple[list[Path], list[Path]]:
        """Return the data files changed or added since the last build, and those removed."""
        now = self._digests(p for p in self.data_source_files() if p.exists())
        changed = [p for p, d in now.items() if self.data_digests.get(p) != d]
        removed = [p for p in self.data_digests if p not in now]
        return changed, removed

    def rebuild(self, progress: bool = True) -> BuildResult:
        """Bring ``dist/`` up to date after edits, doing only what the edits require.

        A change to the ontology, shapes, rules or queries (or no previous build) runs a full
        :meth:`build`. A failed rebuild leaves ``dist/`` as it was and the session needing a
        full build.

        Raises:
            SourceSyntaxError, ValidationFailed, InconsistentOntology: as :meth:`build`.
        """
        if self.source is None or self._frame_digest() != self.frame_digest:
            return self.build(progress)
        changed, removed = self.changed_files()
        source = self.source
        timings: dict[str, float] = {}
        say = _progress(progress, 5)
        hermit: EntityLayerCheck | None = None
        try:
            started = say(f"load {len(changed)} changed file(s), drop {len(removed)}")
            delta = self._replace(source, changed, removed)
            timings["load"] = time.perf_counter() - started

            # HermiT starts before validation and runs beside the rest: it reads the asserted
            # graphs alone, which nothing changes from here on
            edit = (
                None
                if self.layer is None or not delta.entity_layer_changed
                else (self.layer, delta.removed | delta.added, left_out_classes(source))
            )
            if not delta.entity_layer_changed:
                say("reason (HermiT skipped: only claims changed)")
            elif _annotations_only(source, delta):
                say("reason (HermiT skipped: only annotations of the entity layer changed)")
                self.layer = None if edit is None else updated_layer(source, *edit)  # where the next check starts
            else:
                say("reason (HermiT: the entity layer changed; in the background)")
                hermit = self._start_hermit(source, edit=edit)

            started = say(f"validate {len(delta.touched)} touched node(s)")
            assert self.shapes is not None
            focus = _neighbourhood(source, delta.touched)
            with source.store.without_inferred(validation.predicates_read(self.shapes)) as asserted:
                report = validation.validate_store(asserted, self.shapes, source.file_of, self.paths.root, focus)
            timings["validate"] = time.perf_counter() - started
            if not report.conforms:
                raise ValidationFailed(report.render())

            rules = load_rules(self.paths.rules_dir)
            findings: set[str] | None = delta.claims
            impact: set[str] | None = delta.claims
            parts: set[str] | None = None
            started = say(f"maintain derived edges for {len(delta.removed) + len(delta.added)} changed triple(s)")
            materialised, around, scope, maintained = _maintain(source, rules, delta)
            counts = _updated_counts(self.counts, delta, maintained)
            if delta.entity_layer_changed:
                findings, impact, parts = _rows_to_refresh(source, delta, maintained)
            timings["materialise"] = time.perf_counter() - started

            started = say("export")
            graphs = [loading.graph_iri(p) for p in [*changed, *removed]]
            result = self._export(
                timings,
                started,
                materialised,
                len(report.violations),
                changed_graphs=graphs,
                findings=findings,
                impact=impact,
                parts=parts,
                spliced={**delta.spliceable, **({str(INFERRED_GRAPH): around} if around is not None else {})},
                counts=counts,
                scope=scope,
                hermit=hermit,
            )
        except BaseException:
            if hermit is not None:
                hermit.cancel()
            self.source = None  # the store may hold the failed edit: the next build starts afresh
            self.layer = None
            raise
        for path in removed:
            self.data_digests.pop(path, None)
        self.data_digests.update(self._digests(changed))
        return result

    def _replace(self, source: loading.SourceStore, changed: list[Path], removed: list[Path]) -> Delta:
        """Swap in the changed files' triples; return what changed."""
        delta = Delta(claim_classes=_claim_classes(source))
        claim_classes = delta.claim_classes
        native = source.store.native
        for path in [*changed, *removed]:
            if path in removed or path == self.paths.mappings_file:
                before = _graph_triples(source, path)
                if path in removed:
                    source.remove_file(path)
                else:
                    source.add_mappings(path)
                after = _graph_triples(source, path)
                gone, new = before - after, after - before
            else:
                gone, new = source.replace_file(path)
            delta.removed |= gone
            delta.added |= new
            delta.asserted_change += len(new) - len(gone)
            # a shape looks at its focus node's own triples (no shape has an inverse path), so an
            # edit touches the subjects of the triples it added or removed
            subjects = {t.subject for t in gone | new}
            delta.touched.update(s.value for s in subjects if isinstance(s, ox.NamedNode))
            graph = loading.graph_iri(path)
            if not any(isinstance(node, ox.BlankNode) for t in gone | new for node in (t.subject, t.object)):
                delta.spliceable[graph.value] = {s.value for s in subjects if isinstance(s, ox.NamedNode)}
            # the subjects' triples in the file before and after the edit
            around = gone | {q.triple for s in subjects for q in native.quads_for_pattern(s, None, None, graph)}
            claims = {t.subject for t in around if t.predicate == _RDF_TYPE and t.object in claim_classes}
            delta.claims.update(c.value for c in claims if isinstance(c, ox.NamedNode))
            delta.entity_layer_changed |= any(s not in claims for s in subjects)
            delta.conditions.update(
                t.object.value
                for t in around
                if t.subject in claims and t.predicate == _HAS_CONDITION and isinstance(t.object, ox.NamedNode)
            )
        return delta

    # -- shared steps ---------------------------------------------------------------------------

    def _count(self, counts: dict[str, object] | None, counted: Future[dict[str, object]] | None) -> dict[str, object]:
        """Return (and keep for the next rebuild) the counts given, or those the background count made."""
        made = counted.result() if counted is not None else counts
        assert made is not None
        self.counts = made
        return made

    def _start_hermit(
        self,
        source: loading.SourceStore,
        early: EarlyClassification | None = None,
        full_build: bool = False,
        edit: LayerEdit | None = None,
    ) -> EntityLayerCheck | None:
        """Start HermiT's checks of the entity layer in the background (None when the reasoner is off).

        ``early``: the ontology's classification, already started on its files. A ``full_build``
        runs HermiT's command line at the lowest priority (it is not the build's longest path).
        ``edit``: the layer before a rebuild's edit and what it changed (see
        :func:`~neuromech.entity_check.updated_layer`).
        """
        if not self.check_reasoner:
            return None
        if self.warm_reasoner and self._warm is None:
            self._warm = WarmHermit(self.paths.dist_dir / ".cache")
        return EntityLayerCheck(
            source, self.paths, self.hermit_cache, self._warm, early=early, niced=full_build, edit=edit
        )

    @property
    def hermit_cache(self) -> Path:
        """The record of what HermiT last passed (``dist/.cache/hermit.json``)."""
        return self.paths.dist_dir / ".cache" / "hermit.json"

    def _export(
        self,
        timings: dict[str, float],
        started: float,
        materialised: reasoning.MaterialisationReport,
        violations: int,
        *,
        changed_graphs: list[ox.NamedNode] | None = None,
        findings: set[str] | None = None,
        impact: set[str] | None = None,
        parts: set[str] | None = None,
        spliced: dict[str, set[str]] | None = None,
        counts: dict[str, object] | None = None,
        scope: str = "whole graph",
        hermit: EntityLayerCheck | None = None,
        findings_parts: findings_table.Parts | None = None,
    ) -> BuildResult:
        """Write ``dist/``: every piece (``changed_graphs``/``findings``/``impact`` None), or those an edit changed.

        ``findings`` are the findings whose ``findings.tsv`` rows are made again, ``impact``
        those whose slots the mapping impact files again (None: all, and the hierarchy read
        again), ``parts`` the entities whose ``nm:falls_under`` changed.

        The inferred graph's chunks are always re-serialised; ``changed_graphs`` lists the other
        graphs whose chunks are (``[]`` when the caller has serialised them already).

        ``spliced`` (graph IRI -> the subjects whose triples in it changed: a rebuild's edited
        files, and the inferred triples it re-derived) has those graphs' chunks updated for
        those subjects instead of dumped again (:meth:`neuromech.release.Release.refresh_graphs`).
        ``scope`` (what the materialisation covered) goes into the build summary.
        ``findings_parts``: the findings table's query rows for all findings, already queried.
        """
        assert self.source is not None
        assert self.release is not None
        store = self.source.store
        inferred_graph = ox.NamedNode(str(INFERRED_GRAPH))
        graphs = list(store.native.named_graphs()) if changed_graphs is None else [*changed_graphs, inferred_graph]
        # the chunks are dumped and the summary's counts made in threads (pyoxigraph releases the
        # GIL) while Python makes the tables; one dump thread a format keeps both cores busy to
        # the end (with two, the inferred graph's JSON-LD dump ran alone for 0.5 s of a rebuild
        # at 10^6 triples)
        with ThreadPoolExecutor(max_workers=2) as background:
            dumped = background.submit(
                self.release.refresh_graphs,
                store,
                graphs,  # type: ignore[arg-type]
                spliced,
                workers=max(WORKERS, len(export.GRAPH_FORMATS)),
            )
            counted = background.submit(_counts, store) if counts is None else None
            self.release.refresh_findings(store, findings, findings_parts)
            self.release.refresh_impact(store, impact, parts)
            tables: dict[str, str] = {"findings.tsv": self.release.findings_tsv()}
            mapping_set = read_mapping_set(self.paths.mappings_file)
            tables.update(mappings.export_mapping_set(mapping_set))
            tables["mapping-impact.tsv"] = self.release.impact_tsv(mapping_set)
            dumped.result()
        files: dict[str, str | bytes | list[bytes | Path]] = {**self.release.graph_files(), **tables}
        findings_tsv = tables["findings.tsv"]
        waited = time.perf_counter()
        if hermit is not None:  # nothing is published before HermiT's verdict
            self.unsatisfiable = hermit.result()
            self.layer = hermit.layer
        timings["hermit"] = time.perf_counter() - waited
        summary: dict[str, object] = {
            **self._count(counts, counted),
            "findings": findings_tsv.count("\n") - 1,  # rows (cells hold no line breaks)
            "violations": violations,
            "unsatisfiable_classes": self.unsatisfiable,
            "materialisation": {
                "scope": scope,
                "rounds": materialised.rounds,
                "per_rule": materialised.per_rule,
            },
        }
        timings["export"] = time.perf_counter() - started - timings["hermit"]
        summary["timings_s"] = {k: round(v, 3) for k, v in timings.items()}
        files["build-summary.json"] = json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
        written = export.publish_directory(files, self.paths.dist_dir)
        return BuildResult(written, summary)


_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_HAS_CONDITION = ox.NamedNode(str(NM.has_condition))
_FROM_REVIEW = ox.NamedNode(str(NM.from_review))
_COUNTS_FOR = ox.NamedNode(str(NM.counts_for))
_SUPPORTED_BY = ox.NamedNode(str(NM.supported_by))
_HAS_STEP = ox.NamedNode(str(NM.has_step))


@dataclass
class Delta:
    """What an edit changed: the subjects touched, the claims among them and their conditions."""

    touched: set[str] = field(default_factory=set)
    claims: set[str] = field(default_factory=set)
    conditions: set[str] = field(default_factory=set)
    entity_layer_changed: bool = False
    removed: set[ox.Triple] = field(default_factory=set)
    added: set[ox.Triple] = field(default_factory=set)
    asserted_change: int = 0  # quads added minus quads removed, over the changed files
    spliceable: dict[str, set[str]] = field(default_factory=dict)  # graph IRI -> subjects changed (no blank node)
    claim_classes: set[ox.NamedNode] = field(default_factory=set)  # nm:Claim and its subclasses


def _claim_classes(source: loading.SourceStore) -> set[ox.NamedNode]:
    query = f"SELECT ?class WHERE {{ ?class <http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{NM.Claim}> }}"
    return {row[0] for row in source.store.native.query(query, use_default_graph_as_union=True)}  # type: ignore[union-attr]


def _maintain(
    source: loading.SourceStore, rules: list[Rule], delta: Delta
) -> tuple[reasoning.MaterialisationReport, set[str] | None, str, incremental.Maintenance | None]:
    """Update the inferred graph after an edit to data files.

    Delete and re-derive (:func:`neuromech.incremental.maintain`) when the rules allow it;
    otherwise every inferred triple about the nodes around the edited claims is re-derived
    (an edit to claims only), or the whole graph (an edit to the entity layer). Returns the
    report, the subjects whose inferred triples changed (None: the whole graph), the scope,
    and what delete and re-derive changed (None when it was not used).
    """
    maintained = incremental.maintain(source.store, rules, delta.removed, delta.added)
    if maintained is not None:
        report = maintained.report
        scope = (
            f"delete and re-derive: {maintained.deleted} over-deleted, "
            f"{maintained.rederived} re-derived, {report.added} added"
        )
        return report, maintained.subjects, scope, maintained
    if delta.entity_layer_changed:
        reasoning.clear_inferred(source.store)
        return reasoning.materialise(source.store, rules), None, "whole graph", None
    around = _claim_surroundings(source, delta)
    report = reasoning.rematerialise_around(source.store, rules, around)
    return report, around, f"{len(around)} node(s) around the edited claims", None


_FALLS_UNDER = ox.NamedNode(str(NM.falls_under))
_OWL_ANNOTATION_PROPERTY = ox.NamedNode("http://www.w3.org/2002/07/owl#AnnotationProperty")
_BUILT_IN_ANNOTATIONS = frozenset(ox.NamedNode(iri) for iri in reasoning.BUILT_IN_ANNOTATIONS)


def _annotations_only(source: loading.SourceStore, delta: Delta) -> bool:
    """Whether every triple the edit removed or added is an annotation (a label, a definition...).

    Annotations carry no meaning in OWL 2 (the direct semantics ignore them), so HermiT's
    verdicts on the entity layer before the edit still hold.
    """
    changed = {t.predicate for t in delta.removed | delta.added}
    declared = {
        q.subject for q in source.store.native.quads_for_pattern(None, _RDF_TYPE, _OWL_ANNOTATION_PROPERTY, None)
    }
    return bool(changed) and changed <= _BUILT_IN_ANNOTATIONS | declared


def _rows_to_refresh(
    source: loading.SourceStore, delta: Delta, maintained: incremental.Maintenance | None
) -> tuple[set[str] | None, set[str] | None, set[str] | None]:
    """Return the findings whose table rows, and whose mapping-impact slots, an entity-layer edit can change.

    A finding's row reads its own triples and, one hop away, the labels and mappings of its
    condition, entities, method and context, and its studies' citations: the rows to make
    again are the edited claims' and those of findings pointing at a node the edit touched.
    The impact reads the findings' slots (their own triples) and ``nm:falls_under``: the
    edited claims are filed again, and so are the findings about the entities (third item)
    whose ``nm:falls_under`` triples changed. None (all of them) when the inferred graph was
    derived again whole, or a changed triple's subject is a blank node.
    """
    changed = delta.removed | delta.added
    if maintained is None or any(isinstance(t.subject, ox.BlankNode) for t in changed):
        return None, None, None
    native = source.store.native
    findings = set(delta.claims)
    finding = ox.NamedNode(str(NM.Finding))
    for node in delta.touched:
        pointing = {q.subject for q in native.quads_for_pattern(None, None, ox.NamedNode(node), None)}
        findings.update(
            s.value
            for s in pointing
            if isinstance(s, ox.NamedNode) and next(native.quads_for_pattern(s, _RDF_TYPE, finding, None), None)
        )
    moved = [
        t for t in [*changed, *(q.triple for q in maintained.lost | maintained.gained)] if t.predicate == _FALLS_UNDER
    ]
    return findings, set(delta.claims), {t.subject.value for t in moved if isinstance(t.subject, ox.NamedNode)}


def _updated_counts(
    previous: dict[str, object] | None, delta: Delta, maintained: incremental.Maintenance | None
) -> dict[str, object] | None:
    """Return the build summary's counts after an edit, from the previous ones, or None to count again.

    Counting took 1.3 s of a thread at 10^6 triples (the store's length, the inferred graph's,
    the nodes of each class). When the edit and what it changed in the inferred graph are
    known and hold no type and no review link, the classes' and reviews' counts are those of
    the previous build and the triples' counts move by the quads added and removed.
    """
    if previous is None or maintained is None:
        return None
    changed = [*delta.removed, *delta.added, *(q.triple for q in maintained.lost | maintained.gained)]
    if any(t.predicate in (_RDF_TYPE, _FROM_REVIEW) for t in changed):
        return None
    return {
        **previous,
        "triples_asserted": int(str(previous["triples_asserted"])) + delta.asserted_change,
        "triples_inferred": int(str(previous["triples_inferred"])) + len(maintained.gained) - len(maintained.lost),
    }


def _claim_surroundings(source: loading.SourceStore, delta: Delta) -> set[str]:
    """Return the nodes whose inferred triples a claim-only edit can change.

    The rules derive, from claims, triples about the claims themselves (types, reports_effect,
    satisfies_module), about their conditions and whatever those count for (investigates,
    implicates, implicates_within, exhibits_module) and about the models whose steps the claims
    support (draws_on_module); nothing derived about any other node reads a claim triple.
    """
    native = source.store.native
    around = set(delta.claims) | set(delta.conditions)
    for condition in delta.conditions:
        node = ox.NamedNode(condition)
        around.update(q.object.value for q in native.quads_for_pattern(node, _COUNTS_FOR, None, None))  # type: ignore[union-attr]
    for claim in delta.claims:
        for step in native.quads_for_pattern(None, _SUPPORTED_BY, ox.NamedNode(claim), None):
            around.update(q.subject.value for q in native.quads_for_pattern(None, _HAS_STEP, step.subject, None))  # type: ignore[union-attr]
    return around


def _progress(enabled: bool, total: int) -> Callable[[str], float]:
    steps = iter(range(1, total + 1))

    def say(name: str) -> float:
        if enabled:
            log.info("[%d/%d] %s ...", next(steps, total), total, name)
        return time.perf_counter()

    return say


def _graph_triples(source: loading.SourceStore, path: Path) -> set[ox.Triple]:
    graph = loading.graph_iri(path)
    return {quad.triple for quad in source.store.native.quads_for_pattern(None, None, None, graph)}


def _neighbourhood(source: loading.SourceStore, touched: set[str]) -> set[URIRef]:
    """Return the touched nodes plus every node one asserted edge away from them, in either direction.

    Inferred edges are left out: validation sets aside the inferred triples of every predicate
    the shapes read, so a node's conformance never depends on another through an inferred edge.
    After an edit to a hub's mapping the inferred edges made the focus every entity under the
    hub (thousands of nodes, 2.4 s of checks at 10^6 triples, where the asserted ones are few).
    """
    native = source.store.native
    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    around: set[str] = set(touched)
    for iri in touched:
        node = ox.NamedNode(iri)
        around.update(
            q.subject.value
            for q in native.quads_for_pattern(None, None, node, None)
            if isinstance(q.subject, ox.NamedNode) and q.graph_name != inferred
        )
        around.update(
            q.object.value
            for q in native.quads_for_pattern(node, None, None, None)
            if isinstance(q.object, ox.NamedNode) and q.graph_name != inferred
        )
    return {URIRef(iri) for iri in around}


def _graph_size(store: OxigraphStore, graph: ox.NamedNode) -> int:
    table = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
    return int(str(table.rows[0][0]))


def _counts(store: OxigraphStore) -> dict[str, object]:
    """Count the asserted and inferred triples, the nodes of each nm: class and the findings of each review."""
    inferred = _graph_size(store, ox.NamedNode(str(INFERRED_GRAPH)))
    return {"triples_asserted": len(store) - inferred, "triples_inferred": inferred, **_class_counts(store)}


def _class_counts(store: OxigraphStore) -> dict[str, object]:
    """Count the nodes of each nm: class (asserted or inferred type) and the findings of each review."""
    by_class = store.select(
        f'SELECT ?class (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a ?class FILTER(STRSTARTS(STR(?class), "{NM}")) }} '
        "GROUP BY ?class"
    )
    by_review = store.select(
        f"SELECT ?review (COUNT(DISTINCT ?f) AS ?n) WHERE {{ ?f a <{NM.Finding}> ; <{NM.from_review}> ?review }} "
        "GROUP BY ?review"
    )
    return {
        "by_class": dict(sorted((compress(str(c)), int(str(n))) for c, n in by_class.rows)),
        "findings_by_review": dict(sorted((compress(str(r)), int(str(n))) for r, n in by_review.rows)),
    }
