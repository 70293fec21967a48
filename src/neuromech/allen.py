"""Read the Allen brain atlas bridges: UBERON class -> the human (HBA) and mouse (MBA) atlas classes.

Two kinds of file in ``../shared/external/brain-atlas/`` (provenance in its ``README.md`` and
``MANIFEST.tsv``) state the same equivalences, checked by a test:

* ``uberon-bridge-to-hba.owl`` / ``uberon-bridge-to-mba.owl`` — UBERON's published bridges
  (RDF/XML, read with rdflib). Each Allen class is declared equivalent to
  ``UBERON_x and <relation> some NCBITaxon_t`` (HBA: ``RO:0002162`` *in taxon* human; MBA:
  ``BFO:0000050`` *part of* mouse). They carry no ``rdfs:label``, only IAO_0000589 labels
  such as "amygdala (human)". These are the equivalences :func:`load_bridges` uses.
* ``local-allen-hba.owl`` / ``local-allen-mba.owl`` — the BICAN atlas ontologies (HBAO / MBAO
  base) in OWL functional syntax: every atlas class (1,839 HBA, 1,330 MBA) with its
  ``rdfs:label``, exact synonyms and ``part of`` parents, and the same equivalence axioms
  (the species restriction written with ``BFO:0000050`` *part of*). They are read with the
  line regexes below — the files are written one axiom per line by the OWL API, full IRIs for
  atlas classes, ``obo:`` CURIEs for UBERON — for the labels (:func:`parse_atlas_terms`) and
  for the cross-check (:func:`parse_atlas_equivalences`).

Only equivalences of the form *UBERON class and (relation) some NCBITaxon class* with a numeric
Allen ID are used: 114 MBA classes are defined instead as *a UBERON class part of another
UBERON class* (cortical layer 1 of the anterior cingulate area), and two MBA IRIs are malformed
(``MBA_ENTITY``, ``MBA_219%20``); :attr:`AllenBridges.skipped` lists them with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax import SAXException

from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.exceptions import ParserError
from rdflib.namespace import OWL, RDF

from neuromech.errors import SourceSyntaxError, UsageError
from neuromech.external import ExternalTerm
from neuromech.namespaces import CONVERTER


@dataclass(frozen=True)
class Atlas:
    """One Allen atlas: its CURIE prefix, species, and the bridge and label files (relative to the external folder)."""

    key: str
    prefix: str
    species: str
    taxon: str
    bridge: str
    labels: str


#: The two atlases, by key (the keys are also the link-check source keys of the label files).
ATLASES: dict[str, Atlas] = {
    atlas.key: atlas
    for atlas in (
        Atlas(
            "hba",
            "HBA",
            "human",
            "NCBITaxon:9606",
            "brain-atlas/uberon-bridge-to-hba.owl",
            "brain-atlas/local-allen-hba.owl",
        ),
        Atlas(
            "mba",
            "MBA",
            "mouse",
            "NCBITaxon:10090",
            "brain-atlas/uberon-bridge-to-mba.owl",
            "brain-atlas/local-allen-mba.owl",
        ),
    )
}


#: Names of the relations the bridges restrict a UBERON class by, for comments and reports.
RELATION_NAMES: dict[str, str] = {"RO:0002162": "in taxon", "BFO:0000050": "part of"}


@dataclass(frozen=True)
class AllenClass:
    """An atlas class and the UBERON class it is the species-specific part of."""

    curie: str  # HBA:4327
    label: str  # rdfs:label in the local-allen file ("amygdala")
    uberon: str  # UBERON:0001876
    relation: str  # the restriction's property, RO:0002162 (in taxon) or BFO:0000050 (part of)
    taxon: str  # NCBITaxon:9606
    bridge: str  # the bridge file, relative to the external folder
    species: str  # human / mouse

    def definition(self) -> str:
        """Return the bridge's equivalence in words: ``HBA:4327 = UBERON:0001876 and in taxon some NCBITaxon:9606``."""
        relation = RELATION_NAMES.get(self.relation, self.relation)
        return f"{self.curie} = {self.uberon} and {relation} some {self.taxon}"


@dataclass
class AllenBridges:
    """The equivalences of both bridges, keyed by UBERON CURIE, and what was skipped."""

    by_uberon: dict[str, list[AllenClass]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def for_uberon(self, curie: str) -> list[AllenClass]:
        """Every atlas class equivalent to ``curie`` restricted to a species (HBA before MBA)."""
        return self.by_uberon.get(curie, [])

    def add(self, allen: AllenClass) -> None:
        """Record one equivalence."""
        self.by_uberon.setdefault(allen.uberon, []).append(allen)

    def count(self, prefix: str) -> int:
        """How many equivalences have an atlas class with ``prefix``."""
        return sum(1 for classes in self.by_uberon.values() for c in classes if c.curie.startswith(f"{prefix}:"))


_NUMERIC = re.compile(r"^[A-Z]+:[0-9]+$")


def _curie(node: object) -> str | None:
    return CONVERTER.compress(str(node)) if isinstance(node, URIRef) else None


def _equivalence(graph: Graph, expression: object) -> tuple[str, str, str] | str:
    """Return (UBERON, relation, taxon) of ``UBERON_x and (relation some NCBITaxon_t)``, else why not."""
    members = graph.value(expression, OWL.intersectionOf) if isinstance(expression, BNode) else None
    if members is None:
        return "not an intersection"
    items = list(Collection(graph, members))
    named = [_curie(i) for i in items if isinstance(i, URIRef)]
    restrictions = [i for i in items if (i, RDF.type, OWL.Restriction) in graph]
    if len(items) != 2 or len(named) != 1 or len(restrictions) != 1 or not (named[0] or "").startswith("UBERON:"):
        return "not of the form 'UBERON class and (relation some species)' (nested, or part of another UBERON class)"
    relation = _curie(graph.value(restrictions[0], OWL.onProperty))
    filler = _curie(graph.value(restrictions[0], OWL.someValuesFrom))
    if not relation or not filler or not filler.startswith("NCBITaxon:"):
        return f"restricted by {relation} some {filler or 'an anonymous class'}, not by a species"
    return named[0] or "", relation, filler


def parse_bridge(data: str | bytes, atlas: Atlas, labels: dict[str, str]) -> tuple[list[AllenClass], list[str]]:
    """Read the equivalences of one UBERON bridge file (RDF/XML).

    Args:
        data: the file's content.
        atlas: which atlas the bridge is for (its prefix and species).
        labels: atlas CURIE -> ``rdfs:label`` (from :func:`parse_atlas_terms`); a class without
            one gets the bridge's IAO_0000589 label.

    Returns:
        The usable equivalences, and one line per skipped equivalence saying why.

    Raises:
        SourceSyntaxError: when the file is not RDF/XML.
    """
    graph = Graph()
    try:
        graph.parse(data=data, format="xml")
    except (ParserError, SAXException, ValueError) as err:
        raise SourceSyntaxError(f"{atlas.bridge}: not RDF/XML: {err}") from err
    unique_label = URIRef("http://purl.obolibrary.org/obo/IAO_0000589")
    found: list[AllenClass] = []
    skipped: list[str] = []
    for subject, expression in sorted(graph.subject_objects(OWL.equivalentClass), key=lambda so: str(so[0])):
        curie = _curie(subject)
        if curie is None or not curie.startswith(f"{atlas.prefix}:") or not _NUMERIC.match(curie):
            skipped.append(f"{atlas.bridge}: {subject}: not a numeric {atlas.prefix} ID")
            continue
        shape = _equivalence(graph, expression)
        if isinstance(shape, str):
            skipped.append(f"{atlas.bridge}: {curie}: {shape}")
            continue
        uberon, relation, taxon = shape
        label = labels.get(curie) or str(graph.value(subject, unique_label) or "")
        found.append(AllenClass(curie, label, uberon, relation, taxon, atlas.bridge, atlas.species))
    return found, skipped


# OWL functional syntax, one axiom per line as the OWL API writes it (see the module docstring)
_OFN_STRING = r'"(?P<text>(?:[^"\\]|\\.)*)"(?:@[A-Za-z-]+|\^\^\S+)?'
_OFN_DECLARATION = re.compile(r"^Declaration\(Class\(<(?P<iri>[^>]+)>\)\)$", re.MULTILINE)
_OFN_ANNOTATION = re.compile(
    r"^AnnotationAssertion\((?P<prop>rdfs:label|oboInOwl:hasExactSynonym|owl:deprecated) <(?P<iri>[^>]+)> "
    + _OFN_STRING
    + r"\)$",
    re.MULTILINE,
)
_OFN_PART_OF = re.compile(
    r"^SubClassOf\(<(?P<iri>[^>]+)> ObjectSomeValuesFrom\(obo:BFO_0000050 <(?P<parent>[^>]+)>\)\)$", re.MULTILINE
)
_OFN_EQUIVALENCE = re.compile(
    r"^EquivalentClasses\(<(?P<iri>[^>]+)> ObjectIntersectionOf\(obo:(?P<uberon>UBERON_[0-9]+) "
    r"ObjectSomeValuesFrom\(obo:(?P<relation>[A-Za-z]+_[0-9]+) obo:(?P<taxon>NCBITaxon_[0-9]+)\)\)\)$",
    re.MULTILINE,
)


def _ofn_unquote(text: str) -> str:
    return text.replace('\\"', '"').replace("\\\\", "\\")


def _obo_curie(local: str) -> str:
    return local.replace("_", ":", 1)


def parse_atlas_terms(text: str, atlas: Atlas) -> list[ExternalTerm]:
    """Read the atlas classes of a ``local-allen-*.owl`` file (OWL functional syntax).

    Each declared class with a numeric ID of ``atlas.prefix`` becomes a term with its
    ``rdfs:label``, exact synonyms, ``owl:deprecated`` flag and ``part of`` parents among the
    atlas classes.

    Raises:
        SourceSyntaxError: when the text is not an OWL functional syntax ontology.
    """
    if "Ontology(" not in text:
        raise SourceSyntaxError(f"{atlas.labels}: not an OWL functional syntax ontology")
    terms: dict[str, ExternalTerm] = {}
    for match in _OFN_DECLARATION.finditer(text):
        curie = CONVERTER.compress(match["iri"])
        if curie and curie.startswith(f"{atlas.prefix}:") and _NUMERIC.match(curie):
            terms[curie] = ExternalTerm(curie)
    for match in _OFN_ANNOTATION.finditer(text):
        term = terms.get(CONVERTER.compress(match["iri"]) or "")
        if term is None:
            continue
        value = _ofn_unquote(match["text"])
        if match["prop"] == "rdfs:label":
            term.label = term.label or value
        elif match["prop"] == "oboInOwl:hasExactSynonym":
            term.synonyms.append(("EXACT", value))
        else:
            term.obsolete = value == "true"
    for match in _OFN_PART_OF.finditer(text):
        term = terms.get(CONVERTER.compress(match["iri"]) or "")
        parent = CONVERTER.compress(match["parent"])
        if term is not None and parent in terms:
            term.parents.append(("part_of", parent))
    return list(terms.values())


def parse_atlas_equivalences(text: str, atlas: Atlas) -> dict[str, tuple[str, str, str]]:
    """Return atlas CURIE -> (UBERON, relation, taxon) of the species equivalences of a ``local-allen-*.owl`` file."""
    found: dict[str, tuple[str, str, str]] = {}
    for match in _OFN_EQUIVALENCE.finditer(text):
        curie = CONVERTER.compress(match["iri"])
        if curie and curie.startswith(f"{atlas.prefix}:"):
            found[curie] = (_obo_curie(match["uberon"]), _obo_curie(match["relation"]), _obo_curie(match["taxon"]))
    return found


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot read the Allen atlas file {path}: {err}") from err


def load_bridges(external_dir: Path, atlases: Iterable[str] = ATLASES) -> AllenBridges:
    """Read the bridges (and the labels) of ``atlases`` from ``external_dir``.

    Raises:
        UsageError: when a file is missing or unreadable.
        SourceSyntaxError: when a file does not parse.
    """
    bridges = AllenBridges()
    for key in atlases:
        atlas = ATLASES[key]
        labels = {t.curie: t.label for t in parse_atlas_terms(_read(external_dir / atlas.labels), atlas)}
        found, skipped = parse_bridge(_read(external_dir / atlas.bridge), atlas, labels)
        for allen in found:
            bridges.add(allen)
        bridges.skipped.extend(skipped)
    for classes in bridges.by_uberon.values():
        classes.sort(key=lambda c: (c.curie.split(":")[0], int(c.curie.split(":")[1])))
    return bridges
