"""Resolve what a user types to the graph node it names.

A name is a label in English or Chinese, a synonym, a CURIE, an IRI, or an external CURIE such
as ``HP:0100716`` that an entity is mapped to.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field

from rdflib import URIRef

from neuromech.errors import UsageError
from neuromech.namespaces import NM, compress
from neuromech.store import Store
from neuromech.terms import looks_like_reference, parse_iri

_INDEX_QUERY = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX nm: <https://w3id.org/neuromech/>
SELECT ?node ?kind ?name ?mapped WHERE {
  ?node a ?kind .
  VALUES ?kind { nm:Condition nm:Disorder nm:State nm:Population nm:MechanisticEntity
                 nm:BrainRegion nm:Circuit nm:Neuromodulator nm:Neurotransmitter nm:Neuropeptide
                 nm:Hormone nm:ImmuneMolecule nm:Receptor nm:Gene nm:GeneticVariant nm:Construct
                 nm:Task nm:Method nm:Intervention nm:Drug nm:Psychotherapy nm:Neuromodulation
                 nm:Review nm:Study nm:Species nm:Mechanism nm:MechanismModule }
  OPTIONAL { ?node rdfs:label|skos:altLabel|skos:prefLabel ?name }
  OPTIONAL { ?node skos:exactMatch|skos:closeMatch|skos:broadMatch|skos:narrowMatch ?mapped }
}
"""

# A construct that a state evokes (social pain, evoked by social exclusion) is accepted where a
# condition is asked for: the queries reach the states' findings through nm:counts_for.
_EVOKED_QUERY = """
PREFIX nm: <https://w3id.org/neuromech/>
SELECT DISTINCT ?construct WHERE { ?state nm:evokes ?construct }
"""

_EXACT = "exact"


@dataclass
class Resolver:
    """An index of the nodes that can be named, built once from a store."""

    kinds: dict[URIRef, set[URIRef]] = field(default_factory=lambda: defaultdict(set))
    by_name: dict[str, set[URIRef]] = field(default_factory=lambda: defaultdict(set))
    by_mapping: dict[URIRef, set[URIRef]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def from_store(cls, store: Store) -> Resolver:
        """Index every nameable node of ``store`` by label, synonym and external mapping."""
        resolver = cls()
        for node, kind, name, mapped in store.select(_INDEX_QUERY).rows:
            if not isinstance(node, URIRef) or not isinstance(kind, URIRef):
                continue
            resolver.kinds[node].add(kind)
            if name is not None:
                resolver.by_name[_normalise(str(name))].add(node)
            if isinstance(mapped, URIRef):
                resolver.by_mapping[mapped].add(node)
        for (construct,) in store.select(_EVOKED_QUERY).rows:
            if isinstance(construct, URIRef):
                resolver.kinds[construct].add(NM.Condition)
        return resolver

    def resolve(self, text: str, kind: URIRef | None = None, what: str = "name") -> URIRef:
        """Return the single node ``text`` names, optionally restricted to nodes of ``kind``.

        Raises:
            UsageError: when nothing or more than one node matches, with suggestions.
        """
        candidates = self._candidates(text)
        if kind is not None:
            candidates = {c for c in candidates if kind in self.kinds.get(c, set())}
        if len(candidates) == 1:
            return next(iter(candidates))
        if not candidates:
            names = [
                n for n, nodes in self.by_name.items() if kind is None or any(kind in self.kinds[x] for x in nodes)
            ]
            suggestions = difflib.get_close_matches(_normalise(text), names, n=3)
            hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
            raise UsageError(f"unknown {what}: {text!r}{hint}")
        listed = ", ".join(sorted(compress(str(c)) for c in candidates))
        raise UsageError(f"ambiguous {what} {text!r}: matches {listed}; give one of these CURIEs")

    def _candidates(self, text: str) -> set[URIRef]:
        if looks_like_reference(text):
            iri = parse_iri(text, "name")
            if iri in self.kinds:
                return {iri}
            return set(self.by_mapping.get(iri, set()))
        return set(self.by_name.get(_normalise(text), set()))


def _normalise(name: str) -> str:
    return " ".join(name.casefold().split())
