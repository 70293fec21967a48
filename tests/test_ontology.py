"""The ontology: bilingual labels and definitions, declared reuse, HermiT consistency."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from neuromech.build import KnowledgeGraph
from neuromech.errors import InconsistentOntology
from neuromech.loading import load_project, parse_turtle
from neuromech.namespaces import IAO_DEFINITION, NM, NME
from neuromech.paths import ProjectPaths
from neuromech.reasoning import check_consistency

TERM_TYPES = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, OWL.NamedIndividual)


def _own_terms(graph: Graph) -> list[URIRef]:
    return sorted(
        {
            s
            for t in TERM_TYPES
            for s in graph.subjects(RDF.type, t)
            if isinstance(s, URIRef) and str(s).startswith(str(NM)) and "/" not in str(s)[len(str(NM)) :]
        }
    )


@pytest.fixture(scope="module")
def tbox(repo: ProjectPaths) -> Graph:
    return parse_turtle(repo.ontology)


def test_ontology_declares_the_required_classes(tbox: Graph) -> None:
    required = [
        "Construct",
        "BrainRegion",
        "Circuit",
        "Neuromodulator",
        "Neurotransmitter",
        "Neuropeptide",
        "Hormone",
        "ImmuneMolecule",
        "Receptor",
        "Gene",
        "GeneticVariant",
        "Disorder",
        "State",
        "Population",
        "Species",
        "Task",
        "Method",
        "Intervention",
        "Drug",
        "Psychotherapy",
        "Neuromodulation",
        "Study",
        "Review",
        "Finding",
        "Mechanism",
        "MechanismStep",
    ]
    missing = [name for name in required if (NM[name], RDF.type, OWL.Class) not in tbox]
    assert missing == []


def test_every_own_term_has_english_and_chinese_label_and_definition(tbox: Graph) -> None:
    terms = _own_terms(tbox)
    assert len(terms) > 80
    problems = []
    for term in terms:
        langs = {o.language for o in tbox.objects(term, RDFS.label) if isinstance(o, Literal)}
        if not {"en", "zh"} <= langs:
            problems.append(f"{term}: labels in {sorted(map(str, langs))}")
        if not any(isinstance(o, Literal) and o.language == "en" for o in tbox.objects(term, IAO_DEFINITION)):
            problems.append(f"{term}: no English definition")
    assert problems == []


def test_reused_relations_are_declared_with_their_obo_iris(tbox: Graph) -> None:
    for iri, kind in [
        ("http://purl.obolibrary.org/obo/BFO_0000050", OWL.TransitiveProperty),
        ("http://purl.obolibrary.org/obo/RO_0002411", OWL.TransitiveProperty),
        ("http://purl.obolibrary.org/obo/RO_0002213", OWL.ObjectProperty),
        ("http://purl.obolibrary.org/obo/RO_0002212", OWL.ObjectProperty),
    ]:
        assert (URIRef(iri), RDF.type, kind) in tbox


def test_implicates_is_defined_by_a_property_chain_through_reports_effect(tbox: Graph) -> None:
    chain = tbox.value(NM.implicates, OWL.propertyChainAxiom)
    assert chain is not None
    members = list(tbox.collection(chain))
    assert members[1:] == [NM.reports_effect, NM.has_measured_entity]


@pytest.mark.slow
def test_real_graph_is_consistent_under_hermit(repo: ProjectPaths) -> None:
    assert check_consistency(load_project(repo).graph) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    ("description", "turtle"),
    [
        (
            "two directions on one finding (has_direction is functional, directions are distinct)",
            "nmf:fixture-0001 nm:has_direction nm:decreased .",
        ),
        (
            "a brain region used as a condition (MechanisticEntity and Condition are disjoint)",
            "nmf:fixture-0001 nm:has_condition nme:almond .",
        ),
    ],
)
def test_hermit_rejects_inconsistent_data(mini: ProjectPaths, description: str, turtle: str) -> None:
    assert description  # the reason this data is inconsistent, shown in the test id
    graph = load_project(mini).graph
    prefixes = (
        "@prefix nm: <https://w3id.org/neuromech/> . @prefix nme: <https://w3id.org/neuromech/entity/> . "
        "@prefix nmf: <https://w3id.org/neuromech/finding/> . "
    )
    graph.parse(data=prefixes + turtle, format="turtle")
    with pytest.raises(InconsistentOntology):
        check_consistency(graph)


@pytest.mark.slow
def test_rules_derive_what_hermit_entails_for_implicates(
    mini: ProjectPaths, mini_kg: KnowledgeGraph, tmp_path: Path
) -> None:
    """The SPARQL rules and the OWL property chains agree on condition -> entity edges."""
    import owlready2

    graph = load_project(mini).graph
    path = tmp_path / "mini.nt"
    graph.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    onto = world.get_ontology(path.as_uri()).load()
    with onto:
        owlready2.sync_reasoner_hermit(world, infer_property_values=True, debug=0)
    # owlready2 files an entailed edge under its most specific property, so take the sub-property too
    entailed = {
        (str(s.iri), str(o.iri))
        for prop in (NM.implicates, NM.implicates_partner)
        for s, o in world[str(prop)].get_relations()
    }
    derived = {(str(s), str(o)) for s, o in mini_kg.store.to_graph().subject_objects(NM.implicates)}
    world.close()
    assert derived == entailed
    # the null result fixture-0003 (stress hormone, no difference) implicates nothing in self-injury
    assert (str(NME["self-injury"]), str(NME["stress-hormone"])) not in derived
    assert (str(NME["low-mood"]), str(NME["stress-hormone"])) in derived
