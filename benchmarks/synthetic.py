"""Seeded synthetic graphs shaped like NeuroMech findings, for benchmarks."""

from __future__ import annotations

import random

from rdflib import Graph, Literal
from rdflib.namespace import RDF, RDFS, XSD

from neuromech.namespaces import NM, NME, NMF, NMR, NMS, OBO, bind_prefixes

KINDS = (NM.BrainRegion, NM.Neurotransmitter, NM.Hormone, NM.Gene, NM.Construct, NM.Circuit)
MEASURES = (NM.activation, NM.functional_connectivity, NM.gray_matter_volume, NM.concentration, NM.genetic_association)
# Values for the required parameters of every stored query, naming nodes the synthetic graph has.
PARAMETER_VALUES = {
    "condition": "https://w3id.org/neuromech/entity/condition-0",
    "a": "https://w3id.org/neuromech/entity/condition-0",
    "b": "https://w3id.org/neuromech/entity/condition-1",
    "entity": "https://w3id.org/neuromech/entity/entity-0",
    "region": "https://w3id.org/neuromech/entity/entity-0",
    "method": "https://w3id.org/neuromech/entity/task-fmri",
    "study": "https://w3id.org/neuromech/study/synthetic-1",
}

DIRECTIONS = (NM.increased, NM.decreased, NM.no_difference, NM.positively_associated)


def synthetic_graph(findings: int, seed: int = 7) -> Graph:
    """Return ``findings`` synthetic findings (~17 triples each) over a skewed set of entities."""
    rng = random.Random(seed)
    graph = bind_prefixes(Graph())
    n_conditions = max(5, findings // 400)
    n_entities = max(50, findings // 20)
    conditions = [NME[f"condition-{i}"] for i in range(n_conditions)]
    entities = [NME[f"entity-{i}"] for i in range(n_entities)]
    for i, node in enumerate(conditions):
        graph.add((node, RDF.type, NM.Disorder))
        graph.add((node, RDFS.label, Literal(f"condition {i}", lang="en")))
    for i, node in enumerate(entities):
        graph.add((node, RDF.type, KINDS[i % len(KINDS)]))
        graph.add((node, RDFS.label, Literal(f"entity {i}", lang="en")))
        if i >= len(KINDS) and i % 3 == 0:  # a four-level part-of hierarchy
            graph.add((node, OBO.BFO_0000050, entities[i // 4]))
    review = NMR["synthetic"]
    graph.add((review, RDF.type, NM.Review))
    for i in range(findings):
        node = NMF[f"synthetic-{i:07d}"]
        # conditions and entities follow a skewed (Zipf-like) distribution, as real corpora do
        condition = conditions[min(int(rng.paretovariate(1.2)) - 1, n_conditions - 1)]
        entity = entities[min(int(rng.paretovariate(0.8)) - 1, n_entities - 1)]
        study = NMS[f"synthetic-{rng.randrange(findings // 5 + 1)}"]
        for predicate, value in (
            (RDF.type, NM.Finding),
            (NM.from_review, review),
            (NM.section, Literal(f"{rng.randint(1, 4)}.{rng.randint(1, 5)}")),
            (NM.has_condition, condition),
            (NM.has_measured_entity, entity),
            (NM.has_measure, rng.choice(MEASURES)),
            (NM.has_direction, rng.choice(DIRECTIONS)),
            (NM.in_species, NME.human),
            (NM.has_method, NME["task-fmri"]),
            (NM.has_evidence_type, OBO.ECO_0006166),
            (NM.cites_study, study),
            (NM.quote, Literal(f"合成引用 {i}", lang="zh")),
            (NM.statement, Literal(f"Synthetic finding {i}.", lang="en")),
            (NM.sample_size, Literal(rng.randint(10, 300), datatype=XSD.nonNegativeInteger)),
        ):
            graph.add((node, predicate, value))
        if rng.random() < 0.3:
            graph.add((node, NM.has_partner_entity, rng.choice(entities)))
        graph.add((study, RDF.type, NM.Study))
        graph.add((study, NM.citation_text, Literal(f"Study {study[-4:]}")))
    return graph
