"""Release files kept up to date piece by piece, so a rebuild re-serialises only what changed.

- The graph files (``neuromech.ttl``, ``.owl``, ``.jsonld``, ``inferred.ttl``) are assembled
  from one serialised chunk per named graph of the store (a source file, the mapping set,
  the inferred graph): Turtle chunks share one prefix block, RDF/XML chunks one ``rdf:RDF``
  element, JSON-LD chunks one top-level array. A rebuild re-serialises the chunks of the
  graphs it changed. The chunks are kept on disk (:class:`ChunkFolder`, under
  ``dist/.cache``), not in memory: at 10^6 triples they are ~490 MB, a third of the build's
  peak, and the release files are copied from them by the kernel.
- ``findings.tsv`` rows (:mod:`neuromech.findings_table`) and the mapping impact's finding
  slots are kept per finding; a rebuild after an edit to claims re-queries only the edited
  findings (a VALUES block on ``?finding``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from neuromech import export, findings_table, mapping_impact, subject_blocks
from neuromech.mapping_set import MappingSet
from neuromech.namespaces import INFERRED_GRAPH, TURTLE_PREFIXES
from neuromech.store import OxigraphStore, chunks, restrict, side_by_side
from neuromech.subject_blocks import replace_subjects, serialise_subjects

# beyond this many changed subjects, or this many triples of theirs, a graph is dumped again
# rather than spliced. At 10^6 triples a dump of the inferred graph takes ~2.2 s of CPU, beside
# Python (pyoxigraph releases the GIL); a splice works in Python, a block at a time, and a
# subject has up to a block per triple. How the blocks are found sets the cost: a search per
# subject (below subject_blocks.ONE_SCAN_FROM subjects) costs ~16 ms a subject in the 55 MB
# RDF/XML and JSON-LD chunks plus ~7 us a triple: 5 conditions with 37,932 inferred triples
# 0.87 s in the three formats; one scan of every block start costs 0.45 s (Turtle), 0.6 s
# (RDF/XML) and 2.6 s (JSON-LD, whose block starts are costly to match) whatever the subjects,
# so with that many subjects the JSON-LD chunk is dumped instead (0.84 s).
SPLICE_LIMIT = 5000
SPLICE_TRIPLES = 60_000  # when each subject's blocks are searched for
SPLICE_TRIPLES_SCANNED = 20_000  # when one scan finds them

PREFIXES = {k: v for k, v in TURTLE_PREFIXES.items() if k != "sh"}
# seconds pyoxigraph took to dump the inferred graph at 10^6 triples, by format: the longest start first
_DUMP_SECONDS = {"neuromech.jsonld": 0.72, "neuromech.owl": 0.62, "neuromech.ttl": 0.43}
_RDF_XML_END = b"</rdf:RDF>"


class ChunkFolder:
    """A private folder of serialised chunks, one file each, removed when the folder is dropped.

    Made on the first write, under ``parent``, as ``chunks-<pid>-<random>``; folders left by a
    process that no longer runs (a build that was killed) are removed then. Each chunk gets a
    new file, so a chunk being replaced stays whole until its successor is written.
    :meth:`remove` also removes the folders it had to create above it, when empty (a failed
    first build leaves no ``dist/`` behind).
    """

    def __init__(self, parent: Path) -> None:
        """Keep chunks under ``parent`` (created when the first chunk is written)."""
        self.parent = parent
        self._path: Path | None = None
        self._created: list[Path] = []  # folders made for it, innermost first
        self._finalizer: weakref.finalize[[list[Path]], ChunkFolder] | None = None
        self._making = threading.Lock()  # chunks are written from several threads

    @property
    def path(self) -> Path:
        """The folder (made now if it was not yet)."""
        with self._making:
            return self._path or self._make()

    def _make(self) -> Path:
        missing = [folder for folder in (self.parent, *self.parent.parents) if not folder.exists()]
        self.parent.mkdir(parents=True, exist_ok=True)
        _remove_orphans(self.parent)
        self._path = Path(tempfile.mkdtemp(prefix=f"chunks-{os.getpid()}-", dir=self.parent))
        self._created = [self._path, *missing]
        self._finalizer = weakref.finalize(self, _remove_folders, self._created)
        return self._path

    def write(self, body: bytes) -> Path:
        """Store ``body`` in a new file of the folder; return its path."""
        fd, name = tempfile.mkstemp(dir=self.path)
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
        return Path(name)

    def remove(self) -> None:
        """Remove the folder and its chunks now, and the folders made for it if they are empty."""
        with self._making:
            if self._finalizer is not None:
                self._finalizer()
            self._path = None


def _remove_folders(folders: list[Path]) -> None:
    shutil.rmtree(folders[0], ignore_errors=True)
    for folder in folders[1:]:
        try:
            folder.rmdir()
        except OSError:  # not empty (a build's files, HermiT's cache) or gone
            break


def _remove_orphans(parent: Path) -> None:
    """Remove the chunk folders under ``parent`` whose process is gone."""
    for folder in parent.glob("chunks-*-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # running, under another user
        return True
    return True


@dataclass
class Release:
    """Serialised chunks per graph (files in ``folder``), findings rows per finding, and the mapping impact's inputs."""

    folder: ChunkFolder
    chunks: dict[str, dict[str, Path]] = field(default_factory=dict)
    lines: dict[str, str] = field(default_factory=dict)
    slots: dict[str, list[str]] = field(default_factory=dict)
    above: dict[str, set[str]] = field(default_factory=dict)
    impact: mapping_impact.ImpactIndex | None = None

    # -- graph files ----------------------------------------------------------------------------

    def refresh_graphs(
        self,
        store: OxigraphStore,
        graphs: Iterable[ox.NamedNode],
        spliced: Mapping[str, Collection[str]] | None = None,
        workers: int = 0,
    ) -> None:
        """(Re)serialise the chunks of ``graphs``; a graph no longer in the store is dropped.

        pyoxigraph dumps each chunk straight from the store, without a Python object per
        triple, and releases the GIL while it does: the dumps run on every core, and beside
        whatever Python work the caller does meanwhile in another thread.

        ``spliced`` maps a graph's IRI to the subjects whose triples in it changed (the
        inferred triples a rebuild re-derived, the subjects of an edited file's changed
        triples): the graph's kept chunks get those subjects' blocks replaced
        (:mod:`neuromech.subject_blocks`) instead of being dumped again, when there are at most
        :data:`SPLICE_LIMIT` of them with at most :data:`SPLICE_TRIPLES` triples there
        (:data:`SPLICE_TRIPLES_SCANNED` from :data:`~neuromech.subject_blocks.ONE_SCAN_FROM`
        subjects on, when the JSON-LD chunk is dumped, not spliced), none is a blank node and
        none has a blank node in its triples (a blank node's label differs between dumps).

        ``workers``: how many dumps run at once (default :data:`~neuromech.store.WORKERS`). The
        inferred graph's come first, the longest format first.
        """
        native = store.native
        wanted: list[tuple[str, str, ox.NamedNode]] = []
        splices: dict[str, list[ox.NamedNode]] = {}
        for graph in graphs:
            if not native.contains_named_graph(graph):
                _unlink(self.chunks.pop(graph.value, {}).values())
                continue
            wanted += [(graph.value, name, graph) for name in export.GRAPH_FORMATS]
            subjects = (spliced or {}).get(graph.value)
            nodes = None if subjects is None or graph.value not in self.chunks else _spliceable(native, graph, subjects)
            if nodes is not None:
                splices[graph.value] = nodes

        def dump(item: tuple[str, str, ox.NamedNode]) -> Path:
            key, name, graph = item
            rdf_format = export.GRAPH_FORMATS[name]
            nodes = splices.get(key)
            if nodes is not None and (name != "neuromech.jsonld" or len(nodes) < subject_blocks.ONE_SCAN_FROM):
                fresh = _body(name, serialise_subjects(native, graph, nodes, rdf_format, prefixes=PREFIXES))
                kept = self.chunks[key][name].read_bytes()
                return self.folder.write(replace_subjects(name, kept, nodes, fresh, prefixes=PREFIXES))
            return self.folder.write(
                _body(name, native.dump(format=rdf_format, from_graph=graph, prefixes=PREFIXES) or b"")
            )

        wanted.sort(key=lambda item: (item[0] != str(INFERRED_GRAPH), -_DUMP_SECONDS.get(item[1], 0.0)))
        dumped = side_by_side(store, dump, wanted, workers=workers)
        for (key, name, _), path in zip(wanted, dumped, strict=True):
            replaced = self.chunks.setdefault(key, {}).get(name)
            self.chunks[key][name] = path
            _unlink([replaced] if replaced else [])

    def graph_files(self) -> dict[str, list[bytes | Path]]:
        """Assemble ``neuromech.ttl``/``.owl``/``.jsonld`` (all graphs) and ``inferred.ttl``, as pieces.

        A piece is bytes or a chunk file copied whole (:func:`neuromech.export.publish_directory`).
        """
        inferred = str(INFERRED_GRAPH)
        ordered = [k for k in sorted(self.chunks) if k != inferred] + ([inferred] if inferred in self.chunks else [])
        files = {name: _join(name, [self.chunks[k][name] for k in ordered]) for name in export.GRAPH_FORMATS}
        files["inferred.ttl"] = _join(
            "neuromech.ttl", [self.chunks[k]["neuromech.ttl"] for k in ordered[-1:]] if inferred in self.chunks else []
        )
        return files

    # -- findings.tsv and mapping impact --------------------------------------------------------

    def refresh_findings(
        self, store: OxigraphStore, only: set[str] | None = None, parts: findings_table.Parts | None = None
    ) -> None:
        """Re-query and render the findings rows (all of them, or only the findings ``only`` names).

        ``parts``: the rows of :func:`neuromech.findings_table.query_parts` for those findings,
        already queried.
        """
        if only is None:
            self.lines = {}
        else:
            for finding in only:
                self.lines.pop(finding, None)
        self.lines.update(export.render_findings_lines(findings_table.findings_cells(store, only, parts)))

    def findings_tsv(self) -> str:
        """Return ``findings.tsv`` in the stored query's order (by finding IRI)."""
        return export.findings_tsv_header() + "".join(self.lines[key] for key in sorted(self.lines))

    def refresh_impact(self, store: OxigraphStore, only: set[str] | None = None, parts: set[str] | None = None) -> None:
        """Re-query the findings' slot fillers (all, or only the findings ``only`` names) and the hierarchy.

        With ``only`` (an edit to claims or entities) the hierarchy is kept: ``nm:falls_under``
        is derived from entities and mappings, never from claims (0.9 s at 10^6 triples); the
        impact index then re-files only those findings. ``parts`` names the entities whose
        ``nm:falls_under`` triples the edit changed: their ancestors are read again and the
        findings about them re-filed.
        """
        if only is None or self.impact is None:
            self.slots = mapping_impact.finding_slots(store)
            self.above = mapping_impact.falls_under(store)
            self.impact = None
            return
        if parts:
            fresh_above = mapping_impact.falls_under(store, parts)
            self.impact.update_hierarchy({part: fresh_above.get(part, set()) for part in parts}, self.slots)
        for finding in only:
            self.slots.pop(finding, None)
        fresh: dict[str, list[str]] = {}
        for chunk in chunks(only):
            fresh.update(
                mapping_impact.finding_slots(store, restrict(mapping_impact.FINDING_SLOTS_QUERY, "finding", chunk))
            )
        self.slots.update(fresh)
        self.impact.drop(only)
        self.impact.file(fresh)

    def impact_tsv(self, mapping_set: MappingSet) -> str:
        """Return ``mapping-impact.tsv`` for ``mapping_set`` (the index takes an edited set in place)."""
        if self.impact is None or not self.impact.follows(self.above):
            self.impact = mapping_impact.ImpactIndex(mapping_set, self.above)
            self.impact.file(self.slots)
        elif not self.impact.matches(mapping_set, self.above):
            self.impact.update_rows(mapping_set, self.slots)
        return self.impact.tsv()


_TURTLE_HEADER = "".join(f"@prefix {k}: <{v}> .\n" for k, v in PREFIXES.items()).encode()
_RDF_XML_HEAD = (ox.serialize([], format=ox.RdfFormat.RDF_XML, prefixes=PREFIXES) or b"")[: -len(_RDF_XML_END)]


def _body(name: str, chunk: bytes) -> bytes:
    """Strip from a chunk what every chunk of its format repeats (prefixes, the root element, brackets)."""
    if name.endswith(".ttl"):
        return _strip_prefixes(chunk)
    if name.endswith(".owl"):
        return chunk[len(_RDF_XML_HEAD) : -len(_RDF_XML_END)]
    stripped = chunk.strip()
    return b"" if stripped in (b"", b"[]") else stripped[1:-1]


def _join(name: str, bodies: Sequence[bytes | Path]) -> list[bytes | Path]:
    """Return the pieces of a whole file of the format of ``name`` holding the chunks ``bodies`` (bytes or files)."""
    if name.endswith(".ttl"):
        return [_TURTLE_HEADER, *bodies]
    if name.endswith(".owl"):
        return [_RDF_XML_HEAD, *bodies, _RDF_XML_END]
    pieces: list[bytes | Path] = [b"["]
    for body in (body for body in bodies if _size(body)):
        pieces += [b",", body] if len(pieces) > 1 else [body]
    return [*pieces, b"]"]


def _spliceable(native: ox.Store, graph: ox.NamedNode, subjects: Collection[str]) -> list[ox.NamedNode] | None:
    """Return ``subjects`` as nodes, sorted, if their blocks in ``graph``'s chunks can be replaced (else None)."""
    if len(subjects) > SPLICE_LIMIT or any(s.startswith("_:") for s in subjects):
        return None
    nodes = [ox.NamedNode(iri) for iri in sorted(subjects)]
    limit = SPLICE_TRIPLES if len(nodes) < subject_blocks.ONE_SCAN_FROM else SPLICE_TRIPLES_SCANNED
    triples = 0
    for node in nodes:
        for quad in native.quads_for_pattern(node, None, None, graph):
            triples += 1
            if triples > limit or isinstance(quad.object, ox.BlankNode):
                return None
    return nodes


def _size(piece: bytes | Path) -> int:
    return len(piece) if isinstance(piece, bytes) else piece.stat().st_size


def _unlink(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _strip_prefixes(chunk: bytes) -> bytes:
    lines = chunk.split(b"\n")
    first = next((i for i, line in enumerate(lines) if not line.startswith(b"@prefix ")), len(lines))
    return b"\n".join(lines[first:])
