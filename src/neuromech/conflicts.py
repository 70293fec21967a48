"""Findings that disagree, and whether a difference of context explains it.

Pairs come from the stored query ``conflicts`` (same condition, measured entity, measure and
partner; opposite directions, or an effect against a null result). Their contexts are
compared slot by slot (task, species, age group, sex, intervention, comparison group,
method): a slot differs when both findings fill it with different values, and the
intervention slot also when only one finding was made under an intervention (treated vs
untreated is a different context; a slot left empty elsewhere only means "not stated"). A context
difference explains the disagreement (``explained by context``); an overlapping context is a
``real conflict``. Free-text context notes and the curators' notes are shown, not judged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from rdflib import URIRef

from neuromech.build import KnowledgeGraph
from neuromech.evidence import CONTEXT_SLOTS, EvidenceIndex, FindingRecord
from neuromech.namespaces import NM, compress
from neuromech.queries import get_query

_NOTES_QUERY = """
PREFIX nm: <https://w3id.org/neuromech/>
SELECT ?finding (GROUP_CONCAT(DISTINCT STR(?note); separator=" ;; ") AS ?notes) WHERE {
  ?finding a nm:Finding .
  { ?finding nm:context_note ?note } UNION { ?finding nm:curation_note ?note }
}
GROUP BY ?finding
"""


@dataclass(frozen=True)
class ContextDifference:
    """One context slot the two findings fill differently."""

    slot: str
    first: list[str]
    second: list[str]


@dataclass(frozen=True)
class Conflict:
    """Two findings that disagree."""

    condition: str
    entity: str
    measure: str
    partner: str
    kind: str
    verdict: str
    finding_1: str
    direction_1: str
    review_1: str
    finding_2: str
    direction_2: str
    review_2: str
    same_review: bool
    differences: list[ContextDifference]
    notes_1: str
    notes_2: str
    statement_1: str
    statement_2: str


@dataclass(frozen=True)
class ConflictReport:
    """The answer of :func:`find_conflicts` (the documented ``--format json`` output)."""

    condition: str
    conflicts: list[Conflict]

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dictionary."""
        return asdict(self)

    def to_rows(self) -> tuple[list[str], list[list[str]]]:
        """One row per conflicting pair (table and TSV output)."""
        columns = [
            "condition",
            "entity",
            "measure",
            "partner",
            "kind",
            "verdict",
            "finding_1",
            "direction_1",
            "finding_2",
            "direction_2",
            "differences",
        ]
        rows = [
            [
                c.condition,
                c.entity,
                c.measure,
                c.partner,
                c.kind,
                c.verdict,
                c.finding_1,
                c.direction_1,
                c.finding_2,
                c.direction_2,
                "; ".join(f"{d.slot}: {'|'.join(d.first)} vs {'|'.join(d.second)}" for d in c.differences),
            ]
            for c in self.conflicts
        ]
        return columns, rows


def context_differences(index: EvidenceIndex, one: FindingRecord, two: FindingRecord) -> list[ContextDifference]:
    """Return the context slots the two findings fill differently (see the module docstring)."""
    out = []
    for slot, _ in CONTEXT_SLOTS:
        first, second = one.context[slot], two.context[slot]
        stated = (first or second) if slot == "intervention" else (first and second)
        if stated and first != second:
            out.append(
                ContextDifference(slot, sorted(index.label(x) for x in first), sorted(index.label(x) for x in second))
            )
    return out


def find_conflicts(
    kg: KnowledgeGraph, condition: str | None = None, index: EvidenceIndex | None = None
) -> ConflictReport:
    """List pairs of disagreeing findings and classify each as context-explained or real.

    Args:
        kg: the loaded graph.
        condition: only conflicts on this condition (label, CURIE or IRI); all when ``None``.
        index: a prepared :class:`EvidenceIndex` (built from ``kg`` when not given).

    Raises:
        UsageError: when the condition is unknown or ambiguous.
    """
    index = index or EvidenceIndex.load(kg)
    bindings = {}
    if condition is not None:
        bindings["condition"] = kg.resolver.resolve(condition, NM.Condition, "condition")
    table = kg.store.select(get_query(kg.catalogue, "conflicts").text, bindings)
    rows = table.dicts()
    records: dict[URIRef, FindingRecord] = {}
    for node in {r["condition"] for r in rows}:
        if isinstance(node, URIRef):
            for record in index.condition_evidence(node):
                records[record.finding] = record
    notes = {f: str(n) for f, n in kg.store.select(_NOTES_QUERY).rows if isinstance(f, URIRef)}
    conflicts = []
    for row in rows:
        one, two = records[URIRef(str(row["finding_1"]))], records[URIRef(str(row["finding_2"]))]
        differences = context_differences(index, one, two)
        partner = row["partner"]
        conflicts.append(
            Conflict(
                condition=index.label(one.condition),
                entity=index.label(one.entity),
                measure=index.label(one.measure),
                partner=index.label(partner) if isinstance(partner, URIRef) else "",
                kind=str(row["kind"]),
                verdict="explained by context" if differences else "real conflict",
                finding_1=compress(str(one.finding)),
                direction_1=index.label(one.direction),
                review_1=compress(str(one.review)),
                finding_2=compress(str(two.finding)),
                direction_2=index.label(two.direction),
                review_2=compress(str(two.review)),
                same_review=one.review == two.review,
                differences=differences,
                notes_1=notes.get(one.finding, ""),
                notes_2=notes.get(two.finding, ""),
                statement_1=index.details[one.finding].statement if one.finding in index.details else "",
                statement_2=index.details[two.finding].statement if two.finding in index.details else "",
            )
        )
    label = index.label(bindings["condition"]) if bindings else "all conditions"
    return ConflictReport(condition=label, conflicts=conflicts)
