"""One contract for every store: the embedded default (pyoxigraph), the rdflib reference, and a
remote SPARQL 1.1 endpoint — a real Oxigraph server started on 127.0.0.1 and loaded with the
build of the mini fixture through `neuromech publish` (Graph Store Protocol)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.compare import isomorphic

from neuromech import server
from neuromech.build import KnowledgeGraph, open_graph
from neuromech.cli import main
from neuromech.errors import SourceSyntaxError
from neuromech.loading import load_project
from neuromech.namespaces import INFERRED_GRAPH, NME
from neuromech.paths import ProjectPaths
from neuromech.queries import normalised_rows, read_expectation
from neuromech.reasoning import materialise
from neuromech.remote_store import ASSERTED_GRAPH, EndpointUnavailable, RemoteStore
from neuromech.rules import load_rules
from neuromech.store import OxigraphStore, RdflibStore, Store

from .conftest import MINI_DATA, ROOT

QUERIES = sorted((ROOT / "queries").glob("*.rq"))
EXPECTED = ROOT / "queries" / "expected"
STORES = ["oxigraph", "rdflib", "remote"]


@pytest.fixture(scope="module")
def mini_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkout whose data folder is the mini fixture, built into its dist/ by the CLI."""
    root = tmp_path_factory.mktemp("contract") / "project"
    for folder in ("ontology", "shapes", "queries"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copytree(MINI_DATA, root / "data")
    assert main(["build", "--root", str(root), "--no-reasoner"]) == 0
    return root


@pytest.fixture(scope="module")
def endpoint(mini_project: Path) -> Iterator[server.RunningServer]:
    """A writable Oxigraph server on a free loopback port, loaded with `neuromech publish`."""
    with server.running(None, port=0, writable=True) as running:
        assert main(["publish", "--root", str(mini_project), "--endpoint", running.store_url]) == 0
        yield running


@pytest.fixture(scope="module", params=STORES)
def kg(request: pytest.FixtureRequest, mini_project: Path) -> KnowledgeGraph:
    if request.param == "remote":
        running: server.RunningServer = request.getfixturevalue("endpoint")
        return open_graph(ProjectPaths(mini_project), running.query_url)
    return open_graph(ProjectPaths(mini_project), request.param)


def test_every_store_implements_the_interface(kg: KnowledgeGraph) -> None:
    assert isinstance(kg.store, Store)
    assert isinstance(kg.store, OxigraphStore | RdflibStore | RemoteStore)


@pytest.mark.parametrize("path", QUERIES, ids=[q.stem for q in QUERIES])
def test_every_stored_query_returns_the_expected_rows(path: Path, kg: KnowledgeGraph) -> None:
    expectation = read_expectation(EXPECTED / f"{path.stem}.fixture.tsv")
    table = kg.query(path.stem, expectation.params)
    assert table.variables == expectation.columns
    assert sorted(normalised_rows(table)) == sorted(expectation.rows)


def test_most_fixture_expectations_list_rows() -> None:
    """Guards the test above: an empty expectation only checks that every store agrees on nothing.

    A few queries ask about things the mini fixture has none of (genes, gray-matter findings).
    """
    empty = [q.stem for q in QUERIES if not read_expectation(EXPECTED / f"{q.stem}.fixture.tsv").rows]
    assert len(empty) <= len(QUERIES) // 4, empty


def test_every_store_holds_the_same_triples(kg: KnowledgeGraph, mini_project: Path) -> None:
    reference = open_graph(ProjectPaths(mini_project))
    assert isomorphic(kg.store.to_graph(), reference.store.to_graph())  # blank nodes are renamed
    assert isomorphic(kg.store.inferred_graph(), reference.store.inferred_graph())
    assert len(kg.store.inferred_graph()) > 0


def test_a_malformed_query_is_a_syntax_error_on_every_store(kg: KnowledgeGraph) -> None:
    with pytest.raises(SourceSyntaxError):
        kg.store.select("SELECT ?x WHERE { ?x ?y }")


def test_parameters_are_bound_as_terms_on_every_store(kg: KnowledgeGraph) -> None:
    query = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?label WHERE { ?node rdfs:label ?label }"
    table = kg.store.select(query, {"node": NME["almond"]})
    assert sorted(str(row[0]) for row in table.rows) == ["almond", "杏仁"]
    hostile = kg.store.select(query, {"node": NME["almond"], "label": Literal('x" } ?a ?b ?c {')})
    assert hostile.rows == []


TRICKY = """
@prefix ex: <http://example.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:a ex:p "with, comma and \\"quotes\\"\\nand a newline"@en , "" , 42 , "2.5"^^xsd:decimal , "情绪低落"@zh ;
     ex:q ex:b .
_:blank ex:p "on a blank node" .
ex:c ex:p "_: looks like a blank node" , ex:d .
"""


@pytest.mark.parametrize("kind", ["oxigraph", "rdflib"])
def test_string_values_read_alike_from_every_embedded_store(kind: str) -> None:
    # OxigraphStore reads them from pyoxigraph's CSV (without the GIL), falling back to its
    # terms for what CSV cannot tell apart: an empty literal from an unbound variable, a blank node
    graph = Graph().parse(data=TRICKY, format="turtle")
    store = (OxigraphStore if kind == "oxigraph" else RdflibStore).from_graph(graph)
    query = "SELECT ?s ?o ?q WHERE { ?s <http://example.org/p> ?o OPTIONAL { ?s <http://example.org/q> ?q } }"
    rows = store.select_values(query)
    named = sorted(row for row in rows if not row[0] or row[0].startswith("http"))
    assert named == sorted(
        [
            ("http://example.org/a", 'with, comma and "quotes"\nand a newline', "http://example.org/b"),
            ("http://example.org/a", "", "http://example.org/b"),
            ("http://example.org/a", "42", "http://example.org/b"),
            ("http://example.org/a", "2.5", "http://example.org/b"),
            ("http://example.org/a", "情绪低落", "http://example.org/b"),
            ("http://example.org/c", "_: looks like a blank node", None),
            ("http://example.org/c", "http://example.org/d", None),
        ]
    )
    blank = [row for row in rows if row not in named]
    assert [(row[1], row[2]) for row in blank] == [("on a blank node", None)]
    assert not blank[0][0].startswith("_:")
    # no empty cell, no blank node: read from the CSV alone
    clean = store.select_values(
        "SELECT ?o WHERE { <http://example.org/a> <http://example.org/p> ?o FILTER(STRLEN(STR(?o)) > 0) }"
    )
    assert sorted(clean) == sorted([(o,) for a, o, _ in named if a.endswith("/a") and o])


PARTNERS = """
@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:f1 a ex:Finding ; ex:partner ex:x , ex:y .
ex:x rdfs:label "x"@en , "叉"@zh .
ex:y rdfs:label "y only in Chinese"@zh .
ex:f2 a ex:Finding ; ex:partner ex:y .
ex:f3 a ex:Finding .
ex:f4 a ex:Finding ; ex:partner ex:z .
ex:z rdfs:label "z"@en , "zed"@en .
"""


@pytest.mark.parametrize("kind", ["oxigraph", "rdflib"])
def test_a_nested_optional_kept_by_bound_answers_as_two_patterns(kind: str) -> None:
    # The stored queries write OPTIONAL { ?f p ?x . ?x rdfs:label ?l FILTER(lang) } as
    # OPTIONAL { ?f p ?x OPTIONAL { ?x rdfs:label ?l FILTER(lang) } FILTER(BOUND(?l)) }, which
    # Oxigraph joins row by row (docs/performance.md, pass 18). Same rows on both stores: a partner
    # without an English label is no match (f1's y: no row with an empty label beside x's; f2: one
    # row without a label), two English labels (f4) are two rows.
    store = (OxigraphStore if kind == "oxigraph" else RdflibStore).from_graph(
        Graph().parse(data=PARTNERS, format="turtle")
    )
    head = (
        "PREFIX ex: <http://example.org/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        "SELECT ?f ?l WHERE { ?f a ex:Finding "
    )
    two = head + 'OPTIONAL { ?f ex:partner ?x . ?x rdfs:label ?l . FILTER(LANG(?l) = "en") } }'
    nested = (
        head + 'OPTIONAL { ?f ex:partner ?x OPTIONAL { ?x rdfs:label ?l FILTER(LANG(?l) = "en") } FILTER(BOUND(?l)) } }'
    )
    expected = [
        ("http://example.org/f1", "x"),
        ("http://example.org/f2", None),
        ("http://example.org/f3", None),
        ("http://example.org/f4", "z"),
        ("http://example.org/f4", "zed"),
    ]
    assert sorted(store.select_values(two), key=str) == sorted(expected, key=str)
    assert sorted(store.select_values(nested), key=str) == sorted(expected, key=str)
    # without FILTER(BOUND(...)) f1's unlabelled y would add a row with no label
    loose = head + 'OPTIONAL { ?f ex:partner ?x OPTIONAL { ?x rdfs:label ?l FILTER(LANG(?l) = "en") } } }'
    assert ("http://example.org/f1", None) in store.select_values(loose)


QUERYING_COMMANDS = [
    ["query", "evidence-for-pair", "-p", "condition=low mood", "-p", "entity=almond"],
    ["query", "entities-for-condition", "-p", "condition=HP:0100716"],
    ["findings", "--condition", "SI"],
    ["shared", "SI", "低落"],
]


@pytest.mark.parametrize("command", QUERYING_COMMANDS, ids=[" ".join(c[:2]) for c in QUERYING_COMMANDS])
@pytest.mark.parametrize("store", STORES)
def test_querying_cli_commands_answer_alike_on_every_store(
    command: list[str],
    store: str,
    mini_project: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    spec = request.getfixturevalue("endpoint").query_url if store == "remote" else store
    assert main([*command, "--root", str(mini_project), "--format", "json"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert main([*command, "--root", str(mini_project), "--format", "json", "--store", spec]) == 0
    got = json.loads(capsys.readouterr().out)
    assert default, "the command returns something on the fixture"
    assert _normalised(got) == _normalised(default)


def _normalised(value: object) -> object:
    """GROUP_CONCAT leaves the order of joined parts undefined, and rows come in any order."""
    if isinstance(value, str):
        for separator in (" ;; ", "|"):
            value = separator.join(sorted(value.split(separator)))
        return value
    if isinstance(value, list):
        return sorted((_normalised(v) for v in value), key=json.dumps)
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items()}
    return value


def test_materialisation_runs_on_the_remote_store(mini_project: Path) -> None:
    """add, construct, to_graph, inferred_graph and len through SPARQL and GSP on a real server."""
    paths = ProjectPaths(mini_project)
    source = load_project(paths).graph
    embedded = OxigraphStore.from_graph(source)
    expected = materialise(embedded, load_rules(paths.rules_dir))
    with server.running(None, port=0, writable=True) as running:
        remote = RemoteStore(running.query_url)
        assert len(remote) == 0
        remote.add(source)
        report = materialise(remote, load_rules(paths.rules_dir))
        assert report.per_rule == expected.per_rule
        assert set(remote.inferred_graph()) == set(embedded.inferred_graph())
        assert len(remote) == len(embedded)
        assert isinstance(remote.to_graph(include_inferred=False), Graph)
        assert isomorphic(remote.to_graph(include_inferred=False), source)


def test_publish_puts_asserted_and_inferred_in_their_named_graphs(endpoint: server.RunningServer) -> None:
    asserted = RemoteStore(endpoint.query_url, graph=str(ASSERTED_GRAPH), inferred="urn:x-none:empty")
    inferred = RemoteStore(endpoint.query_url, graph=str(INFERRED_GRAPH), inferred="urn:x-none:empty")
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    n_asserted = int(str(asserted.select(count).rows[0][0]))
    n_inferred = int(str(inferred.select(count).rows[0][0]))
    assert n_asserted > 500
    assert n_inferred > 0


def test_publishing_twice_replaces_rather_than_duplicates(mini_project: Path, endpoint: server.RunningServer) -> None:
    store = RemoteStore(endpoint.query_url)
    before = len(store)
    assert main(["publish", "--root", str(mini_project), "--endpoint", endpoint.store_url]) == 0
    assert len(store) == before


def test_an_unreachable_endpoint_fails_clearly_after_bounded_retries() -> None:
    port = server.free_port()
    store = RemoteStore(f"http://127.0.0.1:{port}/query", retries=2, backoff=0.01, timeout=2)
    with pytest.raises(EndpointUnavailable, match=r"cannot reach the SPARQL endpoint .* after 3 attempt"):
        store.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")


def test_cli_on_an_unreachable_endpoint_exits_unavailable(
    mini_project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{server.free_port()}/query"
    assert main(["findings", "--root", str(mini_project), "--store", url]) == 69
    assert "cannot reach the SPARQL endpoint" in capsys.readouterr().err
    assert main(["query", "findings", "--root", str(mini_project), "--store", "sqlite"]) == 64
    assert "unknown store 'sqlite'" in capsys.readouterr().err
