"""findings.tsv from six simple queries equals the rows of the stored findings.rq."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef

from neuromech import findings_table
from neuromech.build import KnowledgeGraph
from neuromech.export import findings_rows, record_order
from neuromech.findings_table import findings_records
from neuromech.namespaces import CONVERTER, compress
from neuromech.queries import get_query
from neuromech.store import OxigraphStore, RdflibStore, Store

_EDGE_CASES = """
@prefix nm: <https://w3id.org/neuromech/> .
@prefix nme: <https://w3id.org/neuromech/entity/> .
@prefix nmf: <https://w3id.org/neuromech/finding/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix obo: <http://purl.obolibrary.org/obo/> .

nme:pain rdfs:label "pain"@en, "chronic pain"@en, "疼痛"@zh ; skos:exactMatch obo:HP_0012531 .
nme:nssi rdfs:label "NSSI"@en .
nme:amygdala rdfs:label "amygdala"@en ; skos:exactMatch obo:UBERON_0001876 ; skos:closeMatch obo:UBERON_0000955 .
nme:unlabelled-partner skos:broadMatch obo:UBERON_0001871 .
nme:insula rdfs:label "insula"@en .
nme:activity rdfs:label "activity"@en .
nme:increased rdfs:label "increased"@en .
nme:unlabelled-measure nm:note "no English label" .
nme:fmri rdfs:label "fMRI"@en .
nme:rest rdfs:label "resting state"@en .
nm:s1 nm:citation_text "A et al., 2020" . nm:s2 nm:citation_text "B et al., 2021" .

# two conditions, two quotes, two partners (one unlabelled), two cited studies, a method and a task
nmf:f1 a nm:Finding ; nm:from_review nm:r1 ; nm:section "2.1" ; nm:has_condition nme:pain, nme:nssi ;
  nm:has_measured_entity nme:amygdala ; nm:has_partner_entity nme:insula, nme:unlabelled-partner ;
  nm:has_measure nme:activity ; nm:has_direction nme:increased ; nm:has_evidence_type obo:ECO_0000006 ;
  nm:quote "引文一", "引文二" ; nm:statement "first"@en ; nm:cites_study nm:s1, nm:s2 ;
  nm:has_method nme:fmri ; nm:has_task nme:rest ; nm:sample_size 12 ; nm:context_note "note; with semicolon" .
# no partner, no context, no mappings on the measured entity
nmf:f2 a nm:Finding ; nm:from_review nm:r1 ; nm:section "3" ; nm:has_condition nme:nssi ;
  nm:has_measured_entity nme:insula ; nm:has_measure nme:activity ; nm:has_direction nme:increased ;
  nm:has_evidence_type obo:ECO_0000006 ; nm:quote "引文三" ; nm:statement "second"@en .
# the measure has no English label: not a row of findings.rq
nmf:f3 a nm:Finding ; nm:from_review nm:r1 ; nm:section "3" ; nm:has_condition nme:nssi ;
  nm:has_measured_entity nme:insula ; nm:has_measure nme:unlabelled-measure ; nm:has_direction nme:increased ;
  nm:has_evidence_type obo:ECO_0000006 ; nm:quote "引文四" ; nm:statement "third"@en .
# no review: not a row either
nmf:f4 a nm:Finding ; nm:section "3" ; nm:has_condition nme:nssi ;
  nm:has_measured_entity nme:insula ; nm:has_measure nme:activity ; nm:has_direction nme:increased ;
  nm:has_evidence_type obo:ECO_0000006 ; nm:quote "引文五" ; nm:statement "fourth"@en .
"""


def _by_query(store: Store, text: str) -> dict[str, list[dict[str, str]]]:
    records: dict[str, list[dict[str, str]]] = {}
    for record in findings_rows(store.select(text)):
        records.setdefault(record["finding_id"], []).append(record)
    return {key: sorted(rows, key=record_order) for key, rows in records.items()}


def _by_table(store: Store, findings: set[str] | None = None) -> dict[str, list[dict[str, str]]]:
    return {compress(key): rows for key, rows in findings_records(store, findings).items()}


def test_equals_the_stored_query_on_the_real_data(real_kg: KnowledgeGraph) -> None:
    expected = _by_query(real_kg.store, get_query(real_kg.catalogue, "findings").text)
    got = _by_table(real_kg.store)
    assert len(got) >= 300
    assert got == expected


def test_equals_the_stored_query_on_edge_cases(real_kg: KnowledgeGraph) -> None:
    graph = Graph().parse(data=_EDGE_CASES, format="turtle")
    oxigraph = OxigraphStore.from_graph(graph)
    got = _by_table(oxigraph)
    assert got == _by_query(oxigraph, get_query(real_kg.catalogue, "findings").text)
    # the parts are plain queries: the rdflib reference store gives the same table (rdflib's
    # own answer to findings.rq differs on nmf:f3: it evaluates the quote sub-select once per
    # finding and returns one all-unbound group for a finding without a row)
    assert _by_table(RdflibStore.from_graph(graph)) == got
    assert set(got) == {"nmf:f1", "nmf:f2"}
    # (pain: 2 English labels, nssi: 1) x (insula, the unlabelled partner)
    assert [(r["condition"], r["partner"], r["partner_ids"]) for r in got["nmf:f1"]] == [
        ("NSSI", "", "UBERON:0001871"),
        ("NSSI", "insula", ""),
        ("chronic pain", "", "UBERON:0001871"),
        ("chronic pain", "insula", ""),
        ("pain", "", "UBERON:0001871"),
        ("pain", "insula", ""),
    ]
    first = got["nmf:f1"][0]
    assert first["quote_zh"] == "引文一 … 引文二"
    assert first["cited_study"] == "A et al., 2020|B et al., 2021"
    assert first["entity_ids"] == "UBERON:0000955|UBERON:0001876"
    assert first["method"] == "fMRI"
    assert first["context"] == "n: 12; note: note; with semicolon; task: resting state"
    assert got["nmf:f2"] == [
        {
            "finding_id": "nmf:f2",
            "review": "nm:r1",
            "section": "3",
            "condition": "NSSI",
            "condition_ids": "",
            "entity": "insula",
            "entity_ids": "",
            "partner": "",
            "partner_ids": "",
            "measure": "activity",
            "direction": "increased",
            "context": "",
            "method": "",
            "evidence_eco": "ECO:0000006",
            "cited_study": "",
            "quote_zh": "引文三",
            "statement_en": "second",
        }
    ]


def test_restricted_to_some_findings_equals_their_part_of_the_whole(real_kg: KnowledgeGraph) -> None:
    whole = findings_records(real_kg.store)
    chosen = set(sorted(whole)[::41])
    assert len(chosen) >= 8
    assert findings_records(real_kg.store, chosen) == {key: whole[key] for key in chosen}
    assert findings_records(real_kg.store, set()) == {}


def test_restricted_to_more_findings_than_one_values_block_holds_equals_their_part(
    real_kg: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = findings_records(real_kg.store)
    chosen = set(sorted(whole)[::41])
    monkeypatch.setattr(findings_table, "VALUES_CHUNK", 4)  # several blocks, the last one short
    assert len(chosen) % 4
    assert findings_records(real_kg.store, chosen) == {key: whole[key] for key in chosen}


def test_compress_equals_the_curies_converter_on_every_iri_of_the_real_graph(real_kg: KnowledgeGraph) -> None:
    iris = {str(term) for triple in real_kg.store.to_graph() for term in triple if isinstance(term, URIRef)}
    iris |= set(CONVERTER.prefix_map.values())  # a namespace IRI itself
    iris |= {"https://w3id.org/neuromech/entity", "urn:x", ""}
    assert len(iris) > 3_000
    assert {iri: compress(iri) for iri in iris} == {iri: CONVERTER.compress(iri) or iri for iri in iris}
