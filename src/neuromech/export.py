"""Write release artifacts: all files of one build appear together or not at all."""

from __future__ import annotations

import csv
import ctypes
import ctypes.util
import io
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox
from rdflib import Graph

from neuromech.namespaces import bind_prefixes, compress
from neuromech.store import ResultTable

FINDINGS_COLUMNS: tuple[str, ...] = (
    "finding_id",
    "review",
    "section",
    "condition",
    "condition_ids",
    "entity",
    "entity_ids",
    "partner",
    "partner_ids",
    "measure",
    "direction",
    "context",
    "method",
    "evidence_eco",
    "cited_study",
    "quote_zh",
    "statement_en",
)

# findings.rq variable feeding each column, and whether it holds IRIs to write as CURIEs
_COLUMN_SOURCES: dict[str, tuple[str, bool]] = {
    "finding_id": ("finding", True),
    "review": ("review", True),
    "section": ("section", False),
    "condition": ("condition_label", False),
    "condition_ids": ("condition_ids", True),
    "entity": ("measured_label", False),
    "entity_ids": ("measured_ids", True),
    "partner": ("partner_label", False),
    "partner_ids": ("partner_ids", True),
    "measure": ("measure_label", False),
    "direction": ("direction_label", False),
    "context": ("context", False),
    "method": ("method_label", False),
    "evidence_eco": ("evidence", True),
    "cited_study": ("cited_study", False),
    "quote_zh": ("quote", False),
    "statement_en": ("statement", False),
}


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write ``content`` to ``path`` through a temporary file renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def publish_directory(files: Mapping[str, str | bytes | Sequence[bytes | Path]], target: Path) -> list[Path]:
    """Write ``files`` (name -> content) into ``target`` only once all were written.

    A content is text, bytes, or a sequence of pieces written one after another: bytes, or a
    file whose whole content is copied (a release's graph files are assembled from per-graph
    chunk files, copied by the kernel, without joining them in memory). The files are written
    to a staging folder beside ``target`` first; only when every one succeeded are they moved
    into ``target``, each in one atomic step (:func:`move_into_place`). A failure leaves ``target`` as it was.
    """
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target))
    try:
        for name, content in files.items():
            with (staging / name).open("wb", buffering=0) as handle:
                if isinstance(content, str):
                    _write_all(handle, content.encode("utf-8"))
                elif isinstance(content, bytes):
                    _write_all(handle, content)
                else:
                    for piece in content:
                        if isinstance(piece, Path):
                            _append_file(handle, piece)
                        else:
                            _write_all(handle, piece)
        written = []
        for name in files:
            move_into_place(staging / name, target / name)
            written.append(target / name)
        return written
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # with the replaced files, swapped into it


_RENAME_EXCHANGE = 2  # linux/fs.h


@lru_cache(maxsize=1)
def _renameat2() -> Callable[..., int] | None:
    """Return the C library's ``renameat2`` (Linux, glibc >= 2.28), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        function: Callable[..., int] = libc.renameat2
    except (OSError, AttributeError):
        return None
    return function


def move_into_place(source: Path, target: Path) -> None:
    """Put ``source`` at ``target`` in one atomic step; an existing ``target`` ends up at ``source``'s name.

    On Linux the two are swapped (``renameat2`` with ``RENAME_EXCHANGE``) and the caller removes
    the old content: ext4 starts writing a file out when it is renamed over another one
    (``auto_da_alloc``), which made the renames of a 10^6-triple release take 0.2-0.5 s,
    whereas a swap takes no time. Elsewhere, or when there is no ``target`` yet or the file
    system cannot swap, ``source`` is renamed over ``target``. Readers see the old file or the
    new one, never neither.
    """
    renameat2 = _renameat2()
    if renameat2 is not None and target.exists():
        at_cwd = -100
        if renameat2(at_cwd, os.fsencode(source), at_cwd, os.fsencode(target), _RENAME_EXCHANGE) == 0:
            return
    source.replace(target)


def _write_all(handle: BinaryIO, data: bytes) -> None:
    """Write all of ``data`` to an unbuffered file (a raw write may take only part of it)."""
    view = memoryview(data)
    while view:
        view = view[handle.write(view) or 0 :]


def _append_file(handle: BinaryIO, path: Path) -> None:
    """Append the content of ``path`` to an unbuffered file, copied in the kernel where it can be."""
    with path.open("rb", buffering=0) as source:
        size = os.fstat(source.fileno()).st_size
        try:
            while size > 0:
                copied = os.copy_file_range(source.fileno(), handle.fileno(), size)
                if copied == 0:
                    break
                size -= copied
        except (AttributeError, OSError):  # no copy_file_range (platform, file system): copy through Python
            pass
        if size > 0:
            source.seek(-size, os.SEEK_END)
            while chunk := source.read(1 << 20):
                _write_all(handle, chunk)


# list-valued columns and their separator: GROUP_CONCAT order is undefined, so parts are sorted
# (separator in the query result, separator in the file); findings.rq joins context parts
# with " ;; " because notes may themselves contain "; ", and a finding's quotes with " … "
_LISTS = {
    "quote_zh": (" … ", " … "),
    "condition_ids": ("|", "|"),
    "entity_ids": ("|", "|"),
    "partner_ids": ("|", "|"),
    "context": (" ;; ", "; "),
    "method": ("|", "|"),
    "cited_study": ("|", "|"),
}


@lru_cache(maxsize=1 << 16)
def _cell(value: str | None, as_curie: bool, separators: tuple[str, str] | None) -> str:
    """Format one cell: CURIEs for IRIs, list parts sorted, no tabs or newlines.

    Cached: most cells repeat (a condition's IDs and label, an entity's, a measure's), and at
    10^6 triples the 971k cells of ``findings.tsv`` took 3.6 s to format one by one.
    """
    return _format_cell(value, as_curie, separators)


def _format_cell(value: str | None, as_curie: bool, separators: tuple[str, str] | None) -> str:
    if value is None:
        return ""
    text = " ".join(str(value).split())
    if separators:
        text = separators[1].join(sorted(text.split(separators[0])))
    if as_curie:
        text = "|".join(compress(part) for part in text.split("|"))
    return text


# columns whose every value is a finding's own (its IRI, quotes, statement): formatting them
# through the cache would only push the repeated values out of it
_UNIQUE_COLUMNS = frozenset({"finding_id", "quote_zh", "statement_en"})

Cells = tuple[str, ...]


def cells_maker(variables: Sequence[str]) -> Callable[[Sequence[str | None]], Cells]:
    """Return a function turning a row of ``findings.rq`` values, in ``variables`` order, into ``findings.tsv`` cells.

    The cells come in :data:`FINDINGS_COLUMNS` order; tuples of cells sort as
    :func:`record_order` sorts records.
    """
    position = {variable: i for i, variable in enumerate(variables)}
    plan = [
        (position[var], curie, _LISTS.get(column), _format_cell if column in _UNIQUE_COLUMNS else _cell)
        for column, (var, curie) in _COLUMN_SOURCES.items()
    ]

    def cells(values: Sequence[str | None]) -> Cells:
        return tuple(format_cell(values[i], curie, lists) for i, curie, lists, format_cell in plan)

    return cells


def record_from_values(values: Mapping[str, object]) -> dict[str, str]:
    """Turn one row of ``queries/findings.rq`` (values by variable) into a ``findings.tsv`` record."""
    return dict(zip(FINDINGS_COLUMNS, _record_cells([_text(values.get(v)) for v in _SOURCE_VARIABLES]), strict=True))


_SOURCE_VARIABLES = tuple(var for var, _ in _COLUMN_SOURCES.values())
_record_cells = cells_maker(_SOURCE_VARIABLES)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def record_order(record: Mapping[str, str]) -> Cells:
    """Sort key of a record: its cells in column order (a finding's rows get a stable order)."""
    return tuple(record[column] for column in FINDINGS_COLUMNS)


def findings_rows(table: ResultTable) -> list[dict[str, str]]:
    """Turn the rows of ``queries/findings.rq`` into ``findings.tsv`` records."""
    return [record_from_values(record) for record in table.dicts()]


def findings_tsv(table: ResultTable) -> str:
    """Return ``findings.tsv``: a header and one row per finding, tab-separated."""
    return render_findings_tsv(findings_rows(table))


def _findings_writer(buffer: io.StringIO) -> csv.DictWriter[str]:
    return csv.DictWriter(
        buffer, fieldnames=FINDINGS_COLUMNS, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL
    )


def render_findings_tsv(records: list[dict[str, str]]) -> str:
    """Return ``findings.tsv`` for records made by :func:`findings_rows`."""
    buffer = io.StringIO()
    writer = _findings_writer(buffer)
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


def render_findings_lines(groups: Mapping[str, Iterable[Cells]]) -> dict[str, str]:
    """Return each group's ``findings.tsv`` lines (no header), keyed as ``groups`` is.

    A group is rows of cells in :data:`FINDINGS_COLUMNS` order (:func:`cells_maker`). A release
    keeps the lines per finding, so that a rebuild renders only the edited findings' rows;
    ``findings_tsv_header() + "".join(lines)`` equals :func:`render_findings_tsv` of the same records.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    ends: list[tuple[str, int]] = []
    for key, rows in groups.items():
        writer.writerows(rows)
        ends.append((key, buffer.tell()))
    text = buffer.getvalue()
    lines: dict[str, str] = {}
    start = 0
    for key, end in ends:
        lines[key] = text[start:end]
        start = end
    return lines


def findings_tsv_header() -> str:
    """Return the header line of ``findings.tsv``."""
    buffer = io.StringIO()
    _findings_writer(buffer).writeheader()
    return buffer.getvalue()


def read_findings_tsv(text: str) -> list[dict[str, str]]:
    """Parse ``findings.tsv`` back into records (the inverse of :func:`findings_tsv`).

    Raises:
        ValueError: when the header is not the documented column list.
    """
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    if tuple(reader.fieldnames or ()) != FINDINGS_COLUMNS:
        raise ValueError(f"findings.tsv header is {reader.fieldnames}, expected {list(FINDINGS_COLUMNS)}")
    return [dict(row) for row in reader]


def graph_serialisations(graph: Graph) -> dict[str, bytes]:
    """Return the graph as Turtle, RDF/XML and JSON-LD, keyed by release file name."""
    bind_prefixes(graph)
    return {
        "neuromech.ttl": graph.serialize(format="turtle", encoding="utf-8"),
        "neuromech.owl": graph.serialize(format="xml", encoding="utf-8"),
        "neuromech.jsonld": graph.serialize(format="json-ld", encoding="utf-8", auto_compact=True),
    }


#: Release files of a graph and the pyoxigraph format each is written in.
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "neuromech.ttl": ox.RdfFormat.TURTLE,
    "neuromech.owl": ox.RdfFormat.RDF_XML,
    "neuromech.jsonld": ox.RdfFormat.JSON_LD,
}


def publish_tree(files: Mapping[str, str | bytes], target: Path) -> Path:
    """Replace the folder ``target`` with one holding ``files`` (relative path -> content).

    Everything is written into a staging folder beside ``target`` first; only when every file
    was written is the old folder moved aside and the staging folder renamed into its place
    (two renames), so ``target`` is never seen half-written, and a failure while writing leaves
    it as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-staging-", dir=target.parent))
    retired: Path | None = None
    try:
        for name, content in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        staging.chmod(0o755)
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
            target.replace(retired / target.name)
        staging.replace(target)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
