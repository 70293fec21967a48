"""The store-based build: incremental rebuilds agree with full builds; in-store rules agree with the generic loop."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph

from neuromech import entity_check as entity_check_module
from neuromech import export, findings_table, incremental
from neuromech import pipeline as pipeline_module
from neuromech import rules as rules_module
from neuromech.build import KnowledgeGraph, watch
from neuromech.entity_check import (
    EarlyClassification,
    EntityLayerCheck,
    entity_layer,
    layer_key,
    left_out_classes,
    updated_layer,
)
from neuromech.errors import InconsistentOntology, ReasonerUnavailable, SourceSyntaxError, ValidationFailed
from neuromech.loading import DigestCache, graph_iri, load_project, load_project_store, load_store
from neuromech.mapping_impact import ImpactIndex
from neuromech.namespaces import INFERRED_GRAPH
from neuromech.paths import ProjectPaths
from neuromech.pipeline import BuildResult, BuildSession, Delta, _annotations_only
from neuromech.queries import get_query
from neuromech.reasoning import (
    HermitProcess,
    MaterialisationReport,
    check_consistent_ntriples,
    materialise,
    materialise_in_store,
    unsatisfiable_classes_ntriples,
)
from neuromech.rules import load_rules, strata, triple_key
from neuromech.store import OxigraphStore, restrict

from .conftest import MINI_DATA, ROOT


def _no_blank(graph: Graph) -> set[tuple[object, object, object]]:
    return {t for t in graph if not any(isinstance(x, BNode) for x in t)}


class _Generic:
    """A Store that is not an OxigraphStore, so materialise() takes the generic CONSTRUCT loop."""

    def __init__(self, inner: OxigraphStore) -> None:
        self.inner = inner

    def construct(self, query: str, bindings: object = None) -> Graph:
        assert bindings is None
        return self.inner.construct(query)

    def add(self, graph: Graph, inferred: bool = False) -> None:
        self.inner.add(graph, inferred)


def test_in_store_rules_derive_what_the_generic_loop_derives(mini: ProjectPaths) -> None:
    rules = load_rules(mini.rules_dir)
    generic = OxigraphStore.from_graph(load_project(mini).graph)
    report_generic = materialise(_Generic(generic), rules)  # type: ignore[arg-type]
    source = load_project_store(mini)
    report = materialise_in_store(source.store, rules)
    assert report.added == report_generic.added
    assert report.added > 50
    assert report.per_rule == report_generic.per_rule
    assert _no_blank(source.store.inferred_graph()) == _no_blank(generic.inferred_graph())
    assert _no_blank(source.graph) == _no_blank(load_project(mini).graph)


def test_rules_know_what_they_read_and_derive(mini: ProjectPaths) -> None:
    rules = {rule.name: rule for rule in load_rules(mini.rules_dir)}
    implicates = rules["05-implicates"]
    assert implicates.head_predicates == {"https://w3id.org/neuromech/implicates"}
    assert rules["05-implicates-partner"].head_predicates == {
        "https://w3id.org/neuromech/implicates",
        "https://w3id.org/neuromech/implicates_partner",
    }
    assert "https://w3id.org/neuromech/has_condition" in implicates.body_predicates
    assert rules["02-part-of-closure"].head_subjects == ("part",)


def test_rules_rerun_only_for_types_of_the_classes_they_read(mini: ProjectPaths) -> None:
    rules = {rule.name: rule for rule in load_rules(mini.rules_dir)}
    rdf_type, nm = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "https://w3id.org/neuromech/"
    claim_typed = ox.Triple(ox.NamedNode(nm + "finding/x"), ox.NamedNode(rdf_type), ox.NamedNode(nm + "Claim"))
    finding_typed = ox.Triple(claim_typed.subject, claim_typed.predicate, ox.NamedNode(nm + "Finding"))
    assert triple_key(claim_typed) == f"{rdf_type} {nm}Claim"
    investigates = rules["04-investigates"]  # reads ?f a nm:Finding
    assert f"{rdf_type} {nm}Finding" in investigates.body_keys
    assert not investigates.reads_any({triple_key(claim_typed)})
    assert investigates.reads_any({triple_key(finding_typed)})
    assert investigates.reads_any({nm + "has_condition"})
    hierarchy = rules["01-class-hierarchy"]  # reads ?x a ?class: any new type
    assert hierarchy.reads_any({triple_key(claim_typed)})
    assert not hierarchy.reads_any({nm + "has_condition"})


def test_rules_run_in_strata_after_every_rule_that_feeds_them(mini: ProjectPaths) -> None:
    rules = load_rules(mini.rules_dir)
    order = [[rule.name for rule in stratum] for stratum in strata(rules)]
    position = {name: i for i, stratum in enumerate(order) for name in stratum}
    assert sorted(name for stratum in order for name in stratum) == sorted(rule.name for rule in rules)
    # the class hierarchy and the non-null findings feed each other (types both ways)
    assert position["01-class-hierarchy"] == position["03-non-null-findings"]
    # the mechanism modules read the counts_for closure, which reads falls_under
    assert position["13-falls-under-closure"] < position["07-counts-for"] < position["08-mechanism-modules"]
    assert position["08-mechanism-modules"] < position["10-models-draw-on-modules"]


def test_maintenance_joins_strata_that_derive_alike_and_nothing_later_derives_a_groups_keys(mini: ProjectPaths) -> None:
    rules = load_rules(mini.rules_dir)
    groups = incremental.maintenance_groups(rules)
    assert [rule.name for group in groups for rule in group] == [
        rule.name for stratum in strata(rules) for rule in stratum
    ]
    position = {rule.name: i for i, group in enumerate(groups) for rule in group}
    # nm:counts_for comes from the hierarchies and from its closure: two strata, one group
    assert position["07-counts-for"] == position["07-counts-for-closure"]
    # the modules read the finished counts_for: a group of their own, after it
    assert position["07-counts-for-closure"] < position["08-mechanism-modules"]
    for i, group in enumerate(groups):
        derived = {key for rule in group for key in rule.head_keys}
        later = {key for other in groups[i + 1 :] for rule in other for key in rule.head_keys}
        assert not any(rules_module.overlaps(a, b) for a in derived for b in later), [r.name for r in group]


def test_validation_focus_takes_asserted_neighbours_not_inferred_ones(mini: ProjectPaths) -> None:
    session = BuildSession(mini, check_reasoner=False)
    session.build(progress=False)
    source = session.source
    assert source is not None
    native = source.store.native
    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    cingulate = "https://w3id.org/neuromech/entity/cingulate"
    node = ox.NamedNode(cingulate)
    asserted = {q.subject.value for q in native.quads_for_pattern(None, None, node, None) if q.graph_name != inferred}
    only_inferred = {q.subject.value for q in native.quads_for_pattern(None, None, node, inferred)} - asserted
    only_inferred.discard(cingulate)  # it counts for itself
    assert "https://w3id.org/neuromech/entity/dorsal-cingulate" in asserted  # part of it, as written
    assert only_inferred  # conditions implicating it, what counts for it
    focus = {str(n) for n in pipeline_module._neighbourhood(source, {cingulate})}
    assert asserted <= focus
    assert not only_inferred & focus


@pytest.fixture
def project_copy(mini: ProjectPaths, tmp_path: Path) -> ProjectPaths:
    data = tmp_path / "data"
    shutil.copytree(mini.data_dir, data)
    return ProjectPaths(mini.root, data=data, dist=tmp_path / "dist")


def _findings_tsv(paths: ProjectPaths) -> str:
    return (paths.dist_dir / "findings.tsv").read_text(encoding="utf-8")


def _drop_finding(text: str, finding: str) -> str:
    start = text.index(f"{finding} a nm:Finding")
    end = text.index(" .\n", start) + 3
    return text[:start] + text[end:]


def _add_finding(text: str) -> str:
    start = text.index("nmf:fixture-0005 a nm:Finding")
    block = text[start : text.index(" .\n", start) + 3]
    copy = block.replace("fixture-0005", "fixture-0099").replace("nme:low-mood", "nme:self-injury")
    return text + "\n" + copy


# each edit, and how the rebuild brings the inferred graph up to date: delete and re-derive
# (neuromech.incremental); a partner entity is read under two FILTER NOT EXISTS in the
# mechanism-module rule, monotonically, restricted by the finding
# (test_rebuild_falling_back_to_rederiving_around_the_edit_equals_a_full_build covers the
# fallback, re-deriving everything about the nodes around the edited claims)
EDITS = {
    "direction flipped (claims only)": (
        lambda t: t.replace("nm:has_direction nm:increased", "nm:has_direction nm:decreased", 1),
        "delete and re-derive",
    ),
    "finding deleted (claims only)": (lambda t: _drop_finding(t, "nmf:fixture-0002"), "delete and re-derive"),
    "partner entity changed (claims only)": (
        lambda t: t.replace(
            "nm:has_partner_entity nme:dorsal-cingulate", "nm:has_partner_entity nme:ventral-cingulate", 1
        ),
        "delete and re-derive",
    ),
    "finding made null (claims only)": (
        lambda t: t.replace("nm:has_direction nm:increased", "nm:has_direction nm:no_difference", 1),
        "delete and re-derive",
    ),
    "null finding given an effect (claims only)": (
        lambda t: t.replace("nm:has_direction nm:no_difference", "nm:has_direction nm:increased", 1),
        "delete and re-derive",
    ),
    "measured entity changed (claims only)": (
        lambda t: t.replace(
            "nm:has_condition nme:low-mood ;\n    nm:has_measured_entity nme:almond",
            "nm:has_condition nme:low-mood ;\n    nm:has_measured_entity nme:ventral-cingulate",
            1,
        ),
        "delete and re-derive",
    ),
    "condition changed (claims only)": (
        lambda t: t.replace(
            "nm:has_condition nme:low-mood ;\n    nm:has_measured_entity nme:stress-hormone",
            "nm:has_condition nme:self-injury ;\n    nm:has_measured_entity nme:stress-hormone",
            1,
        ),
        "delete and re-derive",
    ),
    "finding added (claims only)": (_add_finding, "delete and re-derive"),
}


def _rebuild_and_compare(
    project_copy: ProjectPaths, tmp_path: Path, edit: str, file_name: str = "findings.ttl"
) -> BuildResult:
    """Build, edit a data file, rebuild; assert `dist/` equals a full build's; return the rebuild's result."""
    session = BuildSession(project_copy, check_reasoner=False)
    session.build(progress=False)
    edited = project_copy.data_dir / file_name
    change = {**EDITS, **ENTITY_EDITS, **MAPPING_EDITS}[edit][0]
    before = edited.read_text(encoding="utf-8")
    assert change(before) != before, "the edit no longer applies to the fixture"
    edited.write_text(change(before), encoding="utf-8")
    assert session.changed_files() == ([edited], [])
    result = session.rebuild(progress=False)
    fresh = ProjectPaths(project_copy.root, data=project_copy.data_dir, dist=tmp_path / "fresh")
    BuildSession(fresh, check_reasoner=False).build(progress=False)
    for name in ("findings.tsv", "mapping-impact.tsv"):
        assert (project_copy.dist_dir / name).read_bytes() == (fresh.dist_dir / name).read_bytes(), name
    summaries = [
        json.loads((p.dist_dir / "build-summary.json").read_text(encoding="utf-8")) for p in (project_copy, fresh)
    ]
    counts = ("triples_asserted", "triples_inferred", "by_class", "findings_by_review", "findings")
    assert [{k: s[k] for k in counts} for s in summaries[:1]] == [{k: summaries[1][k] for k in counts}]
    formats = {
        "neuromech.ttl": "turtle",
        "inferred.ttl": "turtle",
        "neuromech.owl": "xml",
        "neuromech.jsonld": "json-ld",
    }
    for name, syntax in formats.items():
        incremental = Graph().parse(project_copy.dist_dir / name, format=syntax)
        full = Graph().parse(fresh.dist_dir / name, format=syntax)
        assert _no_blank(incremental) == _no_blank(full), name
        assert len(incremental) == len(full), name  # the triples with blank nodes too
        assert len(incremental) > 50, name
    return result


# a row of the SSSOM mapping set (its triples are a graph of their own): the cingulate, whose
# parts findings measure, mapped to UBERON's cingulate cortex; rule 11 gives its parts what
# falls under it, and mapping-impact.tsv gains a row listing their findings
CINGULATE_ROW = (
    "nme:cingulate\tcingulate\tskos:exactMatch\t\tUBERON:0003027\tcingulate cortex\t"
    "semapv:ManualMappingCuration\t0.9\t\n"
)
MAPPING_EDITS = {
    "mapping row added": (lambda t: t + CINGULATE_ROW, "delete and re-derive"),
    "mapping row removed": (lambda t: t.replace(CINGULATE_ROW, ""), "delete and re-derive"),
}


@pytest.mark.slow
@pytest.mark.parametrize("edit", list(MAPPING_EDITS))
def test_rebuild_after_an_edit_to_the_mapping_set_equals_a_full_build(
    project_copy: ProjectPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    sssom = project_copy.mappings_file
    if edit == "mapping row removed":
        sssom.write_text(sssom.read_text(encoding="utf-8") + CINGULATE_ROW, encoding="utf-8")
    updates: list[int] = []  # the rebuild's impact index takes the edited rows in place
    original = ImpactIndex.update_rows
    monkeypatch.setattr(ImpactIndex, "update_rows", lambda index, *args: updates.append(1) or original(index, *args))
    result = _rebuild_and_compare(project_copy, tmp_path, edit, file_name="mappings/neuromech.sssom.tsv")
    assert updates == [1]
    assert MAPPING_EDITS[edit][1] in result.summary["materialisation"]["scope"]  # type: ignore[index]
    impact = (project_copy.dist_dir / "mapping-impact.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in impact.splitlines()[1:]]
    cingulate = [row for row in rows if row[0] == "nme:cingulate"]
    if edit == "mapping row added":
        assert cingulate
        assert int(cingulate[0][5]) > 0  # findings on its parts inherit the mapping
    else:
        assert not cingulate


@pytest.mark.slow
@pytest.mark.parametrize("edit", list(EDITS), ids=list(EDITS))
def test_rebuild_after_an_edit_equals_a_full_build(project_copy: ProjectPaths, tmp_path: Path, edit: str) -> None:
    result = _rebuild_and_compare(project_copy, tmp_path, edit)
    materialisation = result.summary["materialisation"]
    assert isinstance(materialisation, dict)
    assert EDITS[edit][1] in materialisation["scope"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "edit",
    ["finding deleted (claims only)", "partner entity changed (claims only)", "condition changed (claims only)"],
)
def test_rebuild_falling_back_to_rederiving_around_the_edit_equals_a_full_build(
    project_copy: ProjectPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    """When delete and re-derive gives up (a rule not monotonic in what changed), the fallback gives the same."""
    monkeypatch.setattr(incremental, "maintain", lambda *_args, **_kwargs: None)
    result = _rebuild_and_compare(project_copy, tmp_path, edit)
    assert "around the edited claims" in result.summary["materialisation"]["scope"]  # type: ignore[index]


@pytest.mark.slow
@pytest.mark.parametrize("edit", ["measured entity changed (claims only)", "condition changed (claims only)"])
def test_rebuild_binding_shared_terms_alone_equals_a_full_build(
    project_copy: ProjectPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: str
) -> None:
    """With every re-derivation bound by one shared term (as at scale, when many rows share it), nothing changes."""
    projected: list[int] = []
    original = rules_module._project_shared

    def spy(variables: list[object], rows: set[tuple[str, ...]]) -> object:
        kept, bound = original(variables, rows)  # type: ignore[arg-type]
        projected.append(len(variables) - len(kept))
        return kept, bound

    monkeypatch.setattr(rules_module, "ROWS_PER_SHARED_VALUE", 1)
    monkeypatch.setattr(rules_module, "_project_shared", spy)
    session = BuildSession(project_copy, check_reasoner=False)
    session.build(progress=False)
    findings = project_copy.data_dir / "findings.ttl"
    findings.write_text(EDITS[edit][0](findings.read_text(encoding="utf-8")), encoding="utf-8")
    result = session.rebuild(progress=False)
    assert "delete and re-derive" in result.summary["materialisation"]["scope"]  # type: ignore[index]
    assert any(projected), "no head-bound query was bound by a shared term alone"
    fresh = ProjectPaths(project_copy.root, data=project_copy.data_dir, dist=tmp_path / "fresh")
    BuildSession(fresh, check_reasoner=False).build(progress=False)
    rebuilt, full = (Graph().parse(p.dist_dir / "inferred.ttl") for p in (project_copy, fresh))
    assert len(full) > 50
    assert _no_blank(rebuilt) == _no_blank(full)


# edits to the entity layer, and how the rebuild brings the inferred graph up to date
ENTITY_EDITS = {
    # a label: no rule reads it; the rows of the findings on the almond change
    "region label changed": (
        lambda t: t.replace('rdfs:label "almond"@en', 'rdfs:label "almond body"@en', 1),
        "delete and re-derive: 0 over-deleted",
    ),
    "method label changed": (
        lambda t: t.replace('rdfs:label "scanner"@en', 'rdfs:label "MRI scanner"@en', 1),
        "delete and re-derive: 0 over-deleted",
    ),
    # a mapping: the condition's IDs in findings.tsv; the mapped-ancestry rule (11) reads it
    # through a one-step path, the matched-entity rule (14) in a sub-select
    "condition mapped": (
        lambda t: t.replace(
            'obo:IAO_0000115 "Fixture condition two."@en .',
            'obo:IAO_0000115 "Fixture condition two."@en ;\n    skos:exactMatch obo:HP_0000716 .',
            1,
        ),
        "delete and re-derive",
    ),
    "region mapping removed": (
        lambda t: t.replace(
            'amygdala."@en ;\n    skos:exactMatch obo:UBERON_0001876 .',
            'amygdala."@en .',
            1,
        ),
        "delete and re-derive",
    ),
    # the almond becomes a part of the dorsal cingulate: the part-of closure (a chain rule),
    # the falls_under and rolls_up_to paths, counts_for (under a UNION), the conditions'
    # implicates_within and the mechanism modules' partner test (under two negations) change
    # for nodes that are not claims
    "region made a part": (
        lambda t: t.replace(
            "nme:almond a nm:BrainRegion ;",
            "nme:almond a nm:BrainRegion ;\n    obo:BFO_0000050 nme:dorsal-cingulate ;",
            1,
        ),
        "delete and re-derive",
    ),
    "part-of removed": (
        lambda t: t.replace(
            'another part."@en ;\n    obo:BFO_0000050 nme:cingulate .',
            'another part."@en .',
            1,
        ),
        "delete and re-derive",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("edit", list(ENTITY_EDITS), ids=list(ENTITY_EDITS))
def test_rebuild_after_an_entity_edit_equals_a_full_build(
    project_copy: ProjectPaths, tmp_path: Path, edit: str
) -> None:
    result = _rebuild_and_compare(project_copy, tmp_path, edit, "entities.ttl")
    assert ENTITY_EDITS[edit][1] in result.summary["materialisation"]["scope"]  # type: ignore[index]


LAYER_EDITS = {
    **{name: change for name, (change, _) in ENTITY_EDITS.items()},
    "entity added": lambda t: t + '\nnme:new-region a nm:BrainRegion ; rdfs:label "new region"@en .\n',
}


@pytest.mark.parametrize("edit", list(LAYER_EDITS), ids=list(LAYER_EDITS))
def test_the_entity_layer_updated_by_an_edit_equals_the_layer_selected_again(
    project_copy: ProjectPaths, edit: str
) -> None:
    # the almond's English label is stated in the findings file too: changing it in the
    # entities ("region label changed") leaves the old one in the layer
    findings = project_copy.data_dir / "findings.ttl"
    findings.write_text(findings.read_text(encoding="utf-8") + '\nnme:almond rdfs:label "almond"@en .\n', "utf-8")
    source = load_project_store(project_copy)
    before, _ = entity_layer(source)
    entities = project_copy.data_dir / "entities.ttl"
    text = entities.read_text(encoding="utf-8")
    assert LAYER_EDITS[edit](text) != text, "the edit no longer applies to the fixture"
    entities.write_text(LAYER_EDITS[edit](text), encoding="utf-8")
    removed, added = source.replace_file(entities)
    updated = updated_layer(source, before, removed | added, left_out_classes(source))
    after, key = entity_layer(source)
    assert updated is not None
    assert set(updated.split(b"\n")) - {b""} == set(after.split(b"\n")) - {b""}
    assert layer_key(updated) == key
    if edit == "region label changed":
        assert b'"almond"@en' in updated
        assert b'"almond body"@en' in updated


@pytest.mark.parametrize(
    "turtle",
    [
        "nme:almond a nm:Finding .",  # the almond's triples would leave the layer
        "nme:almond a nm:Study .",  # ... as they would as a cited study's
        "nme:almond obo:BFO_0000050 [ a nm:BrainRegion ] .",  # blank node labels change with every parse
    ],
    ids=["typed as a claim", "typed as a study", "blank node"],
)
def test_the_entity_layer_is_selected_again_when_an_edit_moves_nodes_or_adds_blank_nodes(
    project_copy: ProjectPaths, turtle: str
) -> None:
    source = load_project_store(project_copy)
    before, _ = entity_layer(source)
    entities = project_copy.data_dir / "entities.ttl"
    entities.write_text(entities.read_text(encoding="utf-8") + "\n" + turtle + "\n", encoding="utf-8")
    removed, added = source.replace_file(entities)
    assert updated_layer(source, before, removed | added, left_out_classes(source)) is None


def test_the_entity_layer_leaves_out_claims_and_cited_studies(project_copy: ProjectPaths) -> None:
    source = load_project_store(project_copy)
    layer, key = entity_layer(source)
    nm, kind = "https://w3id.org/neuromech/", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    subjects = {line.split(b" ", 1)[0].decode() for line in layer.split(b"\n") if line}
    assert f"<{nm}review/fixture>" in subjects
    assert f"<{nm}entity/almond>" in subjects
    assert f"<{nm}study/fixture-alpha-2001>" not in subjects
    assert not any(f"{kind} <{nm}{c}>".encode() in layer for c in ("Finding", "Study", "ComparisonStatement"))
    # a study's citation changed: the layer, updated or selected again, stays the same
    findings = project_copy.data_dir / "findings.ttl"
    text = findings.read_text(encoding="utf-8")
    assert '"Alpha et al., 2001"' in text, "the fixture's study changed"
    findings.write_text(text.replace('"Alpha et al., 2001"', '"Alpha and Beta, 2001"'), encoding="utf-8")
    removed, added = source.replace_file(findings)
    assert removed
    assert added
    updated = updated_layer(source, layer, removed | added, left_out_classes(source))
    assert updated is not None
    assert set(updated.split(b"\n")) == set(layer.split(b"\n"))
    assert entity_layer(source)[1] == key


def test_a_rebuild_updates_the_entity_layer_instead_of_selecting_it(
    project_copy: ProjectPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = BuildSession(project_copy)
    session.build(progress=False)
    assert session.layer is not None
    entities = project_copy.data_dir / "entities.ttl"
    text = entities.read_text(encoding="utf-8")
    entities.write_text(ENTITY_EDITS["region made a part"][0](text), encoding="utf-8")

    def no_select(_: object) -> None:
        raise AssertionError("the rebuild selected the whole entity layer")

    monkeypatch.setattr(entity_check_module, "entity_layer", no_select)
    session.rebuild(progress=False)
    monkeypatch.undo()
    assert session.source is not None
    selected, _ = entity_layer(session.source)
    assert set(session.layer.split(b"\n")) - {b""} == set(selected.split(b"\n")) - {b""}
    assert b"dorsal-cingulate" in session.layer


def test_only_annotation_edits_leave_hermits_verdicts_standing(mini: ProjectPaths) -> None:
    source = load_project_store(mini)
    nme = "https://w3id.org/neuromech/entity/"

    def delta(predicate: str, value: ox.NamedNode | ox.Literal) -> Delta:
        return Delta(added={ox.Triple(ox.NamedNode(nme + "almond"), ox.NamedNode(predicate), value)})

    label = delta("http://www.w3.org/2000/01/rdf-schema#label", ox.Literal("almond body", language="en"))
    definition = delta("http://purl.obolibrary.org/obo/IAO_0000115", ox.Literal("A region.", language="en"))
    part_of = delta("http://purl.obolibrary.org/obo/BFO_0000050", ox.NamedNode(nme + "cingulate"))
    assert _annotations_only(source, label)
    assert _annotations_only(source, definition)  # declared an owl:AnnotationProperty by the ontology
    assert not _annotations_only(source, part_of)
    assert not _annotations_only(source, Delta())


@pytest.mark.slow
def test_rebuild_reports_a_violation_the_edit_introduced_then_recovers(project_copy: ProjectPaths) -> None:
    session = BuildSession(project_copy, check_reasoner=False)
    session.build(progress=False)
    findings = project_copy.data_dir / "findings.ttl"
    good = findings.read_text(encoding="utf-8")
    findings.write_text(
        good.replace("nm:has_direction nm:increased ;", "nm:has_direction nm:increased , nm:decreased ;", 1)
    )
    with pytest.raises(ValidationFailed, match=r"nmf:fixture-0001[\s\S]*nm:has_direction"):
        session.rebuild(progress=False)
    findings.write_text(good.replace("nm:has_direction nm:increased ;", "nm:has_direction nm:increased", 1))
    with pytest.raises(SourceSyntaxError, match=r"findings\.ttl:\d+: invalid Turtle"):
        session.rebuild(progress=False)
    findings.write_text(good)
    session.rebuild(progress=False)
    assert (project_copy.dist_dir / "findings.tsv").exists()


def test_entity_layer_leaves_out_the_claims_and_its_key_ignores_blank_node_labels(mini: ProjectPaths) -> None:
    layer, key = entity_layer(load_project_store(mini))
    _, key_again = entity_layer(load_project_store(mini))  # blank nodes get new labels on every parse
    assert key == key_again
    assert len(key) == 64
    graph = Graph().parse(data=layer, format="nt")
    subjects = {str(s) for s in graph.subjects()}
    assert "https://w3id.org/neuromech/entity/almond" in subjects
    assert not [s for s in subjects if s.startswith("https://w3id.org/neuromech/finding/")]


@pytest.mark.parametrize(
    "turtle",
    [
        "nmf:fixture-0001 nm:has_direction nm:decreased .",  # has_direction is functional
        "nmf:fixture-0001 nm:has_condition nme:almond .",  # a region used as a condition
    ],
)
def test_shapes_reject_the_claim_errors_hermit_no_longer_sees(project_copy: ProjectPaths, turtle: str) -> None:
    """Claims are kept out of HermiT (it sees the entity layer); the shapes must catch their errors."""
    findings = project_copy.data_dir / "findings.ttl"
    findings.write_text(findings.read_text(encoding="utf-8") + "\n" + turtle + "\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="nmf:fixture-0001"):
        BuildSession(project_copy, check_reasoner=False).build(progress=False)


@pytest.mark.slow
def test_hermit_checks_the_entity_layer(mini: ProjectPaths) -> None:
    layer, _ = entity_layer(load_project_store(mini))
    check_consistent_ntriples(layer)
    both = b"<https://w3id.org/neuromech/entity/almond> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
    both += b"<https://w3id.org/neuromech/Disorder> .\n"  # a brain region that is also a disorder
    with pytest.raises(InconsistentOntology, match="two disjoint classes"):
        check_consistent_ntriples(layer + both)


@pytest.mark.slow
def test_an_inconsistent_entity_layer_fails_the_build_and_publishes_nothing(project_copy: ProjectPaths) -> None:
    entities = project_copy.data_dir / "entities.ttl"
    nothing = "\n<https://w3id.org/neuromech/entity/void> a <http://www.w3.org/2002/07/owl#Nothing> .\n"
    entities.write_text(entities.read_text(encoding="utf-8") + nothing, encoding="utf-8")  # no shape targets it
    with pytest.raises(InconsistentOntology, match="two disjoint classes"):
        BuildSession(project_copy).build(progress=False)
    assert not (project_copy.dist_dir / "findings.tsv").exists()
    cache = project_copy.dist_dir / ".cache" / "hermit.json"
    assert not cache.exists() or "entity_layer_sha256" not in json.loads(cache.read_text(encoding="utf-8"))


def test_hermit_beside_a_full_build_runs_at_the_lowest_priority(mini: ProjectPaths) -> None:
    layer, _ = entity_layer(load_project_store(mini))
    niced, plain = HermitProcess(layer, "-k", niced=True), HermitProcess(layer, "-k")
    try:
        deadline = time.monotonic() + 10
        while os.getpriority(os.PRIO_PROCESS, niced.pid) != 19 and time.monotonic() < deadline:
            time.sleep(0.01)  # `nice` sets the priority, then runs the JVM in its place
        assert os.getpriority(os.PRIO_PROCESS, niced.pid) == 19
        assert os.getpriority(os.PRIO_PROCESS, plain.pid) == os.getpriority(os.PRIO_PROCESS, 0)
        assert niced.wait() == plain.wait()  # the same verdict
    finally:
        niced.close()
        plain.close()


def test_a_build_without_java_says_so_before_loading(
    project_copy: ProjectPaths, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import owlready2  # the module whose JAVA_EXE HermitProcess runs

    monkeypatch.setattr(owlready2, "JAVA_EXE", str(tmp_path / "no-java-here"))
    session = BuildSession(project_copy)
    with pytest.raises(ReasonerUnavailable, match=r"cannot start HermiT .*no-java-here.*--no-reasoner"):
        session.build(progress=False)
    assert session.source is None  # it failed before loading
    assert not (project_copy.dist_dir / "findings.tsv").exists()


def test_a_cancelled_entity_check_stops_hermit_and_records_no_verdict(mini: ProjectPaths, tmp_path: Path) -> None:
    check = EntityLayerCheck(load_project_store(mini), mini, tmp_path / "hermit.json")
    assert check.inputs_read.wait(timeout=60)
    check.cancel()  # HermiT's JVM is still starting: it is killed, and no verdict is kept
    assert not (tmp_path / "hermit.json").exists()


_UNSATISFIABLE = """
<https://w3id.org/neuromech/Impossible> a <http://www.w3.org/2002/07/owl#Class> ;
    <http://www.w3.org/2000/01/rdf-schema#subClassOf> <https://w3id.org/neuromech/BrainRegion> ,
        <https://w3id.org/neuromech/Disorder> .
"""


@pytest.mark.parametrize("changed_meanwhile", [False, True], ids=["taken-over", "ontology-edited-meanwhile"])
def test_the_classification_started_before_loading_gives_the_verdict_of_one_started_after(
    tmp_path: Path, changed_meanwhile: bool
) -> None:
    root = tmp_path / "project"
    for folder in ("ontology", "shapes", "queries"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copytree(MINI_DATA, root / "data")
    paths, cache = ProjectPaths(root), tmp_path / "hermit.json"
    if not changed_meanwhile:
        with paths.ontology.open("a", encoding="utf-8") as ontology:
            ontology.write(_UNSATISFIABLE)
    early = EarlyClassification.start(paths, cache)
    assert early is not None
    if changed_meanwhile:  # the files the early -U read are not the files loaded: it is not used
        with paths.ontology.open("a", encoding="utf-8") as ontology:
            ontology.write(_UNSATISFIABLE)
    check = EntityLayerCheck(load_project_store(paths), paths, cache, early=early)
    # edited meanwhile, the early -U read no unsatisfiable class: its verdict was not taken
    assert check.result() == ["https://w3id.org/neuromech/Impossible"]
    assert EarlyClassification.start(paths, cache) is None  # the verdict is cached for these files


def test_hermit_names_unsatisfiable_classes() -> None:
    rdf, rdfs, owl = (
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "http://www.w3.org/2000/01/rdf-schema#",
        "http://www.w3.org/2002/07/owl#",
    )
    lines = [f"<http://x/{c}> <{rdf}type> <{owl}Class> ." for c in "ABC"]
    lines += [f"<http://x/A> <{rdfs}subClassOf> <http://x/{c}> ." for c in "BC"]
    lines.append(f"<http://x/B> <{owl}disjointWith> <http://x/C> .")
    assert unsatisfiable_classes_ntriples("\n".join(lines).encode()) == ["http://x/A"]


@pytest.mark.parametrize("derived_note", [False, True], ids=["rules-read-apart", "a-rule-derives-a-read-slot"])
def test_findings_rows_queried_beside_the_rules_equal_the_rows_queried_after_them(
    tmp_path: Path, derived_note: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the build queries the findings table while the rules run; a rule deriving a predicate the
    # table reads (here nm:context_note) makes it query the table again after the rules
    queried = threading.Event()
    query_parts, materialise_ = findings_table.query_parts, pipeline_module.reasoning.materialise

    def query_first(*args: Any, **kwargs: Any) -> findings_table.Parts:
        try:
            return query_parts(*args, **kwargs)
        finally:
            queried.set()

    def rules_after(*args: Any, **kwargs: Any) -> MaterialisationReport:
        assert queried.wait(60)  # the table is queried before any rule runs
        return materialise_(*args, **kwargs)

    monkeypatch.setattr(findings_table, "query_parts", query_first)
    monkeypatch.setattr(pipeline_module.reasoning, "materialise", rules_after)
    root = tmp_path / "project"
    for folder in ("ontology", "shapes", "queries"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copytree(MINI_DATA, root / "data")
    if derived_note:
        (root / "ontology" / "rules" / "99-derived-note.rq").write_text(
            "PREFIX nm: <https://w3id.org/neuromech/>\n"
            'CONSTRUCT { ?f nm:context_note "derived note" } WHERE { ?f a nm:Finding }\n',
            encoding="utf-8",
        )
    session = BuildSession(ProjectPaths(root), check_reasoner=False)
    session.build(progress=False)
    assert session.source is not None
    after = export.render_findings_lines(findings_table.findings_cells(session.source.store))
    built = _findings_tsv(ProjectPaths(root))
    assert built == export.findings_tsv_header() + "".join(after[key] for key in sorted(after))
    notes = [line for line in built.splitlines()[1:] if "note: derived note" in line]
    assert len(notes) == (len(built.splitlines()) - 1 if derived_note else 0)
    assert notes or not derived_note


def test_restricted_findings_query_returns_the_subset_of_the_full_answer(real_kg: KnowledgeGraph) -> None:
    text = get_query(real_kg.catalogue, "findings").text
    full = real_kg.store.select(text)
    chosen = {str(row["finding"]) for row in full.dicts()[::97]}
    restricted = real_kg.store.select(restrict(text, "finding", chosen))
    assert text.count("VALUES ?finding") == 0
    assert restrict(text, "finding", chosen).count("VALUES ?finding") >= 4  # outer WHERE and sub-selects
    expected = [row for row in full.rows if str(row[0]) in chosen]
    assert sorted(map(str, restricted.rows)) == sorted(map(str, expected))
    assert len(expected) >= 8


@pytest.mark.slow
def test_watch_builds_then_rebuilds_after_an_edit(project_copy: ProjectPaths) -> None:
    findings = project_copy.data_dir / "findings.ttl"
    outcomes: list[BuildResult | Exception] = []

    def record(outcome: BuildResult | Exception) -> None:
        outcomes.append(outcome)
        if len(outcomes) == 1:  # edit once, after the first build
            text = findings.read_text(encoding="utf-8")
            findings.write_text(text.replace("nm:has_direction nm:increased", "nm:has_direction nm:decreased", 1))

    watch(project_copy, record, check_reasoner=False, interval=0.01, rounds=3)
    assert len(outcomes) == 2  # the third poll saw no change
    first, second = outcomes
    assert isinstance(first, BuildResult)
    assert isinstance(second, BuildResult)
    assert first.summary["materialisation"]["scope"] == "whole graph"  # type: ignore[index]
    assert second.summary["materialisation"]["scope"].startswith("delete and re-derive")  # type: ignore[index]


def test_without_inferred_sets_the_inferred_graph_aside_and_puts_it_back() -> None:
    store = OxigraphStore.from_graph(Graph().parse(data="<http://x/a> <http://x/p> <http://x/b> .", format="nt"))
    store.add(Graph().parse(data="<http://x/a> <http://x/q> <http://x/c> .", format="nt"), inferred=True)
    query = "SELECT ?p WHERE { <http://x/a> ?p ?o }"
    assert sorted(str(r[0]) for r in store.select(query).rows) == ["http://x/p", "http://x/q"]
    store.add(Graph().parse(data="<http://x/a> <http://x/r> <http://x/d> .", format="nt"), inferred=True)
    with store.without_inferred(["http://x/q", "http://x/unused"]) as asserted:
        assert sorted(str(r[0]) for r in asserted.select(query).rows) == ["http://x/p", "http://x/r"]
    assert sorted(str(r[0]) for r in store.select(query).rows) == ["http://x/p", "http://x/q", "http://x/r"]
    with store.without_inferred() as asserted:
        assert [str(r[0]) for r in asserted.select(query).rows] == ["http://x/p"]
    assert len(store.inferred_graph()) == 2
    with pytest.raises(RuntimeError), store.without_inferred():
        raise RuntimeError("a failing validation")
    assert sorted(str(r[0]) for r in store.select(query).rows) == ["http://x/p", "http://x/q", "http://x/r"]


def test_setting_predicates_aside_puts_back_the_same_quads_blank_nodes_included() -> None:
    store = OxigraphStore.from_graph(Graph().parse(data="<http://x/a> <http://x/p> <http://x/b> .", format="nt"))
    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    blank = ox.BlankNode()
    q, r = ox.NamedNode("http://x/q"), ox.NamedNode("http://x/r")
    a, e = ox.NamedNode("http://x/a"), ox.NamedNode("http://x/e")
    quads = {
        ox.Quad(a, q, e, inferred),
        ox.Quad(a, q, ox.Literal("text", language="en"), inferred),
        ox.Quad(a, q, blank, inferred),
        ox.Quad(blank, q, e, inferred),
        ox.Quad(a, r, e, inferred),
    }
    store.native.extend(quads)
    with store.without_inferred(["http://x/q"]):
        assert set(store.native.quads_for_pattern(None, None, None, inferred)) == {ox.Quad(a, r, e, inferred)}
    assert set(store.native.quads_for_pattern(None, None, None, inferred)) == quads
    with pytest.raises(RuntimeError), store.without_inferred(["http://x/q", "http://x/r"]):
        raise RuntimeError("a failing validation")
    assert set(store.native.quads_for_pattern(None, None, None, inferred)) == quads


def test_replacing_a_file_returns_what_the_edit_removed_and_added(tmp_path: Path) -> None:
    data = tmp_path / "a.ttl"
    data.write_text("<http://x/a> <http://x/p> <http://x/b> , <http://x/c> .\n", encoding="utf-8")
    source = load_store([data])
    x = {name: ox.NamedNode(f"http://x/{name}") for name in "abcdp"}
    data.write_text("<http://x/a> <http://x/p> <http://x/b> , <http://x/d> .\n", encoding="utf-8")
    removed, added = source.replace_file(data)
    assert removed == {ox.Triple(x["a"], x["p"], x["c"])}
    assert added == {ox.Triple(x["a"], x["p"], x["d"])}
    graph = graph_iri(data)
    held = {q.triple for q in source.store.native.quads_for_pattern(None, None, None, None)}
    assert held == {ox.Triple(x["a"], x["p"], x["b"]), ox.Triple(x["a"], x["p"], x["d"])}
    assert list(source.store.native.named_graphs()) == [graph]  # the staging graph is gone
    data.write_text("<http://x/a> <http://x/p> .\n", encoding="utf-8")
    with pytest.raises(SourceSyntaxError, match=r"a\.ttl:1"):
        source.replace_file(data)
    assert {q.triple for q in source.store.native.quads_for_pattern(None, None, None, None)} == held
    assert list(source.store.native.named_graphs()) == [graph]


def test_a_digest_is_read_again_when_the_file_changed_or_may_have(tmp_path: Path) -> None:
    data = tmp_path / "a.ttl"
    data.write_text("one\n", encoding="utf-8")
    digests = DigestCache()
    first = digests.digest(data)
    data.write_text("two\n", encoding="utf-8")  # same size, and within the racy window
    assert digests.digest(data) != first
    old = time.time_ns() - 10 * DigestCache.RACY_NS
    os.utime(data, ns=(old, old))
    second = digests.digest(data)
    with data.open("r+b") as handle:  # same size, same time: only a racy entry would notice
        handle.write(b"six\n")
    os.utime(data, ns=(old, old))
    assert digests.digest(data) == second  # trusted: written long before its digest was taken
    os.utime(data, ns=(old + 1, old + 1))
    assert digests.digest(data) != second


def test_the_entity_layer_hermit_reads_ignores_the_inferred_graph(mini: ProjectPaths) -> None:
    # a rebuild starts HermiT before it validates and maintains the inferred graph: what
    # HermiT reads must not depend on that graph's state while it reads
    source = load_project_store(mini)
    layer, key = entity_layer(source)
    native = source.store.native
    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    entity = next(
        q.subject
        for q in native.quads_for_pattern(None, None, None, graph_iri(mini.data_dir / "entities.ttl"))
        if isinstance(q.subject, ox.NamedNode)
    )
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    native.add(ox.Quad(entity, rdf_type, ox.NamedNode("https://w3id.org/neuromech/Finding"), inferred))
    native.add(ox.Quad(entity, ox.NamedNode("https://w3id.org/neuromech/counts_for"), entity, inferred))
    assert entity_layer(source) == (layer, key)
    assert f"<{entity.value}> ".encode() in layer
