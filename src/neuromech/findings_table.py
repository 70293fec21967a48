"""``findings.tsv`` assembled from six simple queries, with the rows of ``queries/findings.rq``.

``findings.rq`` states the table as one query; it stays the user-facing stored query and the
reference. Oxigraph plans its label and external-ID ``OPTIONAL`` groups as a loop over every
finding row: on a 10^6-triple project (57k findings, one condition holding 32k of them) the
query took 257 s, of which 118 s came from the condition-label ``OPTIONAL`` alone. Each
pattern on its own is fast (the claims' star 1.7 s, the context union 1.0 s, all labels and
mappings 0.03 s), so the build runs them separately and joins them here by finding and node.

The join reproduces the query's semantics exactly, including its ``DISTINCT`` over the
projected values, its inner joins (a finding needs a review, a condition, a section, a
measured entity, a measure and a direction with English labels, an evidence type, a quote and
a statement) and its optional parts. ``tests/test_findings_table.py`` proves the records equal
those of ``findings.rq`` on the real data and on hand-made edge cases.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from itertools import product

from neuromech import export, rules
from neuromech.store import VALUES_CHUNK, Store, chunks, restrict, side_by_side

_PREFIXES = """PREFIX nm: <https://w3id.org/neuromech/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""

CLAIMS = (
    _PREFIXES
    + """SELECT ?finding ?review ?condition ?section ?measured ?measure ?direction ?evidence ?statement ?q WHERE {
  ?finding nm:has_measured_entity ?measured ; nm:from_review ?review ; nm:has_condition ?condition ;
           nm:section ?section ; nm:has_measure ?measure ; nm:has_direction ?direction ;
           nm:has_evidence_type ?evidence ; nm:quote ?q ; nm:statement ?statement .
  ?finding a nm:Finding .
}"""
)


def _per_finding(pattern: str) -> str:
    """Return a query of ``?finding ?value`` rows, ``pattern`` binding ``?value`` for a finding."""
    return f"{_PREFIXES}SELECT ?finding ?value WHERE {{\n{pattern}\n  ?finding a nm:Finding .\n}}"


PARTNERS = _per_finding("  ?finding nm:has_partner_entity ?value .")

CONTEXT = _per_finding(
    """  { ?finding nm:has_comparison_group ?cg . ?cg rdfs:label ?gl . FILTER(LANG(?gl) = "en")
    BIND(CONCAT("vs: ", ?gl) AS ?value) }
  UNION { ?finding nm:has_task ?t . ?t rdfs:label ?tl . FILTER(LANG(?tl) = "en")
    BIND(CONCAT("task: ", ?tl) AS ?value) }
  UNION { ?finding nm:in_species ?sp . ?sp rdfs:label ?sl . FILTER(LANG(?sl) = "en")
    BIND(CONCAT("species: ", ?sl) AS ?value) }
  UNION { ?finding nm:has_age_group ?ag . ?ag rdfs:label ?al . FILTER(LANG(?al) = "en")
    BIND(CONCAT("age: ", ?al) AS ?value) }
  UNION { ?finding nm:has_sex ?sx . ?sx rdfs:label ?xl . FILTER(LANG(?xl) = "en")
    BIND(CONCAT("sex: ", ?xl) AS ?value) }
  UNION { ?finding nm:has_intervention ?iv . ?iv rdfs:label ?il . FILTER(LANG(?il) = "en")
    BIND(CONCAT("intervention: ", ?il) AS ?value) }
  UNION { ?finding nm:sample_size ?n . BIND(CONCAT("n: ", STR(?n)) AS ?value) }
  UNION { ?finding nm:context_note ?cn . BIND(CONCAT("note: ", STR(?cn)) AS ?value) }"""
)

METHODS = _per_finding('  ?finding nm:has_method ?method . ?method rdfs:label ?value . FILTER(LANG(?value) = "en")')

CITED = _per_finding("  ?finding nm:cites_study ?study . ?study nm:citation_text ?value .")

LABELS = _PREFIXES + """SELECT ?node ?value WHERE { ?node rdfs:label ?value . FILTER(LANG(?value) = "en") }"""

EXTERNAL_IDS = (
    _PREFIXES
    + """SELECT ?node ?value WHERE { ?node skos:exactMatch|skos:closeMatch|skos:broadMatch|skos:narrowMatch ?value }"""
)

# findings.rq's projection, in order; the export turns these values into findings.tsv columns
VARIABLES = (
    "finding",
    "review",
    "section",
    "condition",
    "condition_label",
    "condition_ids",
    "measured",
    "measured_label",
    "measured_ids",
    "partner",
    "partner_label",
    "partner_ids",
    "measure_label",
    "direction_label",
    "context",
    "method_label",
    "evidence",
    "cited_study",
    "quote",
    "statement",
)

Row = tuple[str | None, ...]  # one value per VARIABLES entry


def _bind(query: str, findings: set[str] | None) -> str:
    """``query`` restricted to ``findings`` (a VALUES block on ``?finding``), or unchanged for all."""
    return query if findings is None else restrict(query, "finding", findings)


def _multimap(rows: list[tuple[str | None, ...]]) -> dict[str, list[str]]:
    """``?node|?finding -> [?value ...]`` (distinct values, first-seen order).

    Both variables are bound in every row of the table's queries (required patterns).
    """
    found: dict[str, dict[str, None]] = {}
    for key, value in rows:
        if key is None or value is None:  # cannot happen: required patterns bind both
            continue
        values = found.get(key)
        if values is None:
            found[key] = {value: None}
        else:
            values[value] = None
    return {key: list(values) for key, values in found.items()}


def _concat(values: list[str], separator: str) -> str | None:
    """GROUP_CONCAT(DISTINCT ...) of distinct ``values``, unbound when there is nothing to join."""
    return separator.join(values) if values else None


def _optional(values: dict[str, list[str]], node: str | None) -> list[str | None]:
    """Return the node's values, or one unbound value (an OPTIONAL that did not match)."""
    found: list[str | None] = list(values.get(node, ())) if node is not None else []
    return found or [None]


QUERIES = (LABELS, EXTERNAL_IDS, PARTNERS, CONTEXT, METHODS, CITED, CLAIMS)


@cache
def keys_read() -> frozenset[str]:
    """Return what the table's queries read, as :func:`neuromech.rules.triple_key` keys (types by class).

    A table queried before the rules ran is the table after them when no derived triple has
    one of these keys (:func:`neuromech.rules.overlaps`).
    """
    return frozenset().union(*(rules.query_keys(query) for query in QUERIES))


Parts = list[list[tuple[str | None, ...]]]  # the rows of QUERIES, in order


def query_parts(store: Store, findings: set[str] | None = None, *, parallel: bool = True) -> Parts:
    """Run the table's seven queries (restricted to ``findings`` when given); :func:`join` makes the rows.

    They run side by side on the embedded store, or one after another (``parallel`` False:
    the build runs them beside the rules, on the core the rules leave free).
    """
    parts = [LABELS, EXTERNAL_IDS, *(_bind(q, findings) for q in QUERIES[2:])]
    if parallel:
        return side_by_side(store, store.select_values, parts)
    return [store.select_values(part) for part in parts]


def findings_values(store: Store, findings: set[str] | None = None, parts: Parts | None = None) -> dict[str, list[Row]]:
    """Return ``findings.rq``'s distinct rows per finding IRI, each a tuple of values in :data:`VARIABLES` order.

    ``findings`` restricts the result to those finding IRIs (a rebuild re-queries only the
    edited findings); ``None`` means every finding. ``parts``: the rows of :func:`query_parts`
    for ``findings``, already queried.
    """
    if findings is not None and not findings:
        return {}
    if parts is None and findings is not None and len(findings) > VALUES_CHUNK:  # rows depend on own triples
        return {
            finding: rows
            for chunk in chunks(findings, VALUES_CHUNK)
            for finding, rows in findings_values(store, set(chunk)).items()
        }
    return join(query_parts(store, findings) if parts is None else parts)


def join(parts: Parts) -> dict[str, list[Row]]:
    """Join the rows of :func:`query_parts` into ``findings.rq``'s distinct rows per finding IRI."""
    *multi, claims = parts
    labels, raw_ids, partners, context, methods, cited = map(_multimap, multi)
    ids = {node: "|".join(values) for node, values in raw_ids.items()}

    # the claims' core, grouped as findings.rq's quote sub-select groups it
    quotes: dict[tuple[str, ...], dict[str, None]] = defaultdict(dict)
    reviews: dict[str, dict[str, None]] = defaultdict(dict)
    conditions: dict[str, dict[str, None]] = defaultdict(dict)
    for row in claims:
        finding, review, condition, section, measured, measure, direction, evidence, statement, quote = map(str, row)
        reviews[finding][review] = None
        conditions[finding][condition] = None
        for measure_label in labels.get(measure, ()):
            for direction_label in labels.get(direction, ()):
                key = (finding, section, measured, measure_label, direction_label, evidence, statement)
                quotes[key][quote] = None

    rows: dict[str, dict[Row, None]] = defaultdict(dict)
    for (finding, section, measured, measure_label, direction_label, evidence, statement), quoted in quotes.items():
        context_cell = _concat(context.get(finding, []), " ;; ")
        method_cell = _concat(methods.get(finding, []), "|")
        cited_cell = _concat(cited.get(finding, []), "|")
        quote = " … ".join(quoted)
        measured_ids = ids.get(measured)
        conditions_labelled = [(c, label) for c in conditions[finding] for label in _optional(labels, c)]
        partners_labelled = [(p, label) for p in _optional(partners, finding) for label in _optional(labels, p)]
        found = rows[finding]
        for review, (condition, condition_label), measured_label, (partner, partner_label) in product(
            reviews[finding], conditions_labelled, _optional(labels, measured), partners_labelled
        ):
            # in VARIABLES order
            found[
                (
                    finding,
                    review,
                    section,
                    condition,
                    condition_label,
                    ids.get(condition),
                    measured,
                    measured_label,
                    measured_ids,
                    partner,
                    partner_label,
                    ids.get(partner) if partner else None,
                    measure_label,
                    direction_label,
                    context_cell,
                    method_cell,
                    evidence,
                    cited_cell,
                    quote,
                    statement,
                )
            ] = None
    return {finding: list(keys) for finding, keys in rows.items()}


def findings_cells(
    store: Store, findings: set[str] | None = None, parts: Parts | None = None
) -> dict[str, list[export.Cells]]:
    """Return the ``findings.tsv`` rows (cells in column order) per finding IRI, each finding's rows sorted.

    ``parts``: the rows of :func:`query_parts`, already queried (see :func:`findings_values`).
    """
    cells = export.cells_maker(VARIABLES)
    return {finding: sorted(map(cells, rows)) for finding, rows in findings_values(store, findings, parts).items()}


def findings_records(store: Store, findings: set[str] | None = None) -> dict[str, list[dict[str, str]]]:
    """Return ``findings.tsv`` records (cells by column) per finding IRI, each finding's rows in a stable order."""
    return {
        finding: [dict(zip(export.FINDINGS_COLUMNS, row, strict=True)) for row in rows]
        for finding, rows in findings_cells(store, findings).items()
    }
