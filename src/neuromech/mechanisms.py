"""What two conditions share: entities implicated in both, with each side's evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from rdflib import URIRef

from neuromech.build import KnowledgeGraph
from neuromech.namespaces import NM, compress
from neuromech.queries import get_query
from neuromech.store import Term


@dataclass(frozen=True)
class FindingSummary:
    """One supporting finding, as shown beside a shared entity."""

    finding: str
    measure: str
    direction: str
    partner: str
    cited_study: str
    statement: str
    quote: str


@dataclass(frozen=True)
class SharedEntity:
    """An entity implicated in both conditions."""

    kind: str
    entity: str
    label: str
    findings_a: list[FindingSummary]
    findings_b: list[FindingSummary]


@dataclass(frozen=True)
class SharedReport:
    """The answer of :func:`shared_mechanisms`."""

    a: str
    a_label: str
    b: str
    b_label: str
    shared: list[SharedEntity]

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dictionary (the documented ``--format json`` output)."""
        return asdict(self)


def _text(term: Term | None) -> str:
    return "" if term is None else str(term)


def _summaries(kg: KnowledgeGraph, conditions: tuple[URIRef, ...]) -> dict[str, FindingSummary]:
    """Summarise the findings on ``conditions`` with the stored ``findings`` query."""
    query = get_query(kg.catalogue, "findings").text
    rows = [row for condition in conditions for row in kg.store.select(query, {"condition": condition}).dicts()]
    out = {}
    for row in rows:
        finding = _text(row["finding"])
        out[finding] = FindingSummary(
            finding=compress(finding),
            measure=_text(row["measure_label"]),
            direction=_text(row["direction_label"]),
            partner=_text(row["partner_label"]),
            cited_study=_text(row["cited_study"]),
            statement=_text(row["statement"]),
            quote=_text(row["quote"]),
        )
    return out


def _label(kg: KnowledgeGraph, node: URIRef) -> str:
    table = kg.store.select(
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        'SELECT ?l WHERE { ?n rdfs:label ?l FILTER(LANG(?l) = "en") }',
        {"n": node},
    )
    return _text(table.rows[0][0]) if table.rows else compress(str(node))


def shared_mechanisms(kg: KnowledgeGraph, a: str, b: str) -> SharedReport:
    """List the entities implicated in both conditions ``a`` and ``b``, grouped by kind.

    Args:
        kg: the loaded graph.
        a: the first condition, as a label (English or Chinese), CURIE, IRI or mapped external CURIE.
        b: the second condition, likewise.

    Raises:
        UsageError: when a condition name is unknown or ambiguous.
    """
    node_a = kg.resolver.resolve(a, NM.Condition, "condition")
    node_b = kg.resolver.resolve(b, NM.Condition, "condition")
    table = kg.store.select(get_query(kg.catalogue, "shared-mechanisms").text, {"a": node_a, "b": node_b})
    summaries = _summaries(kg, (node_a, node_b))
    shared = []
    for row in table.dicts():
        shared.append(
            SharedEntity(
                kind=_text(row["kind_label"]),
                entity=compress(_text(row["entity"])),
                label=_text(row["entity_label"]),
                findings_a=[summaries[f] for f in sorted(_text(row["findings_a"]).split("|")) if f in summaries],
                findings_b=[summaries[f] for f in sorted(_text(row["findings_b"]).split("|")) if f in summaries],
            )
        )
    return SharedReport(compress(str(node_a)), _label(kg, node_a), compress(str(node_b)), _label(kg, node_b), shared)
