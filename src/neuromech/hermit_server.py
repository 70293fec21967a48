"""HermiT kept warm between the rebuilds of a build session, fed the entity layer's changes.

The HermiT command line (:class:`neuromech.reasoning.HermitProcess`) starts a JVM, parses the
whole entity layer, clausifies it and builds a model every time: ~5 s at 10^6 triples, of
which the model is ~1.3 s once the JVM is warm. A :class:`WarmHermit` keeps one JVM running
``java/HermitServer.java`` for the session's lifetime (``neuromech build --watch``, the
benchmarks' rebuilds). The first check loads the layer; each later one sends the axioms the
edit added and removed, and HermiT clausifies and checks the changed ontology without
parsing it again.

The changes are read off the layer's N-Triples lines (the previous check's against this
one's). They are sent as axioms only when the HermiT command line's parser would have turned
each changed line into exactly that axiom and nothing else changed its reading of the rest:
no blank node, no OWL, RDF or RDFS vocabulary except ``rdf:type`` to a declared class (a class
assertion), ``rdf:type owl:NamedIndividual`` and the built-in annotation properties; every
other predicate declared in the layer as exactly one of object, data or annotation property.
Annotations and declarations of individuals have no logical content and are not sent. Any
other change (a declaration, a subclass axiom, a restriction) reloads the whole layer into the
warm JVM, so the verdict is always HermiT's on the whole layer. ``tests/test_hermit_server.py``
checks the server's verdicts against the command line's on consistent and inconsistent edits.

The server is compiled once by ``javac`` against owlready2's HermiT into the project's
``dist/.cache``; without ``javac`` (a Java runtime alone) the build uses the command line.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
import tempfile
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from neuromech import reasoning
from neuromech.errors import InconsistentOntology

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("java") / "HermitServer.java"

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_OWL = "http://www.w3.org/2002/07/owl#"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_TYPE = _RDF + "type"
_VOCABULARIES = (_RDF, _RDFS, _OWL)
_PROPERTY_KINDS = {
    _OWL + "ObjectProperty": "object",
    _OWL + "DatatypeProperty": "data",
    _OWL + "AnnotationProperty": "annotation",
}


class ServerUnavailable(Exception):
    """The warm HermiT cannot run here (no ``javac``) or stopped unexpectedly."""


def compiled_server(cache_dir: Path, classpath: str) -> Path:
    """Return the folder holding ``HermitServer.class``, compiling it there first if needed.

    The folder is named by the hash of the source and the HermiT class path, so an edited
    server or another owlready2 is compiled again; it is written under a temporary name and
    renamed, so a compilation cut short leaves nothing behind.

    Raises:
        ServerUnavailable: there is no ``javac``, or it failed.
    """
    javac = shutil.which("javac")
    if javac is None:
        raise ServerUnavailable("no javac on PATH (a Java runtime alone runs HermiT's command line instead)")
    digest = hashlib.sha256(SOURCE.read_bytes() + classpath.encode()).hexdigest()[:16]
    target = cache_dir / f"hermit-server-{digest}"
    if (target / "HermitServer.class").exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".hermit-server-", dir=cache_dir))
    try:
        # -sourcepath on an empty folder and -implicit:none: javac must not recompile the
        # sources owlready2 ships beside its classes (it would write over them)
        command = [javac, "-nowarn", "-implicit:none", "-sourcepath", str(staging), "-cp", classpath]
        done = subprocess.run(
            [*command, "-d", str(staging), str(SOURCE)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise ServerUnavailable(f"javac failed on {SOURCE.name}: {done.stderr.strip()[-500:]}")
        try:
            staging.rename(target)
        except OSError:  # another session compiled it meanwhile
            if not (target / "HermitServer.class").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()


class WarmHermit:
    """One long-lived HermiT JVM that checks the consistency of successive entity layers.

    :meth:`consistent` takes the layer as N-Triples and returns HermiT's verdict on it,
    sending only the axioms that changed since the previous call when it can
    (:func:`axiom_changes`). :meth:`kill` may be called from another thread; the JVM is
    started again at the next call. :meth:`close` stops it for good (also done when the
    object is collected).
    """

    def __init__(self, cache_dir: Path) -> None:
        """Prepare a server compiled under ``cache_dir``; the JVM starts at the first check."""
        self.cache_dir = cache_dir
        self.loads = 0  # how many checks read the whole layer
        self.applies = 0  # how many sent only the changed axioms
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._lines: set[bytes] | None = None  # the layer the server holds, line by line
        self._folder = tempfile.TemporaryDirectory(prefix="neuromech-hermit-server-")
        self._finalizer: weakref.finalize[[subprocess.Popen[bytes]], WarmHermit] | None = None

    def consistent(self, layer: bytes) -> bool:
        """Return whether the ontology in ``layer`` (N-Triples) is consistent, by HermiT.

        Raises:
            ServerUnavailable: the server cannot be compiled or started, or stopped.
        """
        return self._ask(self._hold(layer), "check") == "consistent"

    def prepare(self, layer: bytes) -> None:
        """Give the server ``layer`` without checking it, so that the next check sends only changes.

        Raises:
            ServerUnavailable: as :meth:`consistent`.
        """
        self._hold(layer)

    def _hold(self, layer: bytes) -> subprocess.Popen[bytes]:
        """Bring the server's ontology to ``layer``: its changes if they can be sent as axioms, else the whole."""
        lines = set(layer.split(b"\n"))
        lines.discard(b"")
        process = self._running()
        previous, self._lines = self._lines, None  # unknown until the server has replied
        changes = None if previous is None else axiom_changes(previous - lines, lines - previous, lines)
        if changes is None:
            path = Path(self._folder.name) / "layer.nt"
            path.write_bytes(layer)
            self._ask(process, f"load\t{path}")
            self.loads += 1
        elif changes:
            path = Path(self._folder.name) / "changes.tsv"
            path.write_text("".join(f"{c}\n" for c in changes), encoding="utf-8")
            self._ask(process, f"apply\t{path}")
            self.applies += 1
        self._lines = lines
        return process

    def check(self, layer: bytes) -> None:
        """Check that ``layer`` is consistent.

        Raises:
            InconsistentOntology: it is not.
            ServerUnavailable: as :meth:`consistent`.
        """
        if not self.consistent(layer):
            raise InconsistentOntology(reasoning.INCONSISTENT)

    def kill(self) -> None:
        """Stop the JVM now (safe from another thread); the next check starts a new one."""
        with self._lock:
            process, self._process, self._lines = self._process, None, None
        if process is not None:
            _stop(process)

    def close(self) -> None:
        """Stop the JVM and remove the server's files (idempotent)."""
        with self._lock:
            process, self._process, self._lines = self._process, None, None
        if process is not None:
            _stop(process)
        self._folder.cleanup()

    def _running(self) -> subprocess.Popen[bytes]:
        import owlready2  # noqa: PLC0415 -- heavy import, only needed when HermiT runs
        from owlready2 import reasoning as owl_reasoning  # noqa: PLC0415

        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return self._process
            self._lines = None
            classpath = owl_reasoning._HERMIT_CLASSPATH
            classes = compiled_server(self.cache_dir, classpath)
            command = [owlready2.JAVA_EXE, f"-Xmx{owl_reasoning.JAVA_MEMORY}M", *reasoning.JVM_OPTIONS]
            command += ["-cp", f"{classpath}:{classes}", "HermitServer"]
            process: subprocess.Popen[bytes] = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
            self._process = process
            if self._finalizer is not None:
                self._finalizer.detach()
            self._finalizer = weakref.finalize(self, _stop, process)
            return process

    def _ask(self, process: subprocess.Popen[bytes], request: str) -> str:
        assert process.stdin is not None
        assert process.stdout is not None
        try:
            process.stdin.write(request.encode() + b"\n")
            process.stdin.flush()
            reply = process.stdout.readline().decode().rstrip("\n")
        except (BrokenPipeError, ValueError) as err:  # ValueError: the pipe was closed by kill()
            raise ServerUnavailable(f"the HermiT server stopped: {err}") from err
        if not reply:
            raise ServerUnavailable(f"the HermiT server stopped (exit {process.poll()})")
        kind, _, detail = reply.partition("\t")
        if kind == "error":
            self._lines = None
            raise ServerUnavailable(f"the HermiT server refused '{request.split(chr(9), maxsplit=1)[0]}': {detail}")
        return kind


def axiom_changes(removed: Iterable[bytes], added: Iterable[bytes], layer: set[bytes]) -> list[str] | None:
    """Return the axiom changes ``HermitServer`` applies for the changed N-Triples lines, or None.

    ``layer`` is the new layer's lines, which tell how each property and class is declared
    (no change may alter a declaration, so the old layer declares the same). Each change is
    ``+`` or ``-`` and a tab-separated axiom; annotations and declarations of individuals are
    left out. None means some line is not an assertion the server can apply exactly, and the
    layer must be loaded whole.
    """
    changes: list[str] = []
    for sign, lines in (("-", removed), ("+", added)):
        body = b"\n".join(lines)
        if not body:
            continue
        if b"_:" in body:  # a blank node (or the text "_:" in a literal: reloading is right either way)
            return None
        for triple in ox.parse(body + b"\n", format=ox.RdfFormat.N_TRIPLES):
            axiom = _axiom(triple, layer)
            if axiom is None:
                return None
            if axiom:
                changes.append(f"{sign}\t{axiom}")
    return changes


def _declared(iri: str, layer: set[bytes]) -> set[str]:
    """Return how ``iri`` is declared in the layer: among ``class`` and the property kinds."""
    kinds = {k for t, k in _PROPERTY_KINDS.items() if _type_line(iri, t) in layer}
    if _type_line(iri, _OWL + "Class") in layer:
        kinds.add("class")
    return kinds


def _type_line(iri: str, kind: str) -> bytes:
    return f"<{iri}> <{_RDF_TYPE}> <{kind}> .".encode()


def _axiom(triple: ox.Triple, layer: set[bytes]) -> str | None:
    """Return the server's axiom for one triple, "" for no logical content, None for unsupported."""
    subject, predicate = triple.subject, triple.predicate.value
    if not isinstance(subject, ox.NamedNode) or subject.value.startswith(_VOCABULARIES):
        return None
    if predicate == _RDF_TYPE:
        return _class_assertion(subject.value, triple.object, layer)
    if predicate in reasoning.BUILT_IN_ANNOTATIONS:
        return ""
    kinds = set() if predicate.startswith(_VOCABULARIES) else _declared(predicate, layer)
    return _property_assertion(kinds, predicate, subject.value, triple.object)


def _class_assertion(subject: str, value: object, layer: set[bytes]) -> str | None:
    if not isinstance(value, ox.NamedNode):
        return None
    if value.value == _OWL + "NamedIndividual":
        return ""
    if value.value.startswith(_VOCABULARIES) or _declared(value.value, layer) != {"class"}:
        return None
    return f"class\t{value.value}\t{subject}"


def _property_assertion(kinds: set[str], predicate: str, subject: str, value: object) -> str | None:
    if kinds == {"annotation"}:
        return ""
    if kinds == {"object"} and isinstance(value, ox.NamedNode):
        return f"object\t{predicate}\t{subject}\t{value.value}"
    if kinds != {"data"} or not isinstance(value, ox.Literal):
        return None
    lexical = value.value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    if value.language:
        return f"data\t{predicate}\t{subject}\t{lexical}\t\t{value.language}"
    datatype = "" if value.datatype.value == _XSD_STRING else value.datatype.value
    return f"data\t{predicate}\t{subject}\t{lexical}\t{datatype}\t"
