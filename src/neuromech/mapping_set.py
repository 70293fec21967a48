"""The SSSOM mapping set: the single source of truth for links to external ontologies.

``data/mappings/neuromech.sssom.tsv`` is an SSSOM TSV (https://w3id.org/sssom/): a YAML
metadata block in ``#`` comment lines (with the ``curie_map`` every CURIE expands through),
then one row per mapping. Positive rows become SKOS triples in the graph, so SPARQL and the
SHACL prefix rules see them; rows with ``predicate_modifier`` ``Not`` are curated negative
mappings (known traps), kept out of the graph and checked by ``neuromech link-check``.

Confidence policy (documented in ``docs/mappings.md``): what the curator's certainty is that
the stated predicate holds, by predicate: exactMatch 0.95, broadMatch and narrowMatch 0.9,
closeMatch 0.8, relatedMatch 0.7; a negative mapping 0.95.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import yaml
from rdflib import Graph, URIRef

from neuromech import namespaces
from neuromech.errors import SourceSyntaxError
from neuromech.export import write_atomically
from neuromech.namespaces import CONVERTER, SKOS

#: The SKOS mapping predicates SSSOM rows may use, as CURIEs.
PREDICATES: tuple[str, ...] = (
    "skos:exactMatch",
    "skos:closeMatch",
    "skos:broadMatch",
    "skos:narrowMatch",
    "skos:relatedMatch",
)
PREDICATE_IRIS: dict[str, URIRef] = {p: SKOS[p.split(":", 1)[1]] for p in PREDICATES}
JUSTIFICATIONS: tuple[str, ...] = (
    "semapv:ManualMappingCuration",
    "semapv:LexicalMatching",
    "semapv:LogicalReasoning",
    "semapv:MappingChaining",
    "semapv:UnspecifiedMatching",
)
#: Confidence a migrated or newly curated mapping gets from its predicate (see the module docstring).
CONFIDENCE: dict[str, float] = {
    "skos:exactMatch": 0.95,
    "skos:broadMatch": 0.9,
    "skos:narrowMatch": 0.9,
    "skos:closeMatch": 0.8,
    "skos:relatedMatch": 0.7,
}
NEGATIVE_CONFIDENCE = 0.95
NOT = "Not"

#: Metadata written at the top of the file, in this order (``curie_map`` is computed).
DEFAULT_METADATA: dict[str, str] = {
    "mapping_set_id": "https://w3id.org/neuromech/mappings/neuromech.sssom.tsv",
    "mapping_set_title": "NeuroMech KG entities mapped to UBERON, ChEBI, MONDO, DOID, HP, HGNC and the Cognitive Atlas",
    "mapping_set_description": (
        "Curated links from NeuroMech KG entities to external ontology classes, with curated negative "
        "mappings (predicate_modifier Not) for known traps. Generated rows come from "
        "`neuromech mappings import-skos`; edit rows by hand, the file is kept sorted by `neuromech mappings fmt`."
    ),
    "license": "https://creativecommons.org/licenses/by/4.0/",
    "mapping_provider": "https://w3id.org/neuromech/",
    "subject_source": "https://w3id.org/neuromech/",
}
_EXTRA_PREFIXES = ("nme", "skos", "semapv", "owl", "rdfs")


@dataclass(frozen=True)
class MappingRow:
    """One SSSOM mapping; the field order is the column order of the file."""

    subject_id: str
    subject_label: str
    predicate_id: str
    predicate_modifier: str
    object_id: str
    object_label: str
    mapping_justification: str
    confidence: str
    comment: str = ""

    @property
    def negative(self) -> bool:
        """Whether this row states that the mapping does *not* hold."""
        return self.predicate_modifier == NOT

    def key(self) -> tuple[str, str, str, str]:
        """Identity of a mapping: subject, predicate, modifier, object."""
        return (self.subject_id, self.predicate_id, self.predicate_modifier, self.object_id)

    def sort_key(self) -> tuple[str, str, str, str]:
        """Order of rows in the file."""
        return (self.subject_id, self.predicate_modifier, self.object_id, self.predicate_id)


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(MappingRow))


@dataclass
class MappingSet:
    """The metadata and rows of an SSSOM mapping set."""

    metadata: dict[str, object] = field(default_factory=lambda: dict(DEFAULT_METADATA))
    rows: list[MappingRow] = field(default_factory=list)

    def positive(self) -> list[MappingRow]:
        """Rows asserting a mapping."""
        return [r for r in self.rows if not r.negative]

    def negative(self) -> list[MappingRow]:
        """Rows denying a mapping (``predicate_modifier: Not``)."""
        return [r for r in self.rows if r.negative]

    def for_subject(self, subject_id: str) -> list[MappingRow]:
        """Every row about ``subject_id``."""
        return [r for r in self.rows if r.subject_id == subject_id]


def expand(curie: str, where: str) -> URIRef:
    """Expand ``curie`` through the project's one prefix map.

    Raises:
        SourceSyntaxError: naming ``where`` when the prefix is unknown.
    """
    iri = CONVERTER.expand(curie)
    if iri is None:
        raise SourceSyntaxError(
            f"{where}: unknown prefix in CURIE {curie!r} (known: {', '.join(CONVERTER.prefix_map)})"
        )
    return URIRef(iri)


def compress(iri: str) -> str | None:
    """Return the CURIE of ``iri`` in the project's prefix map, or ``None``."""
    curie = namespaces.compress(iri)
    return None if curie == iri else curie


def _split_header(text: str) -> tuple[str, list[str], int]:
    header: list[str] = []
    body: list[str] = []
    first_body_line = 1
    for number, line in enumerate(text.splitlines(), start=1):
        if not body and line.startswith("#"):
            header.append(line[1:])
            first_body_line = number + 1
        else:
            body.append(line)
    return "\n".join(header), body, first_body_line


def parse_sssom(text: str, path: Path) -> MappingSet:
    """Parse an SSSOM TSV with its YAML metadata block.

    Raises:
        SourceSyntaxError: naming the file and line of a malformed header, row or value.
    """
    header, body, first = _split_header(text)
    try:
        metadata = yaml.safe_load(header) or {}
    except yaml.YAMLError as err:
        raise SourceSyntaxError(f"{path}:1: the metadata block is not valid YAML: {err}") from err
    if not isinstance(metadata, dict):
        raise SourceSyntaxError(f"{path}:1: the metadata block must be a YAML mapping")
    reader = csv.reader(io.StringIO("\n".join(body)), delimiter="\t")
    columns = next(reader, None)
    if columns is None:
        raise SourceSyntaxError(f"{path}:{first}: no column header line")
    missing = [c for c in COLUMNS if c not in columns and c not in {"predicate_modifier", "comment"}]
    if missing:
        raise SourceSyntaxError(f"{path}:{first}: missing SSSOM columns {missing}")
    rows: list[MappingRow] = []
    errors: list[str] = []
    for offset, cells in enumerate(reader, start=1):
        line = first + offset
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            errors.append(f"{path}:{line}: {len(cells)} cells, the header has {len(columns)}")
            continue
        record = dict(zip(columns, cells, strict=True))
        row = MappingRow(**{c: record.get(c, "") for c in COLUMNS})
        errors.extend(f"{path}:{line}: {problem}" for problem in row_problems(row))
        rows.append(row)
    seen: dict[tuple[str, str, str, str], int] = {}
    for number, row in enumerate(rows):
        if row.key() in seen:
            errors.append(f"{path}: duplicate mapping {' '.join(row.key())}")
        seen[row.key()] = number
    if errors:
        raise SourceSyntaxError("\n".join(errors))
    return MappingSet(metadata, rows)


def row_problems(row: MappingRow) -> list[str]:
    """Return what is wrong with one row's values (empty when it is well-formed)."""
    problems = []
    if row.predicate_id not in PREDICATES:
        problems.append(f"predicate_id {row.predicate_id!r} is not one of {', '.join(PREDICATES)}")
    if row.predicate_modifier not in {"", NOT}:
        problems.append(f"predicate_modifier must be empty or 'Not', not {row.predicate_modifier!r}")
    if row.mapping_justification not in JUSTIFICATIONS:
        problems.append(
            f"mapping_justification {row.mapping_justification!r} is not one of {', '.join(JUSTIFICATIONS)}"
        )
    try:
        value = float(row.confidence)
    except ValueError:
        problems.append(f"confidence {row.confidence!r} is not a number")
    else:
        if not 0.0 <= value <= 1.0:
            problems.append(f"confidence {row.confidence} is outside [0, 1]")
    for column in ("subject_id", "object_id"):
        curie = getattr(row, column)
        if CONVERTER.expand(curie) is None:
            problems.append(f"{column} {curie!r} has an unknown prefix")
    if not row.subject_id.startswith("nme:"):
        problems.append(f"subject_id {row.subject_id!r} is not a NeuroMech entity (nme:)")
    return problems


def read_mapping_set(path: Path) -> MappingSet:
    """Read the mapping set at ``path``; a missing file is an empty set.

    Raises:
        SourceSyntaxError: when the file is malformed.
    """
    if not path.is_file():
        return MappingSet()
    return parse_sssom(path.read_text(encoding="utf-8"), path)


def _curie_map(rows: Iterable[MappingRow]) -> dict[str, str]:
    used = set(_EXTRA_PREFIXES)
    for row in rows:
        for curie in (row.subject_id, row.predicate_id, row.object_id, row.mapping_justification):
            used.add(curie.split(":", 1)[0])
    prefix_map = {**CONVERTER.prefix_map}
    return {prefix: prefix_map[prefix] for prefix in sorted(used, key=str.casefold) if prefix in prefix_map}


def render_sssom(mapping_set: MappingSet) -> str:
    """Return the canonical text of a mapping set: metadata, curie_map, sorted rows."""
    metadata = {k: v for k, v in mapping_set.metadata.items() if k != "curie_map"}
    for key, value in DEFAULT_METADATA.items():
        metadata.setdefault(key, value)
    metadata["curie_map"] = _curie_map(mapping_set.rows)
    header = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True, width=1000)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for row in sorted(mapping_set.rows, key=MappingRow.sort_key):
        writer.writerow([" ".join(getattr(row, c).split()) for c in COLUMNS])
    return "".join(f"#{line}\n" for line in header.splitlines()) + buffer.getvalue()


def write_mapping_set(mapping_set: MappingSet, path: Path) -> None:
    """Write ``mapping_set`` canonically to ``path`` (atomically)."""
    write_atomically(path, render_sssom(mapping_set))


def mapping_graph(mapping_set: MappingSet, path: Path | None = None) -> Graph:
    """Return the positive mappings as SKOS triples (negative ones stay out of the graph)."""
    where = str(path or "mapping set")
    graph = Graph()
    for row in mapping_set.positive():
        subject = expand(row.subject_id, where)
        graph.add((subject, PREDICATE_IRIS[row.predicate_id], expand(row.object_id, where)))
    return graph


def new_row(
    subject_id: str,
    subject_label: str,
    predicate_id: str,
    object_id: str,
    object_label: str,
    *,
    comment: str = "",
    negative: bool = False,
) -> MappingRow:
    """Return a manually curated row with the confidence of the policy above."""
    confidence = NEGATIVE_CONFIDENCE if negative else CONFIDENCE[predicate_id]
    return MappingRow(
        subject_id=subject_id,
        subject_label=subject_label,
        predicate_id=predicate_id,
        predicate_modifier=NOT if negative else "",
        object_id=object_id,
        object_label=object_label,
        mapping_justification="semapv:ManualMappingCuration",
        confidence=f"{confidence:g}",
        comment=comment,
    )


def with_labels(row: MappingRow, subject_label: str | None, object_label: str | None) -> MappingRow:
    """Return ``row`` with its label columns filled where they are empty."""
    return replace(
        row,
        subject_label=row.subject_label or subject_label or "",
        object_label=row.object_label or object_label or "",
    )
