"""The SSSOM mapping set: valid for sssom-py, loaded as SKOS triples, migrated from Turtle idempotently."""

from __future__ import annotations

import random
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from rdflib import URIRef

from neuromech.build import KnowledgeGraph
from neuromech.errors import SourceSyntaxError
from neuromech.loading import parse_turtle
from neuromech.mapping_impact import ImpactIndex, falls_under, finding_slots, impact_tsv, mapping_impact
from neuromech.mapping_set import PREDICATE_IRIS, MappingRow, MappingSet, parse_sssom, read_mapping_set, render_sssom
from neuromech.mappings import import_skos
from neuromech.namespaces import NME, NMF, OBO, SKOS
from neuromech.namespaces import compress as curie
from neuromech.paths import ProjectPaths

from .conftest import ROOT

MAPPINGS = ROOT / "data" / "mappings" / "neuromech.sssom.tsv"


def _sssom_py_problems(path: Path) -> list[str]:
    from sssom.constants import SchemaValidationType
    from sssom.parsers import parse_sssom_table
    from sssom.validators import validate

    msdf = parse_sssom_table(path)
    kinds = [
        SchemaValidationType.JsonSchema,
        SchemaValidationType.PrefixMapCompleteness,
        SchemaValidationType.StrictCurieFormat,
    ]
    reports = validate(msdf, kinds, fail_on_error=False)
    return [f"{kind.value}: {result}" for kind, report in reports.items() for result in report.results]


def test_mapping_set_is_valid_for_sssom_py() -> None:
    assert _sssom_py_problems(MAPPINGS) == []


def test_sssom_py_rejects_a_row_with_an_undeclared_prefix(tmp_path: Path) -> None:
    text = MAPPINGS.read_text(encoding="utf-8").rstrip("\n").splitlines()
    text.append("nme:amygdala\tamygdala\tskos:exactMatch\t\tFMA:61841\tAmygdala\tsemapv:ManualMappingCuration\t0.9\t")
    bad = tmp_path / "bad.sssom.tsv"
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    problems = _sssom_py_problems(bad)
    assert any("FMA" in p for p in problems), problems


def test_mapping_set_is_canonical() -> None:
    mapping_set = read_mapping_set(MAPPINGS)
    assert MAPPINGS.read_text(encoding="utf-8") == render_sssom(mapping_set), "run `neuromech mappings fmt`"


def test_every_row_has_justification_and_confidence_and_negatives_exist() -> None:
    mapping_set = read_mapping_set(MAPPINGS)
    assert len(mapping_set.positive()) >= 80
    assert all(r.mapping_justification.startswith("semapv:") and 0 < float(r.confidence) <= 1 for r in mapping_set.rows)
    negatives = {(r.subject_id, r.object_id) for r in mapping_set.negative()}
    assert ("nme:hippocampus", "UBERON:0001954") in negatives  # not Ammon's horn
    assert ("nme:rostral-ventromedial-medulla", "UBERON:0005807") in negatives  # not the ventrolateral medulla


def test_entity_files_hold_no_skos_mappings() -> None:
    """The SSSOM set is the single source of truth; after a merge run `neuromech mappings import-skos`."""
    left = [
        f"{path.name}: {s} {p} {o}"
        for path in sorted((ROOT / "data" / "entities").glob("*.ttl"))
        for p in PREDICATE_IRIS.values()
        for s, o in parse_turtle(path).subject_objects(p)
    ]
    assert left == []


def test_positive_mappings_are_in_the_graph_and_negative_ones_are_not(real_kg: KnowledgeGraph) -> None:
    graph = real_kg.source.graph
    assert (NME.amygdala, SKOS.exactMatch, OBO.UBERON_0001876) in graph
    assert (NME["dorsal-anterior-cingulate-cortex"], SKOS.broadMatch, OBO.UBERON_0009835) in graph
    assert (NME.hippocampus, SKOS.closeMatch, OBO.UBERON_0002421) in graph
    assert (NME.hippocampus, SKOS.exactMatch, OBO.UBERON_0002421) not in graph
    assert (NME.hippocampus, None, OBO.UBERON_0001954) not in graph


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("nme:x\tx\tskos:sameAs\t\tUBERON:0001876\ta\tsemapv:ManualMappingCuration\t0.9\t", "predicate_id"),
        ("nme:x\tx\tskos:exactMatch\t\tUBERON:0001876\ta\tsemapv:Guess\t0.9\t", "mapping_justification"),
        ("nme:x\tx\tskos:exactMatch\t\tUBERON:0001876\ta\tsemapv:ManualMappingCuration\t1.5\t", r"outside \[0, 1\]"),
        (
            "nme:x\tx\tskos:exactMatch\tMaybe\tUBERON:0001876\ta\tsemapv:ManualMappingCuration\t0.9\t",
            "predicate_modifier",
        ),
        ("nme:x\tx\tskos:exactMatch\t\tXYZ:1\ta\tsemapv:ManualMappingCuration\t0.9\t", "unknown prefix"),
    ],
)
def test_malformed_rows_are_reported_with_file_and_line(row: str, message: str) -> None:
    header = "\t".join(
        [
            "subject_id",
            "subject_label",
            "predicate_id",
            "predicate_modifier",
            "object_id",
            "object_label",
            "mapping_justification",
            "confidence",
            "comment",
        ]
    )
    with pytest.raises(SourceSyntaxError, match=message) as info:
        parse_sssom(f"#curie_map: {{}}\n{header}\n{row}\n", Path("m.sssom.tsv"))
    assert "m.sssom.tsv:3:" in str(info.value)


def _copy_project(tmp_path: Path) -> ProjectPaths:
    for folder in ("ontology", "data"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    return ProjectPaths(tmp_path)


def test_import_skos_moves_new_triples_keeps_rows_and_is_idempotent(tmp_path: Path) -> None:
    paths = _copy_project(tmp_path)
    before = paths.mappings_file.read_text(encoding="utf-8")
    regions = paths.data_dir / "entities" / "regions.ttl"
    text = regions.read_text(encoding="utf-8")
    # a curator's branch adds two SKOS mappings, one of them with an explaining note
    text = text.replace(
        "nme:striatum\n",
        "nme:striatum\n    skos:closeMatch obo:UBERON_0005383 ;\n",
    ).replace(
        "nme:insula\n",
        "nme:insula\n    skos:exactMatch obo:UBERON_0002022 ;\n",
    )
    regions.write_text(text, encoding="utf-8")
    result = import_skos(paths)
    assert [(r.subject_id, r.predicate_id, r.object_id) for r in result.added] == [
        ("nme:striatum", "skos:closeMatch", "UBERON:0005383")
    ]
    assert result.already_present == 1  # the insula's exact match was already a row
    assert result.conflicts == []
    added = result.added[0]
    assert (added.mapping_justification, added.confidence, added.subject_label) == (
        "semapv:ManualMappingCuration",
        "0.8",
        "striatum",
    )
    after = paths.mappings_file.read_text(encoding="utf-8")
    assert set(before.splitlines()) <= set(after.splitlines())  # existing rows untouched
    graph = parse_turtle(regions)
    assert [pair for p in PREDICATE_IRIS.values() for pair in graph.subject_objects(p)] == []
    again = import_skos(paths)
    assert (again.added, again.files_changed) == ([], [])
    assert paths.mappings_file.read_text(encoding="utf-8") == after


def test_import_skos_leaves_a_contradicting_triple_in_place(tmp_path: Path) -> None:
    paths = _copy_project(tmp_path)
    regions = paths.data_dir / "entities" / "regions.ttl"
    regions.write_text(
        regions.read_text(encoding="utf-8").replace(
            "nme:hippocampus\n", "nme:hippocampus\n    skos:exactMatch obo:UBERON_0001954 ;\n"
        ),
        encoding="utf-8",
    )
    result = import_skos(paths)
    assert len(result.conflicts) == 1
    assert "nme:hippocampus skos:exactMatch UBERON:0001954" in result.conflicts[0]
    assert "Not skos:exactMatch" in result.conflicts[0]
    assert (URIRef(NME.hippocampus), SKOS.exactMatch, OBO.UBERON_0001954) in parse_turtle(regions)


def test_mapping_impact_lists_the_findings_that_depend_on_a_mapping(real_kg: KnowledgeGraph) -> None:
    impacts = {
        (i.row.subject_id, i.row.object_id): i for i in mapping_impact(real_kg.store, read_mapping_set(MAPPINGS))
    }
    amygdala = impacts[("nme:amygdala", "UBERON:0001876")]
    assert "nmf:nssi-0007" in amygdala.direct
    acc = impacts[("nme:anterior-cingulate-cortex", "UBERON:0009835")]
    # findings on the dACC and sgACC depend on the ACC's mapping through the hierarchy
    assert acc.inherited
    assert not set(acc.inherited) & set(acc.direct)


def _filed_index(real_kg: KnowledgeGraph) -> tuple[MappingSet, dict[str, set[str]], dict[str, list[str]], ImpactIndex]:
    """The real mapping set, hierarchy and finding slots, and an impact index with every finding filed."""
    mapping_set = read_mapping_set(MAPPINGS)
    above = falls_under(real_kg.store)
    slots = finding_slots(real_kg.store)
    index = ImpactIndex(mapping_set, above)
    index.file(slots)
    return mapping_set, above, slots, index


def test_impact_index_refiles_an_edited_finding_as_a_fresh_index_would(real_kg: KnowledgeGraph) -> None:
    mapping_set, above, slots, index = _filed_index(real_kg)
    before = {(i.row.subject_id, i.row.object_id): i for i in index.impacts()}
    finding = str(NMF["nssi-0007"])
    assert "nmf:nssi-0007" in before[("nme:amygdala", "UBERON:0001876")].direct
    # the curator moves the finding from the amygdala to the dorsal ACC, and deletes another
    dacc = str(NME["dorsal-anterior-cingulate-cortex"])
    edited = {**slots, finding: [e for e in slots[finding] if e != str(NME.amygdala)] + [dacc]}
    gone = str(NMF["nssi-0008"])
    del edited[gone]
    index.file({finding: edited[finding]})
    index.drop([gone])
    fresh = ImpactIndex(mapping_set, above)
    fresh.file(edited)
    after = index.impacts()
    assert after == fresh.impacts()
    by_pair = {(i.row.subject_id, i.row.object_id): i for i in after}
    assert "nmf:nssi-0007" not in by_pair[("nme:amygdala", "UBERON:0001876")].direct
    assert "nmf:nssi-0007" in by_pair[("nme:anterior-cingulate-cortex", "UBERON:0009835")].inherited
    assert all("nmf:nssi-0008" not in i.direct + i.inherited for i in after)


def test_impact_index_stays_equal_to_a_fresh_index_over_rounds_of_random_edits(real_kg: KnowledgeGraph) -> None:
    mapping_set, above, slots, index = _filed_index(real_kg)
    entities = sorted({e for filled in slots.values() for e in filled})
    index.impacts()
    rng = random.Random(11)
    for round_number in range(6):  # each round: findings moved, dropped, added, then compared
        findings = sorted(slots)
        moved = {f: [rng.choice(entities), *slots[f][1:]] for f in rng.sample(findings, 5)}
        dropped = rng.sample(sorted(set(findings) - set(moved)), 3)
        added = {str(NMF[f"added-{round_number}-{i}"]): [rng.choice(entities)] for i in range(2)}
        slots = {f: e for f, e in {**slots, **moved, **added}.items() if f not in dropped}
        index.file({**moved, **added})
        index.drop(dropped)
        fresh = ImpactIndex(mapping_set, above)
        fresh.file(slots)
        assert index.impacts() == fresh.impacts(), f"round {round_number}"


def test_impact_index_takes_an_edited_mapping_set_as_a_fresh_index_would(real_kg: KnowledgeGraph) -> None:
    mapping_set, above, slots, index = _filed_index(real_kg)
    original = index.tsv()
    # the curator removes the rows of the ACC and the dorsal ACC, maps an entity that had no
    # mapping, and corrects an object label of the amygdala's row
    dropped = {"nme:anterior-cingulate-cortex", "nme:dorsal-anterior-cingulate-cortex"}
    assert {row.subject_id for row in mapping_set.rows} >= dropped
    unmapped = sorted(e for filled in slots.values() for e in filled if curie(e) not in index.mapped)[0]
    new_row = MappingRow(
        curie(unmapped), "x", "skos:closeMatch", "", "UBERON:0000955", "brain", "semapv:ManualMappingCuration", "0.5"
    )
    relabelled = [
        replace(row, object_label="amygdaloid complex")
        if (row.subject_id, row.object_id) == ("nme:amygdala", "UBERON:0001876")
        else row
        for row in mapping_set.rows
        if row.subject_id not in dropped
    ]
    edited = MappingSet(mapping_set.metadata, [*relabelled, new_row])
    index.update_rows(edited, slots)
    fresh = ImpactIndex(edited, above)
    fresh.file(slots)
    assert index.impacts() == fresh.impacts()
    assert index.tsv() == fresh.tsv() == impact_tsv(fresh.impacts())
    by_subject = {i.row.subject_id: i for i in index.impacts()}
    assert not dropped & by_subject.keys()
    assert {curie(f) for f, filled in slots.items() if unmapped in filled} == set(by_subject[curie(unmapped)].direct)
    assert "\tamygdaloid complex\t" in index.tsv()
    # and back: the index equals the one it started as
    index.update_rows(mapping_set, slots)
    assert index.tsv() == original
    assert index.impacts() == mapping_impact(real_kg.store, mapping_set)


def test_impact_index_takes_a_moved_part_of_edge_as_a_fresh_index_would(real_kg: KnowledgeGraph) -> None:
    mapping_set = read_mapping_set(MAPPINGS)
    above = falls_under(real_kg.store)
    slots = finding_slots(real_kg.store)
    index = ImpactIndex(mapping_set, {k: set(v) for k, v in above.items()})
    index.file(slots)
    assert index.tsv() == impact_tsv(index.impacts())
    # the curator moves the dorsal ACC from the ACC to the amygdala, and the basolateral
    # amygdala out of every hierarchy
    dacc, acc, bla = (
        str(NME[n]) for n in ("dorsal-anterior-cingulate-cortex", "anterior-cingulate-cortex", "basolateral-amygdala")
    )
    assert acc in above[dacc]
    assert above[bla]
    moved = {dacc: (above[dacc] - {acc}) | {str(NME.amygdala)}, bla: set()}
    index.update_hierarchy(moved, slots)
    fresh = ImpactIndex(mapping_set, {**{k: set(v) for k, v in above.items() if k != bla}, dacc: moved[dacc]})
    fresh.file(slots)
    assert index.impacts() == fresh.impacts()
    assert index.tsv() == fresh.tsv() == impact_tsv(fresh.impacts())
    before = {(i.row.subject_id, i.row.object_id): i for i in mapping_impact(real_kg.store, mapping_set)}
    after = {(i.row.subject_id, i.row.object_id): i for i in index.impacts()}
    amygdala, acc_pair = ("nme:amygdala", "UBERON:0001876"), ("nme:anterior-cingulate-cortex", "UBERON:0009835")
    dacc_findings = {curie(f) for f, filled in slots.items() if dacc in filled and bla not in filled}
    assert dacc_findings
    assert dacc_findings <= set(after[amygdala].inherited) | set(after[amygdala].direct)
    assert dacc_findings & set(before[acc_pair].inherited)
    assert not dacc_findings & set(after[acc_pair].inherited)
    # the rebuild reads the moved entities' ancestors alone
    assert falls_under(real_kg.store, [dacc, bla]) == {dacc: above[dacc], bla: above[bla]}
