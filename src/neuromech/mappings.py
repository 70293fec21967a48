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
from neuromech.namespaces import compress as curie
from neuromech.paths import ProjectPaths
from neuromech.store import Store

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


# Each finding's slot fillers, and what each entity falls under (materialised part-of and
# subtype-of, nm: entities only). The impact joins the two in Python: as one SPARQL join it
# produced a row per finding and ancestor, 30 s on a 10^6-triple project.
FINDING_SLOTS_QUERY = """
PREFIX nm: <https://w3id.org/neuromech/>
SELECT ?finding ?entity WHERE {
  ?finding nm:has_condition|nm:has_measured_entity|nm:has_partner_entity ?entity . ?finding a nm:Finding .
}
"""

FALLS_UNDER_QUERY = """
PREFIX nm: <https://w3id.org/neuromech/>
SELECT ?part ?entity WHERE {
  ?part nm:falls_under ?entity . FILTER(STRSTARTS(STR(?entity), "https://w3id.org/neuromech/entity/"))
}
"""


@dataclass(frozen=True)
class Impact:
    """The findings that depend on one mapping: about its subject, or about a part or subtype of it."""

    row: MappingRow
    direct: tuple[str, ...]
    inherited: tuple[str, ...]


def finding_slots(store: Store, query: str = FINDING_SLOTS_QUERY) -> list[tuple[str, str]]:
    """Return ``(finding IRI, entity IRI)`` for each condition, measured and partner entity of a finding."""
    return [(str(f), str(e)) for f, e in store.select_values(query)]


def falls_under(store: Store) -> dict[str, set[str]]:
    """Return entity IRI -> the nm: entities it is a part or subtype of (``nm:falls_under``)."""
    above: dict[str, set[str]] = {}
    for part, entity in store.select_values(FALLS_UNDER_QUERY):
        above.setdefault(str(part), set()).add(str(entity))
    return above


def mapping_impact(store: Store, mapping_set: MappingSet) -> list[Impact]:
    """For each mapping, the findings whose condition or entity is the mapped entity (or a part/subtype of it)."""
    return impacts_from_slots(finding_slots(store), falls_under(store), mapping_set)


def impacts_from_slots(
    slots: list[tuple[str, str]], above: dict[str, set[str]], mapping_set: MappingSet
) -> list[Impact]:
    """One Impact per mapping from :func:`finding_slots` and :func:`falls_under`.

    Each finding's CURIE, each entity's mapped ancestors and each finding's place in the natural
    order are worked out once: per slot and per mapping they had cost 11 s at 10^6 triples
    (57k findings, mappings of entities with 30k findings under them).
    """
    mapped = {row.subject_id for row in mapping_set.rows}
    findings: dict[str, str] = {}
    mapped_above: dict[str, list[str]] = {}
    direct: dict[str, set[str]] = {}
    inherited: dict[str, set[str]] = {}
    for finding, entity in slots:
        finding_id = findings.get(finding) or findings.setdefault(finding, curie(finding))
        if (key := curie(entity)) in mapped:
            direct.setdefault(key, set()).add(finding_id)
        ancestors = mapped_above.get(entity)
        if ancestors is None:
            ancestors = mapped_above[entity] = [k for a in above.get(entity, ()) if (k := curie(a)) in mapped]
        for key in ancestors:
            inherited.setdefault(key, set()).add(finding_id)
    rank = {finding_id: n for n, finding_id in enumerate(sorted(set(findings.values()), key=_natural))}
    impacts = []
    for row in sorted(mapping_set.rows, key=MappingRow.sort_key):
        own = direct.get(row.subject_id, set())
        impacts.append(
            Impact(
                row,
                tuple(sorted(own, key=rank.__getitem__)),
                tuple(sorted(inherited.get(row.subject_id, set()) - own, key=rank.__getitem__)),
            )
        )
    return impacts


def _natural(text: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


IMPACT_COLUMNS = (
    "subject_id",
    "predicate",
    "object_id",
    "object_label",
    "direct_findings",
    "inherited_findings",
    "findings",
)


def impact_rows(impacts: list[Impact]) -> list[list[str]]:
    """Table rows of :func:`mapping_impact` (findings ``|``-separated), columns :data:`IMPACT_COLUMNS`."""
    return [
        [
            i.row.subject_id,
            ("NOT " if i.row.negative else "") + i.row.predicate_id,
            i.row.object_id,
            i.row.object_label,
            str(len(i.direct)),
            str(len(i.inherited)),
            "|".join(i.direct + i.inherited),
        ]
        for i in impacts
    ]


def impact_tsv(impacts: list[Impact]) -> str:
    """``mapping-impact.tsv``: one row per mapping with the findings that depend on it."""
    lines = ["\t".join(IMPACT_COLUMNS)] + ["\t".join(cells) for cells in impact_rows(impacts)]
    return "\n".join(lines) + "\n"


def export_project_mappings(paths: ProjectPaths, out: Path | None = None) -> list[Path]:
    """Write the mapping set's release files (:func:`export_mapping_set`) to ``out`` (default ``dist/``)."""
    files = export_mapping_set(read_mapping_set(paths.mappings_file))
    return publish_directory(files, out or paths.dist_dir)
