"""Explain an inferred condition -> entity link: the findings, the hierarchy steps, the rules."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import asdict, dataclass

from rdflib import URIRef

from neuromech.build import KnowledgeGraph
from neuromech.evidence import EvidenceIndex
from neuromech.namespaces import NM, compress
from neuromech.queries import get_query

#: The axioms and rules behind each kind of step, as printed in explanations.
AXIOM_IMPLICATES = (
    "nm:implicates: inverse(nm:has_condition) o nm:reports_effect o nm:has_measured_entity "
    "(rules 03-non-null-findings, 05-implicates)"
)
AXIOM_PARTNER = (
    "nm:implicates_partner: inverse(nm:has_condition) o nm:reports_effect o nm:has_partner_entity "
    "(rule 05-implicates-partner)"
)
AXIOM_WITHIN = (
    "nm:implicates_within: nm:implicates_within o nm:rolls_up_to; part of, member of, subtype of, variant of "
    "and encodes are sub-properties of the transitive nm:rolls_up_to (rules 06-rolls-up-to, 07-counts-for, "
    "09-implicates-within)"
)
AXIOM_CONDITION = (
    "a finding on a subtype of a condition, or on a state that evokes it, counts for it "
    "(nm:subtype_of, nm:evokes; rule 07-counts-for)"
)


@dataclass(frozen=True)
class ExplainedFinding:
    """One finding behind (or, when null, investigating without implicating) the link."""

    finding: str
    counted: bool
    condition: str
    condition_path: str
    measured: str
    role: str
    entity_path: str
    measure: str
    direction: str
    review: str
    section: str
    cited_study: str
    quote: str
    statement: str


@dataclass(frozen=True)
class Explanation:
    """The answer of :func:`explain` (the documented ``--format json`` output)."""

    condition: str
    condition_label: str
    entity: str
    entity_label: str
    link: str
    axioms: list[str]
    findings: list[ExplainedFinding]

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dictionary."""
        return asdict(self)

    def to_rows(self) -> tuple[list[str], list[list[str]]]:
        """One row per finding (table and TSV output)."""
        columns = [
            "finding",
            "counted",
            "condition_path",
            "entity_path",
            "role",
            "measure",
            "direction",
            "cited_study",
            "quote",
        ]
        rows = [
            [
                f.finding,
                "yes" if f.counted else "no (null)",
                f.condition_path or f.condition,
                f.entity_path or f.measured,
                f.role,
                f.measure,
                f.direction,
                f.cited_study,
                f.quote,
            ]
            for f in self.findings
        ]
        return columns, rows


def _hierarchy(kg: KnowledgeGraph) -> dict[URIRef, list[tuple[str, URIRef]]]:
    table = kg.store.select(get_query(kg.catalogue, "entity-hierarchy").text)
    edges: dict[URIRef, list[tuple[str, URIRef]]] = defaultdict(list)
    for child, _, relation_label, parent in table.rows:
        if isinstance(child, URIRef) and isinstance(parent, URIRef):
            edges[child].append((str(relation_label), parent))
    return edges


def hierarchy_path(
    index: EvidenceIndex, edges: dict[URIRef, list[tuple[str, URIRef]]], start: URIRef, goal: URIRef
) -> str:
    """Describe the shortest chain of asserted hierarchy edges from ``start`` to ``goal``.

    Returns ``""`` when ``start`` is ``goal``, e.g. ``"basolateral amygdala -part of-> amygdala"``.
    """
    if start == goal:
        return ""
    previous: dict[URIRef, tuple[URIRef, str]] = {}
    queue, seen = deque([start]), {start}
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for relation, parent in sorted(edges.get(node, []), key=lambda e: (e[0], str(e[1]))):
            if parent not in seen:
                seen.add(parent)
                previous[parent] = (node, relation)
                queue.append(parent)
    if goal not in previous:
        return f"{index.label(start)} counts for {index.label(goal)}"
    steps = []
    node = goal
    while node != start:
        parent, relation = previous[node]
        steps.append((parent, relation, node))
        node = parent
    text = index.label(start)
    for _, relation, node in reversed(steps):
        text += f" -{relation}-> {index.label(node)}"
    return text


def explain(kg: KnowledgeGraph, condition: str, entity: str, index: EvidenceIndex | None = None) -> Explanation:
    """List the findings, hierarchy steps and axioms that link ``condition`` to ``entity``.

    Args:
        kg: the loaded graph.
        condition: a condition label, CURIE, IRI or mapped external CURIE.
        entity: a mechanistic entity (region, molecule, gene, construct …), named likewise.
        index: a prepared :class:`EvidenceIndex` (built from ``kg`` when not given).

    Returns:
        The link status (``implicates``, ``implicates within`` through the hierarchy,
        ``investigated only`` when every finding is null, or ``none``) and every finding
        behind it with its quote and citation, the entity and condition paths, and the axioms
        and rules that derive the edge.

    Raises:
        UsageError: when a name is unknown or ambiguous.
    """
    index = index or EvidenceIndex.load(kg)
    node_c = kg.resolver.resolve(condition, NM.Condition, "condition")
    node_e = kg.resolver.resolve(entity, NM.MechanisticEntity, "entity")
    table = kg.store.select(
        get_query(kg.catalogue, "explain-implication").text, {"condition": node_c, "entity": node_e}
    )
    edges = _hierarchy(kg)
    findings = []
    axioms: set[str] = set()
    direct = False
    for row in table.dicts():
        finding_condition = URIRef(str(row["finding_condition"]))
        measured = URIRef(str(row["measured"]))
        direction = URIRef(str(row["direction"]))
        counted = direction != NM.no_difference
        role = str(row["role"])
        if counted:
            axioms.add(AXIOM_IMPLICATES if role == "measured" else AXIOM_PARTNER)
            if measured != node_e:
                axioms.add(AXIOM_WITHIN)
            else:
                direct = True
            if finding_condition != node_c:
                axioms.add(AXIOM_CONDITION)
        findings.append(
            ExplainedFinding(
                finding=compress(str(row["finding"])),
                counted=counted,
                condition=index.label(finding_condition),
                condition_path=hierarchy_path(index, edges, finding_condition, node_c),
                measured=index.label(measured),
                role=role,
                entity_path=hierarchy_path(index, edges, measured, node_e),
                measure=index.label(URIRef(str(row["measure"]))),
                direction=index.label(direction),
                review=compress(str(row["review"])),
                section=str(row["section"]),
                cited_study=str(row["cited_study"] or ""),
                quote=str(row["quote"] or ""),
                statement=str(row["statement"] or ""),
            )
        )
    if any(f.counted for f in findings):
        link = "implicates" if direct else "implicates within (through the hierarchy)"
    elif findings:
        link = "investigated only (every finding is null: no effect, so no implication)"
    else:
        link = "none (no finding on this condition measures this entity or anything that counts for it)"
    return Explanation(
        condition=compress(str(node_c)),
        condition_label=index.label(node_c),
        entity=compress(str(node_e)),
        entity_label=index.label(node_e),
        link=link,
        axioms=sorted(axioms),
        findings=findings,
    )
