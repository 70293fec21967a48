"""Collect what the site shows from the loaded, materialised graph.

Findings come from the stored ``findings`` query (the same rows as ``dist/findings.tsv``);
the IRIs needed for linking, labels in both languages, mappings, part-of edges, mechanism
models and the ontology's terms come from small SPARQL queries and the asserted graph.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.term import Node as RdfNode

from neuromech import __version__
from neuromech.build import KnowledgeGraph
from neuromech.errors import NeuroMechError, UsageError
from neuromech.namespaces import DCTERMS, IAO_DEFINITION, NM, OBO, PART_OF, SKOS, compress
from neuromech.queries import read_expectation, run_query
from neuromech.report import cell
from neuromech.site.model import (
    Finding,
    Label,
    Mapping,
    MechanismModel,
    Node,
    OntologyTerm,
    QueryExample,
    Review,
    SiteData,
    Step,
)
from neuromech.store import Term

log = logging.getLogger(__name__)

_PREFIXES = """PREFIX nm: <https://w3id.org/neuromech/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX obo: <http://purl.obolibrary.org/obo/>
"""

_FINDING_FACTS = (
    _PREFIXES
    + """SELECT ?finding ?measure ?direction ?partner ?effect
       (GROUP_CONCAT(DISTINCT STR(?method); separator="|") AS ?methods)
       (GROUP_CONCAT(DISTINCT STR(?study); separator="|") AS ?studies)
WHERE {
  ?finding a nm:Finding ; nm:has_measure ?measure ; nm:has_direction ?direction .
  OPTIONAL { ?finding nm:has_partner_entity ?partner }
  OPTIONAL { ?finding nm:has_method ?method }
  OPTIONAL { ?finding nm:cites_study ?study }
  BIND(EXISTS { ?finding nm:reports_effect ?finding } AS ?effect)
}
GROUP BY ?finding ?measure ?direction ?partner ?effect
"""
)

_IMPLICATES = _PREFIXES + "SELECT ?condition ?entity WHERE { ?condition nm:implicates ?entity }"

_KINDS = (
    _PREFIXES
    + """SELECT ?node ?kind ?root WHERE {
  VALUES ?root { nm:MechanisticEntity nm:Condition }
  ?kind rdfs:subClassOf* ?root .
  ?node a ?kind .
}"""
)

_STUDIES = _PREFIXES + "SELECT ?study ?text WHERE { ?study a nm:Study ; nm:citation_text ?text }"

_CLAIM_COUNTS = (
    _PREFIXES
    + """SELECT ?review ?kind (COUNT(DISTINCT ?x) AS ?n) WHERE {
  VALUES ?kind { nm:Finding nm:BackgroundStatement nm:ComparisonStatement nm:Mechanism }
  ?x a ?kind ; nm:from_review ?review .
} GROUP BY ?review ?kind"""
)

_MAPPING_RELATIONS = {
    SKOS.exactMatch: "exact",
    SKOS.closeMatch: "close",
    SKOS.broadMatch: "broad",
    SKOS.narrowMatch: "narrow",
}

_MAX_EXAMPLE_ROWS = 8


def _text(term: Term | None) -> str:
    return "" if term is None else str(term)


def slug_of(iri: str) -> str:
    """Return a file-name-safe slug for ``iri``: its local name, with unsafe characters replaced."""
    local = iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in local) or "node"


def _labels(graph: Graph) -> dict[str, Label]:
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for subject, label in graph.subject_objects(RDFS.label):
        if isinstance(subject, URIRef) and isinstance(label, Literal):
            lang = label.language or "en"
            found[str(subject)].setdefault(lang, str(label))
    return {iri: Label(names.get("en", ""), names.get("zh", "")) for iri, names in found.items()}


def _definition(graph: Graph, node: RdfNode) -> Label:
    names: dict[str, str] = {}
    for prop in (IAO_DEFINITION, SKOS.definition):
        for value in graph.objects(node, prop):
            if isinstance(value, Literal):
                names.setdefault(value.language or "en", str(value))
    return Label(names.get("en", ""), names.get("zh", ""))


def _mappings(graph: Graph, node: URIRef) -> list[Mapping]:
    out = []
    for prop, relation in _MAPPING_RELATIONS.items():
        for target in graph.objects(node, prop):
            out.append(Mapping(compress(str(target)), str(target), relation))
    return sorted(out, key=lambda m: (m.relation != "exact", m.curie))


def _group_kinds(graph: Graph) -> dict[str, str]:
    """Map every class below nm:MechanisticEntity or nm:Condition to its top kind below those roots."""
    direct: dict[str, str] = {}
    for root in (NM.MechanisticEntity, NM.Condition):
        for child in graph.subjects(RDFS.subClassOf, root):
            direct[str(child)] = str(child)
            for below in graph.transitive_subjects(RDFS.subClassOf, child):
                direct.setdefault(str(below), str(child))
    return direct


def _asserted(kg: KnowledgeGraph) -> Graph:
    if kg.source is None:
        raise UsageError("the site is built from the local checkout's sources, not from a remote endpoint")
    return kg.source.graph


def _nodes(kg: KnowledgeGraph, labels: dict[str, Label]) -> tuple[dict[str, Node], dict[str, Node]]:
    """Return the conditions and the mechanistic entities, keyed by IRI."""
    asserted = _asserted(kg)
    groups = _group_kinds(asserted)
    ancestors = {
        str(c): {str(a) for a in asserted.transitive_objects(c, RDFS.subClassOf)}
        for c in asserted.subjects(RDF.type, OWL.Class)
    }
    kinds: dict[str, set[str]] = defaultdict(set)
    roots: dict[str, str] = {}
    for subject, cls, root in kg.store.select(_KINDS).rows:
        if isinstance(subject, URIRef):
            kinds[str(subject)].add(str(cls))
            if roots.get(str(subject)) != str(NM.Condition):
                roots[str(subject)] = str(root)
    conditions: dict[str, Node] = {}
    entities: dict[str, Node] = {}
    for iri, classes in sorted(kinds.items()):
        ref = URIRef(iri)
        # the most specific kind: one no other kind of the node is a subclass of
        specific = [k for k in classes if not any(o != k and k in ancestors.get(o, set()) for o in classes)]
        kind = sorted(specific)[0]
        node = Node(
            iri=iri,
            curie=compress(iri),
            slug=slug_of(iri),
            kind=compress(kind),
            group=compress(groups.get(kind, kind)),
            label=labels.get(iri, Label(compress(iri))),
            synonyms=sorted({str(s) for s in asserted.objects(ref, SKOS.altLabel)}),
            definition=_definition(asserted, ref),
            mappings=_mappings(asserted, ref),
            parents=sorted(str(p) for p in asserted.objects(ref, PART_OF) if isinstance(p, URIRef)),
        )
        (conditions if roots[iri] == str(NM.Condition) else entities)[iri] = node
    return conditions, entities


def _findings(kg: KnowledgeGraph) -> list[Finding]:
    facts: dict[str, dict[str, Term | None]] = {}
    for row in kg.store.select(_FINDING_FACTS).dicts():
        facts[_text(row["finding"])] = row
    table = kg.query("findings")
    out = []
    for row in table.dicts():
        iri = _text(row["finding"])
        fact = facts.get(iri, {})
        out.append(
            Finding(
                iri=iri,
                curie=compress(iri),
                review=_text(row["review"]),
                section=_text(row["section"]),
                condition=_text(row["condition"]),
                measured=_text(row["measured"]),
                partner=_text(row["partner"]),
                measure=_text(fact.get("measure")),
                direction=_text(fact.get("direction")),
                with_effect=_text(fact.get("effect")) in ("true", "1"),
                methods=sorted(m for m in _text(fact.get("methods")).split("|") if m),
                studies=sorted(s for s in _text(fact.get("studies")).split("|") if s),
                context="; ".join(sorted(c for c in _text(row["context"]).split(" ;; ") if c)),
                quote=_text(row["quote"]),
                statement=_text(row["statement"]),
            )
        )
    return out


def _mechanisms(graph: Graph, labels: dict[str, Label]) -> list[MechanismModel]:
    models = []
    for model in sorted(set(graph.subjects(RDF.type, NM.Mechanism)), key=str):
        steps = []
        for step in graph.objects(model, NM.has_step):
            index = graph.value(step, NM.step_index)
            steps.append(
                Step(
                    iri=str(step),
                    label=labels.get(str(step), Label(compress(str(step)))),
                    index=int(index) if isinstance(index, Literal) else 0,
                    involves=sorted(str(x) for x in graph.objects(step, NM.involves)),
                    upstream_of=sorted(str(x) for x in graph.objects(step, OBO["RO_0002411"])),
                    supported_by=sorted(str(x) for x in graph.objects(step, NM.supported_by)),
                )
            )
        steps.sort(key=lambda s: (s.index, s.iri))
        models.append(
            MechanismModel(
                iri=str(model),
                slug=slug_of(str(model)),
                label=labels.get(str(model), Label(compress(str(model)))),
                definition=_definition(graph, model).en,
                review=_text(graph.value(model, NM.from_review)),  # type: ignore[arg-type]
                section=_text(graph.value(model, NM.section)),  # type: ignore[arg-type]
                explains=sorted(str(x) for x in graph.objects(model, NM.explains_condition)),
                quotes=sorted(str(q) for q in graph.objects(model, NM.quote)),
                steps=steps,
            )
        )
    return models


def _reviews(graph: Graph, labels: dict[str, Label]) -> dict[str, Review]:
    out = {}
    for review in sorted(set(graph.subjects(RDF.type, NM.Review)), key=str):
        iri = str(review)
        out[iri] = Review(
            iri=iri,
            slug=slug_of(iri),
            label=labels.get(iri, Label(compress(iri))),
            citation=_text(graph.value(review, DCTERMS.bibliographicCitation)),  # type: ignore[arg-type]
            identifier=_text(graph.value(review, DCTERMS.identifier)),  # type: ignore[arg-type]
            creators=sorted(str(c) for c in graph.objects(review, DCTERMS.creator)),
        )
    return out


_TERM_TYPES = {
    OWL.Class: "Class",
    OWL.ObjectProperty: "ObjectProperty",
    OWL.DatatypeProperty: "DatatypeProperty",
    OWL.AnnotationProperty: "AnnotationProperty",
}
_CHARACTERISTICS = {
    OWL.TransitiveProperty: "transitive",
    OWL.SymmetricProperty: "symmetric",
    OWL.FunctionalProperty: "functional",
    OWL.InverseFunctionalProperty: "inverse functional",
    OWL.AsymmetricProperty: "asymmetric",
    OWL.IrreflexiveProperty: "irreflexive",
    OWL.ReflexiveProperty: "reflexive",
}


def _ontology(graph: Graph, labels: dict[str, Label]) -> list[OntologyTerm]:
    """Return the classes, properties and controlled-vocabulary individuals the TBox declares."""
    terms = []
    seen: set[str] = set()
    for rdf_type, name in [*_TERM_TYPES.items(), (OWL.NamedIndividual, "Individual")]:
        for subject in sorted(set(graph.subjects(RDF.type, rdf_type)), key=str):
            iri = str(subject)
            if not isinstance(subject, URIRef) or iri in seen or iri not in labels:
                continue
            seen.add(iri)
            if name == "Individual":
                parents = [o for o in graph.objects(subject, RDF.type) if o != OWL.NamedIndividual]
            elif name == "Class":
                parents = list(graph.objects(subject, RDFS.subClassOf))
            else:
                parents = list(graph.objects(subject, RDFS.subPropertyOf))
            terms.append(
                OntologyTerm(
                    iri=iri,
                    curie=compress(iri),
                    type=name,
                    label=labels[iri],
                    definition=_definition(graph, subject),
                    parents=sorted(compress(str(p)) for p in parents if isinstance(p, URIRef)),
                    domain=sorted(
                        compress(str(d)) for d in graph.objects(subject, RDFS.domain) if isinstance(d, URIRef)
                    ),
                    range=sorted(compress(str(r)) for r in graph.objects(subject, RDFS.range) if isinstance(r, URIRef)),
                    characteristics=sorted(
                        word for cls, word in _CHARACTERISTICS.items() if (subject, RDF.type, cls) in graph
                    ),
                )
            )
    return terms


def _query_examples(kg: KnowledgeGraph, expected_dir: Path) -> list[QueryExample]:
    """Describe each stored query and run it with the parameters of its real-data expectation."""
    out = []
    for query in kg.catalogue.values():
        # the parameters of its expectations (real data first, then the fixture); none if none is required
        candidates = [
            read_expectation(p).params for p in sorted(expected_dir.glob(f"{query.name}.*.tsv"), key=_data_first)
        ]
        if not any(p.required for p in query.parameters):
            candidates.append({})
        params, table = {}, None
        for candidate in candidates:
            try:
                table = run_query(kg.store, query, candidate, kg.resolver)
            except NeuroMechError as err:  # an example naming something this graph does not hold
                log.debug("query %s: example %s does not run here: %s", query.name, candidate, err)
                continue
            params = candidate
            break
        rows = [[cell(term) for term in row] for row in table.rows] if table else []
        out.append(
            QueryExample(
                name=query.name,
                summary=query.summary,
                description=query.description,
                parameters=[
                    (p.name, p.type + (f":{p.kind}" if p.kind else ""), _need(p.required, p.default), p.doc)
                    for p in query.parameters
                ],
                tags=list(query.tags),
                text=query.text,
                example_params=params,
                columns=table.variables if table else [],
                rows=rows[:_MAX_EXAMPLE_ROWS],
                total_rows=len(rows),
            )
        )
    return out


def _data_first(path: Path) -> tuple[int, str]:
    kind = path.name.split(".")[-2]
    return (0 if kind == "data" else 1 if kind.startswith("data") else 2, path.name)


def _need(required: bool, default: str | None) -> str:
    if default is not None:
        return f"default {default}"
    return "required" if required else "optional"


def collect(kg: KnowledgeGraph) -> SiteData:
    """Gather everything the site shows from ``kg``.

    Raises:
        UsageError: when ``kg`` is a remote endpoint (the site is built from a local checkout).
    """
    graph = _asserted(kg)
    labels = _labels(graph)
    conditions, entities = _nodes(kg, labels)
    implicates: dict[str, set[str]] = defaultdict(set)
    for condition, entity in kg.store.select(_IMPLICATES).rows:
        implicates[_text(condition)].add(_text(entity))
    claims: dict[str, dict[str, int]] = defaultdict(dict)
    for review, kind, count in kg.store.select(_CLAIM_COUNTS).rows:
        claims[_text(review)][compress(_text(kind))] = int(_text(count))
    ontology_node = URIRef("https://w3id.org/neuromech/ontology")
    titles = {t.language or "en": str(t) for t in graph.objects(ontology_node, DCTERMS.title) if isinstance(t, Literal)}
    return SiteData(
        version=_text(graph.value(ontology_node, OWL.versionInfo)) or __version__,  # type: ignore[arg-type]
        title=Label(titles.get("en", "NeuroMech KG"), titles.get("zh", "")),
        licence=_text(graph.value(ontology_node, DCTERMS.license)),  # type: ignore[arg-type]
        labels=labels,
        conditions=conditions,
        entities=entities,
        reviews=_reviews(graph, labels),
        findings=_findings(kg),
        studies={_text(s): _text(t) for s, t in kg.store.select(_STUDIES).rows},
        mechanisms=_mechanisms(graph, labels),
        implicates=dict(implicates),
        claims_by_review=dict(claims),
        ontology=_ontology(graph, labels),
        queries=_query_examples(kg, kg.paths.queries_dir / "expected"),
    )
