"""Replacing a few subjects' blocks in a serialised chunk gives the triples a fresh dump would."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from neuromech import export, subject_blocks
from neuromech.release import PREFIXES, _body, _join
from neuromech.subject_blocks import replace_subjects, serialise_subjects

GRAPH = ox.NamedNode("https://w3id.org/neuromech/graph/inferred")
NM = "https://w3id.org/neuromech/"

BEFORE = f"""
<{NM}finding/a> a <{NM}Finding> , <{NM}Claim> ;
    <{NM}reports_effect> <{NM}finding/a> ;
    <http://x.org/note> "two\\nlines, a <tag> & \\"quotes\\" {{ }} , ." , "x"@en .
<{NM}finding/a2> a <{NM}Finding> .
<{NM}entity/c-1> <{NM}investigates> <{NM}entity/e-1> , <{NM}finding/a> .
<{NM}entity/c-2> <http://x.org/note> "}},{{\\"@id\\":\\"{NM}finding/a\\",\\"x\\":1}}" .
<{NM}entity/gone> <{NM}investigates> <{NM}entity/e-1> .
<http://other.org/x/y%20z> a <{NM}Finding> ; <{NM}investigates> <{NM}finding/a> .
_:b1 a <{NM}Finding> ; <{NM}reports_effect> <{NM}finding/a> .
"""

# a rebuild re-derived the triples of finding/a, entity/gone (now none) and entity/new (new)
EDITS = [
    (
        [f"{NM}finding/a", f"{NM}entity/gone", f"{NM}entity/new"],
        f"""
<{NM}finding/a> a <{NM}Finding> ; <{NM}satisfies_module> <{NM}entity/m-1> .
<{NM}entity/new> <{NM}implicates> <{NM}finding/a> , <{NM}entity/e-2> .
""",
    ),
    # a second rebuild finds the blocks the first one appended
    ([f"{NM}entity/new", f"{NM}entity/c-1"], f"<{NM}entity/c-1> <{NM}investigates> <{NM}entity/e-3> ."),
]


@pytest.fixture(autouse=True, params=["a search per subject", "one scan of every block"])
def how_blocks_are_found(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subject_blocks, "ONE_SCAN_FROM", 10**9 if request.param.startswith("a search") else 1)


def _store(data: str) -> ox.Store:
    store = ox.Store()
    store.load(data.encode(), format=ox.RdfFormat.TURTLE, to_graph=GRAPH)
    return store


def _parse(name: str, body: bytes) -> Graph:
    syntax = {"neuromech.ttl": "turtle", "neuromech.owl": "xml", "neuromech.jsonld": "json-ld"}[name]
    return Graph().parse(data=b"".join(_join(name, [body])), format=syntax)


@pytest.mark.parametrize("name", list(export.GRAPH_FORMATS))
def test_replaced_blocks_hold_the_triples_of_a_fresh_dump(name: str) -> None:
    rdf_format = export.GRAPH_FORMATS[name]
    store = _store(BEFORE)
    body = _body(name, store.dump(format=rdf_format, from_graph=GRAPH, prefixes=PREFIXES) or b"")
    for subjects, derived in EDITS:
        nodes = [ox.NamedNode(iri) for iri in subjects]
        for node in nodes:
            for quad in list(store.quads_for_pattern(node, None, None, GRAPH)):
                store.remove(quad)
        store.load(derived.encode(), format=ox.RdfFormat.TURTLE, to_graph=GRAPH)
        fresh = _body(name, serialise_subjects(store, GRAPH, nodes, rdf_format, prefixes=PREFIXES))
        body = replace_subjects(name, body, nodes, fresh, prefixes=PREFIXES)
        expected = _body(name, store.dump(format=rdf_format, from_graph=GRAPH, prefixes=PREFIXES) or b"")
        assert body != expected  # the new blocks come last: not simply a fresh dump
        assert isomorphic(_parse(name, body), _parse(name, expected))
    assert len(_parse(name, body)) == 9


@pytest.mark.parametrize("name", list(export.GRAPH_FORMATS))
def test_removing_every_subject_leaves_an_empty_chunk_that_parses(name: str) -> None:
    rdf_format = export.GRAPH_FORMATS[name]
    store = _store(f"<{NM}finding/a> a <{NM}Finding> . <{NM}finding/b> a <{NM}Finding> .")
    body = _body(name, store.dump(format=rdf_format, from_graph=GRAPH, prefixes=PREFIXES) or b"")
    nodes = [ox.NamedNode(f"{NM}finding/a"), ox.NamedNode(f"{NM}finding/b")]
    assert len(_parse(name, replace_subjects(name, body, nodes, b"", prefixes=PREFIXES))) == 0
    assert len(_parse(name, replace_subjects(name, body, nodes[:1], b"", prefixes=PREFIXES))) == 1


@pytest.mark.parametrize("name", list(export.GRAPH_FORMATS))
def test_a_subject_dumped_in_several_blocks_loses_every_one(name: str) -> None:
    # the in-memory store dumps in insertion order: interleaved subjects give one block per triple
    rdf_format = export.GRAPH_FORMATS[name]
    store = ox.Store()
    subjects = [ox.NamedNode(f"{NM}entity/c-{n}") for n in range(3)]
    for k in range(4):
        for subject in subjects:
            store.add(ox.Quad(subject, ox.NamedNode(f"{NM}investigates"), ox.NamedNode(f"{NM}entity/e-{k}"), GRAPH))
    body = _body(name, store.dump(format=rdf_format, from_graph=GRAPH, prefixes=PREFIXES) or b"")
    assert body.count(b"entity/c-1") + body.count(b"nme:c-1") >= 4, "the dump no longer interleaves subjects"
    gone = subjects[1:]  # the middle and the last subject: adjacent blocks, the chunk's end among them
    for subject in gone:
        for quad in list(store.quads_for_pattern(subject, None, None, GRAPH)):
            store.remove(quad)
    store.add(ox.Quad(subjects[2], ox.NamedNode(f"{NM}implicates"), ox.NamedNode(f"{NM}entity/e-9"), GRAPH))
    fresh = _body(name, serialise_subjects(store, GRAPH, gone, rdf_format, prefixes=PREFIXES))
    replaced = _parse(name, replace_subjects(name, body, gone, fresh, prefixes=PREFIXES))
    expected = _parse(name, _body(name, store.dump(format=rdf_format, from_graph=GRAPH, prefixes=PREFIXES) or b""))
    assert len(replaced) == 5
    assert isomorphic(replaced, expected)
