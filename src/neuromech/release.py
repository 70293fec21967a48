"""Release files kept up to date piece by piece, so a rebuild re-serialises only what changed.

- The graph files (``neuromech.ttl``, ``.owl``, ``.jsonld``, ``inferred.ttl``) are assembled
  from one serialised chunk per named graph of the store (a source file, the mapping set,
  the inferred graph): Turtle chunks share one prefix block, RDF/XML chunks one ``rdf:RDF``
  element, JSON-LD chunks one top-level array. A rebuild re-serialises the chunks of the
  graphs it changed.
- ``findings.tsv`` rows (:mod:`neuromech.findings_table`) and the mapping impact's finding
  slots are kept per finding; a rebuild after an edit to claims re-queries only the edited
  findings (a VALUES block on ``?finding``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from neuromech import export, findings_table, mappings
from neuromech.mapping_set import MappingSet
from neuromech.namespaces import INFERRED_GRAPH, TURTLE_PREFIXES
from neuromech.store import OxigraphStore, restrict

PREFIXES = {k: v for k, v in TURTLE_PREFIXES.items() if k != "sh"}
_RDF_XML_END = b"</rdf:RDF>"


@dataclass
class Release:
    """Serialised chunks per graph, findings rows per finding, and the mapping impact's inputs."""

    chunks: dict[str, dict[str, bytes]] = field(default_factory=dict)
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    slots: list[tuple[str, str]] = field(default_factory=list)
    above: dict[str, set[str]] = field(default_factory=dict)

    # -- graph files ----------------------------------------------------------------------------

    def refresh_graphs(self, store: OxigraphStore, graphs: Iterable[ox.NamedNode]) -> None:
        """(Re)serialise the chunks of ``graphs``; a graph no longer in the store is dropped."""
        native = store.native
        for graph in graphs:
            if not native.contains_named_graph(graph):
                self.chunks.pop(graph.value, None)
                continue
            # dumped by pyoxigraph straight from the store: no Python object per triple
            self.chunks[graph.value] = {
                name: native.dump(format=fmt, from_graph=graph, prefixes=PREFIXES) or b""
                for name, fmt in export.GRAPH_FORMATS.items()
            }

    def graph_files(self) -> dict[str, bytes]:
        """Assemble ``neuromech.ttl``/``.owl``/``.jsonld`` (all graphs) and ``inferred.ttl``."""
        inferred = str(INFERRED_GRAPH)
        ordered = [k for k in sorted(self.chunks) if k != inferred] + ([inferred] if inferred in self.chunks else [])
        files = {name: _join(name, [self.chunks[k][name] for k in ordered]) for name in export.GRAPH_FORMATS}
        files["inferred.ttl"] = _join(
            "neuromech.ttl", [self.chunks[k]["neuromech.ttl"] for k in ordered[-1:]] if inferred in self.chunks else []
        )
        return files

    # -- findings.tsv and mapping impact --------------------------------------------------------

    def refresh_findings(self, store: OxigraphStore, only: set[str] | None = None) -> None:
        """Re-query the findings rows (all of them, or only the findings ``only`` names)."""
        if only is None:
            self.rows = {}
        else:
            for finding in only:
                self.rows.pop(finding, None)
        self.rows.update(findings_table.findings_records(store, only))

    def findings_tsv(self) -> str:
        """Return ``findings.tsv`` in the stored query's order (by finding IRI)."""
        return export.render_findings_tsv([r for key in sorted(self.rows) for r in self.rows[key]])

    def refresh_impact(self, store: OxigraphStore, only: set[str] | None = None) -> None:
        """Re-query the findings' slot fillers (all, or only the findings ``only`` names) and the hierarchy."""
        if only is None:
            self.slots = mappings.finding_slots(store)
        else:
            self.slots = [row for row in self.slots if row[0] not in only]
            if only:
                self.slots += mappings.finding_slots(store, restrict(mappings.FINDING_SLOTS_QUERY, "finding", only))
        self.above = mappings.falls_under(store)

    def impact_tsv(self, mapping_set: MappingSet) -> str:
        """Return ``mapping-impact.tsv`` for ``mapping_set``."""
        return mappings.impact_tsv(mappings.impacts_from_slots(self.slots, self.above, mapping_set))


def _join(name: str, chunks: list[bytes]) -> bytes:
    if name.endswith(".ttl"):
        header = "".join(f"@prefix {k}: <{v}> .\n" for k, v in PREFIXES.items()).encode()
        return header + b"".join(_strip_prefixes(chunk) for chunk in chunks)
    if name.endswith(".owl"):
        empty = ox.serialize([], format=ox.RdfFormat.RDF_XML, prefixes=PREFIXES) or b""
        head = empty[: -len(_RDF_XML_END)]
        return head + b"".join(chunk[len(head) : -len(_RDF_XML_END)] for chunk in chunks) + _RDF_XML_END
    bodies = [chunk.strip()[1:-1] for chunk in chunks if chunk.strip() not in (b"", b"[]")]
    return b"[" + b",".join(bodies) + b"]"


def _strip_prefixes(chunk: bytes) -> bytes:
    lines = chunk.split(b"\n")
    first = next((i for i, line in enumerate(lines) if not line.startswith(b"@prefix ")), len(lines))
    return b"\n".join(lines[first:])
