"""`neuromech api`: every stored query as a GET route on a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuromech.api import running_api
from neuromech.build import KnowledgeGraph
from neuromech.queries import load_catalogue, normalised_rows, read_expectation
from neuromech.remote_store import _term
from neuromech.store import ResultTable

from .conftest import ROOT

QUERIES = sorted((ROOT / "queries").glob("*.rq"))
EXPECTED = ROOT / "queries" / "expected"


@pytest.fixture(scope="module")
def api_url(mini_kg: KnowledgeGraph) -> Iterator[str]:
    with running_api(mini_kg, port=0) as url:
        yield url


def get(url: str, accept: str = "") -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read().decode("utf-8")
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode("utf-8")


def _table(document: dict[str, object]) -> ResultTable:
    head, results = document["head"], document["results"]
    assert isinstance(head, dict)
    assert isinstance(results, dict)
    variables = head["vars"]
    rows = [tuple(_term(b[v]) if v in b else None for v in variables) for b in results["bindings"]]
    return ResultTable(variables, rows)


@pytest.mark.parametrize("path", QUERIES, ids=[q.stem for q in QUERIES])
def test_every_stored_query_is_a_route_returning_the_expected_rows(path: Path, api_url: str) -> None:
    expectation = read_expectation(EXPECTED / f"{path.stem}.fixture.tsv")
    status, content_type, body = get(f"{api_url}/api/{path.stem}?{urllib.parse.urlencode(expectation.params)}")
    assert status == 200, body
    assert content_type.startswith("application/json")
    table = _table(json.loads(body))
    assert table.variables == expectation.columns
    assert sorted(normalised_rows(table)) == sorted(expectation.rows)


def test_csv_output(api_url: str) -> None:
    query = urllib.parse.urlencode({"condition": "low mood", "entity": "almond", "format": "csv"})
    status, content_type, body = get(f"{api_url}/api/evidence-for-pair?{query}")
    assert status == 200
    assert content_type.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["finding", "role", "measure_label"]
    assert [r[0] for r in rows[1:]] == ["https://w3id.org/neuromech/finding/fixture-0004"]
    status, content_type, _ = get(f"{api_url}/api/evidence-for-pair?{query.replace('&format=csv', '')}", "text/csv")
    assert (status, content_type.split(";")[0]) == (200, "text/csv")


@pytest.mark.parametrize(
    ("route", "status", "message"),
    [
        ("/api/findings?review=http://x/a%3E%20%7D%20DROP%20ALL%20%7B", 400, "malformed IRI for parameter 'review'"),
        ("/api/findings?review=nope:thing", 400, "malformed IRI"),
        ("/api/shared-mechanisms?a=NSSI", 400, "unknown condition"),
        ("/api/shared-mechanisms?a=SI", 400, "needs parameter 'b'"),
        ("/api/findings?colour=red", 400, "has no parameter 'colour'"),
        ("/api/findings?condition=SI&condition=low%20mood", 400, "given more than once"),
        ("/api/findings?format=xml", 400, "format must be json or csv"),
        ("/api/no-such-query", 404, "unknown query 'no-such-query'"),
        ("/nowhere", 404, "no route"),
    ],
)
def test_bad_requests_get_a_clear_json_error(api_url: str, route: str, status: int, message: str) -> None:
    got, content_type, body = get(api_url + route)
    assert got == status
    assert content_type.startswith("application/json")
    error = json.loads(body)
    assert error["status"] == status
    assert message in error["error"]


def test_openapi_describes_every_query_and_parameter(api_url: str) -> None:
    status, _, body = get(f"{api_url}/openapi.json")
    assert status == 200
    document = json.loads(body)
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": api_url}]
    catalogue = load_catalogue(ROOT / "queries")
    assert set(document["paths"]) == {f"/api/{name}" for name in catalogue}
    for name, query in catalogue.items():
        operation = document["paths"][f"/api/{name}"]["get"]
        assert operation["summary"] == query.summary
        declared = {p["name"]: p for p in operation["parameters"]}
        assert set(declared) == {p.name for p in query.parameters} | {"format"}
        for param in query.parameters:
            assert declared[param.name]["required"] == param.required
            assert param.doc in declared[param.name]["description"]
        assert {"200", "400"} <= set(operation["responses"])


def test_index_lists_the_routes(api_url: str) -> None:
    status, _, body = get(api_url + "/")
    assert status == 200
    assert json.loads(body)["queries"]["findings"] == "/api/findings"


def test_writes_are_refused(api_url: str) -> None:
    request = urllib.request.Request(api_url + "/api/findings", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 405
