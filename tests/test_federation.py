"""Federated and remote queries against a real Oxigraph server started on 127.0.0.1 (never a mock)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import URIRef

from neuromech.build import KnowledgeGraph
from neuromech.cli import main
from neuromech.federation import Endpoint, EndpointUnreachable, find_service, query_endpoint
from neuromech.paths import ProjectPaths
from neuromech.queries import normalised_rows, read_expectation

from .conftest import ROOT

OXIGRAPH = Path(sys.executable).parent / "oxigraph"  # the `oxigraph` server CLI from PyPI (a dev dependency)
EXPECTED = ROOT / "queries" / "expected" / "federated"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, mini_kg: KnowledgeGraph) -> Iterator[str]:
    """An Oxigraph server holding the UBERON import module (and the mini fixture graph)."""
    folder = tmp_path_factory.mktemp("oxigraph")
    mini = folder / "mini.nt"
    mini_kg.store.to_graph().serialize(mini, format="nt", encoding="utf-8")
    files = [str(ROOT / "ontology" / "imports" / "uberon-import.ttl"), str(mini)]
    subprocess.run([str(OXIGRAPH), "load", "--location", str(folder / "db"), "--file", *files], check=True)
    port = _free_port()
    process = subprocess.Popen(
        [str(OXIGRAPH), "serve-read-only", "--location", str(folder / "db"), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/query"
    try:
        for _ in range(100):  # at most ~10 s
            try:
                with urllib.request.urlopen(f"{url}?query=ASK%7B%7D", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the Oxigraph server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_federated_query_joins_remote_uberon_with_local_findings(server: str, repo: ProjectPaths) -> None:
    expectation = read_expectation(EXPECTED / "findings-under-remote-class.data.tsv")
    table = query_endpoint(repo, "findings-under-remote-class", expectation.params, Endpoint(server, timeout=10))
    assert table.variables == expectation.columns
    got = normalised_rows(table)
    assert [row for row in expectation.rows if row not in got] == []


def test_remote_hierarchy_agrees_with_the_local_import(
    server: str, repo: ProjectPaths, real_kg: KnowledgeGraph
) -> None:
    """Same UBERON release both sides: everything the SERVICE answer finds, the materialised
    roll-up finds too; the roll-up finds more only through our own hierarchy (an entity that
    is part of, or a subtype of, another mapped entity, e.g. the hippocampus as part of the
    limbic system), which the remote endpoint cannot know."""
    remote = query_endpoint(repo, "findings-under-remote-class", {}, Endpoint(server, timeout=10))
    remote_pairs = {(str(r[0]), str(r[1])) for r in remote.rows}
    local = real_kg.query("findings-under-class", {})
    local_pairs = {(str(r[0]), str(r[2])) for r in local.rows}
    assert remote_pairs
    assert remote_pairs <= local_pairs
    own_hierarchy = """
    PREFIX nm: <https://w3id.org/neuromech/>
    PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
    SELECT ?whole WHERE { ?entity nm:rolls_up_to ?whole . ?whole skos:exactMatch|skos:closeMatch ?mapped . }
    """
    for entity in {e for _, e in local_pairs - remote_pairs}:
        assert real_kg.store.select(own_hierarchy, {"entity": URIRef(entity)}).rows, entity


def test_a_query_without_service_runs_entirely_at_the_endpoint(server: str, mini: ProjectPaths) -> None:
    expectation = read_expectation(ROOT / "queries" / "expected" / "findings.fixture.tsv")
    assert expectation.params == {"condition": "SI"}  # names are not resolved remotely: give the CURIE
    table = query_endpoint(mini, "findings", {"condition": "nme:self-injury"}, Endpoint(server, timeout=10))
    assert normalised_rows(table) == expectation.rows


def test_cli_query_with_endpoint(server: str, repo: ProjectPaths, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["query", "findings-under-remote-class", "--root", str(repo.root), "--endpoint", server, "--format", "tsv"]
    )
    assert code == 0
    assert "nme:amygdala" in capsys.readouterr().out.replace("https://w3id.org/neuromech/entity/", "nme:")


def test_unreachable_endpoint_is_a_clear_error_after_retries(
    repo: ProjectPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{_free_port()}/query"  # nothing listens there
    started = time.perf_counter()
    with pytest.raises(EndpointUnreachable, match=r"unreachable after 3 attempts \(timeout 2 s each\)"):
        Endpoint(url, timeout=2, retries=2, backoff=0.1).select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
    assert time.perf_counter() - started >= 0.3  # two back-off pauses: 0.1 s + 0.2 s
    code = main(["query", "findings-under-remote-class", "--root", str(repo.root), "--endpoint", url, "--retries", "0"])
    assert code == 69
    assert f"SPARQL endpoint {url} is unreachable" in capsys.readouterr().err


def test_service_block_is_found_outside_comments() -> None:
    text = '# SERVICE <http://x> { }\nSELECT * WHERE { SERVICE <http://e> { ?a ?b "}" } ?a ?c ?d }'
    block = find_service(text)
    assert block is not None
    assert block.inner.strip() == '?a ?b "}"'
