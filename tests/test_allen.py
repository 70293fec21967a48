"""Allen atlas bridges: the reader, 'mappings derive-allen' on hand-made snippets and on the real data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Graph

from neuromech.allen import (
    ATLASES,
    AllenBridges,
    load_bridges,
    parse_atlas_equivalences,
    parse_atlas_terms,
    parse_bridge,
)
from neuromech.errors import SourceSyntaxError
from neuromech.mapping_set import MappingSet, new_row, read_mapping_set, render_sssom
from neuromech.mappings import derive_allen
from neuromech.paths import ProjectPaths

from .conftest import EXTERNAL, ROOT

needs_external = pytest.mark.skipif(not EXTERNAL.is_dir(), reason="../shared/external is not beside this checkout")

HBA = ATLASES["hba"]
MBA = ATLASES["mba"]

# A hand-made bridge in the shape of uberon-bridge-to-mba.owl: one species equivalence, one
# layer defined as part of another UBERON class (skipped), one malformed ID (skipped).
BRIDGE = """<?xml version="1.0"?>
<rdf:RDF xmlns:obo="http://purl.obolibrary.org/obo/" xmlns:owl="http://www.w3.org/2002/07/owl#"
     xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <owl:Class rdf:about="https://purl.brain-bican.org/ontology/mbao/MBA_31">
    <owl:equivalentClass><owl:Class><owl:intersectionOf rdf:parseType="Collection">
      <rdf:Description rdf:about="http://purl.obolibrary.org/obo/UBERON_0009835"/>
      <owl:Restriction>
        <owl:onProperty rdf:resource="http://purl.obolibrary.org/obo/BFO_0000050"/>
        <owl:someValuesFrom rdf:resource="http://purl.obolibrary.org/obo/NCBITaxon_10090"/>
      </owl:Restriction>
    </owl:intersectionOf></owl:Class></owl:equivalentClass>
    <obo:IAO_0000589>anterior cingulate area</obo:IAO_0000589>
  </owl:Class>
  <owl:Class rdf:about="https://purl.brain-bican.org/ontology/mbao/MBA_56">
    <owl:equivalentClass><owl:Class><owl:intersectionOf rdf:parseType="Collection">
      <rdf:Description rdf:about="http://purl.obolibrary.org/obo/UBERON_0001882"/>
      <owl:Restriction>
        <owl:onProperty rdf:resource="http://purl.obolibrary.org/obo/BFO_0000050"/>
        <owl:someValuesFrom rdf:resource="http://purl.obolibrary.org/obo/NCBITaxon_10090"/>
      </owl:Restriction>
    </owl:intersectionOf></owl:Class></owl:equivalentClass>
    <obo:IAO_0000589>nucleus accumbens (mouse)</obo:IAO_0000589>
  </owl:Class>
  <owl:Class rdf:about="https://purl.brain-bican.org/ontology/mbao/MBA_572">
    <owl:equivalentClass><owl:Class><owl:intersectionOf rdf:parseType="Collection">
      <rdf:Description rdf:about="http://purl.obolibrary.org/obo/UBERON_0005390"/>
      <owl:Restriction>
        <owl:onProperty rdf:resource="http://purl.obolibrary.org/obo/BFO_0000050"/>
        <owl:someValuesFrom rdf:resource="http://purl.obolibrary.org/obo/UBERON_0009835"/>
      </owl:Restriction>
    </owl:intersectionOf></owl:Class></owl:equivalentClass>
  </owl:Class>
  <owl:Class rdf:about="https://purl.brain-bican.org/ontology/mbao/MBA_ENTITY">
    <owl:equivalentClass><owl:Class><owl:intersectionOf rdf:parseType="Collection">
      <rdf:Description rdf:about="http://purl.obolibrary.org/obo/UBERON_0001062"/>
      <owl:Restriction>
        <owl:onProperty rdf:resource="http://purl.obolibrary.org/obo/BFO_0000050"/>
        <owl:someValuesFrom rdf:resource="http://purl.obolibrary.org/obo/NCBITaxon_10090"/>
      </owl:Restriction>
    </owl:intersectionOf></owl:Class></owl:equivalentClass>
  </owl:Class>
</rdf:RDF>
"""

# The same class in OWL functional syntax, as local-allen-mba.owl writes it.
LABELS = """Prefix(obo:=<http://purl.obolibrary.org/obo/>)
Prefix(rdfs:=<http://www.w3.org/2000/01/rdf-schema#>)
Prefix(oboInOwl:=<http://www.geneontology.org/formats/oboInOwl#>)
Ontology(<https://purl.brain-bican.org/ontology/mbao/mbao-base.owl>
Declaration(Class(<https://purl.brain-bican.org/ontology/mbao/MBA_31>))
Declaration(Class(<https://purl.brain-bican.org/ontology/mbao/MBA_315>))
Declaration(Class(<https://purl.brain-bican.org/ontology/mbao/MBA_ENTITY>))
Declaration(Class(obo:UBERON_0009835))
AnnotationAssertion(oboInOwl:hasExactSynonym <https://purl.brain-bican.org/ontology/mbao/MBA_31> "ACA")
AnnotationAssertion(rdfs:label <https://purl.brain-bican.org/ontology/mbao/MBA_31> "Anterior cingulate area")
AnnotationAssertion(rdfs:label <https://purl.brain-bican.org/ontology/mbao/MBA_315> "Isocortex \\"(mouse)\\"")
EquivalentClasses(<https://purl.brain-bican.org/ontology/mbao/MBA_31> ObjectIntersectionOf(obo:UBERON_0009835 \
ObjectSomeValuesFrom(obo:BFO_0000050 obo:NCBITaxon_10090)))
SubClassOf(<https://purl.brain-bican.org/ontology/mbao/MBA_31> ObjectSomeValuesFrom(obo:BFO_0000050 <https://purl.brain-bican.org/ontology/mbao/MBA_315>))
)
"""


def _snippet_bridges() -> AllenBridges:
    labels = {t.curie: t.label for t in parse_atlas_terms(LABELS, MBA)}
    found, skipped = parse_bridge(BRIDGE, MBA, labels)
    bridges = AllenBridges(skipped=skipped)
    for allen in found:
        bridges.add(allen)
    return bridges


def test_atlas_terms_are_read_from_functional_syntax() -> None:
    terms = {t.curie: t for t in parse_atlas_terms(LABELS, MBA)}
    assert sorted(terms) == ["MBA:31", "MBA:315"]  # MBA_ENTITY is not a numeric ID; UBERON is not an atlas class
    assert terms["MBA:31"].label == "Anterior cingulate area"
    assert terms["MBA:31"].synonyms == [("EXACT", "ACA")]
    assert terms["MBA:31"].parents == [("part_of", "MBA:315")]
    assert terms["MBA:315"].label == 'Isocortex "(mouse)"'
    assert parse_atlas_equivalences(LABELS, MBA) == {"MBA:31": ("UBERON:0009835", "BFO:0000050", "NCBITaxon:10090")}
    with pytest.raises(SourceSyntaxError, match="not an OWL functional syntax ontology"):
        parse_atlas_terms("<rdf:RDF/>", MBA)


def test_bridge_reader_keeps_species_equivalences_only() -> None:
    bridges = _snippet_bridges()
    (acc,) = bridges.for_uberon("UBERON:0009835")
    assert (acc.curie, acc.label, acc.relation, acc.taxon, acc.species) == (
        "MBA:31",
        "Anterior cingulate area",  # the rdfs:label of the local-allen file wins
        "BFO:0000050",
        "NCBITaxon:10090",
        "mouse",
    )
    assert acc.definition() == "MBA:31 = UBERON:0009835 and part of some NCBITaxon:10090"
    # no rdfs:label in the label file: the bridge's IAO_0000589 label
    assert [c.label for c in bridges.for_uberon("UBERON:0001882")] == ["nucleus accumbens (mouse)"]
    assert bridges.for_uberon("UBERON:0005390") == []  # a layer part of the ACC, not a species restriction
    assert len(bridges.skipped) == 2
    assert any("MBA:572: restricted by BFO:0000050 some UBERON:0009835" in s for s in bridges.skipped)
    assert any("MBA_ENTITY: not a numeric MBA ID" in s for s in bridges.skipped)
    with pytest.raises(SourceSyntaxError, match="not RDF/XML"):
        parse_bridge("Prefix(obo:=<x>)", MBA, {})


GRAPH = """
@prefix nm: <https://w3id.org/neuromech/> . @prefix nme: <https://w3id.org/neuromech/entity/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
nm:Circuit rdfs:subClassOf nm:MechanisticEntity .
nm:CorticalArea rdfs:subClassOf nm:BrainRegion .
nme:acc a nm:CorticalArea . nme:accumbens a nm:BrainRegion . nme:reward-circuit a nm:Circuit .
nme:layer-one a nm:BrainRegion .
"""


def _rows(mapping_set: MappingSet) -> set[tuple[str, str, str, str]]:
    return {(r.subject_id, r.predicate_modifier, r.predicate_id, r.object_id) for r in mapping_set.rows}


def test_derive_adds_narrow_matches_for_exact_uberon_matches_of_regions() -> None:
    graph = Graph().parse(data=GRAPH, format="turtle")
    mapping_set = MappingSet(
        rows=[
            new_row("nme:acc", "ACC", "skos:exactMatch", "UBERON:0009835", "anterior cingulate cortex"),
            # a close match does not chain
            new_row("nme:accumbens", "accumbens", "skos:closeMatch", "UBERON:0001882", "nucleus accumbens"),
            # a circuit is not a brain region
            new_row("nme:reward-circuit", "reward", "skos:exactMatch", "UBERON:0001882", "nucleus accumbens"),
            # the bridge's layer class is not a species part: nothing
            new_row("nme:layer-one", "layer 1", "skos:exactMatch", "UBERON:0005390", "cortical layer I"),
        ]
    )
    before = _rows(mapping_set)
    result = derive_allen(mapping_set, graph, _snippet_bridges())
    assert [(r.subject_id, r.predicate_id, r.object_id) for r in result.added] == [
        ("nme:acc", "skos:narrowMatch", "MBA:31")
    ]
    row = result.added[0]
    assert (row.subject_label, row.object_label, row.mapping_justification, row.confidence) == (
        "ACC",
        "Anterior cingulate area",
        "semapv:MappingChaining",
        "0.9",
    )
    assert row.comment.startswith("chained through nme:acc skos:exactMatch UBERON:0009835 (anterior cingulate cortex)")
    assert "brain-atlas/uberon-bridge-to-mba.owl" in row.comment
    assert _rows(mapping_set) == before | {("nme:acc", "", "skos:narrowMatch", "MBA:31")}
    # idempotent: a second run adds nothing and changes nothing
    text = render_sssom(mapping_set)
    again = derive_allen(mapping_set, graph, _snippet_bridges())
    assert (again.added, [r.object_id for r in again.kept]) == ([], ["MBA:31"])
    assert render_sssom(mapping_set) == text


@pytest.mark.parametrize("negative", [False, True])
def test_derive_keeps_an_existing_row_for_the_same_pair(negative: bool) -> None:
    graph = Graph().parse(data=GRAPH, format="turtle")
    existing = new_row("nme:acc", "ACC", "skos:closeMatch", "MBA:31", "ACA by hand", negative=negative)
    exact = new_row("nme:acc", "ACC", "skos:exactMatch", "UBERON:0009835", "anterior cingulate cortex")
    mapping_set = MappingSet(rows=[exact, existing])
    result = derive_allen(mapping_set, graph, _snippet_bridges())
    assert result.added == []
    assert result.kept == [existing]
    assert mapping_set.rows == [exact, existing]


def test_derive_without_an_exact_uberon_row_adds_nothing() -> None:
    graph = Graph().parse(data=GRAPH, format="turtle")
    mapping_set = MappingSet(rows=[new_row("nme:acc", "ACC", "skos:broadMatch", "UBERON:0009835", "ACC")])
    assert derive_allen(mapping_set, graph, _snippet_bridges()).added == []
    assert len(mapping_set.rows) == 1


# --- the real bridges and the real mapping set --------------------------------------------------


@pytest.fixture(scope="module")
def bridges() -> AllenBridges:
    return load_bridges(EXTERNAL)


@needs_external
def test_real_bridges_and_local_allen_files_agree(bridges: AllenBridges) -> None:
    assert (bridges.count("HBA"), bridges.count("MBA")) == (569, 553)
    assert [(c.curie, c.label) for c in bridges.for_uberon("UBERON:0001876")] == [("HBA:4327", "amygdala")]
    for key in ("hba", "mba"):
        atlas = ATLASES[key]
        local = parse_atlas_equivalences((EXTERNAL / atlas.labels).read_text(encoding="utf-8"), atlas)
        ours = {
            c.curie: (c.uberon, c.taxon) for cs in bridges.by_uberon.values() for c in cs if c.species == atlas.species
        }
        # every species equivalence of the bridge is stated by the BICAN file too (restriction aside)
        assert {curie: (u, t) for curie, (u, _, t) in local.items() if curie in ours} == ours
        assert set(ours) <= set(local)


@needs_external
@pytest.mark.parametrize(
    ("subject", "objects"),
    [
        ("nme:amygdala", ["HBA:4327"]),
        ("nme:nucleus-accumbens", ["HBA:4290", "MBA:56"]),
        ("nme:anterior-cingulate-cortex", ["MBA:31"]),
        ("nme:hypothalamus", ["HBA:4540", "MBA:1097"]),
        ("nme:hippocampus", []),  # only a close match to the hippocampal formation: nothing chains
    ],
)
def test_committed_allen_rows(subject: str, objects: list[str]) -> None:
    rows = read_mapping_set(ROOT / "data" / "mappings" / "neuromech.sssom.tsv").for_subject(subject)
    allen = [r for r in rows if r.object_id.startswith(("HBA:", "MBA:"))]
    assert sorted(r.object_id for r in allen) == objects
    assert all(
        (r.predicate_id, r.mapping_justification, r.confidence) == ("skos:narrowMatch", "semapv:MappingChaining", "0.9")
        for r in allen
    )


@needs_external
def test_derive_allen_cli_regenerates_the_committed_rows(
    repo: ProjectPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from neuromech.cli import main

    for folder in ("ontology", "data"):
        shutil.copytree(repo.root / folder, tmp_path / folder)
    copy = ProjectPaths(tmp_path)
    committed = repo.mappings_file.read_text(encoding="utf-8")
    stripped = read_mapping_set(repo.mappings_file)
    stripped.rows = [r for r in stripped.rows if not r.object_id.startswith(("HBA:", "MBA:"))]
    copy.mappings_file.write_text(render_sssom(stripped), encoding="utf-8")
    args = ["mappings", "derive-allen", "--root", str(tmp_path), "--external", str(EXTERNAL)]
    assert main([*args, "--dry-run"]) == 0
    assert copy.mappings_file.read_text(encoding="utf-8") == render_sssom(stripped)  # nothing written
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert "nme:amygdala skos:narrowMatch HBA:4327 'amygdala'" in out
    assert out[-1].startswith("added 47 Allen atlas mappings (27 HBA, 20 MBA)")
    assert copy.mappings_file.read_text(encoding="utf-8") == committed
    assert main(args) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("added 0 Allen atlas mappings (0 HBA, 0 MBA)")
    assert copy.mappings_file.read_text(encoding="utf-8") == committed
