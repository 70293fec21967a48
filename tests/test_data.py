"""Integrity of the curated data: canonical files, verbatim quotes, checked external IDs.

Each check reports every bad record at once, parametrised per file where that helps."""

from __future__ import annotations

import copy
import gzip
import re
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from neuromech.canonical import canonical_text, serialise
from neuromech.curation import check_quotes, normalise
from neuromech.loading import parse_turtle
from neuromech.namespaces import NM, NMF, NMM, NMS, SKOS

from .conftest import EXTERNAL, ROOT, SEEDS

DATA_FILES = sorted((ROOT / "data").rglob("*.ttl"))
MAPPINGS = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch)
needs_shared = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/ is not beside this checkout")


@pytest.fixture(scope="module")
def data_graph() -> Graph:
    """All curated data files merged (read-only: copy before changing it)."""
    graph = Graph()
    for path in DATA_FILES:
        graph += parse_turtle(path)
    return graph


@pytest.mark.parametrize("path", DATA_FILES, ids=[p.name for p in DATA_FILES])
def test_data_file_is_canonical(path: Path) -> None:
    assert path.read_text(encoding="utf-8") == canonical_text(path), f"{path} is not canonical: run `neuromech fmt`"


@pytest.mark.parametrize("path", DATA_FILES, ids=[p.name for p in DATA_FILES])
def test_canonical_form_is_lossless(path: Path) -> None:
    original = parse_turtle(path)
    again = Graph().parse(data=serialise(original), format="turtle")
    assert isomorphic(original, again)


def test_serialiser_escapes_and_orders() -> None:
    graph = Graph().parse(
        data="<https://w3id.org/neuromech/entity/b> <http://www.w3.org/2000/01/rdf-schema#label> "
        '"tab\\there \\"q\\" \\\\"@en , "乙"@zh .'
        "<https://w3id.org/neuromech/entity/a> a <https://w3id.org/neuromech/BrainRegion> .",
        format="turtle",
    )
    text = serialise(graph)
    assert text.index("nme:a") < text.index("nme:b")
    assert '"tab\\there \\"q\\" \\\\"@en , "乙"@zh' in text
    assert isomorphic(graph, Graph().parse(data=text, format="turtle"))


def test_every_referenced_node_is_defined(data_graph: Graph) -> None:
    graph = data_graph
    ours = (str(NMF), str(NMS), str(NMM), "https://w3id.org/neuromech/entity/", "https://w3id.org/neuromech/review/")
    dangling = sorted(
        {
            str(o)
            for o in graph.objects()
            if isinstance(o, URIRef) and str(o).startswith(ours) and (o, RDF.type, None) not in graph
        }
    )
    assert dangling == []


def test_entity_labels_are_unique_per_kind(data_graph: Graph) -> None:
    graph = data_graph
    seen: dict[tuple[str, str], str] = {}
    duplicates = []
    for node, label in graph.subject_objects(URIRef("http://www.w3.org/2000/01/rdf-schema#label")):
        if not str(node).startswith("https://w3id.org/neuromech/entity/") or getattr(label, "language", None) != "en":
            continue
        kinds = sorted(str(k) for k in graph.objects(node, RDF.type))
        key = (str(label).casefold(), "|".join(kinds))
        if key in seen and seen[key] != str(node):
            duplicates.append((str(label), seen[key], str(node)))
        seen[key] = str(node)
    assert duplicates == []


@needs_shared
def test_every_quote_occurs_verbatim_in_its_review(data_graph: Graph) -> None:
    graph = data_graph
    report = check_quotes(graph, SEEDS)
    assert report.checked >= 30
    assert [p.render() for p in report.problems] == []


@needs_shared
def test_check_quotes_reports_an_altered_quote(data_graph: Graph) -> None:
    graph = copy.deepcopy(data_graph)
    finding = NMF["nssi-0002"]
    quote = graph.value(finding, NM.quote)
    graph.set((finding, NM.quote, type(quote)(str(quote).replace("杏仁核", "海马"), lang="zh")))
    report = check_quotes(graph, SEEDS)
    assert [p.node for p in report.problems] == ["nmf:nssi-0002"]


def test_normalise_ignores_line_breaks_and_the_chinaxiv_stamp() -> None:
    assert normalise("杏仁核\n与\n额叶 的\nch\nin\naX\niv\n:2\n02\n20\n1.\n00\n00\n1v\n1\n连接") == "杏仁核与额叶的连接"


# --- external identifiers, checked against the real files in ../shared/external -----------------


def _obo_ids(path: Path) -> dict[str, str]:
    ids: dict[str, str] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("id: "):
            current = line[4:].strip()
        elif line.startswith("name: ") and current:
            ids[current] = line[6:].strip()
        elif line == "[Term]":
            current = None
    return ids


@pytest.fixture(scope="module")
def external_ids() -> dict[str, str]:
    ids: dict[str, str] = {}
    ids.update(_obo_ids(EXTERNAL / "uberon" / "nervous-minimal.obo"))
    ids.update(_obo_ids(EXTERNAL / "chebi" / "chebi_import.obo"))
    ids.update(_obo_ids(EXTERNAL / "eco" / "eco.obo"))
    # babelon columns: source_language, source_value, subject_id, predicate_id, ...
    babelon = EXTERNAL / "hp" / "hp-example-not-translated.babelon.tsv"
    for line in babelon.read_text(encoding="utf-8").splitlines()[1:]:
        cells = line.split("\t")
        if len(cells) > 3 and cells[2].startswith("HP:") and cells[3] == "rdfs:label":
            ids.setdefault(cells[2], cells[1])
    for line in (EXTERNAL / "mondo" / "class-stats.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        cells = line.split("\t")
        ids.setdefault(cells[0], cells[1].strip('"'))
    for line in (EXTERNAL / "doid" / "HumanDO.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        cells = [c.strip('"') for c in line.split("\t")]
        ids.setdefault(cells[0], cells[1])
    with gzip.open(EXTERNAL / "hgnc" / "hgnc_complete_set.txt.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            cells = line.split("\t")
            if cells[0].startswith("HGNC:"):
                ids[cells[0]] = cells[1]
    cogat = "".join(
        (EXTERNAL / "cogat" / name).read_text(encoding="utf-8")
        for name in ("ConceptCollection.json", "TaskCollection.json")
    )
    for match in re.finditer(r'"id":\s*"((?:trm|tsk)_[0-9A-Za-z]+)"', cogat):
        ids.setdefault(f"cogat:{match.group(1)}", "")
    ids["NCBITaxon:9606"] = "Homo sapiens"
    ids["NCBITaxon:10090"] = "Mus musculus"  # both in ../shared/external/brain-atlas bridges
    return ids


def _external_curie(iri: str) -> str | None:
    patterns = [
        (r"^http://purl\.obolibrary\.org/obo/([A-Za-z]+)_(\w+)$", "{0}:{1}"),
        (r"^https://identifiers\.org/hgnc:(\d+)$", "HGNC:{0}"),
        (r"^https://www\.cognitiveatlas\.org/(?:concept|task)/id/(\w+)$", "cogat:{0}"),
    ]
    for pattern, template in patterns:
        match = re.match(pattern, iri)
        if match:
            return template.format(*match.groups())
    return None


@needs_shared
def test_every_mapped_external_id_exists_in_the_external_files(data_graph: Graph, external_ids: dict[str, str]) -> None:
    graph = data_graph
    unknown = []
    checked = 0
    for predicate in (*MAPPINGS, NM.has_evidence_type, NM.default_evidence_type):
        for node, target in graph.subject_objects(predicate):
            curie = _external_curie(str(target))
            if curie is None:
                unknown.append(f"{node} {predicate} {target}: not an external ID form we check")
                continue
            checked += 1
            if curie not in external_ids:
                unknown.append(f"{node}: {curie} not found in ../shared/external")
    assert checked >= 20
    assert unknown == []
