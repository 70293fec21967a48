"""Release files assembled from chunk files kept on disk, and published atomically."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph

from neuromech import export
from neuromech.release import ChunkFolder, Release
from neuromech.store import OxigraphStore

DATA = """@prefix nm: <https://w3id.org/neuromech/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
nm:a rdfs:label "a"@en ; nm:counts_for nm:b .
nm:b rdfs:label "b"@en .
"""
GRAPH_A = ox.NamedNode("file:///a.ttl")
GRAPH_B = ox.NamedNode("file:///b.ttl")
EMPTY = ox.NamedNode("file:///empty.ttl")


def _store() -> OxigraphStore:
    store = OxigraphStore()
    store.native.load(DATA.encode(), format=ox.RdfFormat.TURTLE, to_graph=GRAPH_A)
    store.native.load(
        b'<https://w3id.org/neuromech/c> <http://www.w3.org/2000/01/rdf-schema#label> "c" .',
        format=ox.RdfFormat.N_TRIPLES,
        to_graph=GRAPH_B,
    )
    store.native.add_graph(EMPTY)
    return store


def test_graph_files_from_chunk_files_hold_every_graph(tmp_path: Path) -> None:
    store = _store()
    release = Release(ChunkFolder(tmp_path / ".cache"))
    release.refresh_graphs(store, [GRAPH_A, GRAPH_B, EMPTY])
    chunk_files = list(release.folder.path.iterdir())
    assert len(chunk_files) == 9  # three graphs, three formats each (the empty graph's chunks are empty)
    written = export.publish_directory(release.graph_files(), tmp_path / "dist")
    assert {p.name for p in written} == {*export.GRAPH_FORMATS, "inferred.ttl"}
    syntax = {"neuromech.ttl": "turtle", "neuromech.owl": "xml", "neuromech.jsonld": "json-ld"}
    for name, parser in syntax.items():
        graph = Graph().parse(tmp_path / "dist" / name, format=parser)
        assert len(graph) == 4, name  # a's three triples and c's label; nothing from the empty graph
    assert (tmp_path / "dist" / "inferred.ttl").read_text(encoding="utf-8").count("@prefix") > 0

    # re-serialising a graph replaces its chunk files; a graph gone from the store loses them
    store.native.remove_graph(GRAPH_B)
    release.refresh_graphs(store, [GRAPH_A, GRAPH_B])
    assert len(list(release.folder.path.iterdir())) == 6
    export.publish_directory(release.graph_files(), tmp_path / "dist")
    assert len(Graph().parse(tmp_path / "dist" / "neuromech.jsonld", format="json-ld")) == 3


def test_chunk_folder_is_removed_with_its_release_and_orphans_by_the_next(tmp_path: Path) -> None:
    parent = tmp_path / "dist" / ".cache"
    folder = ChunkFolder(parent)
    assert not parent.exists()  # nothing is made before the first chunk
    path = folder.write(b"x").parent
    assert path.parent == parent
    del folder
    gc.collect()
    assert not path.exists()
    assert not (tmp_path / "dist").exists()  # the folders made for it went too, being empty

    parent.mkdir(parents=True)
    (parent / "hermit.json").write_text("{}")
    orphan = parent / "chunks-999999999-abc"  # a process id no process has
    orphan.mkdir()
    alive = parent / f"chunks-{os.getpid()}-abc"  # this process: another session's, kept
    alive.mkdir()
    kept = ChunkFolder(parent)
    made = kept.path
    assert made.exists()
    assert not orphan.exists()
    assert alive.exists()
    kept.remove()
    assert not made.exists()
    assert (parent / "hermit.json").exists()  # a folder it did not make is kept


@pytest.mark.parametrize("kernel_copy", [True, False])
def test_published_pieces_are_bytes_and_files_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kernel_copy: bool
) -> None:
    if not kernel_copy:  # a platform without copy_file_range copies through Python

        def refuse(*_: object) -> int:
            raise OSError("not supported")

        monkeypatch.setattr(os, "copy_file_range", refuse, raising=False)
    big = tmp_path / "big"
    big.write_bytes(bytes(range(256)) * 20_000)  # 5 MB: more than one read of the fallback
    small = tmp_path / "small"
    small.write_bytes(b"middle")
    written = export.publish_directory({"out": [b"<", big, small, b">"], "text": "é"}, tmp_path / "dist")
    assert (tmp_path / "dist" / "out").read_bytes() == b"<" + big.read_bytes() + b"middle>"
    assert (tmp_path / "dist" / "text").read_text(encoding="utf-8") == "é"
    assert [p.name for p in written] == ["out", "text"]


@pytest.mark.parametrize("swap", [True, False], ids=["swapped", "renamed over"])
def test_publishing_again_replaces_each_file_and_leaves_no_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, swap: bool
) -> None:
    if not swap:  # no renameat2 (another platform): the new file is renamed over the old one
        monkeypatch.setattr(export, "_renameat2", lambda: None)
    elif export._renameat2() is None:
        pytest.skip("no renameat2 here")
    dist = tmp_path / "dist"
    export.publish_directory({"kept": "one", "changed": "old"}, dist)
    old = (dist / "changed").stat().st_ino
    export.publish_directory({"changed": "new", "added": "fresh"}, dist)
    assert {p.name: p.read_text(encoding="utf-8") for p in dist.iterdir()} == {
        "kept": "one",
        "changed": "new",
        "added": "fresh",
    }  # no staging folder left behind, holding the swapped-out file or anything else
    assert (dist / "changed").stat().st_ino != old


def test_a_swap_puts_the_old_file_at_the_new_ones_name(tmp_path: Path) -> None:
    if export._renameat2() is None:
        pytest.skip("no renameat2 here")
    (tmp_path / "new").write_text("new", encoding="utf-8")
    (tmp_path / "target").write_text("old", encoding="utf-8")
    export.move_into_place(tmp_path / "new", tmp_path / "target")
    assert (tmp_path / "target").read_text(encoding="utf-8") == "new"
    assert (tmp_path / "new").read_text(encoding="utf-8") == "old"
    export.move_into_place(tmp_path / "new", tmp_path / "absent")  # nothing to swap with: a rename
    assert (tmp_path / "absent").read_text(encoding="utf-8") == "old"
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("subjects", [1, 20], ids=["searched for", "found by one scan"])
def test_a_spliced_graph_holds_the_stores_triples_in_every_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, subjects: int
) -> None:
    # with many subjects the JSON-LD chunk is dumped again instead (its block starts are slow to
    # scan for); the other formats are spliced: each file must hold the store's triples all the same
    from neuromech import release as release_module

    store = OxigraphStore()
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    nodes = [ox.NamedNode(f"https://w3id.org/neuromech/s{n}") for n in range(30)]
    for n, node in enumerate(nodes):
        store.native.add(ox.Quad(node, label, ox.Literal(str(n)), GRAPH_A))
    release = Release(ChunkFolder(tmp_path / ".cache"))
    release.refresh_graphs(store, [GRAPH_A])
    for n, node in enumerate(nodes[:subjects]):
        store.native.remove(ox.Quad(node, label, ox.Literal(str(n)), GRAPH_A))
        store.native.add(ox.Quad(node, label, ox.Literal("edited"), GRAPH_A))
    spliced: list[str] = []
    original = release_module.replace_subjects

    def spy(name: str, *args: object, **kwargs: object) -> bytes:
        spliced.append(name)
        return original(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(release_module, "replace_subjects", spy)
    release.refresh_graphs(store, [GRAPH_A], {GRAPH_A.value: {node.value for node in nodes[:subjects]}})
    everything = ["neuromech.ttl", "neuromech.owl", "neuromech.jsonld"]
    assert sorted(spliced) == sorted(everything if subjects == 1 else everything[:2])
    export.publish_directory(release.graph_files(), tmp_path / "dist")
    expected = {(q.subject.value, q.object.value) for q in store.native.quads_for_pattern(None, None, None, GRAPH_A)}
    assert ("https://w3id.org/neuromech/s0", "edited") in expected
    for name, parser in zip(everything, ["turtle", "xml", "json-ld"], strict=True):
        graph = Graph().parse(tmp_path / "dist" / name, format=parser)
        assert {(str(s), str(o)) for s, _, o in graph} == expected, name
