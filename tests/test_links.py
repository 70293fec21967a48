"""Link check, import modules and hierarchy-aware reasoning, on the real data and external files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from rdflib import Graph

from neuromech.build import KnowledgeGraph
from neuromech.external import ExternalIndex, load_external, parse_release_diff
from neuromech.imports import module_iris, refresh
from neuromech.linkcheck import link_check
from neuromech.loading import load_project
from neuromech.mapping_set import MappingSet, new_row, read_mapping_set
from neuromech.namespaces import NM, NME, OBO
from neuromech.paths import ProjectPaths

from .conftest import EXTERNAL

needs_external = pytest.mark.skipif(not EXTERNAL.is_dir(), reason="../shared/external is not beside this checkout")


@pytest.fixture(scope="module")
def external() -> ExternalIndex:
    return load_external(EXTERNAL)


@pytest.fixture(scope="module")
def project_graph(repo: ProjectPaths) -> Graph:
    return load_project(repo).graph


@needs_external
def test_link_check_passes_on_the_real_mappings(
    repo: ProjectPaths, external: ExternalIndex, project_graph: Graph
) -> None:
    report = link_check(read_mapping_set(repo.mappings_file), project_graph, external)
    assert [p.render() for p in report.errors] == []
    assert report.checked >= 90
    lines = report.render().splitlines()
    # UBERON:4450000 is handled honestly: known only from the 2025-05-28 release diff, a warning
    assert any(
        line.startswith(
            "warning: nme:medial-prefrontal-cortex skos:exactMatch UBERON:4450000: not in nervous-minimal.obo"
        )
        for line in lines
    )
    assert any(line.startswith("checked against uberon: ") and "2022-02-21" in line for line in lines)


@needs_external
def test_link_check_reports_each_kind_of_error(external: ExternalIndex, project_graph: Graph) -> None:
    obsolete = next(t for t in external.terms.values() if t.curie.startswith("CHEBI:") and t.obsolete and t.replaced_by)
    rows = [
        new_row("nme:amygdala", "amygdala", "skos:exactMatch", "UBERON:9999999", "nothing"),
        new_row("nme:amygdala", "amygdala", "skos:closeMatch", "CHEBI:17650", "cortisol"),
        new_row("nme:cortisol", "cortisol", "skos:relatedMatch", obsolete.curie, obsolete.label),
        new_row("nme:hippocampus", "hippocampus", "skos:closeMatch", "UBERON:0002421", "hippocampal formation"),
        new_row(
            "nme:hippocampus",
            "hippocampus",
            "skos:closeMatch",
            "UBERON:0002421",
            "hippocampal formation",
            negative=True,
        ),
        new_row("nme:no-such-entity", "nothing", "skos:exactMatch", "UBERON:0001876", "amygdala"),
        new_row("nme:insula", "insula", "skos:exactMatch", "UBERON:0001876", "amygdala"),
    ]
    report = link_check(MappingSet(rows=rows), project_graph, external)
    errors = [p.render() for p in report.errors]
    assert "error: nme:amygdala skos:exactMatch UBERON:9999999: not found in" in errors[0]
    expected = {
        "nme:amygdala skos:closeMatch CHEBI:17650: prefix CHEBI does not suit",
        f"nme:cortisol skos:relatedMatch {obsolete.curie}: obsolete in chebi ({obsolete.label!r}); "
        f"replaced by {obsolete.replaced_by[0]}",
        "nme:hippocampus NOT skos:closeMatch UBERON:0002421: a negative mapping is also asserted positively",
        "nme:no-such-entity skos:exactMatch UBERON:0001876: subject is not an entity of the graph",
    }
    for fragment in expected:
        assert any(fragment in line for line in errors), (fragment, errors)
    warnings = [p.render() for p in report.warnings]
    mismatch = "nme:insula skos:exactMatch UBERON:0001876: exact match but no shared label or synonym"
    assert any(w.endswith(f"{mismatch}: ours 'insula', uberon 'amygdala'") for w in warnings), warnings


@needs_external
def test_link_check_cli_exits_non_zero_on_errors(
    repo: ProjectPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    from neuromech.cli import main

    assert main(["link-check", "--root", str(repo.root)]) == 0
    assert ", 0 errors," in capsys.readouterr().out.splitlines()[-1]
    for folder in ("ontology", "data"):
        shutil.copytree(repo.root / folder, tmp_path / folder)
    mappings = tmp_path / "data" / "mappings" / "neuromech.sssom.tsv"
    row = "nme:amygdala\tamygdala\tskos:closeMatch\t\tCHEBI:17650\tcortisol\tsemapv:ManualMappingCuration\t0.8\t\n"
    mappings.write_text(mappings.read_text(encoding="utf-8") + row, encoding="utf-8")
    assert main(["link-check", "--root", str(tmp_path), "--external", str(EXTERNAL)]) == 1
    out = capsys.readouterr().out
    assert "error: nme:amygdala skos:closeMatch CHEBI:17650: prefix CHEBI does not suit a" in out


@needs_external
def test_committed_import_modules_are_what_refresh_regenerates(repo: ProjectPaths) -> None:
    modules, changed = refresh(repo, check=True)
    assert [m.source for m in modules] == ["uberon", "chebi", "mondo", "doid", "hp", "hgnc", "cogat", "eco"]
    assert changed == [], "run `neuromech imports refresh` and commit ontology/imports/"
    for module in modules:
        assert module.text.startswith(f"# {module.source}-import.ttl: GENERATED by `neuromech imports refresh`")
        assert module.terms <= 1000
        assert len(Graph().parse(data=module.text, format="turtle")) < 5000


def test_import_modules_hold_the_mapped_terms_and_their_ancestry(repo: ProjectPaths) -> None:
    uberon = module_iris((repo.imports_dir / "uberon-import.ttl").read_text(encoding="utf-8"))
    # the amygdala, its whole (limbic system) and the roots of the anatomy
    assert {OBO.UBERON_0001876, OBO.UBERON_0000349, OBO.UBERON_0001062} <= uberon
    # UBERON:4450000 comes from the 2025-05-28 release diff, with part_of prefrontal cortex
    assert OBO.UBERON_4450000 in uberon
    chebi = module_iris((repo.imports_dir / "chebi-import.ttl").read_text(encoding="utf-8"))
    assert {OBO.CHEBI_17650, OBO.CHEBI_24261} <= chebi  # cortisol, glucocorticoid


@needs_external
def test_release_diff_reader_finds_only_added_classes() -> None:
    added = parse_release_diff((EXTERNAL / "uberon" / "uberon-diff_release-2025-05-28.md").read_text(encoding="utf-8"))
    mpfc = next(t for t in added if t.curie == "UBERON:4450000")
    assert (mpfc.label, mpfc.synonyms) == ("medial prefrontal cortex", [("EXACT", "mPFC")])
    assert sorted(mpfc.parents) == [("is_a", "UBERON:0002616"), ("part_of", "UBERON:0000451")]
    assert "UBERON:0007182" not in {t.curie for t in added}  # only changed, not added, in that release


# --- hierarchy-aware reasoning on the real data (ontology/rules/07-10) -------------------------


def _falls_under(kg: KnowledgeGraph) -> set[tuple[str, str]]:
    return {(str(s), str(o)) for s, o in kg.store.inferred_graph().subject_objects(NM.falls_under)}


@pytest.mark.parametrize(
    ("entity", "ancestor", "why"),
    [
        (NME["dorsal-anterior-cingulate-cortex"], NME["anterior-cingulate-cortex"], "our part_of edge"),
        (NME["dorsal-anterior-cingulate-cortex"], NME["cingulate-cortex"], "part_of, transitively"),
        (NME["dorsal-anterior-cingulate-cortex"], OBO.UBERON_0003027, "broadMatch ACC, UBERON ACC part_of cingulate"),
        (NME.amygdala, OBO.UBERON_0000349, "UBERON amygdala part_of limbic system"),
        (NME.cortisol, OBO.CHEBI_24261, "ChEBI cortisol is_a glucocorticoid"),
        (NME["binge-eating-disorder"], NME["eating-disorder"], "MONDO is_a, then the exact match of eating disorder"),
        (NME["depressive-disorder"], OBO.MONDO_0002025, "MONDO depressive disorder is_a ... psychiatric disorder"),
        (NME["supplementary-motor-area"], NME["frontal-lobe"], "only through UBERON (no part_of edge of ours)"),
        (NME["medial-prefrontal-cortex"], OBO.UBERON_0000451, "UBERON:4450000 part_of prefrontal cortex"),
    ],
)
def test_entities_fall_under_their_ancestors(
    real_kg: KnowledgeGraph, entity: object, ancestor: object, why: str
) -> None:
    assert why
    assert (str(entity), str(ancestor)) in _falls_under(real_kg)


def test_narrow_and_negative_mappings_do_not_roll_up(real_kg: KnowledgeGraph) -> None:
    pairs = _falls_under(real_kg)
    # cannabis use is narrowMatch HP:5200341 (the HP class is narrower): no roll-up through it
    assert (str(NME["cannabis-use"]), str(OBO.HP_5200341)) not in pairs
    # the hippocampus is denied exactMatch Ammon's horn: nothing about it in the graph
    assert (str(NME.hippocampus), str(OBO.UBERON_0001954)) not in pairs


def test_findings_on_a_part_count_for_the_whole(real_kg: KnowledgeGraph) -> None:
    """A condition implicates within every entity an implicated entity falls under."""
    within = {(str(s), str(o)) for s, o in real_kg.store.to_graph().subject_objects(NM.implicates_within)}
    assert (str(NME.nssi), str(NME["frontal-lobe"])) in within


def test_ptsd_counts_for_anxiety_disorders_through_subtype_of(repo: ProjectPaths, tmp_path: Path) -> None:
    """The subtype path works for conditions curated in other branches (PTSD is not in this data yet)."""
    from neuromech.build import open_graph

    data = tmp_path / "data"
    (data / "entities").mkdir(parents=True)
    (data / "entities" / "conditions.ttl").write_text(
        "@prefix nm: <https://w3id.org/neuromech/> . @prefix nme: <https://w3id.org/neuromech/entity/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        'nme:ptsd a nm:Disorder ; rdfs:label "PTSD"@en ; nm:subtype_of nme:anxiety-or-stress-disorder .\n'
        'nme:anxiety-or-stress-disorder a nm:Disorder ; rdfs:label "anxiety or stress-related disorder"@en .\n',
        encoding="utf-8",
    )
    kg = open_graph(replace(repo, data=data))
    assert (str(NME.ptsd), str(NME["anxiety-or-stress-disorder"])) in _falls_under(kg)


@needs_external
def test_link_check_verifies_allen_ids_and_their_class(external: ExternalIndex, project_graph: Graph) -> None:
    amygdala = external.get("HBA:4327")
    assert amygdala is not None
    assert amygdala.label == "amygdala"
    rows = [
        new_row("nme:amygdala", "amygdala", "skos:narrowMatch", "HBA:4327", "amygdala"),
        new_row("nme:amygdala", "amygdala", "skos:narrowMatch", "MBA:999999999", "nothing"),
        new_row("nme:nucleus-accumbens", "nucleus accumbens", "skos:narrowMatch", "MBA:56", "Nucleus acumbens"),
        new_row("nme:cortisol", "cortisol", "skos:narrowMatch", "HBA:4327", "amygdala"),
    ]
    report = link_check(MappingSet(rows=rows), project_graph, external)
    errors = [p.render() for p in report.errors]
    assert len(errors) == 2, errors
    assert errors[0].startswith("error: nme:amygdala skos:narrowMatch MBA:999999999: not found in ")
    assert "local-allen-mba.owl" in errors[0]
    assert errors[1].startswith("error: nme:cortisol skos:narrowMatch HBA:4327: prefix HBA does not suit a ")
    warnings = [p.render() for p in report.warnings]
    assert (
        "warning: nme:nucleus-accumbens skos:narrowMatch MBA:56: object_label 'Nucleus acumbens' differs from "
        "the mba label 'Nucleus accumbens'"
    ) in warnings
    assert any(
        line.startswith("checked against hba: ") and "local-allen-hba.owl" in line
        for line in report.render().splitlines()
    )
