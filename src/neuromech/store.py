"""SPARQL stores behind one small, explicit interface (:class:`Store`).

:class:`OxigraphStore` (pyoxigraph) is the default: measured on these machines it parses
Turtle 16x faster and answers joins 30x faster than rdflib. :class:`RdflibStore` is the
reference implementation. :class:`neuromech.remote_store.RemoteStore` speaks to any SPARQL 1.1
endpoint. Every store keeps asserted triples apart from the materialised ones (the named
graph ``nm:graph/inferred``) and answers queries over both. All bind query parameters the
same way (:func:`with_values`): as RDF terms serialised by rdflib (``Term.n3()``) into a
``VALUES`` block that opens the query's top-level group, never by pasting user text into the
query. (Oxigraph's own SEP-0007
substitutions were measured to join after evaluation, so a ``FILTER`` cannot see them, and
rdflib's ``initBindings`` behave differently inside sub-queries; one mechanism gives every
store the same semantics.)
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.term import Node

from neuromech import sparql_text
from neuromech.errors import SourceSyntaxError
from neuromech.namespaces import INFERRED_GRAPH

# threads for independent reads on the embedded store (pyoxigraph releases the GIL in queries)
WORKERS = min(4, os.cpu_count() or 1)

Term = URIRef | Literal | BNode
_Item = TypeVar("_Item")
_Result = TypeVar("_Result")
_UNCONVERTED = object()


@dataclass(frozen=True)
class ResultTable:
    """The variables and rows of a SELECT result; unbound cells are ``None``."""

    variables: list[str]
    rows: list[tuple[Term | None, ...]]

    def dicts(self) -> list[dict[str, Term | None]]:
        """Return the rows as dictionaries keyed by variable name."""
        return [dict(zip(self.variables, row, strict=True)) for row in self.rows]


@runtime_checkable
class Store(Protocol):
    """What the pipeline and every command need of a store.

    Implementations: :class:`OxigraphStore` (default, embedded), :class:`RdflibStore`
    (reference), :class:`neuromech.remote_store.RemoteStore` (any SPARQL 1.1 endpoint). One
    contract test suite (``tests/test_store_contract.py``) runs every stored query and the
    querying CLI commands against all three.
    """

    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> ResultTable:
        """Run a SELECT query with ``bindings`` substituted as RDF terms."""

    def select_values(self, query: str) -> list[tuple[str | None, ...]]:
        """Run a SELECT query; each cell is a string: an IRI, a literal's lexical form, a blank node id.

        For bulk reads that only need strings (the findings table, the mapping impact).
        :class:`OxigraphStore` reads them straight off pyoxigraph's terms, skipping the rdflib
        terms :meth:`select` builds (8.3 s of 10 for the 57k-row claims query of a 10^6-triple
        project); other stores go through :meth:`select`.
        """
        return [tuple(None if term is None else str(term) for term in row) for row in self.select(query).rows]

    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> Graph:
        """Run a CONSTRUCT query and return the constructed triples."""

    def add(self, graph: Graph, inferred: bool = False) -> None:
        """Add triples, to the inferred named graph when ``inferred`` is true."""

    def to_graph(self, include_inferred: bool = True) -> Graph:
        """Return every asserted triple and, if ``include_inferred``, the inferred ones."""

    def inferred_graph(self) -> Graph:
        """Return only the triples of the inferred named graph."""

    def __len__(self) -> int:
        """Return the number of quads held."""


def _from_ox(term: object) -> Term | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == "http://www.w3.org/2001/XMLSchema#string":
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    raise TypeError(f"unsupported term {term!r}")


def sparql_braces(query: str, start: int = 0) -> Iterator[tuple[int, str]]:
    """Yield ``(index, char)`` for each SPARQL brace of ``query`` from ``start`` on.

    Braces inside a comment, a string literal or an IRI are skipped
    (:func:`neuromech.sparql_text.opaque_end`).
    """
    index = start
    while (significant := sparql_text.SIGNIFICANT.search(query, index)) is not None:
        index = significant.start()
        if (stop := sparql_text.opaque_end(query, index)) > index:
            index = stop
            continue
        if query[index] in "{}":
            yield index, query[index]
        index += 1


def group_start(query: str, start: int) -> int:
    """Return the index just inside the first ``{`` of ``query`` at or after ``start``.

    Raises:
        SourceSyntaxError: when there is no group there.
    """
    for index, char in sparql_braces(query, start):
        if char == "{":
            return index + 1
    raise SourceSyntaxError("query has no group to bind values into")


def values_block(variable: str, iris: Iterable[str]) -> str:
    """Return ``VALUES ?variable { <iri> ... }`` (IRIs checked by pyoxigraph, sorted)."""
    return f"VALUES ?{variable} {{ {' '.join(str(ox.NamedNode(iri)) for iri in sorted(iris))} }}"


def restrict(query: str, variable: str, iris: Iterable[str]) -> str:
    """Return ``query`` with ``VALUES ?variable { <iri> ... }`` opening every WHERE group that projects it.

    That is the outer WHERE when the query selects ``?variable`` and each sub-select that
    selects it (:func:`neuromech.sparql_text.projecting_sub_selects`): restricting each (not
    only the outer one) lets Oxigraph skip the other nodes inside aggregating sub-selects, and
    aggregates grouped by ``?variable`` keep their values for the kept nodes. The variable must
    be bound by a required pattern in those groups.
    """
    block = f"\n  {values_block(variable, iris)}\n"
    text, brace = _masked_top_level(query)
    inside = sparql_text.projecting_sub_selects(text, variable, brace + 1, sparql_text.group_end(text, brace + 1))
    if sparql_text.projects(text[:brace], variable):
        inside.append(brace + 1)
    return _insert(query, dict.fromkeys(inside, block))


# at most this many IRIs in one restricting VALUES block: at 10^6 triples Oxigraph answered the
# findings table's claims query restricted to 256 findings in 16 ms and to 1,489 in 15.9 s (it
# changes its plan for a large block), so more are split over several queries
VALUES_CHUNK = 200


def chunks(iris: Iterable[str], size: int = VALUES_CHUNK) -> list[list[str]]:
    """Split ``iris`` (sorted) into lists of at most ``size``, one for each restricting VALUES block."""
    ordered = sorted(iris)
    return [ordered[start : start + size] for start in range(0, len(ordered), size)]


_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _sparql_term(term: Term) -> str:
    """Serialise a term for a VALUES block, escaping every character SPARQL strings escape.

    ``Literal.n3()`` leaves tabs raw, and rdflib's query parser expands raw tabs to spaces,
    so literals are escaped here (ECHAR) to reach both stores unchanged.
    """
    if isinstance(term, Literal):
        body = "".join(_STRING_ESCAPES.get(ch, ch) for ch in str(term))
        if term.language:
            return f'"{body}"@{term.language}'
        if term.datatype and str(term.datatype) != "http://www.w3.org/2001/XMLSchema#string":
            return f'"{body}"^^<{term.datatype}>'
        return f'"{body}"'
    return term.n3()


def with_values(query: str, bindings: Mapping[str, Term] | None) -> str:
    """Return ``query`` with ``bindings`` as a VALUES block opening its top-level group.

    Each value is also bound inside every sub-select that projects its variable
    (:func:`neuromech.sparql_text.projecting_sub_selects`; the variable must be bound by a
    required pattern there): the answers are the same, and Oxigraph, which evaluates a
    sub-select before joining it, then computes it for that value alone.

    Each value is an rdflib term serialised with ``n3()``, which escapes quotes, backslashes
    and newlines in literals; IRIs must already be validated (:func:`neuromech.terms.parse_iri`).
    Variable names must be plain SPARQL names.
    """
    if not bindings:
        return query
    for name in bindings:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"invalid variable name {name!r}")
        term = bindings[name]
        if isinstance(term, URIRef) and re.search(r"[\s<>\"{}|\\^`]", str(term)):
            raise ValueError(f"malformed IRI for ?{name}: {str(term)!r}")
    names = " ".join(f"?{name}" for name in bindings)
    values = " ".join(_sparql_term(term) for term in bindings.values())
    text, brace = _masked_top_level(query)
    try:
        close = sparql_text.group_end(text, brace + 1)
        blocks = {brace + 1: f"\n  VALUES ({names}) {{ ({values}) }}\n"}
        for name, term in bindings.items():
            for position in sparql_text.projecting_sub_selects(text, name, brace + 1, close):
                blocks[position] = blocks.get(position, "") + f"\n  VALUES ?{name} {{ {_sparql_term(term)} }}\n"
    except ValueError as err:
        raise SourceSyntaxError(f"query has unbalanced braces ({err})") from err
    return _insert(query, blocks)


def _masked_top_level(query: str) -> tuple[str, int]:
    """Return ``query`` masked (:func:`neuromech.sparql_text.masked`) and the index of its top-level ``{``."""
    text = sparql_text.masked(query)
    brace = text.find("{")
    if brace < 0:
        raise SourceSyntaxError("query has no WHERE group to bind parameters into")
    return text, brace


def _insert(query: str, blocks: Mapping[int, str]) -> str:
    """Return ``query`` with each of ``blocks`` inserted at its index."""
    for position in sorted(blocks, reverse=True):
        query = f"{query[:position]}{blocks[position]}{query[position:]}"
    return query


def _syntax_error(query: str, err: Exception) -> SourceSyntaxError:
    first = query.strip().splitlines()[0] if query.strip() else ""
    return SourceSyntaxError(f"invalid SPARQL ({err}); query starts: {first[:80]}")


def side_by_side(
    store: Store, function: Callable[[_Item], _Result], items: Sequence[_Item], workers: int = 0
) -> list[_Result]:
    """Return ``[function(item) for item in items]``, computed on every core for the embedded store.

    For independent reads (validation checks, the parts of the findings table): pyoxigraph
    releases the GIL while it evaluates a query, so on an :class:`OxigraphStore` they run in
    threads (the 111 checks of a full validation at 10^6 triples take about half the time on
    two cores); other stores run them one after another. ``workers``: how many threads (default
    :data:`WORKERS`, one a core up to 4).
    """
    workers = workers or WORKERS
    if not isinstance(store, OxigraphStore) or len(items) < 2 or workers < 2:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


class OxigraphStore(Store):
    """An in-memory pyoxigraph store; the default."""

    def __init__(self) -> None:
        """Create an empty store."""
        self._store = ox.Store()

    @property
    def native(self) -> ox.Store:
        """The underlying ``pyoxigraph.Store`` (for bulk loads, dumps and in-store updates)."""
        return self._store

    @classmethod
    def from_graph(cls, graph: Graph) -> OxigraphStore:
        """Create a store holding the triples of ``graph`` in its default graph."""
        store = cls()
        store.add(graph)
        return store

    def add(self, graph: Graph, inferred: bool = False) -> None:
        """Add the triples of ``graph`` (to the inferred named graph if ``inferred``)."""
        data = graph.serialize(format="nt", encoding="utf-8")
        target = ox.NamedNode(str(INFERRED_GRAPH)) if inferred else ox.DefaultGraph()
        self._store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=target)

    def _run(self, query: str, bindings: Mapping[str, Term] | None) -> object:
        try:
            return self._store.query(with_values(query, bindings), use_default_graph_as_union=True)
        except SyntaxError as err:
            raise _syntax_error(query, err) from err

    @contextmanager
    def without_inferred(self, predicates: Collection[str] | None = None) -> Iterator[OxigraphStore]:
        """Set the inferred triples aside while the block runs, so that queries see asserted triples only.

        Validation during a rebuild needs it: the shapes judge what curators wrote, and the
        inferred graph may still hold conclusions about nodes an edit removed. With
        ``predicates`` only the inferred triples of those predicates are set aside (enough for
        queries that read no other: the shapes' checks read ``rdf:type``, ``rdfs:subClassOf``
        and a few more, a third of the inferred graph at 10^6 triples). The quads are put back
        however the block ends.

        Querying a default graph made of every asserted graph instead (``default_graph=[...]``)
        is slower on Oxigraph than its union default graph: 5.1 s vs 0.34 s for one class check
        at 10^6 triples, and ~40 ms against ~2 ms for each of a rebuild's focused checks.
        """
        inferred = ox.NamedNode(str(INFERRED_GRAPH))
        if predicates is None:
            aside = list(self._store.quads_for_pattern(None, None, None, inferred))
            if aside:
                self._store.clear_graph(inferred)
        else:
            # quad by quad through Python: 0.6 s for 105k inferred types at 10^6 triples, where
            # a CONSTRUCT serialised to N-Triples, a DELETE and a re-parse inside Oxigraph took 1.5 s
            aside = [
                quad
                for predicate in sorted(predicates)
                for quad in self._store.quads_for_pattern(None, ox.NamedNode(predicate), None, inferred)
            ]
            for quad in aside:
                self._store.remove(quad)
        try:
            yield self
        finally:
            if aside:
                self._store.extend(aside)

    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> ResultTable:
        """Run a SELECT query with ``bindings`` substituted as RDF terms."""
        result = self._run(query, bindings)
        if not isinstance(result, ox.QuerySolutions):
            raise SourceSyntaxError("expected a SELECT query")
        variables = [v.value for v in result.variables]
        # A solution iterates its values in variable order (None when unbound), much faster
        # than indexing it by variable. Each distinct term is converted once per result: rdflib
        # term construction (10-40 us a literal) dominated large results, whose labels,
        # directions and conditions repeat on every row.
        converted: dict[object, Term | None] = {None: None}
        rows: list[tuple[Term | None, ...]] = []
        for solution in result:
            row: list[Term | None] = []
            for value in solution:
                term = converted.get(value, _UNCONVERTED)
                if term is _UNCONVERTED:
                    term = converted[value] = _from_ox(value)
                row.append(term)  # type: ignore[arg-type]
            rows.append(tuple(row))
        return ResultTable(variables, rows)

    def select_values(self, query: str) -> list[tuple[str | None, ...]]:
        """Run a SELECT query; each cell is the term's string value (see :meth:`Store.select_values`).

        The solutions are written as SPARQL CSV by pyoxigraph, which evaluates and writes them
        without holding the GIL, and read back by :mod:`csv`: the findings table's seven queries
        at 10^6 triples took 3.1 s side by side this way, 5.0 s through Python's terms (which
        hold the GIL while each solution is read). CSV writes an unbound variable and an empty
        literal alike, and a blank node as ``_:id``: when a cell is empty, or ``_:`` occurs
        anywhere, the query is run again and read term by term.
        """
        result = self._run(query, None)
        if not isinstance(result, ox.QuerySolutions):
            raise SourceSyntaxError("expected a SELECT query")
        written = result.serialize(format=ox.QueryResultsFormat.CSV)
        if written is not None and b"_:" not in written:
            rows = [tuple(row) for row in csv.reader(io.StringIO(written.decode("utf-8"), newline=""))][1:]
            if not any("" in row for row in rows):
                return rows  # type: ignore[return-value]
        again = self._run(query, None)
        assert isinstance(again, ox.QuerySolutions)
        return [tuple(None if term is None else term.value for term in solution) for solution in again]

    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> Graph:
        """Run a CONSTRUCT query and return the constructed triples as an rdflib graph."""
        result = self._run(query, bindings)
        if not isinstance(result, ox.QueryTriples):
            raise SourceSyntaxError("expected a CONSTRUCT query")
        graph = Graph()
        for triple in result:
            graph.add((_from_ox(triple.subject), _from_ox(triple.predicate), _from_ox(triple.object)))  # type: ignore[arg-type]
        return graph

    def to_graph(self, include_inferred: bool = True) -> Graph:
        """Return every triple (default graph plus, optionally, the inferred graph)."""
        graph = Graph()
        inferred = ox.NamedNode(str(INFERRED_GRAPH))
        for quad in self._store:
            if not include_inferred and quad.graph_name == inferred:
                continue
            graph.add((_from_ox(quad.subject), _from_ox(quad.predicate), _from_ox(quad.object)))  # type: ignore[arg-type]
        return graph

    def inferred_graph(self) -> Graph:
        """Return only the triples of the inferred named graph."""
        graph = Graph()
        for quad in self._store.quads_for_pattern(None, None, None, ox.NamedNode(str(INFERRED_GRAPH))):
            graph.add((_from_ox(quad.subject), _from_ox(quad.predicate), _from_ox(quad.object)))  # type: ignore[arg-type]
        return graph

    def __len__(self) -> int:
        """Return the number of quads held."""
        return len(self._store)


class RdflibStore(Store):
    """A plain rdflib dataset: the reference implementation, slower but dependency-light."""

    def __init__(self) -> None:
        """Create an empty dataset whose default graph is the union of all graphs."""
        self._dataset = Dataset(default_union=True)

    @classmethod
    def from_graph(cls, graph: Graph) -> RdflibStore:
        """Create a store holding the triples of ``graph``."""
        store = cls()
        store.add(graph)
        return store

    def add(self, graph: Graph, inferred: bool = False) -> None:
        """Add the triples of ``graph`` (to the inferred named graph if ``inferred``)."""
        target = self._dataset.graph(INFERRED_GRAPH) if inferred else self._dataset.default_graph
        for triple in graph:
            target.add(triple)

    def _run(self, query: str, bindings: Mapping[str, Term] | None) -> object:
        try:
            return self._dataset.query(with_values(query, bindings))
        except Exception as err:  # pyparsing raises ParseException, not SyntaxError
            if type(err).__name__ in {"ParseException", "ParseSyntaxException"}:
                raise _syntax_error(query, err) from err
            raise

    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> ResultTable:
        """Run a SELECT query with ``bindings`` passed as ``initBindings``."""
        result = self._run(query, bindings)
        variables = [str(v) for v in result.vars or []]  # type: ignore[attr-defined]
        rows: list[tuple[Term | None, ...]] = []
        for row in result:  # type: ignore[attr-defined]
            rows.append(tuple(_as_term(row[v]) for v in range(len(variables))))
        return ResultTable(variables, rows)

    def construct(self, query: str, bindings: Mapping[str, Term] | None = None) -> Graph:
        """Run a CONSTRUCT query and return the constructed triples."""
        result = self._run(query, bindings)
        graph = Graph()
        for triple in result:  # type: ignore[attr-defined]
            graph.add(triple)
        return graph

    def to_graph(self, include_inferred: bool = True) -> Graph:
        """Return every asserted triple and, if ``include_inferred``, the inferred ones."""
        graph = Graph()
        for triple in self._dataset.default_graph:
            graph.add(triple)
        if include_inferred:
            graph += self.inferred_graph()
        return graph

    def inferred_graph(self) -> Graph:
        """Return only the triples of the inferred named graph."""
        graph = Graph()
        for triple in self._dataset.graph(INFERRED_GRAPH):
            graph.add(triple)
        return graph

    def __len__(self) -> int:
        """Return the number of triples held."""
        return len(self._dataset)


def _as_term(node: Node | None) -> Term | None:
    if node is None or isinstance(node, URIRef | Literal | BNode):
        return node
    raise TypeError(f"unsupported term {node!r}")
