"""The evidence the reasoning commands work on: findings per condition and the entity hierarchy.

Everything here is read from the materialised graph through stored queries
(``condition-evidence``) and a few fixed look-ups, once per :class:`EvidenceIndex`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rdflib import URIRef

from neuromech.build import KnowledgeGraph
from neuromech.namespaces import NM, compress
from neuromech.queries import get_query
from neuromech.store import Term

#: Entity kinds in the order reports group them, with the noun used in output.
KINDS: tuple[tuple[URIRef, str], ...] = (
    (NM.BrainRegion, "region"),
    (NM.Circuit, "circuit/axis"),
    (NM.Neuromodulator, "neuromodulator"),
    (NM.Receptor, "receptor"),
    (NM.Gene, "gene/variant"),
    (NM.GeneticVariant, "gene/variant"),
    (NM.Construct, "construct"),
)
KIND_ORDER = ("region", "circuit/axis", "neuromodulator", "receptor", "gene/variant", "construct")

_OPPOSITES = {
    (NM.increased, NM.decreased),
    (NM.decreased, NM.increased),
    (NM.positively_associated, NM.negatively_associated),
    (NM.negatively_associated, NM.positively_associated),
}
_SIGNED = {NM.increased, NM.decreased, NM.positively_associated, NM.negatively_associated}

_ENTITY_QUERY = """
PREFIX nm: <https://w3id.org/neuromech/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?node ?kind ?en ?zh WHERE {
  ?node a ?kind .
  VALUES ?kind { nm:BrainRegion nm:Circuit nm:Neuromodulator nm:Receptor nm:Gene nm:GeneticVariant
                 nm:Construct nm:Condition nm:Population nm:Task nm:Species nm:AgeGroup nm:Sex
                 nm:Intervention nm:Method nm:Measure nm:Direction nm:ComparisonOutcome nm:Review
                 nm:MechanismModule nm:Mechanism }
  OPTIONAL { ?node rdfs:label ?en . FILTER(LANG(?en) = "en") }
  OPTIONAL { ?node rdfs:label ?zh . FILTER(LANG(?zh) = "zh") }
}
"""

_COUNTS_FOR_QUERY = """
PREFIX nm: <https://w3id.org/neuromech/>
SELECT ?x ?y WHERE { ?x nm:counts_for ?y }
"""

_DETAILS_QUERY = """
PREFIX nm: <https://w3id.org/neuromech/>
SELECT ?finding ?section ?statement
       (GROUP_CONCAT(DISTINCT STR(?q); separator=" … ") AS ?quote)
       (GROUP_CONCAT(DISTINCT STR(?c); separator="|") AS ?citations)
WHERE {
  ?finding a nm:Finding ; nm:section ?section ; nm:statement ?statement ; nm:quote ?q .
  OPTIONAL { ?finding nm:cites_study ?study . ?study nm:citation_text ?c }
}
GROUP BY ?finding ?section ?statement
"""


def _text(term: Term | None) -> str:
    return "" if term is None else str(term)


def _iris(term: Term | None) -> frozenset[URIRef]:
    return frozenset(URIRef(part) for part in _text(term).split("|") if part)


@dataclass(frozen=True)
class FindingRecord:
    """One finding as the reasoning commands see it."""

    finding: URIRef
    condition: URIRef
    entity: URIRef
    partner: URIRef | None
    measure: URIRef
    direction: URIRef
    review: URIRef
    context: dict[str, frozenset[URIRef]]

    @property
    def has_effect(self) -> bool:
        """Whether the finding reports an effect (null findings do not implicate)."""
        return self.direction != NM.no_difference

    def entities(self) -> tuple[URIRef, ...]:
        """Return the measured entity and, when present, the partner entity."""
        return (self.entity,) if self.partner is None else (self.entity, self.partner)


@dataclass(frozen=True)
class FindingDetails:
    """What a person reads about a finding: section, statement, quote, citations."""

    section: str
    statement: str
    quote: str
    citations: tuple[str, ...]


#: Context slots compared by `conflicts`, in output order, with the query column holding them.
CONTEXT_SLOTS = (
    ("task", "tasks"),
    ("species", "species_list"),
    ("age group", "age_groups"),
    ("sex", "sexes"),
    ("intervention", "interventions"),
    ("comparison group", "comparison_groups"),
    ("method", "methods"),
)


def direction_relation(a: FindingRecord, b: FindingRecord) -> str:
    """Compare the effects of two findings: ``same``, ``opposite`` or ``unknown``.

    Two effects are comparable when both findings use the same measure and both directions
    are signed (increased/decreased, positively/negatively associated).
    """
    if a.measure != b.measure or a.direction not in _SIGNED or b.direction not in _SIGNED:
        return "unknown"
    if a.direction == b.direction:
        return "same"
    if (a.direction, b.direction) in _OPPOSITES:
        return "opposite"
    return "unknown"


@dataclass
class EvidenceIndex:
    """Labels, kinds, the counts-for hierarchy and finding details of a loaded graph."""

    kg: KnowledgeGraph
    labels: dict[URIRef, tuple[str, str]] = field(default_factory=dict)
    kinds: dict[URIRef, str] = field(default_factory=dict)
    up: dict[URIRef, set[URIRef]] = field(default_factory=lambda: defaultdict(set))
    details: dict[URIRef, FindingDetails] = field(default_factory=dict)

    @classmethod
    def load(cls, kg: KnowledgeGraph) -> EvidenceIndex:
        """Read labels, kinds, ``nm:counts_for`` edges and finding details from ``kg``."""
        index = cls(kg)
        noun = dict(KINDS)
        for node, kind, en, zh in kg.store.select(_ENTITY_QUERY).rows:
            if not isinstance(node, URIRef):
                continue
            if node not in index.labels or (en and not index.labels[node][0]):
                index.labels[node] = (_text(en), _text(zh))
            if isinstance(kind, URIRef) and kind in noun:
                index.kinds[node] = noun[kind]
        for x, y in kg.store.select(_COUNTS_FOR_QUERY).rows:
            if isinstance(x, URIRef) and isinstance(y, URIRef):
                index.up[x].add(y)
        for finding, section, statement, quote, citations in kg.store.select(_DETAILS_QUERY).rows:
            if isinstance(finding, URIRef):
                index.details[finding] = FindingDetails(
                    _text(section),
                    _text(statement),
                    _text(quote),
                    tuple(sorted(c for c in _text(citations).split("|") if c)),
                )
        return index

    def label(self, node: URIRef | None) -> str:
        """Return the English label of ``node`` (its CURIE when it has none)."""
        if node is None:
            return ""
        en = self.labels.get(node, ("", ""))[0]
        return en or compress(str(node))

    def label_zh(self, node: URIRef) -> str:
        """Return the Chinese label of ``node`` (empty when it has none)."""
        return self.labels.get(node, ("", ""))[1]

    def kind(self, node: URIRef) -> str:
        """Return the kind noun of a mechanistic entity (``region``, ``receptor`` …), or ``other``."""
        return self.kinds.get(node, "other")

    def counts_for(self, node: URIRef) -> set[URIRef]:
        """Everything ``node`` counts for, itself included."""
        return self.up.get(node, set()) | {node}

    def is_mechanistic(self, node: URIRef) -> bool:
        """Whether ``node`` is a mechanistic entity (region, molecule, gene, construct …)."""
        return node in self.kinds

    def condition_evidence(self, condition: URIRef) -> list[FindingRecord]:
        """Return the findings that count for ``condition`` (stored query ``condition-evidence``)."""
        query = get_query(self.kg.catalogue, "condition-evidence").text
        records = []
        for row in self.kg.store.select(query, {"condition": condition}).dicts():
            partner = row["partner"]
            records.append(
                FindingRecord(
                    finding=URIRef(_text(row["finding"])),
                    condition=URIRef(_text(row["finding_condition"])),
                    entity=URIRef(_text(row["entity"])),
                    partner=partner if isinstance(partner, URIRef) else None,
                    measure=URIRef(_text(row["measure"])),
                    direction=URIRef(_text(row["direction"])),
                    review=URIRef(_text(row["review"])),
                    context={slot: _iris(row[column]) for slot, column in CONTEXT_SLOTS},
                )
            )
        return records
