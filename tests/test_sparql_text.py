"""Parameters bound inside the sub-selects that project them (neuromech.sparql_text)."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef

from neuromech import sparql_text
from neuromech.errors import SourceSyntaxError
from neuromech.store import OxigraphStore, RdflibStore, Store, with_values

EX = "http://example.org/"
A = URIRef(EX + "a")
TURTLE = f"""
@prefix ex: <{EX}> .
ex:f1 ex:condition ex:a ; ex:entity ex:x .
ex:f2 ex:condition ex:a ; ex:entity ex:y .
ex:f3 ex:condition ex:a ; ex:entity ex:y .
ex:f4 ex:condition ex:b ; ex:entity ex:x .
ex:f5 ex:condition ex:b ; ex:entity ex:z .
"""


def _values_blocks(text: str) -> int:
    return text.count("VALUES ?a {")


def test_masking_blanks_comments_strings_and_iris_and_keeps_every_index() -> None:
    query = 'SELECT ?a # a { SELECT in a comment\nWHERE { ?a <http://x/SELECT#x> "}SELECT{" }'
    text = sparql_text.masked(query)
    assert len(text) == len(query)
    assert text.count("{") == 1
    assert text.count("}") == 1
    assert text.upper().count("SELECT") == 1
    assert text.index("WHERE") == query.index("WHERE")
    assert "\n" in text


def test_a_parameter_is_bound_in_each_sub_select_that_projects_it() -> None:
    query = f"""PREFIX ex: <{EX}>
SELECT ?entity ?n WHERE {{
  {{ SELECT ?a ?entity (COUNT(?f) AS ?n) WHERE {{ ?f ex:condition ?a ; ex:entity ?entity }} GROUP BY ?a ?entity }}
  {{ SELECT ?entity (COUNT(?a) AS ?m) WHERE {{ ?g ex:condition ?a ; ex:entity ?entity }} GROUP BY ?entity }}
  {{ SELECT ?entity WHERE {{ {{ SELECT ?a ?entity WHERE {{ ?h ex:condition ?a ; ex:entity ?entity }} }} }} }}
  {{ SELECT ?a ?entity WHERE {{ ?k ex:condition ?a ; ex:entity ?entity }} ORDER BY ?entity LIMIT 1 }}
}}"""
    bound = with_values(query, {"a": A})
    # the top-level block and the first sub-select only: the second uses ?a inside an
    # aggregate, the third's inner ?a belongs to a sub-select that does not project it, the
    # fourth has a LIMIT
    assert "VALUES (?a) {" in bound
    assert _values_blocks(bound) == 1
    first = bound.index("SELECT ?a ?entity (COUNT")
    assert bound.index("VALUES ?a {") < bound.index("GROUP BY ?a ?entity")
    assert bound.index("VALUES ?a {") > first


def test_nested_sub_selects_that_all_project_it_are_each_bound() -> None:
    query = f"""PREFIX ex: <{EX}>
SELECT ?entity WHERE {{
  {{ SELECT ?a ?entity WHERE {{
    {{ SELECT DISTINCT ?a ?entity WHERE {{ ?h ex:condition ?a ; ex:entity ?entity }} }}
  }} }}
}}"""
    assert _values_blocks(with_values(query, {"a": A})) == 2


@pytest.fixture(params=[OxigraphStore, RdflibStore], ids=["oxigraph", "rdflib"])
def store(request: pytest.FixtureRequest) -> Store:
    made: Store = request.param()
    made.add(Graph().parse(data=TURTLE, format="turtle"))
    return made


def test_binding_inside_sub_selects_gives_the_answers_of_binding_at_the_top(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = f"""PREFIX ex: <{EX}>
SELECT ?entity ?n WHERE {{
  {{ SELECT ?a ?entity (COUNT(?f) AS ?n) WHERE {{ ?f ex:condition ?a ; ex:entity ?entity }} GROUP BY ?a ?entity }}
}}"""
    bound = with_values(query, {"a": A})
    assert _values_blocks(bound) == 1
    inside = store.select(bound).rows
    monkeypatch.setattr(sparql_text, "projecting_sub_selects", lambda *_: [])
    assert _values_blocks(with_values(query, {"a": A})) == 0
    assert sorted(store.select(with_values(query, {"a": A})).rows) == sorted(inside)
    assert sorted((str(e), int(n)) for e, n in inside) == [(EX + "x", 1), (EX + "y", 2)]


def test_a_sub_select_with_a_limit_keeps_its_rows_for_every_value(store: Store) -> None:
    # its one row over every condition is ex:b's ex:z, which does not join ?a = ex:a: no answer.
    # Restricted to ex:a first, it would answer ex:y; with_values leaves it alone.
    query = f"""PREFIX ex: <{EX}>
SELECT ?last WHERE {{
  {{ SELECT ?a ?last WHERE {{ ?g ex:condition ?a ; ex:entity ?last }} ORDER BY DESC(?last) LIMIT 1 }}
}}"""
    bound = with_values(query, {"a": A})
    assert _values_blocks(bound) == 0
    assert store.select(bound).rows == []
    restricted = bound.replace("WHERE { ?g", f"WHERE {{ VALUES ?a {{ <{A}> }} ?g")
    assert [str(row[0]) for row in store.select(restricted).rows] == [EX + "y"]


def test_unbalanced_braces_are_a_syntax_error() -> None:
    with pytest.raises(SourceSyntaxError, match="unbalanced"):
        with_values("SELECT ?a WHERE { ?a ?p ?o ", {"a": A})
