"""``neuromech api``: the stored queries as a small HTTP API, the way grlc serves query files.

Routes (all GET):

- ``/api/{query}?param=value&...`` runs a stored query; parameters are validated, resolved
  and bound as RDF terms by :func:`neuromech.queries.bind_parameters`, exactly as
  ``neuromech query`` does. ``format=json`` (default; SPARQL 1.1 JSON results) or
  ``format=csv`` (or the ``Accept`` header). A bad parameter gets HTTP 400 and a JSON
  ``{"error": ..., "status": 400}`` naming the parameter and the rule broken; an unknown query 404.
- ``/openapi.json``: the OpenAPI 3 description, generated from the query headers.
- ``/``: the list of routes.

The server is the standard library's ``ThreadingHTTPServer`` (no framework: six routes, GET
only, and no new dependency to keep current). It binds 127.0.0.1 by default.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rdflib import BNode, Literal, URIRef

from neuromech.build import KnowledgeGraph
from neuromech.errors import NeuroMechError, UsageError
from neuromech.openapi import openapi_document
from neuromech.queries import get_query, run_query
from neuromech.server import check_port, stop_on_signal, wait_forever
from neuromech.store import OxigraphStore, ResultTable, Term

log = logging.getLogger(__name__)

DEFAULT_API_PORT = 8080
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


@dataclass(frozen=True)
class Response:
    """An HTTP response: status, content type and body."""

    status: int
    content_type: str
    body: bytes


def _json(status: int, document: object) -> Response:
    body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    return Response(status, "application/json; charset=utf-8", body)


def _error(status: int, message: str) -> Response:
    return _json(status, {"error": message, "status": status})


def _binding(term: Term) -> dict[str, str]:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    cell: dict[str, str] = {"type": "literal", "value": str(term)}
    if isinstance(term, Literal) and term.language:
        cell["xml:lang"] = term.language
    elif isinstance(term, Literal) and term.datatype and str(term.datatype) != _XSD_STRING:
        cell["datatype"] = str(term.datatype)
    return cell


def results_json(table: ResultTable) -> dict[str, Any]:
    """Return ``table`` in the SPARQL 1.1 Query Results JSON Format."""
    bindings = [
        {var: _binding(term) for var, term in zip(table.variables, row, strict=True) if term is not None}
        for row in table.rows
    ]
    return {"head": {"vars": table.variables}, "results": {"bindings": bindings}}


def results_csv(table: ResultTable) -> str:
    """Return ``table`` as CSV (SPARQL 1.1 CSV results: full IRIs, lexical forms, CRLF)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.variables)
    for row in table.rows:
        writer.writerow(["" if term is None else str(term) for term in row])
    return buffer.getvalue()


class QueryApi:
    """The routes, as a function from a request to a :class:`Response` (the server is a thin shell)."""

    def __init__(self, kg: KnowledgeGraph, base_url: str | None = None) -> None:
        """Serve the stored queries of ``kg``; the name index is built now, not on the first request."""
        self.kg = kg
        self.base_url = base_url
        _ = kg.resolver
        # pyoxigraph is thread-safe; rdflib and the HTTP client are used one request at a time
        self._lock = threading.Lock() if not isinstance(kg.store, OxigraphStore) else None

    def handle(self, target: str, accept: str = "") -> Response:
        """Answer ``GET target`` (path and query string)."""
        parsed = urllib.parse.urlsplit(target)
        path = parsed.path.rstrip("/") or "/"
        if path == "/":
            routes = {name: f"/api/{name}" for name in sorted(self.kg.catalogue)}
            return _json(200, {"openapi": "/openapi.json", "queries": routes})
        if path == "/openapi.json":
            return _json(200, openapi_document(self.kg.catalogue, self.base_url))
        return self._query(path, parsed.query, accept)

    def _query(self, path: str, query_string: str, accept: str) -> Response:
        if not path.startswith("/api/"):
            return _error(404, f"no route {path!r}; the routes are /, /openapi.json and /api/QUERY")
        name = path[len("/api/") :]
        if name not in self.kg.catalogue:
            known = ", ".join(sorted(self.kg.catalogue))
            return _error(404, f"unknown query {name!r}; known queries: {known}")
        try:
            values, fmt = self._parameters(query_string, accept)
            table = self._run(name, values)
        except UsageError as err:
            return _error(400, str(err))
        except NeuroMechError as err:
            log.warning("query %s failed: %s", name, err)
            return _error(502, str(err))
        if fmt == "csv":
            return Response(200, "text/csv; charset=utf-8", results_csv(table).encode("utf-8"))
        return _json(200, results_json(table))

    @staticmethod
    def _parameters(query_string: str, accept: str) -> tuple[dict[str, str], str]:
        try:
            pairs = urllib.parse.parse_qsl(query_string, keep_blank_values=True, strict_parsing=bool(query_string))
        except ValueError as err:
            raise UsageError(f"malformed query string: {err}") from err
        values: dict[str, str] = {}
        for key, value in pairs:
            if key in values:
                raise UsageError(f"parameter {key!r} given more than once")
            values[key] = value
        fmt = values.pop("format", "csv" if "text/csv" in accept and "json" not in accept else "json")
        if fmt not in ("json", "csv"):
            raise UsageError(f"format must be json or csv, not {fmt!r}")
        return values, fmt

    def _run(self, name: str, values: dict[str, str]) -> ResultTable:
        query = get_query(self.kg.catalogue, name)
        if self._lock is None:
            return run_query(self.kg.store, query, values, self.kg.resolver)
        with self._lock:
            return run_query(self.kg.store, query, values, self.kg.resolver)


class _Handler(BaseHTTPRequestHandler):
    server: _ApiServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _send(self, response: Response, head: bool = False) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        if not head:
            self.wfile.write(response.body)

    def do_GET(self) -> None:
        started = time.perf_counter()
        response = self.server.api.handle(self.path, self.headers.get("Accept", ""))
        log.debug("GET %s: %d in %.3f s", self.path, response.status, time.perf_counter() - started)
        self._send(response)

    def do_HEAD(self) -> None:
        self._send(self.server.api.handle(self.path, self.headers.get("Accept", "")), head=True)

    def _not_allowed(self) -> None:
        self._send(_error(405, "this API is read-only: use GET"))

    do_POST = do_PUT = do_DELETE = _not_allowed  # noqa: N815


class _ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], api: QueryApi) -> None:
        self.api = api
        super().__init__(address, _Handler)


@contextmanager
def running_api(kg: KnowledgeGraph, bind: str = "127.0.0.1", port: int = DEFAULT_API_PORT) -> Iterator[str]:
    """Serve the API in a background thread for a ``with`` block; yield its base URL.

    Raises:
        UsageError: when the port is taken.
    """
    if port:
        check_port(bind, port)
    api = QueryApi(kg)
    try:
        server = _ApiServer((bind, port), api)
    except OSError as err:
        raise UsageError(f"cannot listen on {bind}:{port}: {err.strerror}; choose another --port") from err
    url = f"http://{bind}:{server.server_address[1]}"
    api.base_url = url
    thread = threading.Thread(target=server.serve_forever, name="neuromech-api", daemon=True)
    thread.start()
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def serve_api(
    kg: KnowledgeGraph,
    bind: str = "127.0.0.1",
    port: int = DEFAULT_API_PORT,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the API until SIGINT (Ctrl-C) or SIGTERM."""
    with stop_on_signal(), running_api(kg, bind, port) as url:
        if on_ready is not None:
            on_ready(url)
        wait_forever()
