"""A :class:`~neuromech.store.Store` over any SPARQL 1.1 endpoint.

Queries go through SPARQLWrapper (SPARQL 1.1 Protocol, POST, JSON results), with a timeout,
a bounded number of retries with exponential backoff when the endpoint cannot be reached or
answers 502/503, and a clear :class:`EndpointUnavailable` error otherwise. Triples are
uploaded through the SPARQL 1.1 Graph Store Protocol (GSP): asserted triples to one named
graph (default ``nm:graph/asserted``), materialised ones to ``nm:graph/inferred``; queries
name both graphs as ``default-graph-uri``, so they see their merge on any conforming store
(Oxigraph, Fuseki, GraphDB, Virtuoso) whatever its own default-graph policy.
Parameters are bound exactly as on the embedded stores (:func:`neuromech.store.with_values`).
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from SPARQLWrapper import CONSTRUCT, JSON, POST, SELECT, TURTLE, URLENCODED, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed, SPARQLWrapperException

from neuromech.errors import NeuroMechError, SourceSyntaxError
from neuromech.namespaces import INFERRED_GRAPH, NM
from neuromech.store import ResultTable, Store, Term, with_values

log = logging.getLogger(__name__)

ASSERTED_GRAPH = NM["graph/asserted"]
_RETRY_STATUS = frozenset({502, 503})  # 504 is a timeout: repeating it would not help
_MAX_BACKOFF_S = 8.0


class EndpointUnavailable(NeuroMechError):
    """A SPARQL endpoint could not be reached, refused a request, or timed out."""

    exit_code = 69  # EX_UNAVAILABLE


def gsp_url_for(query_url: str) -> str:
    """Guess the Graph Store Protocol URL of a query endpoint.

    Oxigraph serves queries at ``/query`` and the GSP at ``/store``; Fuseki at ``/<ds>/sparql``
    and ``/<ds>/data``. Other stores (GraphDB, Virtuoso) need the GSP URL given explicitly.
    """
    for suffix, replacement in (("/query", "/store"), ("/sparql", "/data")):
        if query_url.endswith(suffix):
            return query_url[: -len(suffix)] + replacement
    return query_url


def _term(binding: Mapping[str, str]) -> Term:
    kind = binding["type"]
    value = binding["value"]
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if kind in ("literal", "typed-literal"):
        if "xml:lang" in binding:
            return Literal(value, lang=binding["xml:lang"])
        datatype = binding.get("datatype")
        if datatype and datatype != "http://www.w3.org/2001/XMLSchema#string":
            return Literal(value, datatype=URIRef(datatype))
        return Literal(value)
    raise TypeError(f"unsupported SPARQL JSON term type {kind!r}")


def _read(wrapper: SPARQLWrapper) -> bytes:
    return bytes(wrapper.query().response.read())


class RemoteStore(Store):
    """A SPARQL 1.1 endpoint used as a store.

    Args:
        query_url: the SPARQL query endpoint (e.g. ``http://127.0.0.1:7878/query``).
        gsp_url: the Graph Store Protocol endpoint (default: guessed by :func:`gsp_url_for`).
        graph: named graph of the asserted triples.
        inferred: named graph of the materialised triples.
        timeout: seconds allowed to one request.
        retries: further attempts after a connection failure or a 502/503 answer.
        backoff: seconds before the first retry; doubled each time, at most 8 s.
        user: user name for HTTP basic authentication (with ``password``), if the store needs it.
        password: the password for ``user``.
    """

    def __init__(
        self,
        query_url: str,
        *,
        gsp_url: str | None = None,
        graph: str = str(ASSERTED_GRAPH),
        inferred: str = str(INFERRED_GRAPH),
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        """Describe the endpoint; nothing is contacted until the first request."""
        self.query_url = query_url
        self.gsp_url = gsp_url or gsp_url_for(query_url)
        self.graph = graph
        self.inferred = inferred
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff = backoff
        self._auth = (user, password or "") if user else None

    # -- requests -----------------------------------------------------------------------------

    def _attempts(self, what: str, url: str, call: Any) -> Any:
        """Run ``call`` with bounded retries; translate failures into clear errors."""
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                return call()
            except QueryBadFormed as err:
                raise SourceSyntaxError(f"the endpoint {url} rejected the query as malformed: {err}") from err
            except urllib.error.HTTPError as err:
                detail = err.read().decode("utf-8", "replace")[:300].strip()
                if err.code not in _RETRY_STATUS or attempt == self.retries:
                    hint = " (is the store read-only?)" if err.code in (401, 403, 405) and what != "query" else ""
                    raise EndpointUnavailable(
                        f"{what} at {url} failed: HTTP {err.code} {err.reason}{hint}: {detail}"
                    ) from err
                reason = f"HTTP {err.code}"
            except TimeoutError as err:
                raise EndpointUnavailable(f"{what} at {url} timed out after {self.timeout:g} s") from err
            except urllib.error.URLError as err:
                if isinstance(err.reason, TimeoutError | socket.timeout):
                    raise EndpointUnavailable(f"{what} at {url} timed out after {self.timeout:g} s") from err
                if attempt == self.retries:
                    raise EndpointUnavailable(
                        f"cannot reach the SPARQL endpoint {url} ({err.reason}) after {attempt + 1} attempt(s); "
                        "is the server running (`neuromech serve`) and the URL right?"
                    ) from err
                reason = str(err.reason)
            except (ConnectionError, SPARQLWrapperException) as err:
                if attempt == self.retries:
                    raise EndpointUnavailable(f"{what} at {url} failed after {attempt + 1} attempt(s): {err}") from err
                reason = str(err)
            log.info("%s at %s: %s; retrying in %.1f s", what, url, reason, delay)
            time.sleep(delay)
            delay = min(delay * 2, _MAX_BACKOFF_S)
        raise AssertionError("unreachable")  # pragma: no cover

    def _wrapper(self, query: str, fmt: str, form: str) -> SPARQLWrapper:
        wrapper = SPARQLWrapper(self.query_url, agent="neuromech")
        wrapper.setMethod(POST)
        wrapper.setRequestMethod(URLENCODED)
        wrapper.setTimeout(int(max(1, self.timeout)))
        wrapper.setReturnFormat(fmt)
        if self._auth:
            wrapper.setCredentials(*self._auth)
        for graph in (self.graph, self.inferred):
            wrapper.addDefaultGraph(graph)
        wrapper.setQuery(query)
        # SPARQLWrapper guesses the form with a regular expression that words in comments fool
        wrapper.queryType = form
        return wrapper

    def _request(self, method: str, graph: str, body: bytes | None = None) -> bytes:
        url = f"{self.gsp_url}?{urllib.parse.urlencode({'graph': graph})}"
        headers = {"Content-Type": "application/n-triples", "Accept": "application/n-triples"}
        if self._auth:
            token = base64.b64encode(f"{self._auth[0]}:{self._auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        request = urllib.request.Request(url, data=body, method=method, headers=headers)

        def call() -> bytes:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return bytes(response.read())

        return bytes(self._attempts(f"Graph Store {method} of <{graph}>", self.gsp_url, call))

    # -- the Store interface -----------------------------------------------------------------

    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> ResultTable:
        """Run a SELECT query on the endpoint with ``bindings`` in a VALUES block."""
        wrapper = self._wrapper(with_values(query, bindings), JSON, SELECT)
        raw = self._attempts("query", self.query_url, lambda: _read(wrapper))
        try:
            result = json.loads(raw)
        except json.JSONDecodeError as err:
            raise EndpointUnavailable(f"{self.query_url} did not answer with SPARQL JSON results: {err}") from err
        if "results" not in result:
            raise SourceSyntaxError("expected a SELECT query")
        variables: list[str] = list(result["head"].get("vars", []))
        rows = [tuple(_term(row[v]) if v in row else None for v in variables) for row in result["results"]["bindings"]]
        return ResultTable(variables, rows)

    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> Graph:
        """Run a CONSTRUCT query on the endpoint and return its triples."""
        wrapper = self._wrapper(with_values(query, bindings), TURTLE, CONSTRUCT)
        raw = self._attempts("query", self.query_url, lambda: _read(wrapper))
        return Graph().parse(data=raw, format="turtle")

    def add(self, graph: Graph, inferred: bool = False) -> None:
        """Append the triples of ``graph`` to the asserted (or inferred) named graph (GSP POST)."""
        self._request("POST", self.inferred if inferred else self.graph, graph.serialize(format="nt", encoding="utf-8"))

    def put_graph(self, data: bytes, graph: str) -> None:
        """Replace named graph ``graph`` with the N-Triples ``data`` (GSP PUT)."""
        self._request("PUT", graph, data)

    def _graph(self, name: str) -> Graph:
        try:
            data = self._request("GET", name)
        except EndpointUnavailable as err:
            if "HTTP 404" in str(err):  # GSP: a graph that does not exist
                return Graph()
            raise
        return Graph().parse(data=data, format="nt")

    def to_graph(self, include_inferred: bool = True) -> Graph:
        """Return the asserted graph and, if ``include_inferred``, the inferred one (GSP GET)."""
        graph = self._graph(self.graph)
        if include_inferred:
            graph += self._graph(self.inferred)
        return graph

    def inferred_graph(self) -> Graph:
        """Return the inferred named graph (GSP GET)."""
        return self._graph(self.inferred)

    def __len__(self) -> int:
        """Return the number of triples in the asserted and inferred graphs (with repeats)."""
        table = self.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        return int(str(table.rows[0][0]))

    def ping(self) -> None:
        """Check that the endpoint answers a trivial query.

        Raises:
            EndpointUnavailable: when it does not.
        """
        self.select("SELECT * WHERE { } LIMIT 1")

    def __repr__(self) -> str:
        """Name the endpoint and graphs."""
        return f"RemoteStore({self.query_url!r}, graph={self.graph!r}, inferred={self.inferred!r})"
