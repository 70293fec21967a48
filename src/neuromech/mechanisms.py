"""What two conditions share: hierarchy- and direction-aware, with each side's evidence.

Entities implicated in each condition (by findings with an effect, as measured or partner
entity) meet at the most specific level both count for: the same entity, or the nearest
region they are both part of, the system or axis they are both members of, the gene a
variant belongs to. A level is kept for a pair only when no more specific level joins either
entity to the other side (the stored query ``shared-at-level`` computes the same pairs in
SPARQL; a test checks they agree). For every level the report compares the directions of the
two sides' findings and lists the comparison statements the reviews make about the pair,
flagging those the curated findings do not bear out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

from rdflib import URIRef

from neuromech.build import KnowledgeGraph
from neuromech.evidence import KIND_ORDER, EvidenceIndex, FindingRecord, direction_relation
from neuromech.namespaces import NM, compress
from neuromech.queries import get_query


@dataclass(frozen=True)
class Evidence:
    """One supporting finding, as shown beside a shared level."""

    finding: str
    condition: str
    entity: str
    partner: str
    measure: str
    direction: str
    cited_study: str
    statement: str
    quote: str


@dataclass(frozen=True)
class SharedLevel:
    """A level of the mechanism hierarchy where the two conditions meet."""

    kind: str
    level: str
    label: str
    label_zh: str
    match: str
    entities_a: list[str]
    entities_b: list[str]
    agreement: str
    same: int
    opposite: int
    findings_a: list[Evidence]
    findings_b: list[Evidence]


@dataclass(frozen=True)
class StatedComparison:
    """A comparison statement of a review about the two conditions, checked against the findings."""

    statement_node: str
    outcome: str
    entity: str
    statement: str
    quote: str
    supported_by: list[str]
    check: str
    note: str


@dataclass(frozen=True)
class SharedReport:
    """The answer of :func:`shared_mechanisms` (the documented ``--format json`` output)."""

    a: str
    a_label: str
    b: str
    b_label: str
    shared: list[SharedLevel]
    stated: list[StatedComparison]

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dictionary."""
        return asdict(self)

    def to_rows(self) -> tuple[list[str], list[list[str]]]:
        """Flatten to one row per shared level and side's finding (table and TSV output)."""
        columns = [
            "kind",
            "level",
            "match",
            "agreement",
            "side",
            "entity",
            "finding",
            "measure",
            "direction",
            "partner",
            "cited_study",
        ]
        rows = []
        for item in self.shared:
            for side, findings in (("A", item.findings_a), ("B", item.findings_b)):
                for f in findings:
                    rows.append(
                        [
                            item.kind,
                            item.label,
                            item.match,
                            item.agreement,
                            side,
                            f.entity,
                            f.finding,
                            f.measure,
                            f.direction,
                            f.partner,
                            f.cited_study,
                        ]
                    )
        return columns, rows

    def stated_rows(self) -> tuple[list[str], list[list[str]]]:
        """Return the reviews' comparison statements and their check, one row each."""
        columns = ["statement", "outcome", "entity", "check", "note"]
        return columns, [[s.statement_node, s.outcome, s.entity, s.check, s.note] for s in self.stated]


def meeting_levels(
    index: EvidenceIndex, entities_a: set[URIRef], entities_b: set[URIRef]
) -> set[tuple[URIRef, URIRef, URIRef]]:
    """Return ``(level, entity_a, entity_b)`` triples: where entities of two sides meet.

    ``level`` is a most specific node both entities count for; a level is kept for a pair only
    when it is minimal, for each of the two entities, among the nodes the other side reaches.
    """
    reach_a = set().union(*(index.counts_for(e) for e in entities_a)) if entities_a else set()
    reach_b = set().union(*(index.counts_for(e) for e in entities_b)) if entities_b else set()

    def minimal(entity: URIRef, other_side: set[URIRef]) -> set[URIRef]:
        common = index.counts_for(entity) & other_side
        return {
            level
            for level in common
            if not any(
                lower != level and level in index.counts_for(lower) and lower not in index.counts_for(level)
                for lower in common
            )
        }

    levels_a = {e: minimal(e, reach_b) for e in entities_a}
    levels_b = {e: minimal(e, reach_a) for e in entities_b}
    return {(level, ea, eb) for ea, la in levels_a.items() for eb, lb in levels_b.items() for level in la & lb}


def _evidence(index: EvidenceIndex, record: FindingRecord) -> Evidence:
    details = index.details.get(record.finding)
    return Evidence(
        finding=compress(str(record.finding)),
        condition=index.label(record.condition),
        entity=index.label(record.entity),
        partner=index.label(record.partner),
        measure=index.label(record.measure),
        direction=index.label(record.direction),
        cited_study="|".join(details.citations) if details else "",
        statement=details.statement if details else "",
        quote=details.quote if details else "",
    )


def _agreement(side_a: list[FindingRecord], side_b: list[FindingRecord]) -> tuple[str, int, int]:
    relations = [direction_relation(fa, fb) for fa in side_a for fb in side_b]
    same, opposite = relations.count("same"), relations.count("opposite")
    if same and opposite:
        return "mixed", same, opposite
    if same:
        return "same direction", same, opposite
    if opposite:
        return "opposite direction", same, opposite
    return "unknown", same, opposite


def _touches(index: EvidenceIndex, records: list[FindingRecord], entity: URIRef) -> list[FindingRecord]:
    return [r for r in records if r.has_effect and any(entity in index.counts_for(e) for e in r.entities())]


def _stated(
    kg: KnowledgeGraph,
    index: EvidenceIndex,
    pair: tuple[URIRef, URIRef],
    side_a: list[FindingRecord],
    side_b: list[FindingRecord],
) -> list[StatedComparison]:
    query = get_query(kg.catalogue, "stated-comparisons").text
    out = []
    for row in kg.store.select(query, {"a": pair[0], "b": pair[1]}).dicts():
        entity = row["entity"]
        outcome = row["outcome"]
        check, note = "not checked", "the statement names no entity"
        if isinstance(entity, URIRef):
            on_a, on_b = _touches(index, side_a, entity), _touches(index, side_b, entity)
            name = index.label(entity)
            if outcome == NM.shared:
                if on_a and on_b:
                    check, note = "agrees", f"findings with an effect on {name} on both sides"
                else:
                    missing = " and ".join(s for s, ok in (("A", on_a), ("B", on_b)) if not ok)
                    check, note = "disagrees", f"stated shared, but no finding with an effect on {name} for {missing}"
            else:
                same = [1 for fa in on_a for fb in on_b if direction_relation(fa, fb) == "same"]
                if same:
                    check = "disagrees"
                    note = f"stated different, but {len(same)} pair(s) of findings show the same direction on {name}"
                else:
                    check, note = "agrees", f"no same-direction findings on {name} on both sides"
        supported = sorted(compress(s) for s in str(row["supported_by"] or "").split("|") if s)
        out.append(
            StatedComparison(
                statement_node=compress(str(row["statement_node"])),
                outcome=index.label(outcome if isinstance(outcome, URIRef) else None),
                entity=index.label(entity if isinstance(entity, URIRef) else None),
                statement=str(row["statement"] or ""),
                quote=str(row["quote"] or ""),
                supported_by=supported,
                check=check,
                note=note,
            )
        )
    return out


def shared_mechanisms(kg: KnowledgeGraph, a: str, b: str, index: EvidenceIndex | None = None) -> SharedReport:
    """Return what conditions ``a`` and ``b`` share, at the most specific level, with evidence.

    Args:
        kg: the loaded graph.
        a: the first condition, as a label (English or Chinese), CURIE, IRI or mapped external
            CURIE; a construct evoked by states (social pain) stands for those states.
        b: the second condition, likewise.
        index: a prepared :class:`EvidenceIndex` (built from ``kg`` when not given).

    Returns:
        The shared levels grouped by kind (region, circuit/axis, neuromodulator, receptor,
        gene/variant, construct), each with the entities and findings of each side and whether
        their directions agree, plus the reviews' own comparison statements, checked.

    Raises:
        UsageError: when a condition name is unknown or ambiguous.
    """
    index = index or EvidenceIndex.load(kg)
    node_a = kg.resolver.resolve(a, NM.Condition, "condition")
    node_b = kg.resolver.resolve(b, NM.Condition, "condition")
    records_a = [r for r in index.condition_evidence(node_a) if r.has_effect]
    records_b = [r for r in index.condition_evidence(node_b) if r.has_effect]
    entities_a = {e for r in records_a for e in r.entities() if index.is_mechanistic(e)}
    entities_b = {e for r in records_b for e in r.entities() if index.is_mechanistic(e)}
    pairs: dict[URIRef, tuple[set[URIRef], set[URIRef]]] = defaultdict(lambda: (set(), set()))
    for level, ea, eb in meeting_levels(index, entities_a, entities_b):
        pairs[level][0].add(ea)
        pairs[level][1].add(eb)
    levels = []
    for level, (las, lbs) in pairs.items():
        side_a = [r for r in records_a if las & set(r.entities())]
        side_b = [r for r in records_b if lbs & set(r.entities())]
        agreement, same, opposite = _agreement(side_a, side_b)
        exact = las == lbs == {level}
        levels.append(
            SharedLevel(
                kind=index.kind(level),
                level=compress(str(level)),
                label=index.label(level),
                label_zh=index.label_zh(level),
                match="same entity" if exact else "via hierarchy",
                entities_a=sorted(index.label(e) for e in las),
                entities_b=sorted(index.label(e) for e in lbs),
                agreement=agreement,
                same=same,
                opposite=opposite,
                findings_a=[_evidence(index, r) for r in side_a],
                findings_b=[_evidence(index, r) for r in side_b],
            )
        )
    order = {kind: i for i, kind in enumerate(KIND_ORDER)}
    levels.sort(key=lambda s: (order.get(s.kind, len(order)), s.label.casefold()))
    return SharedReport(
        a=compress(str(node_a)),
        a_label=index.label(node_a),
        b=compress(str(node_b)),
        b_label=index.label(node_b),
        shared=levels,
        stated=_stated(kg, index, (node_a, node_b), records_a, records_b),
    )
