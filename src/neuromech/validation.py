"""SHACL validation with reports a curator can act on.

Each violation names the focus node (as a CURIE, with its label or statement), the file that
describes it, the rule (the shape's IRI), what is wrong (``sh:message``) and how to fix it
(``sh:description`` of the shape).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyshacl
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from neuromech.loading import SourceGraph
from neuromech.namespaces import NM, SH, compress


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
    """Validate ``source`` against ``shapes`` with pySHACL (no extra inference).

    Args:
        source: the merged ontology and data, with the file of each subject.
        shapes: the SHACL shapes graph.
        root: folder that file names in the report are made relative to.
    """
    conforms, results, _ = pyshacl.validate(
        source.graph, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=False
    )
    violations = sorted(_violations(results, shapes, source, root))
    return ValidationReport(bool(conforms), violations)


def _one(graph: Graph, subject: object, predicate: URIRef) -> object | None:
    return next(iter(graph.objects(subject, predicate)), None)  # type: ignore[arg-type]


def _text(term: object | None) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return compress(str(term))
    return str(term)


def _label(graph: Graph, node: object) -> str:
    best = ""
    for predicate in (RDFS.label, NM.statement, NM.citation_text):
        for value in graph.objects(node, predicate):  # type: ignore[arg-type]
            if isinstance(value, Literal) and (value.language in (None, "en")):
                return str(value)
            best = best or str(value)
    return best[:80]


def _violations(results: Graph, shapes: Graph, source: SourceGraph, root: Path | None) -> Iterable[Violation]:
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = _one(results, result, SH.focusNode)
        shape = _one(results, result, SH.sourceShape)
        constraint = _one(results, result, SH.sourceConstraint)
        rule_node = constraint if isinstance(constraint, URIRef) else shape
        message = _one(results, result, SH.resultMessage) or _one(shapes, rule_node, SH.message)
        fix = _one(shapes, rule_node, SH.description) or _one(shapes, shape, SH.description)
        path = _one(results, result, SH.resultPath)
        value = _one(results, result, SH.value)
        severity = _one(results, result, SH.resultSeverity)
        file = source.file_of(focus)
        file_text = ""
        if file is not None:
            file_text = str(file.relative_to(root)) if root and file.is_relative_to(root) else str(file)
        yield Violation(
            file=file_text,
            focus=_text(focus),
            rule=_text(rule_node) if isinstance(rule_node, URIRef) else "(anonymous shape)",
            severity=_text(severity).replace("sh:", "").rsplit("#", 1)[-1],
            message=str(message or "constraint violated"),
            fix=str(fix or ""),
            path=_text(path) if isinstance(path, URIRef) else "",
            value=_text(value)[:120],
            label=_label(source.graph, focus),
        )
