"""Every stored query parses, documents its parameters, and returns its expected rows on the
mini fixture (exactly) and on the real data (at least the listed rows)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from neuromech.build import KnowledgeGraph
from neuromech.queries import load_catalogue, normalised_rows, parse_query_file, read_expectation
from neuromech.store import RdflibStore

from .conftest import ROOT

QUERIES = sorted((ROOT / "queries").glob("*.rq"))
EXPECTED = ROOT / "queries" / "expected"
DATA_EXPECTATIONS = sorted(EXPECTED.glob("*.data*.tsv"))
MINIMUM_QUERIES = 6


def test_catalogue_is_complete() -> None:
    """Guards the parametrisation below: a check cannot silently stop checking."""
    assert len(QUERIES) >= MINIMUM_QUERIES
    names = {q.stem for q in QUERIES}
    assert names >= {
        "findings",
        "entities-for-condition",
        "evidence-for-pair",
        "shared-mechanisms",
        "findings-by-method",
        "findings-citing-study",
    }
    for pattern in ("*.fixture.tsv", "*.data.tsv"):
        have = {p.name.split(".")[0] for p in EXPECTED.glob(pattern)}
        assert have == names, f"queries without a {pattern} expectation: {sorted(names - have)}"
    assert len(DATA_EXPECTATIONS) >= len(names)


@pytest.mark.parametrize("path", QUERIES, ids=[q.stem for q in QUERIES])
def test_query_header_is_documented(path: Path) -> None:
    query = parse_query_file(path)
    assert query.summary
    assert query.description
    for param in query.parameters:
        assert param.doc, f"parameter {param.name} of {query.name} is undocumented"


@pytest.mark.parametrize("path", QUERIES, ids=[q.stem for q in QUERIES])
def test_query_returns_expected_rows_on_fixture(path: Path, mini_kg: KnowledgeGraph) -> None:
    expectation = read_expectation(EXPECTED / f"{path.stem}.fixture.tsv")
    table = mini_kg.query(path.stem, expectation.params)
    assert table.variables == expectation.columns
    assert normalised_rows(table) == expectation.rows


@pytest.mark.parametrize("expected", DATA_EXPECTATIONS, ids=[p.name for p in DATA_EXPECTATIONS])
def test_query_returns_expected_rows_on_real_data(expected: Path, real_kg: KnowledgeGraph) -> None:
    """Each ``<query>.data*.tsv`` lists rows the query must return on the real data."""
    expectation = read_expectation(expected)
    assert expectation.rows, "a real-data expectation must list at least one row"
    table = real_kg.query(expected.name.split(".")[0], expectation.params)
    assert table.variables == expectation.columns
    got = normalised_rows(table)
    missing = [row for row in expectation.rows if row not in got]
    assert missing == []


@pytest.mark.parametrize("path", QUERIES, ids=[q.stem for q in QUERIES])
def test_rdflib_reference_store_agrees_with_oxigraph(path: Path, mini_kg: KnowledgeGraph) -> None:
    expectation = read_expectation(EXPECTED / f"{path.stem}.fixture.tsv")
    reference = RdflibStore.from_graph(mini_kg.store.to_graph())
    from neuromech.queries import run_query

    table = run_query(reference, load_catalogue(ROOT / "queries")[path.stem], expectation.params, mini_kg.resolver)
    assert sorted(normalised_rows(table)) == sorted(expectation.rows)


_SUB_SELECT = re.compile(r"  (OPTIONAL )?\{ SELECT")
_TRIPLE_PATTERN = re.compile(r"  (?!OPTIONAL|FILTER|BIND|MINUS|VALUES)[?<a-z]")


def triple_patterns_after_sub_selects(text: str) -> list[str]:
    """Top-level triple patterns that follow a sub-select in the query's WHERE group.

    rdflib (the reference store) joins such a pattern eagerly: it evaluates it with nothing
    bound and nested-loop joins the result (every label times every label for two label
    patterns), which is how nine faster rewrites once hung the agreement test above
    (docs/performance.md, pass 5). Query files keep one top-level item per line, indented by two.
    """
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("WHERE {"))
    seen_sub_select = False
    late: list[str] = []
    for line in lines[start + 1 :]:
        if line == "}":
            break
        if _SUB_SELECT.match(line):
            seen_sub_select = True
        elif seen_sub_select and _TRIPLE_PATTERN.match(line):
            late.append(line.strip())
    return late


@pytest.mark.parametrize("path", QUERIES, ids=[q.stem for q in QUERIES])
def test_triple_patterns_precede_sub_selects(path: Path) -> None:
    assert triple_patterns_after_sub_selects(path.read_text(encoding="utf-8")) == []


def test_late_triple_pattern_is_reported() -> None:
    query = """SELECT *
WHERE {
  ?f a nm:Finding ; nm:has_condition ?c .
  { SELECT ?c ?l WHERE { ?c rdfs:label ?l } }
  OPTIONAL { ?f nm:cites_study ?s }
  ?f nm:has_direction ?d .
  FILTER(?d != nm:increased)
}"""
    assert triple_patterns_after_sub_selects(query) == ["?f nm:has_direction ?d ."]
    assert triple_patterns_after_sub_selects(query.replace("  ?f nm:has_direction ?d .\n", "")) == []
