"""The warm HermiT: which edits it takes as axioms, and that its verdicts are the command line's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from neuromech import hermit_server
from neuromech.entity_check import EntityLayerCheck, entity_layer
from neuromech.errors import InconsistentOntology
from neuromech.hermit_server import ServerUnavailable, WarmHermit, axiom_changes, compiled_server
from neuromech.loading import load_project_store
from neuromech.paths import ProjectPaths
from neuromech.pipeline import BuildSession
from neuromech.reasoning import check_consistent_ntriples

RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
NME = "https://w3id.org/neuromech/entity/"
NM = "https://w3id.org/neuromech/"
PART_OF = "<http://purl.obolibrary.org/obo/BFO_0000050>"
DORSAL_IN_CINGULATE = f"<{NME}dorsal-cingulate> {PART_OF} <{NME}cingulate> .".encode()


@pytest.fixture(scope="module")
def layer(mini: ProjectPaths) -> bytes:
    data, _ = entity_layer(load_project_store(mini))
    assert DORSAL_IN_CINGULATE in data.split(b"\n")
    return data


def _lines(data: bytes) -> set[bytes]:
    return set(data.split(b"\n")) - {b""}


def _changes(layer: bytes, removed: list[str], added: list[str]) -> list[str] | None:
    lines = (_lines(layer) - {r.encode() for r in removed}) | {a.encode() for a in added}
    return axiom_changes([r.encode() for r in removed], [a.encode() for a in added], lines)


def test_assertions_become_axioms_and_annotations_are_left_out(layer: bytes) -> None:
    moved = f"<{NME}dorsal-cingulate> {PART_OF} <{NME}almond> ."
    typed = f"<{NME}almond> {RDF_TYPE} <{NM}Disorder> ."
    label = f'<{NME}almond> <http://www.w3.org/2000/01/rdf-schema#label> "almond\\tbody"@en .'
    definition = f'<{NME}almond> <http://purl.obolibrary.org/obo/IAO_0000115> "A region."@en .'
    individual = f"<{NME}almond> {RDF_TYPE} <http://www.w3.org/2002/07/owl#NamedIndividual> ."
    quote = f'<{NME}almond> <{NM}quote> "line one\\n\\tline two" .'
    size = f'<{NME}almond> <{NM}sample_size> "12"^^<http://www.w3.org/2001/XMLSchema#integer> .'
    added = [moved, typed, label, definition, individual, quote, size]
    changes = _changes(layer, [DORSAL_IN_CINGULATE.decode()], added)
    assert changes == [
        f"-\tobject\t{PART_OF[1:-1]}\t{NME}dorsal-cingulate\t{NME}cingulate",
        f"+\tobject\t{PART_OF[1:-1]}\t{NME}dorsal-cingulate\t{NME}almond",
        f"+\tclass\t{NM}Disorder\t{NME}almond",
        f"+\tdata\t{NM}quote\t{NME}almond\tline one\\n\\tline two\t\t",
        f"+\tdata\t{NM}sample_size\t{NME}almond\t12\thttp://www.w3.org/2001/XMLSchema#integer\t",
    ]
    assert _changes(layer, [], [label, definition, individual]) == []


@pytest.mark.parametrize(
    "line",
    [
        f"<{NME}almond> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <{NM}BrainRegion> .",  # a class axiom
        f"<{NME}almond> {RDF_TYPE} <http://www.w3.org/2002/07/owl#Class> .",  # a declaration
        f"<{NME}almond> {RDF_TYPE} <http://www.w3.org/2002/07/owl#Nothing> .",  # OWL vocabulary
        f"<{NME}almond> {RDF_TYPE} <{NME}cingulate> .",  # a type that is not a declared class
        f"<{NME}almond> <http://example.org/undeclared> <{NME}cingulate> .",  # parsed by guesswork
        f'<{NME}almond> {PART_OF} "a literal" .',  # an object property with a literal
        f"_:b0 {PART_OF} <{NME}cingulate> .",  # a blank node
    ],
)
def test_other_changes_reload_the_whole_layer(layer: bytes, line: str) -> None:
    assert _changes(layer, [], [line]) is None
    assert _changes(layer, [DORSAL_IN_CINGULATE.decode()], [line]) is None


def test_javac_compiles_the_server_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("javac") is None:
        pytest.skip("no javac here")
    from owlready2 import reasoning as owl_reasoning

    classpath = owl_reasoning._HERMIT_CLASSPATH
    first = compiled_server(tmp_path, classpath)
    assert (first / "HermitServer.class").exists()
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # nothing of the compilation left behind
    monkeypatch.setattr(hermit_server.subprocess, "run", None)  # compiled: javac is not run again
    assert compiled_server(tmp_path, classpath) == first
    monkeypatch.setattr(hermit_server.shutil, "which", lambda _name: None)
    with pytest.raises(ServerUnavailable, match="no javac"):
        compiled_server(tmp_path, classpath)


@pytest.mark.slow
def test_the_warm_hermits_verdicts_are_the_command_lines(layer: bytes, tmp_path: Path) -> None:
    if shutil.which("javac") is None:
        pytest.skip("no javac here")
    lines = layer.split(b"\n")
    moved = b"\n".join(
        line.replace(b"<" + NME.encode() + b"cingulate> .", b"<" + NME.encode() + b"almond> .")
        if line == DORSAL_IN_CINGULATE
        else line
        for line in lines
    )
    assert moved != layer
    disjoint = layer + f"<{NME}almond> {RDF_TYPE} <{NM}Disorder> .\n".encode()  # a region and a disorder
    subclass_of = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
    subclass = layer + f"<{NM}Disorder> {subclass_of} <{NM}BrainRegion> .\n".encode()
    warm = WarmHermit(tmp_path)
    try:
        # (layer, consistent?, checks that read the whole layer, checks that sent the changed axioms)
        for data, consistent, loads, applies in [
            (layer, True, 1, 0),
            (moved, True, 1, 1),
            (disjoint, False, 1, 2),
            (layer, True, 1, 3),
            # Disorder and BrainRegion are disjoint: Disorder is unsatisfiable, and its instances
            (subclass, False, 2, 3),
            (layer, True, 3, 3),
        ]:
            assert warm.consistent(data) is consistent
            assert (warm.loads, warm.applies) == (loads, applies)
            if consistent:
                check_consistent_ntriples(data)
            else:
                with pytest.raises(InconsistentOntology):
                    check_consistent_ntriples(data)
        warm.kill()  # a stopped server is started again, and reads the whole layer
        assert warm.consistent(moved) is True
        assert (warm.loads, warm.applies) == (4, 3)
    finally:
        warm.close()


@pytest.mark.slow
def test_a_session_keeps_hermit_warm_between_rebuilds(mini: ProjectPaths, tmp_path: Path) -> None:
    if shutil.which("javac") is None:
        pytest.skip("no javac here")
    data = tmp_path / "data"
    shutil.copytree(mini.data_dir, data)
    paths = ProjectPaths(mini.root, data=data, dist=tmp_path / "dist")
    session = BuildSession(paths, warm_reasoner=True)
    try:
        session.build(progress=False)
        warm = session.warm_hermit
        assert warm is not None
        assert warm.loads == 1
        entities = data / "entities.ttl"
        original = entities.read_text(encoding="utf-8")
        assert original.count("obo:BFO_0000050 nme:cingulate .") == 2
        entities.write_text(original.replace("obo:BFO_0000050 nme:cingulate .", "obo:BFO_0000050 nme:almond .", 1))
        session.rebuild(progress=False)
        assert (warm.loads, warm.applies) == (1, 1)
        record = json.loads((paths.dist_dir / ".cache" / "hermit.json").read_text(encoding="utf-8"))
        _, key = entity_layer(load_project_store(paths))
        assert record["entity_layer_sha256"] == key  # the verdict is kept for the next build, as before
    finally:
        session.close()
    assert session.warm_hermit is None


@pytest.mark.slow
def test_without_javac_the_entity_check_runs_the_command_line(
    mini: ProjectPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    which = shutil.which
    monkeypatch.setattr(hermit_server.shutil, "which", lambda name: None if name == "javac" else which(name))
    warm = WarmHermit(tmp_path / "cache")
    check = EntityLayerCheck(load_project_store(mini), mini, tmp_path / "hermit.json", warm)
    check.result()
    assert (warm.loads, warm.applies) == (0, 0)
    assert "entity_layer_sha256" in json.loads((tmp_path / "hermit.json").read_text(encoding="utf-8"))
    warm.close()


@pytest.mark.slow
def test_cancelling_a_finished_check_keeps_hermit_warm(mini: ProjectPaths, tmp_path: Path) -> None:
    # a build cancels HermiT whenever another step fails (a shape violation while editing):
    # once the check has finished, the warm JVM and the layer it holds are kept
    if shutil.which("javac") is None:
        pytest.skip("no javac here")
    warm = WarmHermit(tmp_path / "cache")
    try:
        source = load_project_store(mini)
        check = EntityLayerCheck(source, mini, tmp_path / "hermit.json", warm)
        check.result()
        check.cancel()
        layer, _ = entity_layer(source)  # the same store: the same blank node labels as the check read
        assert warm.consistent(layer) is True
        assert (warm.loads, warm.applies) == (1, 0)  # the layer it held, unchanged: nothing read again
    finally:
        warm.close()
