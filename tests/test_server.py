"""`neuromech serve`: a real Oxigraph server behind the time-limit/read-only proxy, on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuromech import server
from neuromech.cli import main
from neuromech.errors import UsageError
from neuromech.remote_store import EndpointUnavailable, RemoteStore

from .conftest import MINI_DATA, ROOT


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve") / "project"
    for folder in ("ontology", "shapes", "queries"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copytree(MINI_DATA, root / "data")
    assert main(["build", "--root", str(root), "--no-reasoner"]) == 0
    return root


@pytest.fixture(scope="module")
def read_only(built: Path) -> Iterator[server.RunningServer]:
    with server.running(built / "dist", port=0, timeout=2) as running:
        yield running


def _request(url: str, data: bytes | None = None, method: str = "GET", content_type: str = "") -> tuple[int, str]:
    headers = {"Content-Type": content_type} if content_type else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8")


def test_serves_the_build_with_a_query_ui(read_only: server.RunningServer) -> None:
    status, page = _request(read_only.url + "/")
    assert status == 200
    assert "<html" in page.lower()
    store = RemoteStore(read_only.query_url)
    table = store.select("PREFIX nm: <https://w3id.org/neuromech/> SELECT ?f WHERE { ?f a nm:Finding } ORDER BY ?f")
    assert [str(r[0]).rsplit("/", 1)[1] for r in table.rows][:2] == ["fixture-0001", "fixture-0002"]
    # the union default graph holds the inferred edges too
    implicates = store.select("PREFIX nm: <https://w3id.org/neuromech/> SELECT ?e WHERE { ?c nm:implicates ?e }")
    assert implicates.rows


def test_updates_are_refused_unless_writable(read_only: server.RunningServer) -> None:
    status, message = _request(
        read_only.url + "/update",
        b"INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "POST",
        "application/sparql-update",
    )
    assert status == 403
    assert "read-only" in message
    assert "--writable" in message
    status, _ = _request(
        read_only.store_url + "?graph=urn:g", b"<urn:a> <urn:b> <urn:c> .", "PUT", "application/n-triples"
    )
    assert status == 403
    assert len(RemoteStore(read_only.query_url).select("SELECT * WHERE { <urn:a> ?p ?o }").rows) == 0


def test_a_writable_server_accepts_updates(built: Path) -> None:
    with server.running(built / "dist", port=0, writable=True) as running:
        status, _ = _request(
            running.url + "/update",
            b"INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }",
            "POST",
            "application/sparql-update",
        )
        assert status == 204
        query = urllib.parse.urlencode({"query": "ASK { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }"})
        status, body = _request(f"{running.query_url}?{query}")
        assert (status, "true" in body) == (200, True)


def test_a_long_query_is_cut_off_with_a_clear_error_and_the_server_recovers(
    read_only: server.RunningServer,
) -> None:
    store = RemoteStore(read_only.query_url, timeout=60, retries=0)
    started = time.monotonic()
    with pytest.raises(EndpointUnavailable, match=r"HTTP 504.*cut off.*time limit of 2 s"):
        store.select("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }")
    assert time.monotonic() - started < 20
    assert store.select("SELECT * WHERE { ?s ?p ?o } LIMIT 1").rows  # restarted and answering


def test_a_taken_port_gives_a_clear_message(built: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with (
            pytest.raises(UsageError, match=rf"port {port} on 127.0.0.1 is already in use.*--port"),
            server.running(built / "dist", port=port),
        ):
            pass


def test_missing_build_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="run `neuromech build` first"), server.running(tmp_path, port=0):
        pass


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_cli_serve_stops_cleanly_on_a_signal(built: Path, sig: signal.Signals) -> None:
    port = server.free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "neuromech.cli", "serve", "--root", str(built), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:  # ends when the process closes stdout
            lines.append(line)
            if "press Ctrl-C" in line:
                break
        assert any(f"http://127.0.0.1:{port}/query" in line for line in lines), lines
        query = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
        status, body = _request(f"http://127.0.0.1:{port}/query?{query}")
        assert status == 200
        assert "true" in body
        process.send_signal(sig)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert "stopped" in out
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    server.check_port("127.0.0.1", port)  # the port is free again: nothing left listening
