"""Every stored query parses, documents its parameters, and returns its expected rows on the
mini fixture (exactly) and on the real data (at least the listed rows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuromech.build import KnowledgeGraph
from neuromech.queries import load_catalogue, normalised_rows, parse_query_file, read_expectation
from neuromech.store import RdflibStore

from .conftest import ROOT

QUERIES = sorted((ROOT / "queries").glob("*.rq"))
EXPECTED = ROOT / "queries" / "expected"
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
    for kind in ("fixture", "data"):
        have = {p.name.split(".")[0] for p in EXPECTED.glob(f"*.{kind}.tsv")}
        assert have == names, f"queries without a {kind} expectation: {sorted(names - have)}"


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


@pytest.mark.parametrize("path", QUERIES, ids=[q.stem for q in QUERIES])
def test_query_returns_expected_rows_on_real_data(path: Path, real_kg: KnowledgeGraph) -> None:
    expectation = read_expectation(EXPECTED / f"{path.stem}.data.tsv")
    assert expectation.rows, "a real-data expectation must list at least one row"
    table = real_kg.query(path.stem, expectation.params)
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
