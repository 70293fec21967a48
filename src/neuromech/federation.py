"""Remote SPARQL endpoints: whole queries, and ``SERVICE`` blocks joined with the local graph.

A stored query may hold one ``SERVICE <...> { ... }`` block. :func:`run_federated` sends that
block to the endpoint given on the command line (``neuromech query NAME --endpoint URL``)
through SPARQLWrapper, with the query's parameters bound inside it, and joins the answer with
the local graph by replacing the block with a ``VALUES`` table of the remote rows (a bind
join, so the local engine needs no HTTP client). A query without a ``SERVICE`` block is run
entirely at the endpoint (:func:`run_remote`), e.g. against a ``neuromech serve`` store.

Every request has a timeout and is retried with exponential back-off; an endpoint that stays
unreachable raises :class:`EndpointUnreachable` naming the URL and the last error.
"""

from __future__ import annotations

import re
import time
import urllib.error
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rdflib import BNode, Literal, URIRef
from SPARQLWrapper import JSON, POST, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed, SPARQLWrapperException

from neuromech.build import open_graph
from neuromech.errors import NeuroMechError, SourceSyntaxError
from neuromech.paths import ProjectPaths
from neuromech.queries import StoredQuery, bind_parameters, get_query, load_catalogue
from neuromech.store import ResultTable, Store, Term, sparql_braces, with_values

_SERVICE = re.compile(r"\bSERVICE\s+(?:SILENT\s+)?(?:<[^<>\s]*>|\?[A-Za-z_]\w*)\s*\{", re.IGNORECASE)
_PREFIX = re.compile(r"^\s*(?:PREFIX|BASE)\b[^\n]*$", re.IGNORECASE | re.MULTILINE)
_VARIABLE = re.compile(r"[?$]([A-Za-z_]\w*)")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


class EndpointUnreachable(NeuroMechError):
    """A remote SPARQL endpoint did not answer (after retries) or answered with an error."""

    exit_code = 69  # EX_UNAVAILABLE


@dataclass(frozen=True)
class Endpoint:
    """A remote SPARQL endpoint and how patiently to talk to it."""

    url: str
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 0.5

    def select(self, query: str) -> ResultTable:
        """Run a SELECT query at the endpoint and return its rows as RDF terms.

        Raises:
            EndpointUnreachable: when every attempt fails (connection refused, timeout, HTTP error).
        """
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            client = SPARQLWrapper(self.url)
            client.setQuery(query)
            client.setMethod(POST)
            client.setReturnFormat(JSON)
            client.setTimeout(max(1, round(self.timeout)))
            try:
                answer = client.queryAndConvert()
            except QueryBadFormed as err:
                raise EndpointUnreachable(f"SPARQL endpoint {self.url} rejected the query: {err}") from err
            except (urllib.error.URLError, SPARQLWrapperException, TimeoutError, OSError) as err:
                last = err
                continue
            if not isinstance(answer, dict) or "results" not in answer:
                raise EndpointUnreachable(f"SPARQL endpoint {self.url} did not return SPARQL JSON results")
            return _table(answer)
        raise EndpointUnreachable(
            f"SPARQL endpoint {self.url} is unreachable after {self.retries + 1} attempts "
            f"(timeout {self.timeout:g} s each): {last}"
        )


def _term(cell: Mapping[str, str]) -> Term:
    kind, value = cell.get("type"), cell.get("value", "")
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if cell.get("xml:lang"):
        return Literal(value, lang=cell["xml:lang"])
    if cell.get("datatype"):
        return Literal(value, datatype=URIRef(cell["datatype"]))
    return Literal(value)


def _table(answer: dict[str, Any]) -> ResultTable:
    variables = list(answer.get("head", {}).get("vars", []))
    rows = [
        tuple(_term(binding[v]) if v in binding else None for v in variables)
        for binding in answer["results"].get("bindings", [])
    ]
    return ResultTable(variables, rows)


def _matching_brace(text: str, opening: int) -> int:
    depth = 0
    for index, char in sparql_braces(text, opening):
        depth += 1 if char == "{" else -1
        if depth == 0:
            return index
    raise SourceSyntaxError("unbalanced braces in the SERVICE block")


@dataclass(frozen=True)
class ServiceBlock:
    """The position of a ``SERVICE`` block in a query and its inner group pattern."""

    start: int
    end: int
    inner: str


def find_service(query: str) -> ServiceBlock | None:
    """Return the first ``SERVICE`` block of ``query`` (outside comments), if any."""
    # comment lines are blanked (same length, so offsets into ``query`` stay valid)
    code = "\n".join(" " * len(line) if line.lstrip().startswith("#") else line for line in query.splitlines())
    match = _SERVICE.search(code)
    if match is None:
        return None
    opening = match.end() - 1
    closing = _matching_brace(code, opening)
    return ServiceBlock(match.start(), closing + 1, code[opening + 1 : closing])


def _sparql_term(term: Term) -> str:
    if isinstance(term, Literal):
        body = "".join(_ESCAPES.get(ch, ch) for ch in str(term))
        if term.language:
            return f'"{body}"@{term.language}'
        if term.datatype and str(term.datatype) != "http://www.w3.org/2001/XMLSchema#string":
            return f'"{body}"^^<{term.datatype}>'
        return f'"{body}"'
    if isinstance(term, BNode):
        raise EndpointUnreachable("the endpoint returned a blank node, which cannot be joined with the local graph")
    if re.search(r"[\s<>\"{}|\\^`]", str(term)):
        raise EndpointUnreachable(f"the endpoint returned a malformed IRI {str(term)!r}")
    return f"<{term}>"


def values_block(table: ResultTable) -> str:
    """Return ``table`` as a SPARQL ``VALUES`` block (unbound cells as ``UNDEF``)."""
    names = " ".join(f"?{v}" for v in table.variables)
    rows = " ".join("(" + " ".join("UNDEF" if t is None else _sparql_term(t) for t in row) + ")" for row in table.rows)
    return f"VALUES ({names}) {{ {rows} }}"


def service_query(query: str, block: ServiceBlock, bindings: Mapping[str, Term]) -> str:
    """Return the remote SELECT for ``block``: the query's prefixes, the inner pattern, the parameters it uses."""
    prologue = "\n".join(m.group(0).strip() for m in _PREFIX.finditer(query[: block.start]))
    used = set(_VARIABLE.findall(block.inner))
    remote = f"{prologue}\nSELECT * WHERE {{{block.inner}}}"
    return with_values(remote, {k: v for k, v in bindings.items() if k in used})


def run_federated(store: Store, query: str, bindings: Mapping[str, Term], endpoint: Endpoint) -> ResultTable:
    """Run ``query`` locally with its ``SERVICE`` block answered by ``endpoint`` (a bind join).

    Raises:
        EndpointUnreachable: when the endpoint does not answer.
        SourceSyntaxError: when the query has no ``SERVICE`` block.
    """
    block = find_service(query)
    if block is None:
        raise SourceSyntaxError("the query has no SERVICE block to send to the endpoint")
    remote = endpoint.select(service_query(query, block, bindings))
    local = query[: block.start] + values_block(remote) + query[block.end :]
    return store.select(local, bindings)


def run_remote(query: str, bindings: Mapping[str, Term], endpoint: Endpoint) -> ResultTable:
    """Run a whole SELECT query (parameters bound as a ``VALUES`` block) at ``endpoint``."""
    return endpoint.select(with_values(query, bindings))


def federated_catalogue(paths: ProjectPaths) -> dict[str, StoredQuery]:
    """Return the stored queries that need an endpoint (``queries/federated/*.rq``)."""
    return load_catalogue(paths.queries_dir / "federated")


def query_endpoint(paths: ProjectPaths, name: str, values: Mapping[str, str], endpoint: Endpoint) -> ResultTable:
    """Run the stored query ``name`` with ``endpoint``.

    A query with a ``SERVICE`` block (``queries/federated/``) runs on the local graph with the
    block answered by the endpoint; any other stored query runs entirely at the endpoint, its
    parameters taken as IRIs or literals (names are not resolved against a remote graph).

    Raises:
        UsageError: for an unknown query or parameter.
        EndpointUnreachable: when the endpoint does not answer.
    """
    catalogue = {**load_catalogue(paths.queries_dir), **federated_catalogue(paths)}
    stored = get_query(catalogue, name)
    if find_service(stored.text) is None:
        return run_remote(stored.text, bind_parameters(stored, values), endpoint)
    kg = open_graph(paths)
    return run_federated(kg.store, stored.text, bind_parameters(stored, values, kg.resolver), endpoint)
