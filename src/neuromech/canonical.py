"""Canonical, diff-friendly Turtle for curated data files (``neuromech fmt``).

One block per subject, subjects sorted by IRI, ``a`` first, then the predicates in the order
below (the rest sorted), objects sorted and comma-separated. A leading comment block is kept.
The rewrite is lossless: the graph before and after is isomorphic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from neuromech.errors import SourceSyntaxError
from neuromech.export import write_atomically
from neuromech.loading import parse_turtle
from neuromech.namespaces import NM, OBO, TURTLE_PREFIXES

_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_SKOS = "http://www.w3.org/2004/02/skos/core#"
_DCT = "http://purl.org/dc/terms/"

#: Predicates written first, in this order; the rest follow sorted by IRI.
PREDICATE_ORDER: tuple[str, ...] = (
    str(RDF.type),
    _RDFS + "label",
    _SKOS + "altLabel",
    str(OBO["IAO_0000115"]),
    _DCT + "creator",
    _DCT + "publisher",
    _DCT + "identifier",
    _DCT + "bibliographicCitation",
    str(NM.source_file),
    str(NM.citation_text),
    str(NM.cited_in),
    str(NM.from_review),
    str(NM.section),
    str(NM.explains_condition),
    str(NM.compares_condition),
    str(NM.has_comparison_outcome),
    str(NM.has_condition),
    str(NM.has_comparison_group),
    str(NM.has_intervention),
    str(NM.has_measured_entity),
    str(NM.has_partner_entity),
    str(NM.has_measure),
    str(NM.has_direction),
    str(NM.has_task),
    str(NM.in_species),
    str(NM.has_age_group),
    str(NM.has_sex),
    str(NM.sample_size),
    str(NM.context_note),
    str(NM.has_method),
    str(NM.has_evidence_type),
    str(NM.cites_study),
    str(NM.has_step),
    str(NM.step_index),
    str(NM.involves),
    str(OBO["RO_0002411"]),
    str(NM.supported_by),
    str(NM.quote),
    str(NM.statement),
    str(NM.curation_note),
)
_RANK = {iri: index for index, iri in enumerate(PREDICATE_ORDER)}
_PN_LOCAL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?$")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NATURAL = re.compile(r"(\d+)")


def _natural_key(text: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in _NATURAL.split(text)]


def _iri(term: URIRef, used: set[str]) -> str:
    text = str(term)
    best: tuple[str, str] | None = None
    for prefix, namespace in TURTLE_PREFIXES.items():
        if text.startswith(namespace):
            local = text[len(namespace) :]
            if _PN_LOCAL.match(local) and (best is None or len(namespace) > len(TURTLE_PREFIXES[best[0]])):
                best = (prefix, local)
    if best is None:
        return f"<{text}>"
    used.add(best[0])
    return f"{best[0]}:{best[1]}"


def _literal(term: Literal, used: set[str]) -> str:
    body = "".join(_ESCAPES.get(ch, ch) for ch in str(term))
    if term.language:
        return f'"{body}"@{term.language}'
    if term.datatype and term.datatype != XSD.string:
        return f'"{body}"^^{_iri(URIRef(term.datatype), used)}'
    return f'"{body}"'


def render_term(term: object, used: set[str]) -> str:
    """Return the canonical Turtle form of an IRI or literal, recording prefixes in ``used``."""
    if isinstance(term, URIRef):
        return "a" if term == RDF.type else _iri(term, used)
    if isinstance(term, Literal):
        return _literal(term, used)
    raise SourceSyntaxError(f"blank nodes are not allowed in data files (found {term!r}); give the node an IRI")


def _object_key(term: object) -> tuple[int, str, str]:
    if isinstance(term, Literal):
        return (1, term.language or "", str(term))
    return (0, str(term), "")


def serialise(graph: Graph, header: str = "") -> str:
    """Return ``graph`` as canonical Turtle, preceded by ``header`` comment lines.

    Raises:
        SourceSyntaxError: if the graph holds blank nodes.
    """
    used: set[str] = set()
    blocks: list[str] = []
    for subject in sorted(set(graph.subjects()), key=lambda s: _natural_key(str(s))):
        predicates = sorted(set(graph.predicates(subject)), key=lambda p: (_RANK.get(str(p), len(_RANK)), str(p)))
        lines = []
        for predicate in predicates:
            objects = sorted(graph.objects(subject, predicate), key=_object_key)
            rendered = " , ".join(render_term(o, used) for o in objects)
            lines.append(f"    {render_term(predicate, used)} {rendered}")
        blocks.append(f"{render_term(subject, used)}\n" + " ;\n".join(lines) + " .\n")
    prefixes = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in TURTLE_PREFIXES.items() if p in used)
    head = header.rstrip("\n") + "\n\n" if header else ""
    return head + prefixes + "".join("\n" + block for block in blocks)


def _leading_comments(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if line.startswith("#"):
            lines.append(line)
        else:
            break
    return "\n".join(lines)


@dataclass(frozen=True)
class FormatResult:
    """Which files were, or would be, rewritten."""

    changed: list[Path]
    checked: int


def canonical_text(path: Path) -> str:
    """Return the canonical form of the Turtle file at ``path``."""
    text = path.read_text(encoding="utf-8")
    return serialise(parse_turtle(path), _leading_comments(text))


def format_files(paths: Iterable[Path], check: bool = False) -> FormatResult:
    """Rewrite ``paths`` in canonical form (or, with ``check``, only report which differ).

    Raises:
        SourceSyntaxError: if a file does not parse or holds blank nodes (nothing is written).
    """
    targets = list(paths)
    rewritten = {path: canonical_text(path) for path in targets}
    changed = [p for p, text in rewritten.items() if p.read_text(encoding="utf-8") != text]
    if not check:
        for path in changed:
            write_atomically(path, rewritten[path])
    return FormatResult(changed, len(targets))
