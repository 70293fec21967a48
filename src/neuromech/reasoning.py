"""Reasoning: HermiT consistency checking and rule-based materialisation of derived edges.

The DL reasoner sees the ontology and the data once per build, to check that they are
consistent. The edges that queries use (class hierarchy, transitive part-of, condition ->
implicated entity) are materialised by the SPARQL CONSTRUCT rules in ``ontology/rules/``,
which implement the OWL axioms of ``ontology/neuromech.ttl`` and run in milliseconds; a
test checks that on the real data they derive what HermiT derives.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, Graph, URIRef, Variable
from rdflib.paths import Path as PropertyPath
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

from neuromech.errors import InconsistentOntology
from neuromech.namespaces import INFERRED_GRAPH
from neuromech.store import OxigraphStore, Store, group_start, side_by_side, values_block

ANY_PREDICATE = "*"


@dataclass(frozen=True)
class Rule:
    """A named SPARQL CONSTRUCT rule."""

    name: str
    text: str

    @cached_property
    def head_predicates(self) -> frozenset[str]:
        """The predicates the rule derives (``*`` for a variable predicate)."""
        template = _algebra(self.text).get("template") or []
        return frozenset(_predicate_keys(triple[1] for triple in template))

    @cached_property
    def head_subjects(self) -> tuple[str, ...]:
        """The variables in subject position of the rule's template."""
        template = _algebra(self.text).get("template") or []
        return tuple(sorted({str(t[0]) for t in template if isinstance(t[0], Variable)}))

    @cached_property
    def body_predicates(self) -> frozenset[str]:
        """The predicates the rule's WHERE clause reads (``*`` for a variable predicate)."""
        return frozenset(_predicate_keys(_body_predicates(_algebra(self.text)["p"])))

    @cached_property
    def body_keys(self) -> frozenset[str]:
        """The keys (:func:`triple_key`) of what the WHERE clause reads.

        These are the :attr:`body_predicates`, except that a type pattern with a fixed class
        (``?f a nm:Finding``) reads ``rdf:type <class>`` only.
        """
        return _pattern_keys(_body_triples(_algebra(self.text)["p"]))

    @cached_property
    def head_keys(self) -> frozenset[str]:
        """The keys (:func:`triple_key`) of what the rule derives, types told apart by class."""
        template = _algebra(self.text).get("template") or []
        return _pattern_keys((t[0], t[1], t[2]) for t in template)

    def reads_any(self, gained: Iterable[str]) -> bool:
        """Whether the rule's WHERE clause reads one of the ``gained`` keys (:func:`triple_key`).

        Semi-naive re-runs: a rule runs again only when something it reads has gained triples.
        """
        return any(overlaps(key, read) for key in gained for read in self.body_keys)


def overlaps(one: str, other: str) -> bool:
    """Whether two keys (:func:`triple_key`) can name the same triple.

    ``rdf:type`` (any class) overlaps ``rdf:type <class>``; ``*`` (any predicate) overlaps all.
    """
    if one == other or ANY_PREDICATE in (one, other):
        return True
    return one.split(" ", 1)[0] == other.split(" ", 1)[0] and (" " not in one or " " not in other)


def _pattern_keys(patterns: Iterable[tuple[object, object, object]]) -> frozenset[str]:
    keys: set[str] = set()
    for _, predicate, value in patterns:
        if predicate == RDF.type and isinstance(value, URIRef):
            keys.add(f"{RDF.type} {value}")
        else:
            keys.update(_predicate_keys(iter([predicate])))
    return frozenset(keys)


def strata(rules: list[Rule]) -> list[list[Rule]]:
    """Group ``rules`` into strata, each to be run to its fixpoint before the next.

    A rule feeds another when a key it derives overlaps a key the other reads; the strata are
    the strongly connected components of that graph, in an order where a stratum comes after
    every stratum that feeds it (ties kept in file order). A rule that reads what a recursive
    rule derives then runs once, on the finished closure: the mechanism-module rule (37 s a
    run at 10^6 triples) had re-run in every round of the ``counts_for`` closure.
    """
    feeds = {
        a.name: {b.name for b in rules if any(overlaps(h, r) for h in a.head_keys for r in b.body_keys)} for a in rules
    }
    reach = {name: _reachable(name, feeds) for name in feeds}
    components: list[list[Rule]] = []
    placed: set[str] = set()
    for rule in rules:
        if rule.name not in placed:
            component = [r for r in rules if r.name in reach[rule.name] and rule.name in reach[r.name]] or [rule]
            placed.update(r.name for r in component)
            components.append(component)
    ordered: list[list[Rule]] = []
    waiting = list(components)
    while waiting:  # Kahn: the first component (in file order) that nothing waiting feeds
        names = {r.name for c in waiting for r in c}
        for component in waiting:
            own = {r.name for r in component}
            if not any(b in own for a in names - own for b in feeds[a]):
                ordered.append(component)
                waiting.remove(component)
                break
    return ordered


def _reachable(start: str, feeds: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(feeds[start])
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(feeds[name])
    return seen


def triple_key(triple: ox.Triple | ox.Quad) -> str:
    """Return what a derived triple changes for :meth:`Rule.reads_any`: its predicate, and the class of a type.

    Types are told apart by class: the class hierarchy rule gives most nodes new types, and
    with predicates alone every rule reading ``?f a nm:Finding`` re-ran for nothing (3.5 s at
    10^6 triples).
    """
    predicate = triple.predicate.value
    if predicate == str(RDF.type) and isinstance(triple.object, ox.NamedNode):
        return f"{predicate} {triple.object.value}"
    return predicate


@lru_cache(maxsize=256)
def _algebra(text: str) -> CompValue:
    """Parse a rule once (rdflib's SPARQL parser takes ~50 ms a rule)."""
    return prepareQuery(text).algebra


def _predicate_keys(predicates: Iterator[object]) -> Iterator[str]:
    for predicate in predicates:
        if isinstance(predicate, URIRef):
            yield str(predicate)
        elif isinstance(predicate, PropertyPath):
            yield from _path_iris(predicate)
        else:
            yield ANY_PREDICATE


def _path_iris(path: object) -> Iterator[str]:
    if isinstance(path, URIRef):
        yield str(path)
        return
    for attribute in ("args", "path"):
        value = getattr(path, attribute, None)
        for part in value if isinstance(value, list) else [value] if value is not None else []:
            yield from _path_iris(part)
    if isinstance(path, PropertyPath) and not any(hasattr(path, a) for a in ("args", "path")):
        yield ANY_PREDICATE


def _body_predicates(node: object) -> Iterator[object]:
    """Every predicate of every triple pattern in an rdflib SPARQL algebra tree."""
    return (predicate for _, predicate, _ in _body_triples(node))


def _body_triples(node: object) -> Iterator[tuple[object, object, object]]:
    """Every triple pattern in an rdflib SPARQL algebra tree."""
    if isinstance(node, CompValue):
        triples = node.get("triples")
        for triple in triples if isinstance(triples, list) else []:
            if isinstance(triple, tuple | list) and len(triple) == 3:
                yield triple[0], triple[1], triple[2]
        for value in node.values():
            yield from _body_triples(value)
    elif isinstance(node, list | tuple):
        for value in node:
            if isinstance(value, CompValue | list):
                yield from _body_triples(value)


@dataclass(frozen=True)
class MaterialisationReport:
    """How many triples the rules added, and in how many rounds."""

    added: int
    rounds: int
    per_rule: dict[str, int]


def load_rules(rules_dir: Path) -> list[Rule]:
    """Read the rules of ``rules_dir`` in file-name order."""
    return [Rule(p.stem, p.read_text(encoding="utf-8")) for p in sorted(rules_dir.glob("*.rq"))]


def materialise(store: Store, rules: list[Rule], max_rounds: int = 10) -> MaterialisationReport:
    """Apply ``rules`` to ``store`` until nothing new is derived, adding to the inferred graph.

    On an :class:`OxigraphStore` the rules run semi-naively inside the store
    (:func:`materialise_in_store`); other stores get the generic loop over CONSTRUCT results.

    Raises:
        RuntimeError: if the rules have not reached a fixpoint after ``max_rounds``.
    """
    if isinstance(store, OxigraphStore):
        return materialise_in_store(store, rules, max_rounds)
    seen = Graph()
    per_rule = {rule.name: 0 for rule in rules}
    for round_number in range(1, max_rounds + 1):
        new = Graph()
        for rule in rules:
            derived = store.construct(rule.text)
            fresh = derived - seen
            per_rule[rule.name] += len(fresh)
            new += fresh
            seen += fresh
        if not len(new):
            return MaterialisationReport(len(seen), round_number, per_rule)
        store.add(new, inferred=True)
    raise RuntimeError(f"rules did not reach a fixpoint in {max_rounds} rounds")


def materialise_in_store(store: OxigraphStore, rules: list[Rule], max_rounds: int = 10) -> MaterialisationReport:
    """Apply ``rules`` inside a pyoxigraph store, stratified and semi-naively, until nothing new is derived.

    The rules run stratum by stratum (:func:`strata`), each stratum to its fixpoint.

    A rule's answers are checked against the store one by one (a quad lookup each), and after
    the first round a rule runs again only if a predicate its WHERE clause reads (for a type
    pattern with a fixed class, that class) has gained triples since it last ran. Derived
    triples go to the inferred graph. The rules carry no in-store
    ``FILTER NOT EXISTS { template }``: Oxigraph evaluates ``EXISTS`` slowly once the
    store has had quads removed (as after an edit or a cleared inferred graph). At 10^6 triples
    the filtered rules took 5.7 s on a freshly loaded store but 94 s after the inferred graph
    was cleared; unfiltered, 6.4 s and 8.3 s.

    Raises:
        RuntimeError: if the rules have not reached a fixpoint after ``max_rounds``.
    """
    per_rule = {rule.name: 0 for rule in rules}
    added = rounds = 0
    for stratum in strata(rules):
        pending: dict[str, set[str] | None] = {rule.name: None for rule in stratum}  # None: never ran
        for round_number in range(1, max_rounds + 1):
            ran = False
            for rule in stratum:  # in file order: a rule sees what the rules before it derived this round
                changed = pending[rule.name]
                if changed is not None and not rule.reads_any(changed):
                    continue
                ran = True
                pending[rule.name] = set()
                (fresh,) = _fresh_answers(store, [rule.text])
                per_rule[rule.name] += len(fresh)
                added += len(fresh)
                gained = {triple_key(q) for q in fresh}
                for waiting in pending.values():
                    if waiting is not None:
                        waiting.update(gained)
            if not ran:
                rounds += round_number - 1
                break
        else:
            raise RuntimeError(f"rules did not reach a fixpoint in {max_rounds} rounds")
    return MaterialisationReport(added, rounds + 1, per_rule)


def _fresh_answers(
    store: OxigraphStore, queries: list[str], keep: Callable[[ox.Triple], bool] | None = None
) -> list[set[ox.Quad]]:
    """Run the rule ``queries`` side by side; add and return, per query, the answers no graph held yet.

    The queries run on every core (:func:`~neuromech.store.side_by_side`) against the store as
    it was before any of their answers were added; an answer two queries give counts for the
    first. ``keep`` filters the answers further. Answers go to the inferred graph.
    """
    native = store.native
    inferred = ox.NamedNode(str(INFERRED_GRAPH))

    def answers(query: str) -> list[ox.Triple]:
        return list(native.query(query, use_default_graph_as_union=True))  # type: ignore[arg-type]

    seen: set[ox.Quad] = set()
    fresh_per_query: list[set[ox.Quad]] = []
    for triples in side_by_side(store, answers, queries):
        fresh = {
            quad
            for t in triples
            if (keep is None or keep(t)) and not _held(native, t)
            for quad in [ox.Quad(t.subject, t.predicate, t.object, inferred)]
            if quad not in seen
        }
        seen |= fresh
        fresh_per_query.append(fresh)
    native.extend(seen)
    return fresh_per_query


def rematerialise_around(
    store: OxigraphStore, rules: list[Rule], around: set[str], max_rounds: int = 10
) -> MaterialisationReport:
    """Re-derive the inferred triples whose subject is in ``around``, leaving the others alone.

    Every inferred triple about a node of ``around`` is dropped, then each rule is evaluated
    once per subject variable of its template with that variable bound (a VALUES block) to the
    nodes of ``around``, to a fixpoint. Correct when every inferred triple an edit can change
    has its subject in ``around`` (see :meth:`neuromech.pipeline.BuildSession.rebuild`, which
    checks that against a full materialisation in its tests); costs milliseconds for a few
    nodes instead of a pass over the whole graph.

    Raises:
        RuntimeError: if the rules have not reached a fixpoint after ``max_rounds``.
    """
    native = store.native
    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    nodes = [ox.NamedNode(iri) for iri in sorted(around)]
    for node in nodes:
        for quad in list(native.quads_for_pattern(node, None, None, inferred)):
            native.remove(quad)
    bound = [(rule, _bind_subject(rule, variable, around)) for rule in rules for variable in rule.head_subjects]
    per_rule = {rule.name: 0 for rule in rules}
    added = 0
    gained: set[str] | None = None  # predicates that gained triples last round (None: first round)
    for round_number in range(1, max_rounds + 1):
        # semi-naive, as in materialise_in_store: after the first round a rule runs again only
        # if a predicate it reads gained triples (re-running the chain rules of a condition
        # with 12k findings took 65 s each at 10^6 triples, for nothing new)
        due = [(rule, query) for rule, query in bound if gained is None or rule.reads_any(gained)]
        answers = _fresh_answers(
            store,
            [query for _, query in due],
            keep=lambda t: isinstance(t.subject, ox.NamedNode) and t.subject.value in around,
        )
        gained = set()
        for (rule, _), fresh in zip(due, answers, strict=True):
            per_rule[rule.name] += len(fresh)
            added += len(fresh)
            gained |= {triple_key(q) for q in fresh}
        if not gained:
            return MaterialisationReport(added, round_number, per_rule)
    raise RuntimeError(f"rules did not reach a fixpoint in {max_rounds} rounds")


def _bind_subject(rule: Rule, variable: str, iris: set[str]) -> str:
    """Return the rule with ``VALUES ?variable { <iri> ... }`` opening its WHERE group."""
    text = rule.text
    inside = group_start(text, text.index("WHERE"))
    return f"{text[:inside]}\n  {values_block(variable, iris)}\n{text[inside:]}"


def _held(native: ox.Store, triple: ox.Triple) -> bool:
    """Whether any graph of ``native`` already holds ``triple``."""
    return next(iter(native.quads_for_pattern(triple.subject, triple.predicate, triple.object, None)), None) is not None


def clear_inferred(store: OxigraphStore) -> None:
    """Drop every materialised triple (before re-running the rules after an edit)."""
    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    if store.native.contains_named_graph(inferred):
        store.native.remove_graph(inferred)


def check_consistency(graph: Graph) -> list[str]:
    """Check ``graph`` (ontology plus data) with HermiT through owlready2.

    Returns:
        The IRIs of unsatisfiable classes (empty when every class is satisfiable).

    Raises:
        InconsistentOntology: when HermiT finds the ontology plus data inconsistent.
    """
    return check_consistency_ntriples(graph.serialize(format="nt", encoding="utf-8"))


def check_consistency_ntriples(data: bytes) -> list[str]:
    """Check an N-Triples document (ontology plus data) with HermiT; see :func:`check_consistency`."""
    import owlready2  # noqa: PLC0415 -- heavy import, only needed by `build`, not by query commands

    with tempfile.TemporaryDirectory(prefix="neuromech-hermit-") as tmp:
        path = Path(tmp) / "neuromech.nt"
        path.write_bytes(data)
        world = owlready2.World()
        ontology = world.get_ontology(path.as_uri()).load()
        try:
            with ontology:
                owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError as err:
            raise InconsistentOntology(
                "HermiT: the ontology plus data are inconsistent; typical causes are an "
                "individual typed with two disjoint classes (e.g. a region used as a condition), "
                "two values of a functional property (two directions on one finding), or a "
                "value of the wrong class for a property's range"
            ) from err
        unsatisfiable = sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing)
        world.close()
    return unsatisfiable


_INCONSISTENT = (
    "HermiT: the ontology plus data are inconsistent; typical causes are an "
    "individual typed with two disjoint classes (e.g. a region used as a condition), "
    "two values of a functional property (two directions on one finding), or a "
    "value of the wrong class for a property's range"
)


# HermiT runs beside the build on a 2-core machine: a serial garbage collector and the quick
# (C1) compiler on one thread halve the CPU it takes from the build, and it finishes sooner
# (-k on a 10^6-triple project's entity layer: 6.8 s wall and 12.9 s CPU with the JVM's
# defaults, 5.5 s and 6.1 s with these; -U on the ontology: 2.8 s/5.2 s, 2.1 s/2.6 s)
JVM_OPTIONS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1")


class HermitProcess:
    """The HermiT command line that owlready2 ships, running on an N-Triples document in a child process.

    It starts at once and runs beside the caller (the build validates and materialises
    meanwhile); :meth:`wait` collects the verdict, :meth:`kill` stops it (a build that fails
    elsewhere does not wait for HermiT).

    ``action`` is a HermiT option: ``-k`` (is owl:Thing satisfiable, i.e. is the ontology
    consistent: no classification, ~10x faster than owlready2's ``-c -O -D -I``) or ``-U``
    (the classes equivalent to owl:Nothing; needs a classification).
    """

    def __init__(self, data: bytes, action: str) -> None:
        """Write ``data`` to a temporary file and start HermiT with ``action`` on it."""
        import owlready2  # noqa: PLC0415 -- heavy import, only needed by `build`, not by query commands
        from owlready2 import reasoning as owl_reasoning  # noqa: PLC0415

        self._folder = tempfile.TemporaryDirectory(prefix="neuromech-hermit-")
        path = Path(self._folder.name) / "neuromech.nt"
        path.write_bytes(data)
        command = [
            owlready2.JAVA_EXE,
            f"-Xmx{owl_reasoning.JAVA_MEMORY}M",
            *JVM_OPTIONS,
            "-cp",
            owl_reasoning._HERMIT_CLASSPATH,
            "org.semanticweb.HermiT.cli.CommandLine",
            action,
            path.as_uri(),
        ]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait(self) -> str:
        """Wait for HermiT to finish; return its output.

        Raises:
            InconsistentOntology: when HermiT finds the document inconsistent, or fails.
        """
        try:
            stdout, stderr = self._process.communicate()
        finally:
            self.close()
        if "InconsistentOntologyException" in stderr or "is not satisfiable" in stdout:
            raise InconsistentOntology(_INCONSISTENT)
        if self._process.returncode != 0:
            raise InconsistentOntology(f"HermiT failed (exit {self._process.returncode}): {stderr.strip()[-500:]}")
        return stdout

    def kill(self) -> None:
        """Stop HermiT if it is still running (safe from another thread than the one waiting)."""
        if self._process.poll() is None:
            self._process.kill()

    def close(self) -> None:
        """Stop HermiT if it is still running, reap it and remove its input file (idempotent)."""
        if self._process.returncode is None:
            self._process.kill()
            self._process.communicate()
        self._folder.cleanup()


def _hermit(data: bytes, action: str) -> str:
    """Run HermiT with ``action`` on an N-Triples document and return its output (see :class:`HermitProcess`)."""
    return HermitProcess(data, action).wait()


def consistency_verdict(output: str) -> None:
    """Check HermiT ``-k`` output for a consistency verdict.

    Raises:
        InconsistentOntology: when there is none.
    """
    if "is satisfiable" not in output:
        raise InconsistentOntology(f"HermiT gave no consistency verdict: {output.strip()[:300]}")


def unsatisfiable_in(output: str) -> list[str]:
    """Return the class IRIs HermiT ``-U`` output names, owl:Nothing left out."""
    found = re.findall(r"<([^<>]+)>", output)
    return sorted({iri for iri in found if iri != "http://www.w3.org/2002/07/owl#Nothing"})


def check_consistent_ntriples(data: bytes) -> None:
    """Check that an N-Triples document (ontology plus data) is consistent (HermiT ``-k``).

    Raises:
        InconsistentOntology: when it is not.
    """
    consistency_verdict(_hermit(data, "-k"))


def unsatisfiable_classes_ntriples(data: bytes) -> list[str]:
    """Return the IRIs of the classes of an N-Triples document equivalent to owl:Nothing (HermiT ``-U``).

    Raises:
        InconsistentOntology: when the document is inconsistent.
    """
    return unsatisfiable_in(_hermit(data, "-U"))


def reason(store: OxigraphStore, rules_dir: Path) -> MaterialisationReport:
    """Materialise the derived edges of ``rules_dir`` into ``store``."""
    return materialise(store, load_rules(rules_dir))
