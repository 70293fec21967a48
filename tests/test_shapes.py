"""Every SHACL rule has a conforming example (the mini fixture) and a violating one (below)."""

from __future__ import annotations

import copy

import pytest
from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef

from neuromech.loading import SourceGraph, load_project, load_shapes
from neuromech.namespaces import NM, SH
from neuromech.paths import ProjectPaths
from neuromech.rules import load_rules
from neuromech.validation import validate

PREFIXES = """
@prefix nm: <https://w3id.org/neuromech/> . @prefix nme: <https://w3id.org/neuromech/entity/> .
@prefix nmf: <https://w3id.org/neuromech/finding/> . @prefix nms: <https://w3id.org/neuromech/study/> .
@prefix nmr: <https://w3id.org/neuromech/review/> . @prefix nmm: <https://w3id.org/neuromech/mechanism/> .
@prefix obo: <http://purl.obolibrary.org/obo/> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

GOOD_FINDING = """
    nm:from_review nmr:fixture ; nm:section "2.1" ; nm:has_condition nme:self-injury ;
    nm:has_measured_entity nme:almond ; nm:has_measure nm:activation ; nm:has_direction nm:increased ;
    nm:in_species nme:human ; nm:has_method nme:scanner ; nm:has_evidence_type obo:ECO_0006166 ;
    nm:cites_study nms:fixture-alpha-2001 ; nm:quote "杏仁核过度激活"@zh ; nm:statement "A well-formed finding."@en .
"""

GOOD_ENTITY = """rdfs:label "thing"@en , "东西"@zh ; obo:IAO_0000115 "A test entity."@en"""

# (rule, focus node, triples to remove as (subject, predicate) CURIE pairs, Turtle to add)
CASES: list[tuple[str, str, list[tuple[str, str]], str]] = [
    ("nmsh:claim-review", "nmf:fixture-0001", [("nmf:fixture-0001", "nm:from_review")], ""),
    (
        "nmsh:claim-section",
        "nmf:fixture-0001",
        [("nmf:fixture-0001", "nm:section")],
        'nmf:fixture-0001 nm:section "section two" .',
    ),
    ("nmsh:claim-quote", "nmf:fixture-0001", [("nmf:fixture-0001", "nm:quote")], ""),
    ("nmsh:claim-quote", "nmf:fixture-0004", [], 'nmf:fixture-0004 nm:quote "an English quote"@en .'),
    ("nmsh:claim-statement", "nmf:fixture-0001", [("nmf:fixture-0001", "nm:statement")], ""),
    (
        "nmsh:claim-evidence-type",
        "nmf:fixture-0001",
        [("nmf:fixture-0001", "nm:has_evidence_type")],
        "nmf:fixture-0001 nm:has_evidence_type obo:GO_0008150 .",
    ),
    ("nmsh:claim-study", "nmf:fixture-0001", [], "nmf:fixture-0001 nm:cites_study nme:almond ."),
    ("nmsh:claim-note-language", "nmf:fixture-0001", [], 'nmf:fixture-0001 nm:curation_note "no language tag" .'),
    (
        "nmsh:claim-measured-entity-class",
        "nmf:fixture-0001",
        [("nmf:fixture-0001", "nm:has_measured_entity")],
        "nmf:fixture-0001 nm:has_measured_entity nme:faces-task .",
    ),
    (
        "nmsh:claim-partner-entity-class",
        "nmf:fixture-0002",
        [],
        "nmf:fixture-0002 nm:has_partner_entity nme:ventral-cingulate .",
    ),
    (
        "nmsh:FindingShape",
        "nmf:Fixture_1",
        [],
        "<https://w3id.org/neuromech/finding/Fixture_1> a nm:Finding ;" + GOOD_FINDING,
    ),
    ("nmsh:finding-condition", "nmf:fixture-0001", [("nmf:fixture-0001", "nm:has_condition")], ""),
    (
        "nmsh:finding-comparison-group",
        "nmf:fixture-0001",
        [("nmf:fixture-0001", "nm:has_comparison_group")],
        "nmf:fixture-0001 nm:has_comparison_group nme:almond .",
    ),
    ("nmsh:finding-measured-entity", "nmf:fixture-0001", [], "nmf:fixture-0001 nm:has_measured_entity nme:cingulate ."),
    (
        "nmsh:finding-measure",
        "nmf:fixture-0001",
        [("nmf:fixture-0001", "nm:has_measure")],
        "nmf:fixture-0001 nm:has_measure nm:increased .",
    ),
    ("nmsh:finding-direction", "nmf:fixture-0001", [("nmf:fixture-0001", "nm:has_direction")], ""),
    ("nmsh:finding-species", "nmf:fixture-0001", [("nmf:fixture-0001", "nm:in_species")], ""),
    ("nmsh:finding-method", "nmf:fixture-0001", [("nmf:fixture-0001", "nm:has_method")], ""),
    (
        "nmsh:finding-task",
        "nmf:fixture-0001",
        [("nmf:fixture-0001", "nm:has_task")],
        "nmf:fixture-0001 nm:has_task nme:scanner .",
    ),
    ("nmsh:finding-age-group", "nmf:fixture-0001", [], "nmf:fixture-0001 nm:has_age_group nme:human ."),
    ("nmsh:finding-sex", "nmf:fixture-0001", [], "nmf:fixture-0001 nm:has_sex nme:human ."),
    ("nmsh:finding-sample-size", "nmf:fixture-0001", [], 'nmf:fixture-0001 nm:sample_size "ten" .'),
    ("nmsh:finding-intervention", "nmf:fixture-0001", [], "nmf:fixture-0001 nm:has_intervention nme:almond ."),
    ("nmsh:finding-connectivity-partner", "nmf:fixture-0002", [("nmf:fixture-0002", "nm:has_partner_entity")], ""),
    ("nmsh:finding-citation-or-note", "nmf:fixture-0001", [("nmf:fixture-0001", "nm:cites_study")], ""),
    (
        "nmsh:background-entity",
        "nmf:fixture-0901",
        [],
        'nmf:fixture-0901 a nm:BackgroundStatement ; nm:from_review nmr:fixture ; nm:section "1" ; nm:has_evidence_type obo:ECO_0000033 ; nm:quote "杏仁核与情绪有关"@zh ; nm:statement "The almond is about emotion."@en .',
    ),
    (
        "nmsh:background-no-direction",
        "nmf:fixture-0902",
        [],
        'nmf:fixture-0902 a nm:BackgroundStatement ; nm:from_review nmr:fixture ; nm:section "1" ; nm:has_measured_entity nme:almond ; nm:has_direction nm:increased ; nm:has_evidence_type obo:ECO_0000033 ; nm:quote "杏仁核与情绪有关"@zh ; nm:statement "The almond is about emotion."@en .',
    ),
    (
        "nmsh:comparison-conditions",
        "nmf:fixture-0903",
        [],
        'nmf:fixture-0903 a nm:ComparisonStatement ; nm:from_review nmr:fixture ; nm:section "3" ; nm:compares_condition nme:self-injury ; nm:has_comparison_outcome nm:shared ; nm:has_evidence_type obo:ECO_0000033 ; nm:quote "二者都有杏仁核异常"@zh ; nm:statement "Both show almond changes."@en .',
    ),
    (
        "nmsh:comparison-outcome",
        "nmf:fixture-0904",
        [],
        'nmf:fixture-0904 a nm:ComparisonStatement ; nm:from_review nmr:fixture ; nm:section "3" ; nm:compares_condition nme:self-injury , nme:low-mood ; nm:has_comparison_outcome nm:increased ; nm:has_evidence_type obo:ECO_0000033 ; nm:quote "二者都有杏仁核异常"@zh ; nm:statement "Both show almond changes."@en .',
    ),
    (
        "nmsh:comparison-support",
        "nmf:fixture-0905",
        [],
        'nmf:fixture-0905 a nm:ComparisonStatement ; nm:from_review nmr:fixture ; nm:section "3" ; nm:compares_condition nme:self-injury , nme:low-mood ; nm:has_comparison_outcome nm:shared ; nm:supported_by nme:almond ; nm:has_evidence_type obo:ECO_0000033 ; nm:quote "二者都有杏仁核异常"@zh ; nm:statement "Both show almond changes."@en .',
    ),
    ("nmsh:entity-label-en", "nme:almond", [("nme:almond", "rdfs:label")], 'nme:almond rdfs:label "杏仁"@zh .'),
    ("nmsh:entity-label-zh", "nme:almond", [("nme:almond", "rdfs:label")], 'nme:almond rdfs:label "almond"@en .'),
    ("nmsh:entity-definition", "nme:almond", [("nme:almond", "obo:IAO_0000115")], ""),
    ("nmsh:entity-synonym-language", "nme:almond", [], 'nme:almond skos:altLabel "AL" .'),
    ("nmsh:EntityIriShape", "nme:bad_name", [], "nme:bad_name a nm:BrainRegion ; " + GOOD_ENTITY + " ."),
    ("nmsh:region-mapping", "nme:almond", [], "nme:almond skos:exactMatch obo:CHEBI_7916 ."),
    # an Allen ID written as an OBO PURL: the atlas classes are https://purl.brain-bican.org/ontology/hbao/HBA_n
    ("nmsh:region-mapping", "nme:almond", [], "nme:almond skos:narrowMatch obo:HBA_4327 ."),
    ("nmsh:region-part-of", "nme:dorsal-cingulate", [], "nme:dorsal-cingulate obo:BFO_0000050 nme:human ."),
    ("nmsh:region-part-of-acyclic", "nme:cingulate", [], "nme:cingulate obo:BFO_0000050 nme:dorsal-cingulate ."),
    ("nmsh:molecule-mapping", "nme:stress-hormone", [], "nme:stress-hormone skos:exactMatch obo:UBERON_0001876 ."),
    ("nmsh:gene-mapping", "nme:gene-X", [], "nme:gene-X a nm:Gene ; " + GOOD_ENTITY + " ."),
    ("nmsh:variant-gene", "nme:variant-X", [], "nme:variant-X a nm:GeneticVariant ; " + GOOD_ENTITY + " ."),
    ("nmsh:condition-mapping", "nme:low-mood", [], "nme:low-mood skos:exactMatch obo:UBERON_0001876 ."),
    ("nmsh:cognitive-mapping", "nme:faces-task", [], "nme:faces-task skos:exactMatch obo:CHEBI_7916 ."),
    ("nmsh:method-evidence", "nme:scanner", [("nme:scanner", "nm:default_evidence_type")], ""),
    (
        "nmsh:StudyShape",
        "nms:Fixture_Bad",
        [],
        'nms:Fixture_Bad a nm:Study ; rdfs:label "Bad"@en ; nm:citation_text "Bad, 2000" ; nm:cited_in nmr:fixture .',
    ),
    ("nmsh:statement-condition", "nmf:fixture-0008", [], "nmf:fixture-0008 nm:has_condition nme:almond ."),
    (
        "nmsh:statement-measure",
        "nmf:fixture-0008",
        [],
        "nmf:fixture-0008 nm:has_measure nm:activation , nm:region_volume .",
    ),
    ("nmsh:statement-direction", "nmf:fixture-0008", [], "nmf:fixture-0008 nm:has_direction nme:almond ."),
    ("nmsh:statement-method", "nmf:fixture-0009", [], "nmf:fixture-0009 nm:has_method nme:almond ."),
    ("nmsh:statement-task", "nmf:fixture-0008", [], "nmf:fixture-0008 nm:has_task nme:scanner ."),
    ("nmsh:statement-intervention", "nmf:fixture-0008", [], "nmf:fixture-0008 nm:has_intervention nme:almond ."),
    ("nmsh:statement-species", "nmf:fixture-0008", [], "nmf:fixture-0008 nm:in_species nme:almond ."),
    ("nmsh:statement-sex", "nmf:fixture-0008", [], "nmf:fixture-0008 nm:has_sex nme:human ."),
    ("nmsh:statement-age-group", "nmf:fixture-0008", [], "nmf:fixture-0008 nm:has_age_group nme:human ."),
    ("nmsh:record-disjoint-type", "nms:fixture-alpha-2001", [], "nms:fixture-alpha-2001 a nm:Review ."),
    ("nmsh:record-disjoint-type", "nmf:fixture-0001", [], "nmf:fixture-0001 a nm:BrainRegion ."),
    ("nmsh:record-disjoint-type", "nmf:fixture-0001", [], "nmf:fixture-0001 a nm:ComparisonStatement ."),
    ("nmsh:study-citation", "nms:fixture-alpha-2001", [("nms:fixture-alpha-2001", "nm:citation_text")], ""),
    ("nmsh:study-review", "nms:fixture-alpha-2001", [("nms:fixture-alpha-2001", "nm:cited_in")], ""),
    ("nmsh:study-label", "nms:fixture-alpha-2001", [("nms:fixture-alpha-2001", "rdfs:label")], ""),
    (
        "nmsh:review-file",
        "nmr:fixture",
        [("nmr:fixture", "nm:source_file")],
        'nmr:fixture nm:source_file "review.txt" .',
    ),
    ("nmsh:review-label", "nmr:fixture", [("nmr:fixture", "rdfs:label")], ""),
    (
        "nmsh:mechanism-condition",
        "nmm:fixture-model",
        [],
        "nmm:fixture-model a nm:Mechanism ; "
        + GOOD_ENTITY
        + ' ; nm:from_review nmr:fixture ; nm:has_step nmm:fixture-model-step1 , nmm:fixture-model-step2 . nmm:fixture-model-step1 a nm:MechanismStep ; rdfs:label "one"@en ; nm:step_index "1"^^xsd:positiveInteger ; nm:involves nme:almond ; obo:RO_0002411 nmm:fixture-model-step2 . nmm:fixture-model-step2 a nm:MechanismStep ; rdfs:label "two"@en ; nm:step_index "2"^^xsd:positiveInteger ; nm:involves nme:cingulate .',
    ),
    (
        "nmsh:mechanism-review",
        "nmm:fixture-model",
        [],
        "nmm:fixture-model a nm:Mechanism ; "
        + GOOD_ENTITY
        + ' ; nm:explains_condition nme:self-injury ; nm:has_step nmm:fixture-model-step1 , nmm:fixture-model-step2 . nmm:fixture-model-step1 a nm:MechanismStep ; rdfs:label "one"@en ; nm:step_index "1"^^xsd:positiveInteger ; nm:involves nme:almond . nmm:fixture-model-step2 a nm:MechanismStep ; rdfs:label "two"@en ; nm:step_index "2"^^xsd:positiveInteger ; nm:involves nme:cingulate .',
    ),
    (
        "nmsh:mechanism-steps",
        "nmm:fixture-model",
        [],
        "nmm:fixture-model a nm:Mechanism ; "
        + GOOD_ENTITY
        + ' ; nm:explains_condition nme:self-injury ; nm:from_review nmr:fixture ; nm:has_step nmm:fixture-model-step1 . nmm:fixture-model-step1 a nm:MechanismStep ; rdfs:label "one"@en ; nm:step_index "1"^^xsd:positiveInteger ; nm:involves nme:almond .',
    ),
    (
        "nmsh:step-index",
        "nmm:fixture-model-step1",
        [],
        'nmm:fixture-model-step1 a nm:MechanismStep ; rdfs:label "one"@en ; nm:involves nme:almond .',
    ),
    (
        "nmsh:step-entity",
        "nmm:fixture-model-step1",
        [],
        'nmm:fixture-model-step1 a nm:MechanismStep ; rdfs:label "one"@en ; nm:step_index "1"^^xsd:positiveInteger .',
    ),
    (
        "nmsh:step-label",
        "nmm:fixture-model-step1",
        [],
        'nmm:fixture-model-step1 a nm:MechanismStep ; nm:step_index "1"^^xsd:positiveInteger ; nm:involves nme:almond .',
    ),
    (
        "nmsh:step-order",
        "nmm:fixture-model-step1",
        [],
        'nmm:fixture-model-step1 a nm:MechanismStep ; rdfs:label "one"@en ; nm:step_index "1"^^xsd:positiveInteger ; nm:involves nme:almond ; obo:RO_0002411 nmm:fixture-model-step3 . nmm:fixture-model-step3 a nm:MechanismStep ; rdfs:label "three"@en ; nm:step_index "3"^^xsd:positiveInteger ; nm:involves nme:almond .',
    ),
]


@pytest.fixture(scope="module")
def shapes(repo: ProjectPaths) -> Graph:
    return load_shapes(repo)


@pytest.fixture(scope="module")
def baseline(mini: ProjectPaths) -> SourceGraph:
    return load_project(mini)


def _expand(graph: Graph, curie: str) -> URIRef:
    return graph.namespace_manager.expand_curie(curie)


def test_mini_fixture_conforms(baseline: SourceGraph, shapes: Graph) -> None:
    report = validate(baseline, shapes)
    assert report.conforms, report.render()


def test_every_rule_has_a_violating_case(shapes: Graph) -> None:
    # a rule is any shape or constraint that carries its own message
    rules = {s for s in shapes.subjects(SH.message, None) if isinstance(s, URIRef)}
    assert len(rules) >= 50
    covered = {_expand(shapes, case[0]) for case in CASES}
    assert sorted(map(str, rules - covered)) == []
    assert len(CASES) >= len(rules)


@pytest.mark.parametrize(("rule", "focus", "remove", "add"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_violating_case_is_reported(
    baseline: SourceGraph, shapes: Graph, rule: str, focus: str, remove: list[tuple[str, str]], add: str
) -> None:
    graph = copy.deepcopy(baseline.graph)
    for subject, predicate in remove:
        graph.remove((_expand(graph, subject), _expand(graph, predicate), None))
    if add:
        graph.parse(data=PREFIXES + add, format="turtle")
    report = validate(SourceGraph(graph, baseline.subject_files), shapes)
    assert not report.conforms
    found = {(v.rule, v.focus) for v in report.violations}
    assert (rule, focus) in found, report.render()


def test_allen_atlas_classes_conform_on_a_region(baseline: SourceGraph, shapes: Graph) -> None:
    graph = copy.deepcopy(baseline.graph)
    graph.parse(
        data=PREFIXES
        + "nme:almond skos:narrowMatch <https://purl.brain-bican.org/ontology/hbao/HBA_4327> , "
        + "<https://purl.brain-bican.org/ontology/mbao/MBA_131> .",
        format="turtle",
    )
    report = validate(SourceGraph(graph, baseline.subject_files), shapes)
    assert report.conforms, report.render()


def test_report_names_file_rule_problem_and_fix(baseline: SourceGraph, shapes: Graph, mini: ProjectPaths) -> None:
    graph = copy.deepcopy(baseline.graph)
    graph.remove((_expand(graph, "nmf:fixture-0001"), _expand(graph, "nm:quote"), None))
    report = validate(SourceGraph(graph, baseline.subject_files), shapes, mini.root)
    text = report.render()
    assert "tests/fixtures/mini/findings.ttl: nmf:fixture-0001" in text
    assert '"Almond activation is increased in self-injury."' in text
    assert "rule:    nmsh:claim-quote (Violation)" in text
    assert "problem: A claim needs at least one verbatim quote" in text
    assert "fix:     Copy the shortest span" in text
    assert text.endswith("SHACL: 1 violation(s).")


# the records HermiT's consistency check leaves out (neuromech.entity_check.LEFT_OUT), each kind
RECORD_KINDS = ("Finding", "BackgroundStatement", "ComparisonStatement", "Study")


def _property_shapes(shapes: Graph, tbox: Graph, kind: URIRef) -> dict[URIRef, list[URIRef]]:
    """The property shapes (by path) that every instance of ``kind`` meets: those of the node shapes targeting it or a superclass."""
    above = set(tbox.transitive_objects(kind, RDFS.subClassOf))
    found: dict[URIRef, list[URIRef]] = {}
    for node_shape in {s for c in above for s in shapes.subjects(SH.targetClass, c)}:
        for prop in shapes.objects(node_shape, SH.property):
            path = shapes.value(prop, SH.path)
            if isinstance(path, URIRef) and isinstance(prop, URIRef):
                found.setdefault(path, []).append(prop)
    return found


def _at_most(shapes: Graph, prop: URIRef, count: int) -> bool:
    """Whether the property shape ``prop`` allows at most ``count`` values."""
    limit = shapes.value(prop, SH.maxCount)
    return isinstance(limit, Literal) and int(limit) <= count


def _values_meet(shapes: Graph, tbox: Graph, prop: URIRef, wanted: URIRef) -> bool:
    """Whether ``prop`` requires each value to be a ``wanted`` (a class: sh:class, sh:in or sh:or; a datatype)."""
    if shapes.value(prop, SH.datatype) == wanted:
        return True
    classes = [shapes.value(prop, SH["class"])]
    listed = shapes.value(prop, SH["or"])
    if listed is not None:
        classes = [shapes.value(branch, SH["class"]) for branch in shapes.items(listed)]
    if all(c is not None and wanted in set(tbox.transitive_objects(c, RDFS.subClassOf)) for c in classes):
        return True
    members = shapes.value(prop, SH["in"])
    if members is None:
        return False
    return all(
        any(wanted in set(tbox.transitive_objects(t, RDFS.subClassOf)) for t in tbox.objects(member, RDF.type))
        for member in shapes.items(members)
    )


def test_the_shapes_state_what_the_axioms_require_of_the_records_hermit_does_not_see(
    repo: ProjectPaths, shapes: Graph
) -> None:
    """For each kind of record and each property the ontology gives it (rdfs:domain), a shape on that kind
    requires what HermiT would: one value at most when the property is functional, values of its range."""
    tbox = Graph().parse(repo.root / "ontology" / "neuromech.ttl")
    # what the rules derive (nm:reports_effect, nm:satisfies_module) no curator states
    derived = {URIRef(key.split(" ", 1)[0]) for rule in load_rules(repo.rules_dir) for key in rule.head_keys}
    missing: list[str] = []
    for name in RECORD_KINDS:
        kind = NM[name]
        above = set(tbox.transitive_objects(kind, RDFS.subClassOf))
        checked = _property_shapes(shapes, tbox, kind)
        for prop in {p for d in above for p in tbox.subjects(RDFS.domain, d) if isinstance(p, URIRef)} - derived:
            props = checked.get(prop, [])
            if (prop, RDF.type, OWL.FunctionalProperty) in tbox and not any(_at_most(shapes, s, 1) for s in props):
                missing.append(f"{name} {prop}: functional, no sh:maxCount 1")
            for wanted in tbox.objects(prop, RDFS.range):
                if isinstance(wanted, URIRef) and not any(
                    _at_most(shapes, s, 0) or _values_meet(shapes, tbox, s, wanted) for s in props
                ):
                    missing.append(f"{name} {prop}: range {wanted} not required")
    assert sorted(missing) == []
