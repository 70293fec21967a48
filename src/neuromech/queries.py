"""The stored query catalogue: ``queries/*.rq`` files with a documented header.

A header is a block of ``#`` comment lines at the top of the file::

    # summary: Findings reported for a condition
    # description: Every finding whose condition is ?condition, with measure and direction.
    # param: ?condition entity required -- the condition (label, CURIE or IRI)
    # param: ?review iri optional -- restrict to one review
    # param: ?limit integer default=100 -- at most this many rows
    # tags: findings, condition

Parameter types: ``entity`` (a label, CURIE or IRI resolved against the graph; written
``entity:Condition`` to accept only nodes of class ``nm:Condition``), ``iri`` (an IRI or
CURIE), ``string`` and ``integer``. Values are substituted as RDF terms
(SEP-0007 / ``initBindings``); a parameter left out stays an unbound variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from neuromech.errors import SourceSyntaxError, UsageError
from neuromech.namespaces import NM
from neuromech.report import cell
from neuromech.resolve import Resolver
from neuromech.store import ResultTable, Store, Term
from neuromech.terms import parse_iri, parse_literal

PARAM_TYPES = ("entity", "iri", "string", "integer")
_NOUNS = {"Condition": "condition", "MechanisticEntity": "entity", "Method": "method", "Study": "study"}
_PARAM = re.compile(
    r"^\?(?P<name>[A-Za-z_]\w*)\s+(?P<type>\w+)(?::(?P<kind>[A-Z]\w*))?\s+(?P<need>required|optional|default=\S+)"
    r"(?:\s+--\s*(?P<doc>.*))?$"
)
_HEADER = re.compile(r"^#\s*(?P<key>summary|description|param|tags):\s*(?P<value>.*)$")


@dataclass(frozen=True)
class Parameter:
    """One declared parameter of a stored query."""

    name: str
    type: str
    required: bool
    kind: str | None
    default: str | None
    doc: str


@dataclass(frozen=True)
class StoredQuery:
    """A stored query with its parsed header."""

    name: str
    path: Path
    text: str
    summary: str
    description: str
    parameters: tuple[Parameter, ...]
    tags: tuple[str, ...] = field(default=())

    def parameter(self, name: str) -> Parameter:
        """Return the parameter called ``name``.

        Raises:
            UsageError: when the query declares no such parameter.
        """
        for param in self.parameters:
            if param.name == name:
                return param
        known = ", ".join(p.name for p in self.parameters) or "none"
        raise UsageError(f"query {self.name!r} has no parameter {name!r} (parameters: {known})")


def parse_query_file(path: Path) -> StoredQuery:
    """Parse a ``.rq`` file and its header.

    Raises:
        SourceSyntaxError: when the header lacks a summary or declares a malformed parameter.
    """
    text = path.read_text(encoding="utf-8")
    fields: dict[str, list[str]] = {"summary": [], "description": [], "param": [], "tags": []}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#"):
            break
        match = _HEADER.match(line)
        if match:
            fields[match["key"]].append(match["value"].strip())
        elif fields["description"] and line.startswith("#  "):
            fields["description"].append(line[1:].strip())
        elif line.strip("# "):
            raise SourceSyntaxError(f"{path}:{number}: unrecognised header line {line!r}")
    if not fields["summary"]:
        raise SourceSyntaxError(f"{path}:1: stored query header needs '# summary: ...'")
    params = []
    for raw in fields["param"]:
        match = _PARAM.match(raw)
        if not match or match["type"] not in PARAM_TYPES:
            raise SourceSyntaxError(
                f"{path}: malformed parameter declaration {raw!r}; expected "
                f"'?name TYPE required|optional|default=VALUE -- doc' with TYPE in {PARAM_TYPES}"
            )
        need = match["need"]
        params.append(
            Parameter(
                name=match["name"],
                type=match["type"],
                kind=match["kind"],
                required=need == "required",
                default=need.split("=", 1)[1] if need.startswith("default=") else None,
                doc=(match["doc"] or "").strip(),
            )
        )
    declared = {p.name for p in params}
    used = set(re.findall(r"[?$]([A-Za-z_]\w*)", _strip_comments(text)))
    missing = declared - used
    if missing:
        raise SourceSyntaxError(f"{path}: parameters {sorted(missing)} are declared but never used")
    tags = tuple(t.strip() for raw in fields["tags"] for t in raw.split(",") if t.strip())
    return StoredQuery(
        name=path.stem,
        path=path,
        text=text,
        summary=" ".join(fields["summary"]),
        description=" ".join(fields["description"]),
        parameters=tuple(params),
        tags=tags,
    )


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def load_catalogue(queries_dir: Path) -> dict[str, StoredQuery]:
    """Parse every ``*.rq`` file directly under ``queries_dir``, keyed by file stem."""
    return {q.name: q for q in (parse_query_file(p) for p in sorted(queries_dir.glob("*.rq")))}


def get_query(catalogue: Mapping[str, StoredQuery], name: str) -> StoredQuery:
    """Return the stored query called ``name``.

    Raises:
        UsageError: naming the known queries when ``name`` is unknown.
    """
    if name not in catalogue:
        raise UsageError(f"unknown query {name!r}; known queries: {', '.join(sorted(catalogue))}")
    return catalogue[name]


def bind_parameters(query: StoredQuery, values: Mapping[str, str], resolver: Resolver | None = None) -> dict[str, Term]:
    """Turn user-supplied text values into RDF terms according to the query's header.

    Raises:
        UsageError: for an unknown parameter, a missing required one, or a malformed value.
    """
    for name in values:
        query.parameter(name)
    bindings: dict[str, Term] = {}
    for param in query.parameters:
        raw = values.get(param.name, param.default)
        if raw is None:
            if param.required:
                raise UsageError(f"query {query.name!r} needs parameter {param.name!r} ({param.doc})")
            continue
        what = f"parameter {param.name!r} of query {query.name!r}"
        if param.type == "entity":
            if resolver is None:
                bindings[param.name] = parse_iri(raw, what)
            else:
                kind = NM[param.kind] if param.kind else None
                noun = _NOUNS.get(param.kind or "", "name")
                bindings[param.name] = resolver.resolve(raw, kind, f"{noun} (parameter {param.name!r})")
        elif param.type == "iri":
            bindings[param.name] = parse_iri(raw, what)
        else:
            bindings[param.name] = parse_literal(raw, param.type, what)
    return bindings


def run_query(
    store: Store,
    query: StoredQuery,
    values: Mapping[str, str] | None = None,
    resolver: Resolver | None = None,
) -> ResultTable:
    """Run a stored query on ``store`` with ``values`` bound as RDF terms."""
    bindings = bind_parameters(query, values or {}, resolver)
    return store.select(query.text, bindings)


def normalised_rows(table: ResultTable) -> list[tuple[str, ...]]:
    """Return result rows as text (IRIs as CURIEs, ``|`` and `` ;; `` lists sorted), for comparisons.

    ``GROUP_CONCAT`` leaves the order of the joined values undefined, so list parts are sorted.
    """

    def text(term: Term | None) -> str:
        value = cell(term)
        for separator in (" ;; ", "|"):
            value = separator.join(sorted(value.split(separator)))
        return value

    return [tuple(text(term) for term in row) for row in table.rows]


@dataclass(frozen=True)
class Expectation:
    """Expected rows of a stored query for given parameters (``queries/expected/*.tsv``)."""

    path: Path
    params: dict[str, str]
    columns: list[str]
    rows: list[tuple[str, ...]]


def read_expectation(path: Path) -> Expectation:
    """Read an expectation file: ``# param NAME=VALUE`` lines, a TSV header, then rows."""
    params: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    body = []
    for line in lines:
        if line.startswith("# param "):
            name, _, value = line[len("# param ") :].partition("=")
            params[name] = value
        elif line.startswith("#") or not line.strip():
            continue
        else:
            body.append(line)
    if not body:
        raise SourceSyntaxError(f"{path}: expectation has no header line")
    columns = body[0].split("\t")
    rows = [tuple(line.split("\t")) for line in body[1:]]
    for number, row in enumerate(rows, start=2):
        if len(row) != len(columns):
            raise SourceSyntaxError(f"{path}: row {number} has {len(row)} cells, header has {len(columns)}")
    return Expectation(path, params, columns, rows)
