"""HermiT's checks of a build's entity layer, run in the background while the build goes on.

HermiT sees the entity layer (:func:`entity_layer`: the ontology, its import modules and every
asserted node that is not a claim or a cited study) for consistency (``-k``), and the ontology
files alone for unsatisfiable classes (``-U``). Each check runs only when its input changed
since HermiT last passed it; the verdicts are kept by content hash in ``dist/.cache/hermit.json``.

An :class:`EntityLayerCheck` reads its inputs off the store and runs HermiT in child
processes beside the build's validation, materialisation and export (at 10^6 triples the
consistency check takes ~2 s of CPU, at the lowest priority). The build waits for
the verdict before it publishes anything, and stops HermiT when another step fails.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from neuromech import export, loading, reasoning
from neuromech.hermit_server import ServerUnavailable, WarmHermit
from neuromech.namespaces import INFERRED_GRAPH, NM
from neuromech.paths import ProjectPaths

log = logging.getLogger(__name__)

#: The classes whose instances HermiT does not see (:func:`entity_layer`): the records the
#: corpus grows by, one per claim and one per cited study, which the shapes check instead.
LEFT_OUT = (NM.Claim, NM.Study)
_LEFT_OUT_VALUES = " ".join(f"<{c}>" for c in LEFT_OUT)

# every asserted triple (the inferred graph left out) whose subject is not asserted to be a
# record (LEFT_OUT). It reads no triple of the inferred graph (no rule derives rdfs:subClassOf),
# so the rules and a rebuild's validation may change that graph while the layer is read.
_ENTITY_LAYER = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{INFERRED_GRAPH}>)
  MINUS {{
    GRAPH ?h {{ ?s a ?class }} FILTER(?h != <{INFERRED_GRAPH}>)
    ?class rdfs:subClassOf* ?record VALUES ?record {{ {_LEFT_OUT_VALUES} }}
  }}
}}"""

_LEFT_OUT_CLASSES = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?class WHERE {{
  ?class rdfs:subClassOf* ?record VALUES ?record {{ {_LEFT_OUT_VALUES} }}
}}"""

_BLANK_LABEL = re.compile(rb"_:[A-Za-z0-9_.-]+")
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def entity_layer(source: loading.SourceStore) -> tuple[bytes, str]:
    """Return the asserted triples HermiT checks, as N-Triples, and a key that changes with them.

    The entity layer is everything asserted except the records (:data:`LEFT_OUT`): the
    claims (findings, background and comparison statements) and the cited studies. It holds
    the ontology, the imported modules, entities, reviews and mechanisms. The records are
    checked by the shapes, which state per property the class, count and datatype the OWL
    axioms require of them, and that a record is typed by no class disjoint with its own
    (``tests/test_shapes.py`` keeps the two in step). Keeping the bulk of the corpus out of the
    DL reasoner is what lets the build scale: at 10^6 triples the 11k synthetic studies (45k
    triples, a citation literal each) took HermiT 3.4 s of its 5.6 s of CPU.

    pyoxigraph selects and serialises the triples itself (0.8 s at 10^6 triples, where a
    Python pass over every quad took 2.7 s). The key hashes the distinct sorted lines with
    blank node labels blanked (pyoxigraph relabels blank nodes on every parse), so an
    unchanged entity layer gives an unchanged key.
    """
    result = source.store.native.query(_ENTITY_LAYER, use_default_graph_as_union=True)
    assert isinstance(result, ox.QueryTriples)
    layer = result.serialize(format=ox.RdfFormat.N_TRIPLES) or b""
    return layer, layer_key(layer)


# the entity layer before an edit (N-Triples), the triples the edit changed, the left-out classes
LayerEdit = tuple[bytes, Iterable[ox.Triple], Collection[ox.NamedNode]]


def layer_key(layer: bytes) -> str:
    """Return the key of an entity layer given as N-Triples: the distinct sorted lines, blank node labels blanked."""
    lines = sorted(set(_BLANK_LABEL.sub(b"_:", layer).split(b"\n")) - {b""})
    return hashlib.sha256(b"\n".join(lines)).hexdigest()


def left_out_classes(source: loading.SourceStore) -> set[ox.NamedNode]:
    """Return the classes whose instances the entity layer leaves out: :data:`LEFT_OUT` and their subclasses."""
    rows = source.store.native.query(_LEFT_OUT_CLASSES, use_default_graph_as_union=True)
    assert isinstance(rows, ox.QuerySolutions)
    return {row[0] for row in rows if isinstance(row[0], ox.NamedNode)}


def updated_layer(
    source: loading.SourceStore,
    previous: bytes,
    changed: Iterable[ox.Triple],
    left_out: Collection[ox.NamedNode],
) -> bytes | None:
    """Return the entity layer after an edit, from the layer before it and the triples the edit changed.

    ``previous`` is :func:`entity_layer`'s N-Triples before the edit, ``changed`` every triple
    the edit removed from or added to a file. A triple is in the layer when some asserted
    graph holds it and its subject is not typed as a record (``left_out``:
    :func:`left_out_classes`); the edit can only change that for the changed triples, so each
    is looked up in the store and its line kept or dropped. Selecting the whole layer again
    took 1.0-1.5 s at 10^6 triples, and was what a rebuild waited for before the warm HermiT
    could check an edited part-of edge.

    None (select the layer again) when a changed triple holds a blank node (their labels
    change with every parse) or types a node as a record (the node's triples change sides).
    """
    changed = list(changed)
    if any(isinstance(term, ox.BlankNode) for t in changed for term in (t.subject, t.object)):
        return None
    if any(t.predicate == _RDF_TYPE and t.object in left_out for t in changed):
        return None
    native = source.store.native
    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    records = {
        s
        for s in {t.subject for t in changed}
        if any(
            q.object in left_out and q.graph_name != inferred
            for q in native.quads_for_pattern(s, _RDF_TYPE, None, None)
        )
    }
    lines = set(previous.split(b"\n"))
    lines.discard(b"")
    for triple in changed:
        if triple.subject in records:
            continue
        line = (ox.serialize([triple], format=ox.RdfFormat.N_TRIPLES) or b"").rstrip(b"\n")
        held = native.quads_for_pattern(triple.subject, triple.predicate, triple.object, None)
        if any(q.graph_name != inferred for q in held):
            lines.add(line)
        else:
            lines.discard(line)
    return b"".join(line + b"\n" for line in lines)


def ontology_layer(source: loading.SourceStore, paths: ProjectPaths) -> tuple[bytes, str]:
    """Return the ontology and its import modules as N-Triples, and the SHA-256 of those files."""
    native = source.store.native
    files = paths.ontology_files()
    data = b"".join(native.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=loading.graph_iri(p)) or b"" for p in files)
    return data, _ontology_key({p: loading.file_digest(p) for p in files})


def _ontology_key(digests: dict[Path, str]) -> str:
    return hashlib.sha256("".join(f"{p.name}\t{digest}\n" for p, digest in digests.items()).encode()).hexdigest()


@dataclass
class EarlyClassification:
    """HermiT's ``-U`` on the ontology files, started before the project is loaded.

    The classification needs only the ontology and its import modules, so a full build starts
    it on the files themselves while it loads the data: at 10^6 triples loading keeps one core
    busy for 4.5 s, and ``-U`` took 2.4 s of CPU on the other instead of beside validation.
    :class:`EntityLayerCheck` takes it over when ``key`` is the key of the ontology it loaded.
    """

    key: str
    process: reasoning.HermitProcess

    @classmethod
    def start(cls, paths: ProjectPaths, cache_path: Path) -> EarlyClassification | None:
        """Start ``-U``; None when the cache holds these files' verdict or a file cannot be read or parsed."""
        try:
            contents = {p: p.read_bytes() for p in paths.ontology_files()}
        except OSError:
            return None
        key = _ontology_key({p: hashlib.sha256(data).hexdigest() for p, data in contents.items()})
        if _read_cache(cache_path).get("ontology_sha256") == key:
            return None
        try:
            data = b"".join(
                ox.serialize(ox.parse(text, format=ox.RdfFormat.TURTLE), format=ox.RdfFormat.N_TRIPLES) or b""
                for text in contents.values()
            )
        except SyntaxError:
            return None
        return cls(key, reasoning.HermitProcess(data, "-U", niced=True))

    def cancel(self) -> None:
        """Stop HermiT (the build failed before it could take the classification over)."""
        self.process.kill()
        self.process.close()


def _read_cache(cache_path: Path) -> dict[str, object]:
    try:
        record = json.loads(cache_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


class Cancelled(Exception):
    """The check was stopped before HermiT started."""


class EntityLayerCheck:
    """HermiT's consistency and satisfiability verdicts on a loaded project, computed in the background.

    Created right after loading: a thread reads the entity layer and the ontology layer off
    the store (:attr:`inputs_read` is set once it has) and runs HermiT on whichever changed
    since the cache in ``cache_path`` last recorded them. :meth:`result` waits for the verdicts;
    :meth:`cancel` stops HermiT.

    The asserted graphs must not change until :attr:`inputs_read` is set; the inferred graph
    may (the layer read leaves it out).

    With a ``warm`` HermiT (:class:`neuromech.hermit_server.WarmHermit`, kept by a build
    session between rebuilds) the consistency check goes to it, and an unchanged layer is
    still handed to it, unchecked, so that the next check sends only what changed; without
    one, or when it cannot run, HermiT's command line checks the whole layer.
    """

    def __init__(
        self,
        source: loading.SourceStore,
        paths: ProjectPaths,
        cache_path: Path,
        warm: WarmHermit | None = None,
        *,
        early: EarlyClassification | None = None,
        niced: bool = False,
        edit: LayerEdit | None = None,
    ) -> None:
        """Start reading the inputs and running HermiT in the background (taking over ``early``'s ``-U``).

        ``niced``: HermiT's command line runs at the lowest priority (a full build's, see
        :class:`~neuromech.reasoning.HermitProcess`). ``edit``: the layer before an edit and
        what the edit changed, from which the layer is updated instead of selected again
        (:func:`updated_layer`). :attr:`layer` holds the layer read, once :attr:`inputs_read`
        is set.
        """
        self.cache_path = cache_path
        self._warm = warm
        self._early = early
        self._niced = niced
        self._edit = edit
        self.layer: bytes | None = None
        self.inputs_read = threading.Event()
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._processes: list[reasoning.HermitProcess] = [] if early is None else [early.process]
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hermit")
        self._future = self._pool.submit(self._run, source, paths)

    def result(self) -> list[str]:
        """Wait for HermiT; return the ontology's unsatisfiable classes.

        Raises:
            InconsistentOntology: HermiT finds the ontology plus entity layer inconsistent.
        """
        try:
            return self._future.result()
        finally:
            self._pool.shutdown()

    def cancel(self) -> None:
        """Stop HermiT (a build that failed elsewhere does not wait for it)."""
        with self._lock:
            self._cancelled.set()
            for process in self._processes:
                process.kill()
            if self._warm is not None and not self._future.done():  # a finished check leaves it warm
                self._warm.kill()
        self._pool.shutdown()

    def _start(self, data: bytes, action: str) -> reasoning.HermitProcess:
        with self._lock:
            if self._cancelled.is_set():
                raise Cancelled
            process = reasoning.HermitProcess(data, action, niced=self._niced)
            self._processes.append(process)
            return process

    def _run(self, source: loading.SourceStore, paths: ProjectPaths) -> list[str]:
        try:
            cache = self._read_cache()
            layer = None if self._edit is None else updated_layer(source, *self._edit)
            if layer is None:
                layer, key = entity_layer(source)
            else:
                key = layer_key(layer)
            self.layer = layer
            tbox, tbox_key = ontology_layer(source, paths)
        finally:
            self.inputs_read.set()
        try:
            if self._early is not None and self._early.key != tbox_key:  # a file changed since it started
                self._early.cancel()
                self._early = None
            if cache.get("ontology_sha256") == tbox_key:
                classification = None
            elif self._early is not None:
                classification = self._early.process
            else:
                classification = self._start(tbox, "-U")
            if cache.get("entity_layer_sha256") == key:
                log.info("entity layer unchanged since HermiT last found it consistent: not re-run")
                self._prepare_warm(layer)
            else:
                self._check_consistency(layer)
                cache["entity_layer_sha256"] = key
                self._write_cache(cache)
            if classification is None:
                return [str(c) for c in cache.get("unsatisfiable_classes", [])]  # type: ignore[attr-defined]
            unsatisfiable = reasoning.unsatisfiable_in(classification.wait())
            cache.update({"ontology_sha256": tbox_key, "unsatisfiable_classes": unsatisfiable})
            self._write_cache(cache)
            return unsatisfiable
        finally:
            for process in self._processes:
                process.close()

    def _check_consistency(self, layer: bytes) -> None:
        """HermiT's consistency verdict on the layer: by the warm HermiT if there is one, else the command line."""
        if self._warm is not None:
            try:
                self._warm.check(layer)
                return
            except ServerUnavailable as err:
                if self._cancelled.is_set():
                    raise Cancelled from err
                log.warning("%s: HermiT's command line checks the entity layer instead", err)
        reasoning.consistency_verdict(self._start(layer, "-k").wait())

    def _prepare_warm(self, layer: bytes) -> None:
        """Hand an unchanged layer to the warm HermiT, unchecked, so its next check sends only changes."""
        if self._warm is None:
            return
        try:
            self._warm.prepare(layer)
        except ServerUnavailable as err:
            log.info("%s: the next check will read the whole layer", err)

    def _read_cache(self) -> dict[str, object]:
        return _read_cache(self.cache_path)

    def _write_cache(self, record: dict[str, object]) -> None:
        export.write_atomically(self.cache_path, json.dumps(record, indent=2) + "\n")
