"""Shared-mechanism reasoning: hierarchy, directions, explanations, similarity, conflicts, modules.

Fixture tests pin the semantics on a graph small enough to check by hand; real-data tests pin
the answers the reviews give (NSSI and addiction share opioid and dopamine systems; NSSI and
depression share HPA-axis and amygdala findings).
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from pathlib import Path

import pytest
from rdflib import URIRef

from neuromech.build import KnowledgeGraph, open_graph
from neuromech.conflicts import find_conflicts
from neuromech.errors import UsageError
from neuromech.evidence import EvidenceIndex
from neuromech.explain import explain
from neuromech.mechanisms import meeting_levels, shared_mechanisms
from neuromech.modules import exhibited_modules
from neuromech.namespaces import NME, compress
from neuromech.paths import ProjectPaths
from neuromech.similarity import similar_conditions, xswap

from .conftest import MINI_DATA, ROOT


@pytest.fixture(scope="module")
def mini_index(mini_kg: KnowledgeGraph) -> EvidenceIndex:
    return EvidenceIndex.load(mini_kg)


@pytest.fixture(scope="module")
def real_index(real_kg: KnowledgeGraph) -> EvidenceIndex:
    return EvidenceIndex.load(real_kg)


# --- the hierarchy --------------------------------------------------------------------


def test_counts_for_is_reflexive_and_follows_part_of(mini_index: EvidenceIndex) -> None:
    assert mini_index.counts_for(NME["dorsal-cingulate"]) == {NME["dorsal-cingulate"], NME.cingulate}
    assert mini_index.counts_for(NME.almond) == {NME.almond}


def test_meeting_levels_are_the_most_specific(real_index: EvidenceIndex) -> None:
    dacc, sgacc = NME["dorsal-anterior-cingulate-cortex"], NME["subgenual-cingulate-cortex"]
    acc = NME["anterior-cingulate-cortex"]
    # dACC and sgACC meet at the ACC, not at the cingulate cortex or a functional grouping above it
    assert {level for level, _, _ in meeting_levels(real_index, {dacc}, {sgacc})} == {acc}
    # an entity present on both sides meets itself, and nothing above it
    assert meeting_levels(real_index, {dacc}, {dacc}) == {(dacc, dacc, dacc)}
    # cortisol and ACTH meet at the HPA axis they are both members of
    assert meeting_levels(real_index, {NME.cortisol}, {NME.acth}) == {(NME["hpa-axis"], NME.cortisol, NME.acth)}


@pytest.mark.parametrize(("a", "b"), [("NSSI", "substance addiction"), ("NSSI", "depressive disorder")])
def test_python_and_sparql_meeting_levels_agree(real_kg: KnowledgeGraph, a: str, b: str) -> None:
    """`neuromech shared` and the stored query `shared-at-level` give the same pairs."""
    index = EvidenceIndex.load(real_kg)
    node_a = real_kg.resolver.resolve(a)
    node_b = real_kg.resolver.resolve(b)
    side = {}
    for key, node in (("a", node_a), ("b", node_b)):
        side[key] = {
            e for r in index.condition_evidence(node) if r.has_effect for e in r.entities() if index.is_mechanistic(e)
        }
    python = meeting_levels(index, side["a"], side["b"])
    sparql = {
        (URIRef(str(level)), URIRef(str(ea)), URIRef(str(eb)))
        for level, ea, eb in real_kg.query("shared-at-level", {"a": a, "b": b}).rows
    }
    assert python == sparql
    assert len(python) > 5


# --- shared -----------------------------------------------------------------------------


def test_shared_nssi_and_addiction_meet_at_opioid_and_dopamine_systems(real_kg: KnowledgeGraph) -> None:
    report = shared_mechanisms(real_kg, "NSSI", "substance addiction")
    levels = {s.level: s for s in report.shared}
    for system in ("nme:endogenous-opioid-system", "nme:dopaminergic-system"):
        assert levels[system].kind == "circuit/axis"
        assert levels[system].match == "via hierarchy"
        assert levels[system].findings_a
        assert levels[system].findings_b
    assert "beta-endorphin" in levels["nme:endogenous-opioid-system"].entities_a
    assert "DRD2 A1 allele" in levels["nme:dopaminergic-system"].entities_a
    # the review's own statement of shared dopamine-driven craving is borne out by the findings
    checks = {(s.statement_node, s.entity): s.check for s in report.stated}
    assert checks[("nmf:nssi-0319", "dopaminergic system")] == "agrees"


def test_shared_nssi_and_depression_hpa_axis_and_amygdala(real_kg: KnowledgeGraph) -> None:
    report = shared_mechanisms(real_kg, "NSSI", "depressive disorder")
    levels = {s.level: s for s in report.shared}
    assert {"nme:amygdala", "nme:hpa-axis", "nme:cortisol", "nme:anterior-cingulate-cortex"} <= set(levels)
    acc = levels["nme:anterior-cingulate-cortex"]
    assert acc.match == "via hierarchy"
    assert "dorsal anterior cingulate cortex" in acc.entities_a
    assert acc.entities_b == ["subgenual cingulate cortex (Cg25)"]
    kinds = [s.kind for s in report.shared]
    assert kinds == sorted(
        kinds, key=["region", "circuit/axis", "neuromodulator", "receptor", "gene/variant", "construct"].index
    )


def test_shared_flags_a_stated_comparison_the_findings_do_not_bear_out(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(MINI_DATA, data)
    (data / "claim.ttl").write_text(
        (MINI_DATA / "findings.ttl").read_text(encoding="utf-8").split("\n\n")[0]
        + """

nmf:fixture-0010 a nm:ComparisonStatement ;
    nm:from_review nmr:fixture ; nm:section "3.3" ;
    nm:compares_condition nme:self-injury , nme:low-mood ; nm:has_comparison_outcome nm:shared ;
    nm:has_measured_entity nme:stress-hormone ;
    nm:has_evidence_type obo:ECO_0000033 ;
    nm:quote "二者激素都升高"@zh ; nm:statement "Both show raised stress hormone."@en .
""",
        encoding="utf-8",
    )
    kg = open_graph(ProjectPaths(ROOT, data=data))
    report = shared_mechanisms(kg, "SI", "low mood")
    stated = {s.statement_node: s for s in report.stated}
    assert stated["nmf:fixture-0010"].check == "disagrees"
    assert "for A" in stated["nmf:fixture-0010"].note
    assert stated["nmf:fixture-0008"].check == "agrees"


def test_shared_rejects_unknown_conditions(mini_kg: KnowledgeGraph) -> None:
    with pytest.raises(UsageError, match="unknown condition"):
        shared_mechanisms(mini_kg, "SI", "no such thing")


# --- explain ----------------------------------------------------------------------------


def test_explain_names_findings_paths_and_rules(real_kg: KnowledgeGraph) -> None:
    result = explain(real_kg, "NSSI", "HPA axis")
    assert result.link == "implicates"
    by_id = {f.finding: f for f in result.findings}
    assert by_id["nmf:nssi-0030"].entity_path == "cortisol -member of-> hypothalamic-pituitary-adrenal axis"
    assert by_id["nmf:nssi-0030"].cited_study == "Rinnewitz et al., 2018"
    assert "皮质醇" in by_id["nmf:nssi-0030"].quote
    assert any("09-implicates-within" in axiom for axiom in result.axioms)


def test_explain_on_fixture(mini_kg: KnowledgeGraph) -> None:
    through = explain(mini_kg, "SI", "cingulate")
    assert through.link.startswith("implicates within")
    assert [(f.finding, f.role, f.entity_path) for f in through.findings] == [
        ("nmf:fixture-0002", "partner", "dorsal cingulate -part of-> cingulate")
    ]
    null = explain(mini_kg, "SI", "stress hormone")
    assert null.link.startswith("investigated only")
    assert [f.counted for f in null.findings] == [False]
    assert explain(mini_kg, "low mood", "dorsal cingulate").link.startswith("none")


# --- similar ----------------------------------------------------------------------------


def test_xswap_preserves_degrees_and_changes_edges() -> None:
    rng = random.Random(1)
    edges = [(URIRef(f"c{c}"), URIRef(f"e{e}")) for c in range(6) for e in range(8) if (c * 7 + e * 3) % 5 < 2]
    swapped = xswap(edges, 500, rng)
    assert Counter(c for c, _ in swapped) == Counter(c for c, _ in edges)
    assert Counter(e for _, e in swapped) == Counter(e for _, e in edges)
    assert len(set(swapped)) == len(swapped)
    assert set(swapped) != set(edges)


def test_similar_is_reproducible_with_a_seed(real_kg: KnowledgeGraph, real_index: EvidenceIndex) -> None:
    one = similar_conditions(real_kg, "NSSI", permutations=60, seed=7, index=real_index)
    two = similar_conditions(real_kg, "NSSI", permutations=60, seed=7, index=real_index)
    assert one.to_dict() == two.to_dict()
    ranked = {r.condition: r for r in one.ranking}
    addiction = ranked["nme:substance-addiction"]
    assert addiction.score > 0
    assert 0 < addiction.p_value <= 1
    assert {"endogenous opioid system", "dopaminergic system"} & set(
        similar_conditions(real_kg, "NSSI", permutations=0, top=50, index=real_index)
        .ranking[[r.condition for r in one.ranking].index("nme:substance-addiction")]
        .top_shared
    )
    scores = [r.score for r in one.ranking]
    assert scores == sorted(scores, reverse=True)


def test_similar_weights_rare_entities_more(mini_kg: KnowledgeGraph, mini_index: EvidenceIndex) -> None:
    report = similar_conditions(mini_kg, "SI", permutations=10, seed=0, index=mini_index)
    assert [r.condition for r in report.ranking] == ["nme:low-mood"]
    # SI implicates almond, dorsal cingulate (and so cingulate); low mood almond, ventral
    # cingulate, cingulate and stress hormone: shared almond + cingulate, both in 2 of 2
    # conditions, so they weigh log(3/2) each against rarer unshared entities.
    assert 0 < report.ranking[0].score < 1


# --- conflicts --------------------------------------------------------------------------


def test_conflicts_on_real_data_include_context_explained_and_real_ones(real_kg: KnowledgeGraph) -> None:
    report = find_conflicts(real_kg, "NSSI")
    pairs = {(c.finding_1, c.finding_2): c for c in report.conflicts}
    # amygdala up for non-NSSI pictures in task fMRI (Hooley 2020) vs down after an incision in
    # resting-state fMRI (Reitz 2015): the methods differ, which explains it
    explained = pairs[("nmf:nssi-0005", "nmf:nssi-0038")]
    assert explained.verdict == "explained by context"
    assert any(d.slot == "method" for d in explained.differences)
    # NSSI rate higher in girls vs no sex difference: the review's own unresolved contradiction
    real = pairs[("nmf:nssi-0499", "nmf:nssi-0500")]
    assert (real.kind, real.verdict, real.same_review) == ("effect vs null", "real conflict", True)
    assert {c.verdict for c in report.conflicts} == {"explained by context", "real conflict"}


def test_conflicts_treat_an_intervention_as_context(mini_kg: KnowledgeGraph) -> None:
    report = find_conflicts(mini_kg)
    assert [(c.finding_1, c.finding_2, c.verdict) for c in report.conflicts] == [
        ("nmf:fixture-0005", "nmf:fixture-0007", "explained by context")
    ]
    assert report.conflicts[0].differences[0].slot == "intervention"


# --- modules ----------------------------------------------------------------------------


def test_modules_on_fixture(mini_kg: KnowledgeGraph) -> None:
    report = exhibited_modules(mini_kg)
    found = {(m.condition, m.module): m.findings for m in report.modules}
    assert found == {
        ("nme:low-mood", "nmm:module-almond-hyperreactivity"): ["nmf:fixture-0004"],
        ("nme:self-injury", "nmm:module-almond-hyperreactivity"): ["nmf:fixture-0001"],
        ("nme:self-injury", "nmm:module-almond-cingulate-coupling"): ["nmf:fixture-0002"],
    }


def test_modules_on_real_data_and_models_drawing_on_them(real_kg: KnowledgeGraph) -> None:
    report = exhibited_modules(real_kg, "NSSI")
    modules = {m.module: m for m in report.modules}
    assert modules["nmm:module-hpa-axis-hyperreactivity"].findings == ["nmf:nssi-0032", "nmf:nssi-0098"]
    assert "nmf:nssi-0043" in modules["nmm:module-endogenous-opioid-deficit"].findings
    assert "nmm:nssi-opioid-homeostasis-model" in modules["nmm:module-endogenous-opioid-deficit"].models
    assert compress(str(NME.nssi)) == report.modules[0].condition


# --- the examples across reviews ------------------------------------------------


def test_social_and_physical_pain_share_dacc_and_anterior_insula(real_kg: KnowledgeGraph) -> None:
    """Social pain (a construct: the states that evoke it) against acute physical pain."""
    report = shared_mechanisms(real_kg, "social pain", "physical pain")
    levels = {s.level: s for s in report.shared}
    for region in ("nme:dorsal-anterior-cingulate-cortex", "nme:anterior-insula"):
        assert levels[region].match == "same entity"
        assert levels[region].agreement == "same direction"
    conditions = {f.condition for f in levels["nme:dorsal-anterior-cingulate-cortex"].findings_a}
    assert {"social exclusion"} <= conditions
    stated = {(s.statement_node, s.entity): s.check for s in report.stated}
    assert stated[("nmf:social-pain-0705", "anterior insula")] == "agrees"


def test_depression_and_anxiety_share_the_oxytocin_system_and_rs53576(real_kg: KnowledgeGraph) -> None:
    report = shared_mechanisms(real_kg, "depressive disorder", "anxiety disorder")
    levels = {s.level: s for s in report.shared}
    assert levels["nme:variant-OXTR-rs53576"].kind == "gene/variant"
    assert levels["nme:oxytocin"].kind == "neuromodulator"
    assert levels["nme:hpa-axis"].match == "via hierarchy"
    # anxiety-disorder findings include those on its subtypes (PTSD, social anxiety disorder …)
    amygdala = levels["nme:amygdala"]
    assert "basolateral amygdala" in amygdala.entities_b
    stated = {(s.statement_node, s.entity): s.check for s in report.stated}
    assert stated[("nmf:oxytocin-depression-0702", "OXTR rs53576")] == "agrees"
    modules = {(m.condition, m.module) for m in exhibited_modules(real_kg).modules}
    for condition in ("nme:depressive-disorder", "nme:anxiety-disorder"):
        assert (condition, "nmm:module-oxytocin-system-alteration") in modules
