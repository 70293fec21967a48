"""Mapping workflows: move SKOS mapping triples from Turtle into the SSSOM set, derive, export it.

``import_skos`` is the migration curators' branches need after merging: every
``skos:*Match`` triple in ``data/entities/*.ttl`` becomes an SSSOM row (unless the same
mapping is already there) and is removed from the Turtle, which is rewritten canonically.
Running it again changes nothing. ``derive_allen`` chains the brain regions' exact UBERON
matches through the Allen atlas bridges into narrow matches to HBA / MBA classes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from neuromech.allen import AllenBridges, load_bridges
from neuromech.canonical import serialise
from neuromech.errors import UsageError
from neuromech.export import publish_directory, write_atomically
from neuromech.external import ExternalIndex, load_external
from neuromech.linkcheck import entity_kinds
from neuromech.loading import load_project, parse_turtle
from neuromech.mapping_set import (
    CONFIDENCE,
    PREDICATE_IRIS,
    MappingRow,
    MappingSet,
    compress,
    expand,
    mapping_graph,
    new_row,
    read_mapping_set,
    render_sssom,
    write_mapping_set,
)
from neuromech.namespaces import SKOS
from neuromech.paths import ProjectPaths

_MAPPING_WORDS = re.compile(
    r"\b(mapped|mapping|match|broader|narrower|nearest|closest|closer|equivalent|parent)\b", re.IGNORECASE
)
_NO_MAPPING = re.compile(r"\bno (?:external )?mapping\b", re.IGNORECASE)


@dataclass
class ImportResult:
    """What ``import_skos`` moved, kept and could not move."""

    added: list[MappingRow] = field(default_factory=list)
    already_present: int = 0
    conflicts: list[str] = field(default_factory=list)
    files_changed: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every triple found was moved."""
        return not self.conflicts


def entity_files(paths: ProjectPaths) -> list[Path]:
    """Return the curated entity files whose SKOS mappings the migration moves."""
    return sorted((paths.data_dir / "entities").glob("*.ttl"))


def _english_label(graph: Graph, node: URIRef) -> str:
    labels = [o for o in graph.objects(node, RDFS.label) if isinstance(o, Literal)]
    english = [str(o) for o in labels if o.language == "en"]
    return (english or [str(o) for o in labels] or [""])[0]


def explaining_note(graph: Graph, node: URIRef, object_id: str, object_label: str) -> str:
    """Return the entity's ``skos:note`` when it explains the mapping to ``object_id``, else "".

    A note explains the mapping when it names the object's CURIE or label, or speaks of
    mapping or matching (and does not say that no mapping is asserted).
    """
    local = object_id.split(":", 1)[-1]
    for note in sorted(str(o) for o in graph.objects(node, SKOS.note)):
        names_object = (
            object_id in note or local in note or bool(object_label and object_label.casefold() in note.casefold())
        )
        if names_object or (_MAPPING_WORDS.search(note) and not _NO_MAPPING.search(note)):
            return note
    return ""


def _leading_comments(path: Path) -> str:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines)


def import_skos(paths: ProjectPaths, external: ExternalIndex | None = None, dry_run: bool = False) -> ImportResult:
    """Move every ``skos:*Match`` triple of ``data/entities/*.ttl`` into the SSSOM mapping set.

    Each triple becomes a row (justification ``semapv:ManualMappingCuration``, confidence by
    predicate, the entity's explaining ``skos:note`` as comment, labels from the entity and
    ``external``) unless the same row exists; existing rows are never changed. A triple that
    contradicts a row (same subject and object, another predicate, or a negative row) is a
    conflict: it stays in the Turtle and is reported. The mapping set is written before the
    Turtle files, so an interrupted run is completed by running it again.

    Raises:
        SourceSyntaxError: when an entity file or the mapping set does not parse.
    """
    mapping_set = read_mapping_set(paths.mappings_file)
    by_pair: dict[tuple[str, str], list[MappingRow]] = {}
    for row in mapping_set.rows:
        by_pair.setdefault((row.subject_id, row.object_id), []).append(row)
    result = ImportResult()
    rewritten: dict[Path, Graph] = {}
    for path in entity_files(paths):
        graph = parse_turtle(path)
        moved = False
        for predicate_id, predicate in PREDICATE_IRIS.items():
            for subject, target in sorted(graph.subject_objects(predicate)):
                subject_id, object_id = compress(str(subject)), compress(str(target))
                where = f"{path.name}: {subject_id or subject} {predicate_id} {object_id or target}"
                if subject_id is None or object_id is None or not isinstance(subject, URIRef):
                    result.conflicts.append(f"{where}: IRI outside the project's prefix map; fix it by hand")
                    continue
                existing = by_pair.get((subject_id, object_id), [])
                if any(r.predicate_id == predicate_id and not r.negative for r in existing):
                    result.already_present += 1
                elif existing:
                    stated = ", ".join(
                        f"{r.predicate_modifier + ' ' if r.negative else ''}{r.predicate_id}" for r in existing
                    )
                    result.conflicts.append(f"{where}: the mapping set already states {stated} for this pair")
                    continue
                else:
                    term = external.get(object_id) if external else None
                    label = term.label if term else ""
                    row = new_row(
                        subject_id,
                        _english_label(graph, subject),
                        predicate_id,
                        object_id,
                        label,
                        comment=explaining_note(graph, subject, object_id, label),
                    )
                    mapping_set.rows.append(row)
                    by_pair.setdefault((subject_id, object_id), []).append(row)
                    result.added.append(row)
                graph.remove((subject, predicate, target))
                moved = True
        if moved:
            rewritten[path] = graph
    result.files_changed = sorted(rewritten)
    if dry_run:
        return result
    if result.added or not paths.mappings_file.is_file():
        write_mapping_set(mapping_set, paths.mappings_file)
    for path, graph in rewritten.items():
        write_atomically(path, serialise(graph, _leading_comments(path)))
    return result


def format_mapping_set(paths: ProjectPaths, check: bool = False) -> bool:
    """Rewrite the mapping set canonically (sorted rows, computed curie_map); return whether it changed.

    With ``check`` nothing is written.
    """
    path = paths.mappings_file
    text = render_sssom(read_mapping_set(path))
    changed = not path.is_file() or path.read_text(encoding="utf-8") != text
    if changed and not check:
        write_atomically(path, text)
    return changed


def export_mapping_set(mapping_set: MappingSet) -> dict[str, str]:
    """Return the release files of the mapping set: the SSSOM TSV and the SKOS triples as Turtle."""
    graph = mapping_graph(mapping_set)
    graph.bind("skos", SKOS)
    return {
        "neuromech.sssom.tsv": render_sssom(mapping_set),
        "mappings.ttl": graph.serialize(format="turtle"),
    }


def migrate(paths: ProjectPaths, external_dir: Path | None = None, dry_run: bool = False) -> ImportResult:
    """Run :func:`import_skos` on a project, with object labels from the external files if present."""
    folder = external_dir or paths.external_dir
    external = load_external(folder) if folder.is_dir() else None
    return import_skos(paths, external, dry_run)


CHAINED = "semapv:MappingChaining"


@dataclass
class DeriveResult:
    """What ``derive_allen`` added, and the derivable rows an existing row already covered."""

    added: list[MappingRow] = field(default_factory=list)
    kept: list[MappingRow] = field(default_factory=list)

    def count(self, prefix: str) -> int:
        """How many added rows have an object with ``prefix``."""
        return sum(1 for r in self.added if r.object_id.startswith(f"{prefix}:"))


def derive_allen(mapping_set: MappingSet, graph: Graph, bridges: AllenBridges) -> DeriveResult:
    """Add ``skos:narrowMatch`` rows to Allen atlas classes for the brain regions' exact UBERON matches.

    For every positive ``skos:exactMatch UBERON:x`` row whose subject is a ``nm:BrainRegion`` of
    ``graph``, and every HBA / MBA class the bridges declare equivalent to *UBERON:x and (in
    taxon / part of) some species*, a row ``subject skos:narrowMatch HBA:n`` is appended to
    ``mapping_set``: the atlas class is the human (or mouse) part of our species-neutral
    region, so it is narrower. Justification ``semapv:MappingChaining``, the narrowMatch
    confidence of the policy, the atlas label as object_label, and a comment naming the
    bridge file and the UBERON class chained through.

    A pair (subject, atlas class) that already has a row — any predicate, positive or
    negative — is left alone and listed in :attr:`DeriveResult.kept`: existing rows win, and a
    second run adds nothing.
    """
    by_pair = {(r.subject_id, r.object_id): r for r in mapping_set.rows}
    result = DeriveResult()
    for row in sorted(mapping_set.positive(), key=MappingRow.sort_key):
        if row.predicate_id != "skos:exactMatch" or not row.object_id.startswith("UBERON:"):
            continue
        if "BrainRegion" not in entity_kinds(graph, expand(row.subject_id, "mapping set")):
            continue
        for allen in bridges.for_uberon(row.object_id):
            pair = (row.subject_id, allen.curie)
            if pair in by_pair:
                if by_pair[pair] not in result.kept:
                    result.kept.append(by_pair[pair])
                continue
            derived = MappingRow(
                subject_id=row.subject_id,
                subject_label=row.subject_label,
                predicate_id="skos:narrowMatch",
                predicate_modifier="",
                object_id=allen.curie,
                object_label=allen.label,
                mapping_justification=CHAINED,
                confidence=f"{CONFIDENCE['skos:narrowMatch']:g}",
                comment=(
                    f"chained through {row.subject_id} skos:exactMatch {row.object_id} ({row.object_label}): "
                    f"{allen.bridge} states {allen.definition()} ({allen.species}), "
                    f"the {allen.species} part of the region"
                ),
            )
            mapping_set.rows.append(derived)
            by_pair[pair] = derived
            result.added.append(derived)
    return result


def derive_allen_mappings(paths: ProjectPaths, external_dir: Path | None = None, dry_run: bool = False) -> DeriveResult:
    """Run :func:`derive_allen` on a project's mapping set with the bridges of ``external_dir``; write the set.

    The set is rewritten canonically (atomically) only when rows were added and not ``dry_run``.

    Raises:
        UsageError: when the external folder or an Allen file is missing.
        SourceSyntaxError: when the mapping set, a source file or a bridge does not parse.
    """
    folder = external_dir or paths.external_dir
    if not folder.is_dir():
        raise UsageError(f"external ontology folder not found: {folder}; pass --external DIR")
    mapping_set = read_mapping_set(paths.mappings_file)
    result = derive_allen(mapping_set, load_project(paths).graph, load_bridges(folder))
    if result.added and not dry_run:
        write_mapping_set(mapping_set, paths.mappings_file)
    return result


def export_project_mappings(paths: ProjectPaths, out: Path | None = None) -> list[Path]:
    """Write the mapping set's release files (:func:`export_mapping_set`) to ``out`` (default ``dist/``)."""
    files = export_mapping_set(read_mapping_set(paths.mappings_file))
    return publish_directory(files, out or paths.dist_dir)
