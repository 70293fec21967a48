"""Read the external ontology files (OBO, TSV reports, JSON, the Allen atlases' OWL) into one index of terms.

The files are the offline copies in ``../shared/external/`` (see its ``README.md`` and
``MANIFEST.tsv``), or full ontologies given by path or URL. Each reader returns
:class:`ExternalTerm` records with the label, synonyms, definition, obsolescence and the
``is_a`` / ``part_of`` / ``has_role`` parents the import modules and the link check need.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from neuromech.errors import SourceSyntaxError, UsageError

#: Relations kept between terms, with their OBO relationship names and RDF property IRIs.
RELATIONS: dict[str, str] = {
    "is_a": "http://www.w3.org/2000/01/rdf-schema#subClassOf",
    "part_of": "http://purl.obolibrary.org/obo/BFO_0000050",
    "has_role": "http://purl.obolibrary.org/obo/RO_0000087",
}
_OBO_RELATIONSHIPS = {"part_of": "part_of", "BFO:0000050": "part_of", "has_role": "has_role", "RO:0000087": "has_role"}
_SYNONYM = re.compile(r'^"(?P<text>(?:[^"\\]|\\.)*)"\s+(?P<scope>EXACT|NARROW|BROAD|RELATED)\b')
_QUOTED = re.compile(r'^"(?P<text>(?:[^"\\]|\\.)*)"')
_CURIE = re.compile(r"^[A-Za-z][\w.]*:\S+$")


@dataclass
class ExternalTerm:
    """One class of an external ontology, as much of it as the project uses."""

    curie: str
    label: str = ""
    synonyms: list[tuple[str, str]] = field(default_factory=list)  # (scope, text); scope EXACT/NARROW/...
    definition: str = ""
    obsolete: bool = False
    replaced_by: list[str] = field(default_factory=list)
    parents: list[tuple[str, str]] = field(default_factory=list)  # (relation key of RELATIONS, parent CURIE)
    source: str = ""
    note: str = ""

    def names(self) -> set[str]:
        """Return the label and every synonym, normalised for comparison."""
        return {normalise(n) for n in (self.label, *(text for _, text in self.synonyms)) if n}


@dataclass(frozen=True)
class SourceInfo:
    """Where a set of terms came from: file, version and licence, for module headers and reports."""

    key: str
    location: str
    version: str


@dataclass
class ExternalIndex:
    """Terms of several external sources keyed by CURIE, with the sources they came from."""

    terms: dict[str, ExternalTerm] = field(default_factory=dict)
    sources: dict[str, SourceInfo] = field(default_factory=dict)

    def get(self, curie: str) -> ExternalTerm | None:
        """Return the term ``curie`` names, if any source has it."""
        return self.terms.get(curie)

    def add(self, terms: Iterable[ExternalTerm], info: SourceInfo) -> None:
        """Add ``terms`` from the source ``info``; a term already present keeps its first record."""
        self.sources[info.key] = info
        for term in terms:
            term.source = term.source or info.key
            self.terms.setdefault(term.curie, term)

    def ancestors(self, curie: str, relations: Iterable[str] = RELATIONS) -> set[str]:
        """Return every CURIE reachable from ``curie`` over ``relations`` (not ``curie`` itself)."""
        wanted = set(relations)
        seen: set[str] = set()
        stack = [curie]
        while stack:
            term = self.terms.get(stack.pop())
            if term is None:
                continue
            for relation, parent in term.parents:
                if relation in wanted and parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        seen.discard(curie)
        return seen


def normalise(text: str) -> str:
    """Case-fold and collapse whitespace and hyphens, for label comparison."""
    return " ".join(text.casefold().replace("-", " ").replace("_", " ").split())


def read_text(location: str | Path) -> str:
    """Read a local file (gzip-aware) or an http(s) URL as UTF-8 text.

    Raises:
        UsageError: when the file or URL cannot be read.
    """
    text = str(location)
    try:
        if text.startswith(("http://", "https://")):
            with urllib.request.urlopen(text, timeout=60) as response:
                data: bytes = response.read()
        else:
            data = Path(text).read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read external source {text}: {err}") from err
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8")


def _unquote(text: str) -> str:
    return text.replace('\\"', '"').replace("\\\\", "\\")


def _stanzas(text: str) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    kind = ""
    tags: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            if kind:
                yield kind, tags
            kind, tags = line[1:-1], []
        elif kind and ":" in line and not line.startswith("!"):
            tag, _, value = line.partition(":")
            tags.append((tag.strip(), value.strip()))
    if kind:
        yield kind, tags


def _strip_comment(value: str) -> str:
    return value.split(" ! ", 1)[0].split(" {", 1)[0].strip()


def obo_header(text: str) -> dict[str, str]:
    """Return the tag/value pairs of an OBO file's header (before the first stanza)."""
    header: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("["):
            break
        if ":" in line:
            tag, _, value = line.partition(":")
            header.setdefault(tag.strip(), value.strip())
    return header


def _obo_tag(term: ExternalTerm, tag: str, value: str) -> None:
    """Apply one OBO tag/value pair to ``term``."""
    if tag == "id":
        term.curie = value
    elif tag == "name":
        term.label = value
    elif tag == "def":
        match = _QUOTED.match(value)
        term.definition = _unquote(match["text"]) if match else value
    elif tag == "synonym":
        if match := _SYNONYM.match(value):
            term.synonyms.append((match["scope"], _unquote(match["text"])))
    elif tag == "is_obsolete":
        term.obsolete = value == "true"
    elif tag == "replaced_by":
        term.replaced_by.append(_strip_comment(value))
    elif tag == "is_a":
        term.parents.append(("is_a", _strip_comment(value)))
    elif tag == "relationship":
        relation, _, target = _strip_comment(value).partition(" ")
        if relation in _OBO_RELATIONSHIPS and _CURIE.match(target.strip()):
            term.parents.append((_OBO_RELATIONSHIPS[relation], target.strip()))


def parse_obo(text: str, stanza: str = "Term") -> list[ExternalTerm]:
    """Parse the ``[Term]`` (or ``[Typedef]``) stanzas of an OBO 1.4 document."""
    terms = []
    for kind, tags in _stanzas(text):
        if kind != stanza:
            continue
        term = ExternalTerm(curie="")
        for tag, value in tags:
            _obo_tag(term, tag, value)
        if term.curie:
            terms.append(term)
    return terms


_DIFF_SECTION = re.compile(r"^### .* `http://purl\.obolibrary\.org/obo/(?P<prefix>[A-Za-z]+)_(?P<local>\w+)`\s*$")
_DIFF_ANNOTATION = re.compile(r'^- \[[^\]]*\]\([^)]*\) \[(?P<prop>[^\]]+)\]\([^)]*\) "(?P<value>(?:[^"\\]|\\.)*)"')
_DIFF_SUBCLASS = re.compile(
    r"^- \[[^\]]*\]\([^)]*\) SubClassOf (?:\[BFO_0000050\]\([^)]*\) some )?\[[^\]]*\]"
    r"\(http://purl\.obolibrary\.org/obo/(?P<prefix>[A-Za-z]+)_(?P<local>\w+)\)\s*$"
)


def _diff_annotation(term: ExternalTerm, prop: str, value: str) -> None:
    if prop == "label":
        term.label = value
    elif prop == "IAO_0000115":
        term.definition = value
    elif prop in {"hasExactSynonym", "hasRelatedSynonym", "hasNarrowSynonym", "hasBroadSynonym"}:
        term.synonyms.append((prop[3:-7].upper(), value))


def parse_release_diff(text: str) -> list[ExternalTerm]:
    """Return the classes a ROBOT release diff (Markdown) records as newly added.

    Only classes whose section adds a ``Class:`` declaration are returned, with the label,
    exact synonyms, definition and the named ``SubClassOf`` / ``part of some`` parents the
    diff adds. Used for terms newer than the local ontology file (UBERON:4450000).
    """
    terms: list[ExternalTerm] = []
    current: ExternalTerm | None = None
    declared = False
    added = False
    for line in text.splitlines():
        section = _DIFF_SECTION.match(line)
        if section:
            if current is not None and declared:
                terms.append(current)
            current = ExternalTerm(curie=f"{section['prefix']}:{section['local']}")
            declared = added = False
            continue
        if current is None:
            continue
        if line.startswith("#### "):
            added = line.strip() == "#### Added"
            continue
        if not added:
            continue
        if line.startswith("- Class: "):
            declared = True
        elif match := _DIFF_ANNOTATION.match(line):
            _diff_annotation(current, match["prop"], _unquote(match["value"]))
        elif (match := _DIFF_SUBCLASS.match(line)) is not None:
            relation = "part_of" if "[BFO_0000050]" in line else "is_a"
            current.parents.append((relation, f"{match['prefix']}:{match['local']}"))
    if current is not None and declared:
        terms.append(current)
    return terms


def _tsv(text: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter="\t", quotechar='"')
    next(reader, None)
    yield from reader


def parse_mondo(class_stats: str, edges: str = "") -> list[ExternalTerm]:
    """Read Mondo's ``class-stats.tsv`` (ID, label) and ``edges.tsv`` (subClassOf, part of).

    ``class-stats.tsv`` also lists imported HP, UBERON and CHEBI classes; only MONDO rows are
    read. Obsolete classes have labels starting with "obsolete".
    """
    terms: dict[str, ExternalTerm] = {}
    for row in _tsv(class_stats):
        if len(row) > 1 and row[0].startswith("MONDO:"):
            label = row[1]
            obsolete = label.startswith("obsolete ")
            terms[row[0]] = ExternalTerm(row[0], label=label.removeprefix("obsolete "), obsolete=obsolete)
    for row in _tsv(edges):
        if len(row) < 3 or not row[0].startswith("MONDO:") or row[0] not in terms:
            continue
        relation = {"rdfs:subClassOf": "is_a", "BFO:0000050": "part_of"}.get(row[1])
        if relation and _CURIE.match(row[2]) and not row[2].startswith("http"):
            terms[row[0]].parents.append((relation, row[2]))
    return list(terms.values())


def parse_doid(human_do: str) -> list[ExternalTerm]:
    """Read ``HumanDO.tsv`` (``id, label, subClassOf`` with the parent given by its label)."""
    rows = [row for row in _tsv(human_do) if len(row) >= 2 and row[0].startswith("DOID:")]
    by_label = {row[1]: row[0] for row in rows}
    terms: dict[str, ExternalTerm] = {}
    for row in rows:
        term = terms.setdefault(row[0], ExternalTerm(row[0], label=row[1]))
        parent = by_label.get(row[2]) if len(row) > 2 else None
        if parent and ("is_a", parent) not in term.parents:
            term.parents.append(("is_a", parent))
    return list(terms.values())


def parse_babelon_labels(text: str) -> list[ExternalTerm]:
    """Read the English ``rdfs:label`` rows of a Babelon translation table (HP has no hierarchy here)."""
    terms: dict[str, ExternalTerm] = {}
    for row in _tsv(text):
        if len(row) > 3 and row[3] == "rdfs:label" and row[0] == "en" and row[2].startswith("HP:"):
            terms.setdefault(row[2], ExternalTerm(row[2], label=row[1]))
    return list(terms.values())


def parse_hgnc(text: str) -> list[ExternalTerm]:
    """Read the HGNC complete set: symbol as label, name, alias and previous symbols as synonyms."""
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    terms = []
    for row in reader:
        curie = row.get("hgnc_id", "")
        if not curie.startswith("HGNC:"):
            continue
        synonyms = [("EXACT", row.get("name", ""))]
        for column, scope in (("alias_symbol", "EXACT"), ("prev_symbol", "RELATED"), ("alias_name", "RELATED")):
            synonyms.extend((scope, s.strip()) for s in (row.get(column) or "").strip('"').split("|") if s.strip())
        terms.append(
            ExternalTerm(
                curie,
                label=row.get("symbol", ""),
                synonyms=synonyms,
                obsolete=row.get("status", "Approved") != "Approved",
            )
        )
    return terms


def parse_cogat(text: str, prefix: str) -> list[ExternalTerm]:
    """Read a Cognitive Atlas ``*Collection.json`` export (concepts or tasks) under ``prefix``."""
    try:
        entries = json.loads(text)["entries"]
    except (ValueError, KeyError, TypeError) as err:
        raise SourceSyntaxError(f"not a Cognitive Atlas collection export: {err}") from err
    terms = []
    for entry in entries:
        ident = entry.get("id", "")
        if not ident:
            continue
        aliases = [a.strip() for a in re.split(r"[,;]", entry.get("alias") or "") if a.strip()]
        parents = [("is_a", f"{prefix}:{p}") for p in entry.get("kind_of") or [] if isinstance(p, str)]
        parents += [("part_of", f"{prefix}:{p}") for p in entry.get("part_of") or [] if isinstance(p, str)]
        terms.append(
            ExternalTerm(
                f"{prefix}:{ident}",
                label=entry.get("name", ""),
                synonyms=[("EXACT", a) for a in aliases],
                definition=(entry.get("definition_text") or "").strip(),
                parents=parents,
            )
        )
    return terms


@dataclass(frozen=True)
class SourceSpec:
    """One external source: its files (relative to the external folder) and how to read them."""

    key: str
    prefixes: tuple[str, ...]
    files: tuple[str, ...]
    supplements: tuple[str, ...] = ()


#: The external sources, by key; ``files[0]`` is the main file a ``--source KEY=PATH`` replaces.
SOURCES: dict[str, SourceSpec] = {
    spec.key: spec
    for spec in (
        SourceSpec(
            "uberon", ("UBERON",), ("uberon/nervous-minimal.obo",), ("uberon/uberon-diff_release-2025-05-28.md",)
        ),
        SourceSpec("chebi", ("CHEBI",), ("chebi/chebi_import.obo",)),
        SourceSpec("eco", ("ECO",), ("eco/eco.obo",)),
        SourceSpec("ro", ("RO", "BFO"), ("ro/ro.obo",)),
        SourceSpec("mondo", ("MONDO",), ("mondo/class-stats.tsv", "mondo/edges_release-2023-08-01.tsv")),
        SourceSpec("doid", ("DOID",), ("doid/HumanDO.tsv",)),
        SourceSpec("hp", ("HP",), ("hp/hp-example-not-translated.babelon.tsv",)),
        SourceSpec("hgnc", ("HGNC",), ("hgnc/hgnc_complete_set.txt.gz",)),
        SourceSpec(
            "cogat", ("cogat.concept", "cogat.task"), ("cogat/ConceptCollection.json", "cogat/TaskCollection.json")
        ),
        # the Allen atlas classes with their labels (the UBERON bridges are read by neuromech.allen)
        SourceSpec("hba", ("HBA",), ("brain-atlas/local-allen-hba.owl",)),
        SourceSpec("mba", ("MBA",), ("brain-atlas/local-allen-mba.owl",)),
    )
}


def source_for_prefix(prefix: str) -> SourceSpec | None:
    """Return the source that holds CURIEs with ``prefix``, if the project reads one."""
    return next((spec for spec in SOURCES.values() if prefix in spec.prefixes), None)


def _manifest(external_dir: Path) -> dict[str, dict[str, str]]:
    path = external_dir / "MANIFEST.tsv"
    if not path.is_file():
        return {}
    rows = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")), delimiter="\t")
    return {row["file"]: row for row in rows if row.get("file")}


def _version(text: str, relative: str, manifest: dict[str, dict[str, str]]) -> str:
    header = obo_header(text) if relative.endswith(".obo") else {}
    row = manifest.get(relative)
    parts = []
    if header.get("data-version"):
        parts.append(header["data-version"])
    if row:
        parts.append(
            f"{row['source_repo']}@{row['commit'][:12]} ({row['commit_date'][:10]}), sha256 {row['sha256'][:16]}"
        )
    return "; ".join(parts) or "version unknown"


def _read_obo_terms(texts: list[str], _: SourceSpec) -> list[ExternalTerm]:
    return [t for text in texts for t in parse_obo(text)]


def _read_relations(texts: list[str], _: SourceSpec) -> list[ExternalTerm]:
    return [t for text in texts for t in parse_obo(text, "Typedef") + parse_obo(text)]


def _read_cogat(texts: list[str], spec: SourceSpec) -> list[ExternalTerm]:
    return [t for text, prefix in zip(texts, spec.prefixes, strict=False) for t in parse_cogat(text, prefix)]


def _read_allen_atlas(texts: list[str], spec: SourceSpec) -> list[ExternalTerm]:
    from neuromech.allen import ATLASES, parse_atlas_terms  # noqa: PLC0415 -- neuromech.allen imports this module

    return parse_atlas_terms(texts[0], ATLASES[spec.key])


_READERS: dict[str, Callable[[list[str], SourceSpec], list[ExternalTerm]]] = {
    "mondo": lambda texts, _: parse_mondo(texts[0], texts[1] if len(texts) > 1 else ""),
    "doid": lambda texts, _: parse_doid(texts[0]),
    "hp": lambda texts, _: parse_babelon_labels(texts[0]),
    "hgnc": lambda texts, _: parse_hgnc(texts[0]),
    "cogat": _read_cogat,
    "ro": _read_relations,
    "hba": _read_allen_atlas,
    "mba": _read_allen_atlas,
}


def _read_source(spec: SourceSpec, texts: list[str]) -> list[ExternalTerm]:
    return _READERS.get(spec.key, _read_obo_terms)(texts, spec)


def load_external(
    external_dir: Path, overrides: dict[str, str] | None = None, keys: Iterable[str] | None = None
) -> ExternalIndex:
    """Read the external sources into one index.

    Args:
        external_dir: the folder of offline copies (``../shared/external``).
        overrides: source key -> path or URL of a full ontology replacing the source's main file.
        keys: only these sources (default: all of :data:`SOURCES`).

    Raises:
        UsageError: for an unknown source key or a file that cannot be read.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(SOURCES))
    if unknown:
        raise UsageError(f"unknown external source(s) {unknown}; known: {', '.join(SOURCES)}")
    manifest = _manifest(external_dir)
    index = ExternalIndex()
    for key in keys or SOURCES:
        spec = SOURCES[key]
        locations = [str(external_dir / f) for f in spec.files]
        if key in overrides:
            locations[0] = overrides[key]
        if not all(loc.startswith("http") or Path(loc).is_file() for loc in locations):
            continue
        texts = [read_text(loc) for loc in locations]
        version = _version(texts[0], spec.files[0] if key not in overrides else "", manifest)
        index.add(_read_source(spec, texts), SourceInfo(key, locations[0], version))
        for supplement in spec.supplements:
            path = external_dir / supplement
            if path.is_file():
                added = parse_release_diff(path.read_text(encoding="utf-8"))
                for term in added:
                    term.source = f"{key} (release diff {path.name})"
                    term.note = f"not in {Path(locations[0]).name}; recorded as added in {path.name}"
                index.add(added, SourceInfo(f"{key}-diff", str(path), _version("", supplement, manifest)))
    return index
