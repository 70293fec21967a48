"""Render query results and reports as aligned tables, CSV, TSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from typing import Protocol

from rdflib import URIRef

from neuromech.namespaces import compress
from neuromech.store import ResultTable, Term

FORMATS = ("table", "csv", "tsv", "json")


class Reportable(Protocol):
    """A command's answer: a JSON-ready dictionary and a flat table."""

    def to_dict(self) -> dict[str, object]:
        """Return the documented JSON form."""

    def to_rows(self) -> tuple[list[str], list[list[str]]]:
        """Return column names and string rows."""


def cell(term: Term | None) -> str:
    """Return a result cell as text: IRIs as CURIEs, literals as their lexical form."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return compress(str(term))
    return str(term)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def render_rows(columns: list[str], rows: list[list[str]], fmt: str, max_width: int = 60) -> str:
    """Render string rows in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return json.dumps([dict(zip(columns, r, strict=True)) for r in rows], ensure_ascii=False, indent=2)
    if fmt in ("csv", "tsv"):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return buffer.getvalue().rstrip("\n")
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; choose one of {FORMATS}")
    clipped = [[c if _width(c) <= max_width else c[: max_width // 2 - 1] + "…" for c in r] for r in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in clipped]) for i, h in enumerate(columns)]
    lines = ["  ".join(_pad(h, w) for h, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip() for r in clipped]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def render_table(table: ResultTable, fmt: str) -> str:
    """Render a SPARQL result table in ``fmt``."""
    return render_rows(table.variables, [[cell(t) for t in row] for row in table.rows], fmt)
