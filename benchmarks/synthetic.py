"""Seeded synthetic graphs shaped like NeuroMech findings, for benchmarks."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS, XSD

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
    "molecule": "https://w3id.org/neuromech/entity/entity-1",
    "system": "https://w3id.org/neuromech/entity/entity-0",
    "topic": "https://w3id.org/neuromech/entity/entity-4",
    "intervention": "https://w3id.org/neuromech/entity/intervention-0",
}
# UBERON classes of the committed import module that brain-region entities are mapped to
# (amygdala, nucleus accumbens, hypothalamus, basal ganglion, ... ; parts of the limbic system
# or the basal ganglia there), so that nm:falls_under and the external-hierarchy queries match.
UBERON_CLASSES = tuple(
    OBO[f"UBERON_{n}"] for n in ("0001876", "0001882", "0001898", "0002420", "0002973", "0004167", "0009835")
)

DIRECTIONS = (NM.increased, NM.decreased, NM.no_difference, NM.positively_associated)

# How findings spread over conditions and measured entities (comparison statements, a finding
# in a hundred, keep their own Pareto draw of entities under both).
# - "heavy" (the default, what every benchmark has measured since pass 1): Pareto draws, so that
#   the first condition holds 56% of the findings and the first entity 43%.
# - "corpus": Zipf's law (rank k drawn with weight 1/k), calibrated on the curated corpus, where
#   the most studied condition (NSSI) holds 16.8% of the 827 findings over 63 conditions and the
#   most studied entity (the amygdala) 8.7% over 216 entities. Zipf gives 18% to the first of
#   142 conditions and 12% to the first of 2,857 entities at 10^6 triples: still a heavier head
#   than the corpus. Queries whose answer grows with the square of a group (pairs of findings in
#   `conflicts`, pairs of entities in `shared-at-level`) return millions of rows under "heavy".
SKEWS = ("heavy", "corpus")


def _rank_sampler(rng: random.Random, items: list[URIRef], skew: str, alpha: float) -> Callable[[], URIRef]:
    """Return a function drawing one of ``items``, the first most often (see :data:`SKEWS`)."""
    if skew == "heavy":
        return lambda: items[min(int(rng.paretovariate(alpha)) - 1, len(items) - 1)]
    if skew != "corpus":
        raise ValueError(f"unknown skew {skew!r}; expected one of {', '.join(SKEWS)}")
    weights = list(itertools.accumulate(1 / rank for rank in range(1, len(items) + 1)))
    return lambda: rng.choices(items, cum_weights=weights)[0]


def synthetic_graph(findings: int, seed: int = 7, skew: str = "heavy") -> Graph:
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
    draw_condition = _rank_sampler(rng, conditions, skew, 1.2)
    draw_entity = _rank_sampler(rng, entities, skew, 0.8)
    for i in range(findings):
        node = NMF[f"synthetic-{i:07d}"]
        # conditions and entities follow a skewed distribution, as real corpora do (see SKEWS)
        condition = draw_condition()
        entity = draw_entity()
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
    rng = random.Random(seed + 1)  # a separate stream: the core findings stay those of earlier versions
    nodes = _add_context_entities(graph, conditions, entities, findings)
    finding_nodes = [NMF[f"synthetic-{i:07d}"] for i in range(findings)]
    _add_finding_context(graph, finding_nodes, nodes, rng)
    _add_statements(graph, finding_nodes, conditions, entities, rng)
    _add_models(graph, finding_nodes, entities, rng)
    return graph


def _label(graph: Graph, node: URIRef, kind: URIRef, label: str) -> None:
    graph.add((node, RDF.type, kind))
    graph.add((node, RDFS.label, Literal(label, lang="en")))


def _add_context_entities(
    graph: Graph, conditions: list[URIRef], entities: list[URIRef], findings: int
) -> dict[str, list[URIRef]]:
    """Add what the stored queries look at beyond the core finding pattern.

    Labelled species, method, sexes, age group and comparison group; a subtype hierarchy among
    conditions; states that evoke constructs; interventions (some subtypes of others); tasks;
    genetic variants of the genes; mappings of a quarter of the brain regions to UBERON classes.
    """
    for node, kind, label in (
        (NME.human, NM.Species, "human"),
        (NME["task-fmri"], NM.Method, "task fMRI"),
        (NME.female, NM.Sex, "female"),
        (NME.male, NM.Sex, "male"),
        (NME.adult, NM.AgeGroup, "adult"),
        (NME["healthy-controls"], NM.Population, "healthy controls"),
    ):
        _label(graph, node, kind, label)
    for i, node in enumerate(conditions):
        if i >= 5 and i % 4 == 1:
            graph.add((node, NM.subtype_of, conditions[i // 4]))
    constructs = [e for i, e in enumerate(entities) if i % len(KINDS) == 4]
    genes = [e for i, e in enumerate(entities) if i % len(KINDS) == 3]
    regions = [e for i, e in enumerate(entities) if i % len(KINDS) == 0]
    nodes = {
        "states": [NME[f"state-{i}"] for i in range(max(2, len(conditions) // 10))],
        "interventions": [NME[f"intervention-{i}"] for i in range(max(3, findings // 2000))],
        "tasks": [NME[f"task-{i}"] for i in range(5)],
        "variants": [NME[f"variant-{i}"] for i in range(len(genes) // 2)],
        "constructs": constructs,
        "regions": regions,
    }
    for i, node in enumerate(nodes["states"]):
        _label(graph, node, NM.State, f"state {i}")
        graph.add((node, NM.evokes, constructs[i % 3]))
    for i, node in enumerate(nodes["interventions"]):
        _label(graph, node, NM.Drug, f"intervention {i}")
        if i >= 3 and i % 2 == 1:
            graph.add((node, NM.subtype_of, nodes["interventions"][i // 3]))
    for i, node in enumerate(nodes["tasks"]):
        _label(graph, node, NM.Task, f"task {i}")
    for i, node in enumerate(nodes["variants"]):
        _label(graph, node, NM.GeneticVariant, f"variant {i}")
        graph.add((node, NM.variant_of, genes[2 * i]))
    for i, node in enumerate(regions[: len(regions) // 4]):
        graph.add((node, SKOS.exactMatch, UBERON_CLASSES[i % len(UBERON_CLASSES)]))
    return nodes


def _add_finding_context(
    graph: Graph, finding_nodes: list[URIRef], nodes: dict[str, list[URIRef]], rng: random.Random
) -> None:
    """Give a fraction of the findings a state, intervention, task, sex, age group, group, note or variant."""
    interventions = nodes["interventions"]
    optional = (
        (0.03, NM.has_condition, lambda: rng.choice(nodes["states"])),
        (0.08, NM.has_intervention, lambda: interventions[min(int(rng.paretovariate(1.0)), len(interventions)) - 1]),
        (0.25, NM.has_task, lambda: rng.choice(nodes["tasks"])),
        (0.1, NM.has_sex, lambda: rng.choice((NME.female, NME.male))),
        (0.1, NM.has_age_group, lambda: NME.adult),
        (0.15, NM.has_comparison_group, lambda: NME["healthy-controls"]),
        (0.05, NM.context_note, lambda: Literal("follow-up at 12 months", lang="en")),
        (0.03, NM.has_measured_entity, lambda: rng.choice(nodes["variants"])),
    )
    for node in finding_nodes:
        for rate, predicate, value in optional:
            if rng.random() < rate:
                if predicate in (NM.has_condition, NM.has_measured_entity):  # exactly one of each
                    graph.remove((node, predicate, None))
                graph.add((node, predicate, value()))


def _add_statements(
    graph: Graph, finding_nodes: list[URIRef], conditions: list[URIRef], entities: list[URIRef], rng: random.Random
) -> None:
    """Add comparison statements (one per 100 findings) and background statements (one per 200)."""
    review = NMR["synthetic"]
    regions = [e for i, e in enumerate(entities) if i % len(KINDS) == 0]
    constructs = [e for i, e in enumerate(entities) if i % len(KINDS) == 4]
    for i in range(max(5, len(finding_nodes) // 100)):
        node = NMF[f"synthetic-comparison-{i:06d}"]
        first, second = rng.sample(conditions[: max(2, len(conditions) // 2)], 2)
        for predicate, value in (
            (RDF.type, NM.ComparisonStatement),
            (NM.from_review, review),
            (NM.section, Literal(f"{rng.randint(1, 4)}.{rng.randint(1, 5)}")),
            (NM.compares_condition, first),
            (NM.compares_condition, second),
            (NM.has_comparison_outcome, rng.choice((NM.shared, NM.different))),
            (NM.has_measured_entity, entities[min(int(rng.paretovariate(0.8)), len(entities)) - 1]),
            (NM.supported_by, rng.choice(finding_nodes)),
            (NM.supported_by, rng.choice(finding_nodes)),
            (NM.has_evidence_type, OBO.ECO_0006166),
            (NM.quote, Literal(f"合成比较 {i}", lang="zh")),
            (NM.statement, Literal(f"Synthetic comparison {i}.", lang="en")),
        ):
            graph.add((node, predicate, value))
    for i in range(max(5, len(finding_nodes) // 200)):
        node = NMF[f"synthetic-background-{i:06d}"]
        for predicate, value in (
            (RDF.type, NM.BackgroundStatement),
            (NM.from_review, review),
            (NM.has_measured_entity, rng.choice(regions[:50])),
            (NM.has_partner_entity, rng.choice(constructs[:10])),
            (NM.section, Literal("1.1")),
            (NM.has_evidence_type, OBO.ECO_0006166),
            (NM.quote, Literal(f"合成背景 {i}", lang="zh")),
            (NM.statement, Literal(f"Synthetic background {i}.", lang="en")),
        ):
            graph.add((node, predicate, value))


def _add_models(graph: Graph, finding_nodes: list[URIRef], entities: list[URIRef], rng: random.Random) -> None:
    """Add three mechanism modules and two mechanism models of three steps each."""
    anchors = ((entities[0], NM.increased), (entities[1], None), (entities[2], NM.decreased))
    for i, (anchor, direction) in enumerate(anchors):
        module = NME[f"module-{i}"]
        _label(graph, module, NM.MechanismModule, f"module {i}")
        graph.add((module, NM.module_anchor, anchor))
        if direction is not None:
            graph.add((module, NM.module_direction, direction))
    for i in range(2):
        model = NME[f"mechanism-{i}"]
        _label(graph, model, NM.Mechanism, f"mechanism {i}")
        graph.add((model, NM.explains_condition, NME[f"condition-{i}"]))
        graph.add((model, NM.from_review, NMR["synthetic"]))
        for k in range(3):
            step = NME[f"mechanism-{i}-step-{k}"]
            graph.add((model, NM.has_step, step))
            graph.add((step, RDF.type, NM.MechanismStep))
            graph.add((step, NM.step_index, Literal(k + 1)))
            graph.add((step, RDFS.label, Literal(f"mechanism {i} step {k}", lang="en")))
            graph.add((step, NM.involves, entities[k]))
            for _ in range(3):
                graph.add((step, NM.supported_by, rng.choice(finding_nodes)))
