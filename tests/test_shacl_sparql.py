"""The shapes compiled to SPARQL on Oxigraph report exactly what pySHACL (the reference) reports."""

from __future__ import annotations

import copy

import pytest
from rdflib import RDF, RDFS, Graph, Literal, URIRef

from neuromech.loading import SourceGraph, load_project
from neuromech.namespaces import NM, NMSH, OBO, SH
from neuromech.paths import ProjectPaths
from neuromech.rules import ANY_PREDICATE, predicates_read
from neuromech.shacl_sparql import _IRI_IN_TEXT, UnsupportedShapeError, compile_shapes, merged_queries, parseable
from neuromech.store import OxigraphStore
from neuromech.validation import ValidationReport, validate, validate_store
from tests.test_shapes import CASES, PREFIXES, _expand
from tests.test_shapes import baseline as baseline  # noqa: PLC0414 -- re-export the module fixture
from tests.test_shapes import shapes as shapes  # noqa: PLC0414 -- re-export the module fixture


def _both(source: SourceGraph, shapes: Graph, root: object = None) -> tuple[ValidationReport, ValidationReport]:
    reference = validate(source, shapes, root)  # type: ignore[arg-type]
    compiled = validate_store(OxigraphStore.from_graph(source.graph), shapes, source.file_of, root)  # type: ignore[arg-type]
    return reference, compiled


def _case_graph(baseline: SourceGraph, remove: list[tuple[str, str]], add: str) -> SourceGraph:
    graph = copy.deepcopy(baseline.graph)
    for subject, predicate in remove:
        graph.remove((_expand(graph, subject), _expand(graph, predicate), None))
    if add:
        graph.parse(data=PREFIXES + add, format="turtle")
    return SourceGraph(graph, baseline.subject_files)


def test_every_shape_compiles(shapes: Graph) -> None:
    compiled = compile_shapes(shapes)
    rules = {c.constraint or c.shape for c in compiled.checks}
    # every shape or SPARQL constraint that carries a message is checked by at least one query
    assert {s for s in shapes.subjects(SH.message, None) if isinstance(s, URIRef)} <= rules
    components = {c.component for c in compiled.checks}
    assert SH.QualifiedMinCountConstraintComponent in components
    assert SH.SPARQLConstraintComponent in components
    assert compile_shapes(shapes) is compiled  # cached


def test_mini_fixture_conforms_in_both(baseline: SourceGraph, shapes: Graph, mini: ProjectPaths) -> None:
    reference, compiled = _both(baseline, shapes, mini.root)
    assert reference.conforms, reference.render()
    assert compiled == reference


@pytest.mark.parametrize(("rule", "focus", "remove", "add"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_violating_case_gives_the_same_violations(
    baseline: SourceGraph,
    shapes: Graph,
    mini: ProjectPaths,
    rule: str,
    focus: str,
    remove: list[tuple[str, str]],
    add: str,
) -> None:
    reference, compiled = _both(_case_graph(baseline, remove, add), shapes, mini.root)
    assert (rule, focus) in {(v.rule, v.focus) for v in compiled.violations}, compiled.render()
    assert not compiled.conforms
    assert compiled.violations == reference.violations


def test_checks_merged_into_one_query_report_each_check_as_pyshacl_does(
    baseline: SourceGraph, shapes: Graph, mini: ProjectPaths
) -> None:
    # a full validation runs the value, sh:minCount 1 and sh:maxCount 1 checks of one target as
    # one query each (merged_queries); here one finding breaks several checks of each such query
    compiled = compile_shapes(shapes)
    jobs = merged_queries(compiled.checks)
    assert {job.kind for job in jobs} == {"single", "value", "min", "max"}
    assert len(jobs) <= len(compiled.checks) / 2  # 112 checks, 56 queries
    source = _case_graph(
        baseline,
        [("nmf:fixture-0001", p) for p in ("nm:has_direction", "nm:has_measure", "nm:quote", "nm:has_method")],
        """nmf:fixture-0001 nm:quote "ab"@en , "这是一个很好的引文"@zh ; nm:has_method nme:almond , nme:scanner ;
             nm:has_condition nme:almond ; nm:has_measured_entity nme:faces-task ; nm:sample_size "ten" .
           nmf:fixture-0002 nm:quote "x" ; nm:has_condition nme:almond .""",
    )
    reference, merged = _both(source, shapes, mini.root)
    assert merged.violations == reference.violations
    found = {(v.rule, v.focus, v.value) for v in merged.violations}
    assert {
        ("nmsh:finding-direction", "nmf:fixture-0001", ""),  # minCount 1, merged
        ("nmsh:finding-measure", "nmf:fixture-0001", ""),
        ("nmsh:finding-condition", "nmf:fixture-0001", ""),  # maxCount 1, merged
        ("nmsh:finding-method", "nmf:fixture-0001", "nme:almond"),  # value checks, merged
        ("nmsh:finding-condition", "nmf:fixture-0002", "nme:almond"),
    } <= found, merged.render()
    quotes = [v for v in merged.violations if v.rule == "nmsh:claim-quote" and v.focus == "nmf:fixture-0001"]
    assert len([v for v in quotes if "ab" in v.value]) == 2  # @zh and four characters: two checks, one branch
    focused = validate_store(
        OxigraphStore.from_graph(source.graph),
        shapes,
        source.file_of,
        mini.root,
        focus={_expand(source.graph, "nmf:fixture-0001"), _expand(source.graph, "nmf:fixture-0002")},
    )
    assert focused.violations == merged.violations  # check by check, as a rebuild runs them


def test_real_data_gives_the_same_violations(repo: ProjectPaths, shapes: Graph) -> None:
    source = load_project(repo)
    reference, compiled = _both(source, shapes, repo.root)
    assert compiled == reference


def test_focus_restriction_returns_the_subset_for_those_nodes(
    baseline: SourceGraph, shapes: Graph, mini: ProjectPaths
) -> None:
    source = _case_graph(
        baseline,
        [("nmf:fixture-0001", "nm:quote"), ("nme:almond", "obo:IAO_0000115")],
        'nmf:fixture-0002 nm:sample_size "ten" . nme:cingulate obo:BFO_0000050 nme:dorsal-cingulate .',
    )
    store = OxigraphStore.from_graph(source.graph)
    full = validate_store(store, shapes, source.file_of, mini.root)
    foci = {v.focus for v in full.violations}
    assert {"nmf:fixture-0001", "nme:almond", "nmf:fixture-0002", "nme:cingulate"} <= foci
    chosen = {_expand(source.graph, "nmf:fixture-0001"), _expand(source.graph, "nme:cingulate")}
    part = validate_store(store, shapes, source.file_of, mini.root, focus=chosen)
    expected = [v for v in full.violations if v.focus in {"nmf:fixture-0001", "nme:cingulate"}]
    assert part.violations == expected
    assert {v.rule for v in expected} >= {"nmsh:claim-quote", "nmsh:region-part-of-acyclic"}
    assert validate_store(store, shapes, source.file_of, focus=set()).violations == []


def test_unsupported_component_is_refused_naming_shape_and_component(shapes: Graph) -> None:
    extended = copy.deepcopy(shapes)
    extended.add((NMSH["claim-review"], SH.uniqueLang, Literal(True)))
    with pytest.raises(UnsupportedShapeError, match=r"claim-review: constraint component sh:uniqueLang"):
        compile_shapes(extended)


def test_default_messages_match_pyshacl_when_shapes_give_none(baseline: SourceGraph, shapes: Graph) -> None:
    bare = copy.deepcopy(shapes)
    for subject in set(bare.subjects(SH.message, None)):
        if subject != NMSH["region-part-of-acyclic"]:
            bare.remove((subject, SH.message, None))
    source = _case_graph(
        baseline,
        [("nmf:fixture-0001", "nm:quote"), ("nmf:fixture-0001", "nm:has_measure"), ("nme:almond", "rdfs:label")],
        'nmf:fixture-0001 nm:has_measure nm:increased ; nm:cites_study nme:almond ; nm:sample_size "ten" ;'
        ' nm:has_comparison_group nme:almond ; nm:section "two" . nme:almond rdfs:label "almond" .',
    )
    reference, compiled = _both(source, bare)
    assert compiled == reference
    messages = {v.message for v in compiled.violations}
    assert any(m.startswith("Less than 1 values on nmf:fixture-0001->nm:quote") for m in messages), messages
    assert any(m.startswith("Value nm:increased not in list") for m in messages), messages
    assert NM.quote  # the namespace used above


def test_the_predicates_read_by_the_checks_are_named_in_their_text(shapes: Graph) -> None:
    """What a rebuild sets aside while validating rests on this: see CompiledShapes.predicates_read."""
    compiled = compile_shapes(shapes)
    always = {str(RDF.type), str(RDFS.subClassOf)}
    for check in compiled.checks:
        read = predicates_read(parseable(check.query))
        assert ANY_PREDICATE not in read, check.shape
        if not check.sparql:
            assert read <= set(_IRI_IN_TEXT.findall(check.query)) | always, check.shape
    found = compiled.predicates_read
    assert found is not None
    assert {str(NM.has_condition), str(OBO.BFO_0000050), str(RDF.type)} <= found
    # derived by the rules and read by no shape: a rebuild leaves these inferred triples in place
    assert not {str(NM.counts_for), str(NM.investigates), str(NM.falls_under)} & found


def test_a_sparql_constraint_with_a_variable_predicate_can_read_any_predicate(shapes: Graph) -> None:
    extended = copy.deepcopy(shapes)
    constraint = NMSH["any-predicate"]
    extended.add((NMSH.StepOrderShape, SH.sparql, constraint))
    extended.add((constraint, SH.select, Literal("SELECT $this WHERE { $this ?p $this }")))
    assert compile_shapes(extended).predicates_read is None
