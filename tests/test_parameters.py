"""Parameters are bound as RDF terms: hostile values never change a query's structure."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Literal, URIRef, Variable
from rdflib.plugins.sparql import prepareQuery

from neuromech.build import KnowledgeGraph
from neuromech.errors import UsageError
from neuromech.queries import StoredQuery, bind_parameters, load_catalogue
from neuromech.store import with_values
from neuromech.terms import parse_iri

from .conftest import ROOT

CATALOGUE = load_catalogue(ROOT / "queries")
FRAGMENTS = [
    '" } ; DROP ALL ; SELECT * WHERE { ?s ?p ?o',
    "'} INSERT DATA { <http://x> <http://y> <http://z> } #",
    "}\n# comment\n{",
    '\\"',
    "> } . ?s ?p ?o . FILTER(true) #",
    "nme:amygdala> } DELETE WHERE { ?s ?p ?o } #",
    '"""\t\r\n',
    '杏仁核" } #',
]
HOSTILE = st.one_of(
    st.text(min_size=0, max_size=30).filter(lambda t: "\x00" not in t),
    st.sampled_from(FRAGMENTS),
    st.builds(lambda a, b: a + b, st.sampled_from(['"', "}", "#", "\n", "{", ">", "'", "\\"]), st.text(max_size=15)),
)


def _mask(node: object, found: list[object]) -> object:
    """Copy a parsed algebra into plain data, moving every VALUES row into ``found``."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "res" and isinstance(value, list):  # the rows of a VALUES block
                found.extend(value)
                out[key] = "<VALUES>"
            else:
                out[key] = _mask(value, found)
        return (getattr(node, "name", "dict"), sorted(out.items(), key=lambda kv: str(kv[0])))
    if isinstance(node, list | tuple):
        return [_mask(item, found) for item in node]
    if isinstance(node, set):
        return sorted(repr(item) for item in node)
    return repr(node)


def _structure(query: StoredQuery, values: dict[str, Literal]) -> tuple[object, list[object]]:
    """Parse the query with its VALUES block: the algebra without the VALUES rows, and the rows."""
    found: list[object] = []
    algebra = _mask(prepareQuery(with_values(query.text, values)).algebra, found)
    return algebra, found


_BENIGN_CACHE: dict[str, object] = {}


def _check(name: str, value: str) -> None:
    query = CATALOGUE[name]
    benign = {p.name: Literal("benign") for p in query.parameters}
    if name not in _BENIGN_CACHE:
        _BENIGN_CACHE[name] = _structure(query, benign)
    benign_algebra, benign_rows = _BENIGN_CACHE[name]  # type: ignore[misc]
    hostile = {p.name: Literal(value) for p in query.parameters}
    algebra, rows = _structure(query, hostile)
    assert algebra == benign_algebra
    # the injected VALUES row holds exactly the terms given, unchanged (and so does each
    # single-parameter row bound inside a sub-select); the query's own VALUES blocks (if any)
    # are untouched
    ours = {Variable(k): v for k, v in hostile.items()}
    assert ours in rows
    assert _own_rows(rows, ours) == _own_rows(benign_rows, {Variable(k): v for k, v in benign.items()})


def _own_rows(rows: list[dict[Variable, object]], given: dict[Variable, object]) -> list[dict[Variable, object]]:
    """Return the rows of the query's own VALUES blocks: neither ``given`` nor one of its bindings."""
    return [r for r in rows if r != given and not (len(r) == 1 and r.items() <= given.items())]


@pytest.mark.parametrize("fragment", FRAGMENTS)
@pytest.mark.parametrize("name", sorted(n for n, q in CATALOGUE.items() if q.parameters))
def test_injection_fragments_never_change_query_structure(name: str, fragment: str) -> None:
    _check(name, fragment)


@settings(max_examples=60, deadline=None)
@given(value=HOSTILE, name=st.sampled_from(sorted(n for n, q in CATALOGUE.items() if q.parameters)))
def test_random_values_never_change_query_structure(name: str, value: str) -> None:
    _check(name, value)


@given(value=HOSTILE)
@settings(max_examples=200, deadline=None)
def test_malformed_iris_are_rejected_or_safe(value: str) -> None:
    try:
        iri = parse_iri(value)
    except UsageError as err:
        message = str(err)
        iri = None
    if iri is None:
        assert "malformed IRI" in message
        return
    # anything accepted serialises to a single IRI token
    text = iri.n3()
    assert text.startswith("<")
    assert text.endswith(">")
    assert not any(ch in text[1:-1] for ch in '<>"{}|\\^` \n')


@pytest.mark.parametrize(
    "value",
    ["http://x/a> } DROP ALL { <http://x/b", "nme:amy gdala", "not an iri", 'http://x/"q"', "zz:unknown-prefix"],
)
def test_iri_parameters_reject_malformed_values(value: str) -> None:
    query = CATALOGUE["findings"]
    with pytest.raises(UsageError, match="malformed IRI"):
        bind_parameters(query, {"review": value})


def test_hostile_label_is_an_unknown_name_not_an_injection(mini_kg: KnowledgeGraph) -> None:
    with pytest.raises(UsageError, match="unknown"):
        mini_kg.query("findings", {"condition": '" } ?s ?p ?o { "'})


def test_values_block_binds_terms_as_given(mini_kg: KnowledgeGraph) -> None:
    text = with_values(CATALOGUE["findings"].text, {"review": URIRef("https://w3id.org/neuromech/review/fixture")})
    assert "VALUES (?review) { (<https://w3id.org/neuromech/review/fixture>) }" in text
    assert len(mini_kg.store.select(text).rows) == 7  # fixture-0001 … fixture-0007


def test_unknown_and_missing_parameters_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="has no parameter 'colour'"):
        bind_parameters(CATALOGUE["findings"], {"colour": "red"})
    with pytest.raises(UsageError, match="needs parameter 'a'"):
        bind_parameters(CATALOGUE["shared-mechanisms"], {"b": "nme:x"})
