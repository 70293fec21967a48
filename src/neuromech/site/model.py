"""The plain data the site is rendered from, collected once from the graph."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Label:
    """A bilingual name: English and Chinese (either may be empty)."""

    en: str = ""
    zh: str = ""

    @property
    def any(self) -> str:
        """The English name, else the Chinese one."""
        return self.en or self.zh


@dataclass(frozen=True)
class Mapping:
    """An external identifier an entity is mapped to."""

    curie: str
    url: str
    relation: str  # exact, close, broad or narrow


@dataclass
class Node:
    """A condition, a mechanistic entity, a review or a mechanism model shown on the site."""

    iri: str
    curie: str
    slug: str
    kind: str  # CURIE of the most specific class, e.g. nm:BrainRegion
    group: str  # CURIE of the kind shown in groupings, e.g. nm:Neuromodulator for nm:Hormone
    label: Label
    synonyms: list[str] = field(default_factory=list)
    definition: Label = field(default_factory=Label)
    mappings: list[Mapping] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)  # direct part-of parents (IRIs)


@dataclass
class Finding:
    """One finding, with IRIs for linking and texts for reading."""

    iri: str
    curie: str
    review: str
    section: str
    condition: str
    measured: str
    partner: str
    measure: str
    direction: str
    with_effect: bool
    methods: list[str]
    studies: list[str]
    context: str
    quote: str
    statement: str


@dataclass
class Step:
    """One step of a mechanism model."""

    iri: str
    label: Label
    index: int
    involves: list[str]
    upstream_of: list[str]
    supported_by: list[str]


@dataclass
class MechanismModel:
    """A mechanism model of a review, drawn as a causal diagram."""

    iri: str
    slug: str
    label: Label
    definition: str
    review: str
    section: str
    explains: list[str]
    quotes: list[str]
    steps: list[Step]


@dataclass
class Review:
    """A source review with its bibliographic record."""

    iri: str
    slug: str
    label: Label
    citation: str
    identifier: str
    creators: list[str]


@dataclass
class OntologyTerm:
    """A class, property or controlled-vocabulary individual of the ontology."""

    iri: str
    curie: str
    type: str  # Class, ObjectProperty, DatatypeProperty, AnnotationProperty, Individual
    label: Label
    definition: Label
    parents: list[str]  # superclasses, superproperties or the classes of an individual (CURIEs)
    domain: list[str]
    range: list[str]
    characteristics: list[str]


@dataclass(frozen=True)
class QueryExample:
    """A stored query with its parameters and the first rows of an example run."""

    name: str
    summary: str
    description: str
    parameters: list[tuple[str, str, str, str]]  # name, type, requirement, doc
    tags: list[str]
    text: str
    example_params: dict[str, str]
    columns: list[str]
    rows: list[list[str]]
    total_rows: int


@dataclass
class SiteData:
    """Everything the pages show, keyed by IRI."""

    version: str
    title: Label
    licence: str
    labels: dict[str, Label]
    conditions: dict[str, Node]
    entities: dict[str, Node]
    reviews: dict[str, Review]
    findings: list[Finding]
    studies: dict[str, str]  # IRI -> citation text
    mechanisms: list[MechanismModel]
    implicates: dict[str, set[str]]  # condition IRI -> implicated entity IRIs (inferred nm:implicates)
    claims_by_review: dict[str, dict[str, int]]  # review IRI -> class CURIE -> count
    ontology: list[OntologyTerm]
    queries: list[QueryExample]
