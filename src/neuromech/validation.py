"""SHACL validation with reports a curator can act on.

Two validators give the same report: :func:`validate` runs pySHACL on an rdflib graph (the
reference) and :func:`validate_store` runs the shapes compiled to SPARQL
(:mod:`neuromech.shacl_sparql`) on a store, 60x faster at 10^6 triples.

Each violation names the focus node (as a CURIE, with its label or statement), the file that
describes it, the rule (the shape's IRI), what is wrong (``sh:message``) and how to fix it
(``sh:description`` of the shape).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
import pyshacl
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from neuromech.loading import SourceGraph
from neuromech.namespaces import NM, SH, compress
from neuromech.shacl_sparql import ShaclResult, compile_shapes, run_shapes
from neuromech.store import OxigraphStore, Store, Term, _from_ox, _sparql_term


@dataclass(frozen=True, order=True)
class Violation:
    """One SHACL result, resolved to what a curator needs to fix it."""

    file: str
    focus: str
    rule: str
    severity: str
    message: str
    fix: str
    path: str
    value: str
    label: str

    def render(self) -> str:
        """Return the violation as a few indented lines of text."""
        where = f"{self.file}: " if self.file else ""
        label = f' "{self.label}"' if self.label else ""
        lines = [f"{where}{self.focus}{label}", f"  rule:    {self.rule} ({self.severity})"]
        if self.path:
            lines.append(f"  slot:    {self.path}" + (f" = {self.value}" if self.value else ""))
        elif self.value:
            lines.append(f"  value:   {self.value}")
        lines.append(f"  problem: {self.message}")
        if self.fix:
            lines.append(f"  fix:     {self.fix}")
        return "\n".join(lines)


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of validating a graph."""

    conforms: bool
    violations: list[Violation]

    def for_files(self, files: set[str]) -> ValidationReport:
        """Return the report restricted to violations in ``files`` (as named in the report)."""
        kept = [v for v in self.violations if v.file in files]
        return ValidationReport(not kept, kept)

    def render(self) -> str:
        """Return every violation, then a one-line summary."""
        if self.conforms:
            return "SHACL: the data conform to every shape."
        body = "\n\n".join(v.render() for v in self.violations)
        return f"{body}\n\nSHACL: {len(self.violations)} violation(s)."


def validate(source: SourceGraph, shapes: Graph, root: Path | None = None) -> ValidationReport:
    """Validate ``source`` against ``shapes`` with pySHACL (no extra inference): the reference.

    Args:
        source: the merged ontology and data, with the file of each subject.
        shapes: the SHACL shapes graph.
        root: folder that file names in the report are made relative to.
    """
    conforms, results, _ = pyshacl.validate(
        source.graph, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=False
    )
    found = list(_pyshacl_results(results))
    labels = _labels_from_graph(source.graph, {r.focus for r in found})
    return _report(bool(conforms), results=found, shapes=shapes, file_of=source.file_of, root=root, labels=labels)


def validate_store(
    store: Store,
    shapes: Graph,
    file_of: Callable[[object], Path | None],
    root: Path | None = None,
    focus: Collection[URIRef] | None = None,
) -> ValidationReport:
    """Validate the triples of ``store`` against ``shapes`` with the shapes compiled to SPARQL.

    The same report as :func:`validate` (pySHACL, the reference) gives on the same triples,
    60x faster at 10^6 triples on Oxigraph (``docs/performance.md``); the limits of the
    translation are listed in :mod:`neuromech.shacl_sparql`. Queries see the union of the
    store's graphs, so validate before materialising inferred triples to check what was asserted.

    Args:
        store: the store holding the data (an :class:`~neuromech.store.OxigraphStore`).
        shapes: the SHACL shapes graph (compiled once and cached).
        file_of: the source file of a node (e.g. ``SourceGraph.file_of``), or None.
        root: folder that file names in the report are made relative to.
        focus: validate only these focus nodes (the nodes an edit touched); None for all.

    Raises:
        UnsupportedShapeError: if a shape uses a component the compiler cannot translate.
    """
    found = run_shapes(store, shapes, focus)
    labels = _labels_from_store(store, {r.focus for r in found})
    return _report(not found, results=found, shapes=shapes, file_of=file_of, root=root, labels=labels)


def predicates_read(shapes: Graph) -> frozenset[str] | None:
    """Return the predicates :func:`validate_store` reads with ``shapes`` (checks, report labels); None: any.

    A rebuild sets aside only the inferred triples of these predicates while it validates.
    """
    checks = compile_shapes(shapes).predicates_read
    return None if checks is None else checks | {str(p) for p in LABEL_PREDICATES}


def _report(
    conforms: bool,
    *,
    results: Iterable[ShaclResult],
    shapes: Graph,
    file_of: Callable[[object], Path | None],
    root: Path | None,
    labels: Mapping[Term, str],
) -> ValidationReport:
    texts: dict[tuple[object, object], tuple[str, str, str]] = {}
    violations = []
    for result in results:
        key = (result.shape, result.constraint)
        if key not in texts:
            texts[key] = _rule_texts(shapes, result.shape, result.constraint)
        violations.append(_violation(result, texts[key], file_of, root, labels))
    return ValidationReport(conforms, sorted(violations))


def _rule_texts(shapes: Graph, shape: object, constraint: object) -> tuple[str, str, str]:
    """Return the rule name, its own message and its fix (``sh:description``) for a result's shape."""
    rule_node = constraint if isinstance(constraint, URIRef) else shape
    rule = _text(rule_node) if isinstance(rule_node, URIRef) else "(anonymous shape)"
    fix = _one(shapes, rule_node, SH.description) or _one(shapes, shape, SH.description)
    return rule, str(_one(shapes, rule_node, SH.message) or ""), str(fix or "")


def _one(graph: Graph, subject: object, predicate: URIRef) -> object | None:
    return min(graph.objects(subject, predicate), key=str, default=None)  # type: ignore[arg-type]


@lru_cache(maxsize=1 << 16)
def _compress(iri: str) -> str:
    return compress(iri)


def _text(term: object | None) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return _compress(str(term))
    return str(term)


LABEL_PREDICATES = (RDFS.label, NM.statement, NM.citation_text)


def _pick_label(values: Mapping[URIRef, Iterable[object]]) -> str:
    """Return the first English or untagged label by predicate order, else the first other value (cut to 80)."""
    best = ""
    for predicate in LABEL_PREDICATES:
        for value in sorted(values.get(predicate, ()), key=lambda v: (str(v), repr(v))):
            if isinstance(value, Literal) and (value.language in (None, "en")):
                return str(value)
            best = best or str(value)
    return best[:80]


def _labels_from_graph(graph: Graph, nodes: Iterable[Term]) -> dict[Term, str]:
    return {node: _pick_label({p: list(graph.objects(node, p)) for p in LABEL_PREDICATES}) for node in nodes}


def _labels_from_store(store: Store, nodes: Iterable[Term]) -> dict[Term, str]:
    named = sorted(n for n in nodes if isinstance(n, URIRef))
    found: dict[Term, dict[URIRef, list[object]]] = {n: {} for n in nodes}
    if isinstance(store, OxigraphStore):
        # direct index lookups: a VALUES block of thousands of nodes is planned as a scan (4 s for 7k nodes)
        for node in named:
            subject = ox.NamedNode(str(node))
            for predicate in LABEL_PREDICATES:
                for quad in store.native.quads_for_pattern(subject, ox.NamedNode(str(predicate)), None):
                    found[node].setdefault(predicate, []).append(_from_ox(quad.object))
    else:
        predicates = " ".join(map(_sparql_term, LABEL_PREDICATES))
        for node in named:
            for row in store.select(
                f"SELECT ?p ?l WHERE {{ VALUES ?p {{ {predicates} }} ?n ?p ?l }}", {"n": node}
            ).rows:
                if isinstance(row[0], URIRef):
                    found[node].setdefault(row[0], []).append(row[1])
    return {node: _pick_label(values) for node, values in found.items()}


def _pyshacl_results(results: Graph) -> Iterable[ShaclResult]:
    for result in results.subjects(RDF.type, SH.ValidationResult):
        yield ShaclResult(
            focus=_one(results, result, SH.focusNode),  # type: ignore[arg-type]
            shape=_one(results, result, SH.sourceShape),  # type: ignore[arg-type]
            component=_one(results, result, SH.sourceConstraintComponent),  # type: ignore[arg-type]
            severity=_one(results, result, SH.resultSeverity),  # type: ignore[arg-type]
            messages=tuple(sorted(str(m) for m in results.objects(result, SH.resultMessage))),
            path=_one(results, result, SH.resultPath),  # type: ignore[arg-type]
            value=_one(results, result, SH.value),  # type: ignore[arg-type]
            constraint=_one(results, result, SH.sourceConstraint),  # type: ignore[arg-type]
        )


def _violation(
    result: ShaclResult,
    texts: tuple[str, str, str],
    file_of: Callable[[object], Path | None],
    root: Path | None,
    labels: Mapping[Term, str],
) -> Violation:
    rule, rule_message, fix = texts
    file = file_of(result.focus)
    file_text = ""
    if file is not None:
        file_text = str(file.relative_to(root)) if root and file.is_relative_to(root) else str(file)
    return Violation(
        file=file_text,
        focus=_text(result.focus),
        rule=rule,
        severity=_text(result.severity).replace("sh:", "").rsplit("#", 1)[-1],
        message=(result.messages[0] if result.messages else rule_message) or "constraint violated",
        fix=fix,
        path=_text(result.path) if isinstance(result.path, URIRef) else "",
        value=_text(result.value)[:120],
        label=labels.get(result.focus, ""),
    )
