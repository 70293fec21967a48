"""``neuromech link-check``: every mapping checked against the external ontology files.

For each row of the SSSOM mapping set: the object ID exists in its source (and which
version was checked), is not obsolete (the replacement is named), its label or a synonym
matches the entity's label or synonyms (for exact matches), its prefix suits the entity's
class, the subject exists, and no negative mapping is also asserted positively. One line
per problem; errors make the command fail, warnings do not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from neuromech.errors import UsageError
from neuromech.external import ExternalIndex, load_external, normalise, source_for_prefix
from neuromech.loading import load_project
from neuromech.mapping_set import PREDICATE_IRIS, MappingRow, MappingSet, compress, expand, read_mapping_set
from neuromech.namespaces import NM, SKOS
from neuromech.paths import ProjectPaths

ERROR = "error"
WARNING = "warning"

#: External prefixes each kind of entity may map to (most specific class first).
ALLOWED_PREFIXES: tuple[tuple[str, frozenset[str]], ...] = (
    ("BrainRegion", frozenset({"UBERON", "MBA", "HBA"})),
    ("Circuit", frozenset({"UBERON"})),
    ("Gene", frozenset({"HGNC", "NCBIGene"})),
    ("GeneticVariant", frozenset({"dbSNP"})),
    ("Receptor", frozenset({"PR", "CHEBI", "GO", "HGNC"})),
    ("Neuromodulator", frozenset({"CHEBI", "PR", "GO"})),
    ("Drug", frozenset({"CHEBI"})),
    ("Condition", frozenset({"MONDO", "DOID", "HP"})),
    ("Construct", frozenset({"cogat.concept", "HP", "GO", "NBO"})),
    ("Task", frozenset({"cogat.task", "cogat.concept"})),
    ("Species", frozenset({"NCBITaxon"})),
)


@dataclass(frozen=True)
class Problem:
    """One finding of the link check."""

    level: str
    row: MappingRow | None
    message: str

    def render(self) -> str:
        """One line: level, the mapping (subject, modifier, predicate, object) and what is wrong."""
        if self.row is None:
            return f"{self.level}: {self.message}"
        r = self.row
        modifier = "NOT " if r.negative else ""
        return f"{self.level}: {r.subject_id} {modifier}{r.predicate_id} {r.object_id}: {self.message}"


@dataclass
class LinkReport:
    """Every problem found, the number of rows checked, and the source versions checked against."""

    problems: list[Problem] = field(default_factory=list)
    checked: int = 0
    versions: dict[str, str] = field(default_factory=dict)
    mapped_entities: int = 0
    mappable_entities: int = 0

    @property
    def errors(self) -> list[Problem]:
        """Problems that fail the check."""
        return [p for p in self.problems if p.level == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        """Problems reported but tolerated."""
        return [p for p in self.problems if p.level == WARNING]

    def render(self) -> str:
        """Return the problem lines, the versions checked against, and a summary line."""
        lines = [p.render() for p in self.problems]
        lines += [f"checked against {key}: {version}" for key, version in sorted(self.versions.items())]
        lines.append(
            f"{self.checked} mappings checked, {len(self.errors)} errors, {len(self.warnings)} warnings; "
            f"{self.mapped_entities} of {self.mappable_entities} mappable entities have a positive mapping"
        )
        return "\n".join(lines)


def entity_kinds(graph: Graph, node: URIRef) -> set[str]:
    """Local names of the nm: classes of ``node`` and of their superclasses."""
    found: set[str] = set()
    stack = list(graph.objects(node, RDF.type))
    while stack:
        cls = stack.pop()
        if isinstance(cls, URIRef) and str(cls).startswith(str(NM)):
            name = str(cls)[len(str(NM)) :]
            if name not in found:
                found.add(name)
                stack.extend(graph.objects(cls, RDFS.subClassOf))
    return found


def allowed_prefixes(kinds: set[str]) -> frozenset[str] | None:
    """Return the external prefixes an entity of ``kinds`` may map to (``None``: no rule for its kind)."""
    for kind, prefixes in ALLOWED_PREFIXES:
        if kind in kinds:
            return prefixes
    return None


def _our_names(graph: Graph, node: URIRef) -> set[str]:
    return {
        normalise(str(o))
        for p in (RDFS.label, SKOS.altLabel, SKOS.prefLabel)
        for o in graph.objects(node, p)
        if isinstance(o, Literal) and o.language in {None, "en"}
    }


def _english_label(graph: Graph, node: URIRef) -> str:
    labels = sorted(str(o) for o in graph.objects(node, RDFS.label) if isinstance(o, Literal) and o.language == "en")
    return labels[0] if labels else ""


def _check_object(row: MappingRow, external: ExternalIndex, report: LinkReport) -> None:
    prefix = row.object_id.split(":", 1)[0]
    spec = source_for_prefix(prefix)
    if spec is None or spec.key not in external.sources:
        report.problems.append(Problem(WARNING, row, f"not checked: no local source file for prefix {prefix}"))
        return
    term = external.get(row.object_id)
    if term is None:
        source = external.sources[spec.key]
        report.problems.append(Problem(ERROR, row, f"not found in {source.location} ({source.version})"))
        return
    if term.note:
        report.problems.append(Problem(WARNING, row, f"{term.note}; the local {spec.key} file cannot confirm it"))
    if term.obsolete:
        labels = {r: getattr(external.get(r), "label", "") for r in term.replaced_by}
        replacements = ", ".join(f"{r} {label!r}" if label else r for r, label in labels.items())
        hint = f"; replaced by {replacements}" if replacements else "; no replacement given"
        report.problems.append(Problem(ERROR, row, f"obsolete in {spec.key} ({term.label!r}){hint}"))
    if row.object_label and normalise(row.object_label) != normalise(term.label):
        report.problems.append(
            Problem(WARNING, row, f"object_label {row.object_label!r} differs from the {spec.key} label {term.label!r}")
        )


def link_check(mapping_set: MappingSet, graph: Graph, external: ExternalIndex) -> LinkReport:
    """Check every row of ``mapping_set`` against ``external`` and the entities in ``graph``.

    Args:
        mapping_set: the SSSOM mapping set.
        graph: the loaded project (ontology and data; its SKOS triples from Turtle are reported).
        external: the external ontology index (:func:`neuromech.external.load_external`).
    """
    report = LinkReport(versions={k: f"{s.location} ({s.version})" for k, s in external.sources.items()})
    positive_keys = {(r.subject_id, r.predicate_id, r.object_id) for r in mapping_set.positive()}
    for row in mapping_set.rows:
        report.checked += 1
        subject = expand(row.subject_id, "mapping set")
        if (subject, RDF.type, None) not in graph:
            level = WARNING if row.negative else ERROR
            what = "a guard for an entity not curated yet" if row.negative else "fix the subject_id or add the entity"
            report.problems.append(Problem(level, row, f"subject is not an entity of the graph ({what})"))
        else:
            label = _english_label(graph, subject)
            if row.subject_label and normalise(row.subject_label) != normalise(label):
                report.problems.append(
                    Problem(
                        WARNING, row, f"subject_label {row.subject_label!r} differs from the entity's label {label!r}"
                    )
                )
            allowed = allowed_prefixes(entity_kinds(graph, subject))
            prefix = row.object_id.split(":", 1)[0]
            if allowed is not None and prefix not in allowed and not row.negative:
                kinds = ", ".join(sorted(entity_kinds(graph, subject)))
                report.problems.append(
                    Problem(
                        ERROR, row, f"prefix {prefix} does not suit a {kinds} (allowed: {', '.join(sorted(allowed))})"
                    )
                )
        _check_object(row, external, report)
        if row.negative and (row.subject_id, row.predicate_id, row.object_id) in positive_keys:
            report.problems.append(Problem(ERROR, row, "a negative mapping is also asserted positively"))
        if row.predicate_id == "skos:exactMatch" and not row.negative:
            term = external.get(row.object_id)
            ours = _our_names(graph, subject)
            if term is not None and ours and not (ours & term.names()):
                report.problems.append(
                    Problem(
                        WARNING,
                        row,
                        f"exact match but no shared label or synonym: ours {_english_label(graph, subject)!r}, "
                        f"{term.source} {term.label!r}",
                    )
                )
    _check_turtle_triples(mapping_set, graph, report)
    _coverage(mapping_set, graph, report)
    return report


def _check_turtle_triples(mapping_set: MappingSet, graph: Graph, report: LinkReport) -> None:
    """Report SKOS mapping triples of the Turtle sources that the mapping set does not hold."""
    known = {(r.subject_id, r.predicate_id, r.object_id) for r in mapping_set.positive()}
    negative = {(r.subject_id, r.predicate_id, r.object_id) for r in mapping_set.negative()}
    for predicate_id, predicate in PREDICATE_IRIS.items():
        for subject, target in graph.subject_objects(predicate):
            key = (compress(str(subject)) or str(subject), predicate_id, compress(str(target)) or str(target))
            if key in negative:
                report.problems.append(
                    Problem(ERROR, None, f"{' '.join(key)}: asserted in Turtle but denied by a negative mapping")
                )
            elif key not in known and str(subject).startswith("https://w3id.org/neuromech/entity/"):
                report.problems.append(
                    Problem(
                        WARNING,
                        None,
                        f"{' '.join(key)}: a SKOS mapping in Turtle, not in the mapping set; "
                        "run `neuromech mappings import-skos`",
                    )
                )


def _coverage(mapping_set: MappingSet, graph: Graph, report: LinkReport) -> None:
    mapped = {r.subject_id for r in mapping_set.positive()}
    mappable: set[str] = set()
    for subject in set(graph.subjects(RDF.type, None)):
        if (
            isinstance(subject, URIRef)
            and str(subject).startswith("https://w3id.org/neuromech/entity/")
            and allowed_prefixes(entity_kinds(graph, subject)) is not None
        ):
            mappable.add(compress(str(subject)) or str(subject))
    report.mapped_entities = len(mapped & mappable)
    report.mappable_entities = len(mappable)


def check_project(
    paths: ProjectPaths, external_dir: Path | None = None, overrides: dict[str, str] | None = None
) -> LinkReport:
    """Load a project's graph and mapping set and check every mapping against the external files.

    Raises:
        UsageError: when the external folder does not exist.
        SourceSyntaxError: when a source file or the mapping set does not parse.
    """
    folder = external_dir or paths.external_dir
    if not folder.is_dir():
        raise UsageError(f"external ontology folder not found: {folder}; pass --external DIR")
    external = load_external(folder, overrides)
    return link_check(read_mapping_set(paths.mappings_file), load_project(paths).graph, external)
