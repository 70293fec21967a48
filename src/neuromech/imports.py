"""Import modules: the external classes the graph uses, with their ancestry, as committed Turtle.

``neuromech imports refresh`` reads the external ontologies (``../shared/external`` or any
file or URL given with ``--source KEY=...``), takes the *seed* terms the project uses (the
objects of the positive SSSOM mappings and the ECO evidence types of the data), adds their
``is_a`` / ``part_of`` / ``has_role`` ancestors up to the roots, and writes one module per
source to ``ontology/imports/<source>-import.ttl`` with a "generated — do not edit" header
naming the source version. ``build`` loads them with the TBox.

Modules are plain OWL: labels, synonyms (oboInOwl), definitions (IAO:0000115), named
superclasses, and ``part_of`` / ``has_role`` as ``SubClassOf <property> some <class>``
restrictions, exactly as the source ontologies state them. Output is deterministic (sorted,
no timestamps) so a test can regenerate the modules and compare them with the committed ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF

from neuromech.errors import UsageError
from neuromech.export import write_atomically
from neuromech.external import SOURCES, ExternalIndex, ExternalTerm, load_external, source_for_prefix
from neuromech.loading import load_files
from neuromech.mapping_set import read_mapping_set
from neuromech.namespaces import CONVERTER, NM
from neuromech.paths import ProjectPaths

#: Sources that get an import module (RO relations are declared in the TBox itself).
MODULE_SOURCES: tuple[str, ...] = ("uberon", "chebi", "mondo", "doid", "hp", "hgnc", "cogat", "eco")
_OWL = "http://www.w3.org/2002/07/owl#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_OIO = "http://www.geneontology.org/formats/oboInOwl#"
_OBO = "http://purl.obolibrary.org/obo/"
_SYNONYM_PROPERTIES = {
    "EXACT": "oio:hasExactSynonym",
    "NARROW": "oio:hasNarrowSynonym",
    "BROAD": "oio:hasBroadSynonym",
    "RELATED": "oio:hasRelatedSynonym",
}
_PROPERTY_CURIES = {"part_of": "obo:BFO_0000050", "has_role": "obo:RO_0000087"}
_PREFIXES = {"owl": _OWL, "rdfs": _RDFS, "oio": _OIO, "obo": _OBO, "dcterms": "http://purl.org/dc/terms/"}
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True)
class Module:
    """One generated import module."""

    source: str
    path: Path
    text: str
    seeds: int
    terms: int


def module_path(paths: ProjectPaths, source: str) -> Path:
    """Return where the import module of ``source`` lives."""
    return paths.imports_dir / f"{source}-import.ttl"


def seed_terms(paths: ProjectPaths) -> set[str]:
    """Return the external CURIEs the project uses: mapping objects and ECO evidence types of the data."""
    seeds = {row.object_id for row in read_mapping_set(paths.mappings_file).positive()}
    graph = load_files(paths.data_files()).graph
    for predicate in (NM.has_evidence_type, NM.default_evidence_type):
        for target in graph.objects(None, predicate):
            curie = CONVERTER.compress(str(target))
            if curie:
                seeds.add(curie)
    return seeds


def closure(index: ExternalIndex, seeds: Iterable[str], prefixes: Iterable[str]) -> set[str]:
    """Return ``seeds`` with every ancestor over is_a / part_of / has_role that has one of ``prefixes``."""
    wanted = tuple(f"{p}:" for p in prefixes)
    found = {s for s in seeds if s.startswith(wanted) and index.get(s) is not None}
    for seed in list(found):
        found |= {a for a in index.ancestors(seed) if a.startswith(wanted) and index.get(a) is not None}
    return found


def _literal(text: str) -> str:
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in text) + '"'


def _iri(curie: str) -> str:
    iri = CONVERTER.expand(curie)
    if iri is None:
        raise UsageError(f"no IRI for {curie!r}: its prefix is not in the project's prefix map")
    if iri.startswith(_OBO) and iri[len(_OBO) :].replace("_", "").isalnum():
        return "obo:" + iri[len(_OBO) :]
    return f"<{iri}>"


def _term_block(term: ExternalTerm, members: set[str]) -> str:
    lines = [f"{_iri(term.curie)} a owl:Class"]
    if term.label:
        lines.append(f"    rdfs:label {_literal(term.label)}")
    if term.definition:
        lines.append(f"    obo:IAO_0000115 {_literal(term.definition)}")
    for scope, prop in _SYNONYM_PROPERTIES.items():
        texts = sorted({text for s, text in term.synonyms if s == scope and text and text != term.label})
        if texts:
            lines.append(f"    {prop} " + " , ".join(_literal(t) for t in texts))
    if term.obsolete:
        lines.append('    owl:deprecated "true"^^<http://www.w3.org/2001/XMLSchema#boolean>')
        if term.replaced_by:
            lines.append("    obo:IAO_0100001 " + " , ".join(_iri(r) for r in sorted(term.replaced_by)))
    supers = sorted({_iri(p) for rel, p in term.parents if rel == "is_a" and p in members})
    restrictions = sorted(
        {
            f"[ a owl:Restriction ; owl:onProperty {_PROPERTY_CURIES[rel]} ; owl:someValuesFrom {_iri(p)} ]"
            for rel, p in term.parents
            if rel in _PROPERTY_CURIES and p in members
        }
    )
    if supers or restrictions:
        lines.append("    rdfs:subClassOf " + " ,\n        ".join(supers + restrictions))
    return " ;\n".join(lines) + " .\n"


def render_module(source: str, index: ExternalIndex, members: set[str], seeds: set[str]) -> str:
    """Return the Turtle text of the import module of ``source`` holding ``members``."""
    info = index.sources[source]
    extra = [info for key, info in sorted(index.sources.items()) if key.startswith(f"{source}-")]
    header = [
        f"# {source}-import.ttl: GENERATED by `neuromech imports refresh` -- do not edit by hand.",
        f"# Source: {info.version}",
        *(f"# Supplement: {e.version}" for e in extra),
        f"# {len(members)} terms: {len(seeds)} used by the project (SSSOM mapping objects, ECO evidence types)",
        "# and their is_a / part_of / has_role ancestors in the same ontology, up to the roots.",
    ]
    prefixes = "".join(f"@prefix {p}: <{iri}> .\n" for p, iri in _PREFIXES.items())
    ontology = (
        f"<https://w3id.org/neuromech/imports/{source}-import> a owl:Ontology ;\n"
        f"    owl:versionInfo {_literal(info.version)} ;\n"
        f"    dcterms:source {_literal(' + '.join([info.version, *(e.version for e in extra)]))} .\n"
    )
    declarations = [
        "oio:hasExactSynonym a owl:AnnotationProperty .\n",
        "oio:hasNarrowSynonym a owl:AnnotationProperty .\n",
        "oio:hasBroadSynonym a owl:AnnotationProperty .\n",
        "oio:hasRelatedSynonym a owl:AnnotationProperty .\n",
        "obo:IAO_0100001 a owl:AnnotationProperty .\n",
    ]
    if any(rel == "has_role" and p in members for m in members for rel, p in index.terms[m].parents):
        declarations.append('obo:RO_0000087 a owl:ObjectProperty ;\n    rdfs:label "has role" .\n')
    blocks = [_term_block(index.terms[curie], members) for curie in sorted(members, key=_natural)]
    return "\n".join(["\n".join(header) + "\n", prefixes, ontology, "".join(declarations), *blocks])


def _natural(curie: str) -> tuple[str, int, str]:
    prefix, _, local = curie.partition(":")
    digits = "".join(ch for ch in local if ch.isdigit())
    return (prefix, int(digits) if local.isdigit() else -1, local)


def build_modules(paths: ProjectPaths, index: ExternalIndex, sources: Iterable[str] = MODULE_SOURCES) -> list[Module]:
    """Compute the import modules of ``sources`` (nothing is written)."""
    seeds = seed_terms(paths)
    modules = []
    for source in sources:
        if source not in index.sources:
            continue
        prefixes = SOURCES[source].prefixes
        own_seeds = {s for s in seeds if source_for_prefix(s.split(":", 1)[0]) is SOURCES[source]}
        members = closure(index, own_seeds, prefixes)
        if not members:
            continue
        text = render_module(source, index, members, own_seeds & members)
        modules.append(Module(source, module_path(paths, source), text, len(own_seeds & members), len(members)))
    return modules


def refresh(
    paths: ProjectPaths,
    external_dir: Path | None = None,
    overrides: dict[str, str] | None = None,
    check: bool = False,
) -> tuple[list[Module], list[Path]]:
    """Regenerate the import modules from the external ontologies.

    Args:
        paths: the project.
        external_dir: folder of the offline copies (default ``../shared/external``).
        overrides: source key -> file or URL of a full ontology to read instead.
        check: only compare; write nothing.

    Returns:
        The modules, and the module files that differ from (with ``check``) or were rewritten
        over the committed ones.

    Raises:
        UsageError: when the external folder is missing or a source cannot be read.
    """
    folder = external_dir or paths.external_dir
    if not folder.is_dir() and not overrides:
        raise UsageError(f"external ontology folder not found: {folder}; pass --external DIR or --source KEY=PATH")
    index = load_external(folder, overrides, keys=[s for s in SOURCES if s in MODULE_SOURCES])
    modules = build_modules(paths, index)
    changed = [m.path for m in modules if not m.path.is_file() or m.path.read_text(encoding="utf-8") != m.text]
    if not check:
        for module in modules:
            if module.path in changed:
                write_atomically(module.path, module.text)
    return modules, changed


def module_iris(module_text: str) -> set[URIRef]:
    """Return the classes declared in a module's text (for tests and reports)."""
    graph = Graph().parse(data=module_text, format="turtle")
    return {s for s in graph.subjects(RDF.type, OWL.Class) if isinstance(s, URIRef)}
