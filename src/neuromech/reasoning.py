"""Reasoning: HermiT consistency checking and rule-based materialisation of derived edges.

The DL reasoner sees the ontology and the data once per build, to check that they are
consistent. The edges that queries use (class hierarchy, transitive part-of, condition ->
implicated entity) are materialised by the SPARQL CONSTRUCT rules in ``ontology/rules/``,
which implement the OWL axioms of ``ontology/neuromech.ttl`` and run in milliseconds; a
test checks that on the real data they derive what HermiT derives.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from neuromech import closure
from neuromech.errors import InconsistentOntology, ReasonerUnavailable
from neuromech.namespaces import INFERRED_GRAPH
from neuromech.rules import ChainedClosure, Rule, load_rules, strata, triple_keys, where_group_start
from neuromech.store import OxigraphStore, Store, side_by_side, values_block


@dataclass(frozen=True)
class MaterialisationReport:
    """How many triples the rules added, and in how many rounds."""

    added: int
    rounds: int
    per_rule: dict[str, int]
    # the keys (rules.triple_key) of the added triples; None when not tracked
    derived_keys: frozenset[str] | None = None


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

    A rule's answers are checked against the store one by one (a quad lookup each). After its
    first run a rule runs again only if something its WHERE clause reads (a predicate, or for a
    type pattern with a fixed class, that class) has gained triples since it last ran, and then
    only as its :meth:`~neuromech.rules.Rule.delta_queries`: the rule restricted to answers that
    use one of those triples (semi-naive evaluation; the rule whole when it cannot be
    restricted). At 10^6 triples the ``falls_under`` closure's later rounds had re-joined the
    whole relation with itself, 24 s for five rounds; the ``counts_for`` closure's, 16 s.

    Derived triples go to the inferred graph. The rules carry no in-store
    ``FILTER NOT EXISTS { template }``: Oxigraph evaluates ``EXISTS`` slowly once the
    store has had quads removed (as after an edit or a cleared inferred graph). At 10^6 triples
    the filtered rules took 5.7 s on a freshly loaded store but 94 s after the inferred graph
    was cleared; unfiltered, 6.4 s and 8.3 s.

    Raises:
        RuntimeError: if the rules have not reached a fixpoint after ``max_rounds``.
    """
    per_rule = {rule.name: 0 for rule in rules}
    added = rounds = 0
    derived: set[str] = set()
    for stratum in strata(rules):
        # what each rule has not seen yet: the keys (triple_key) and triples derived since it ran
        pending: dict[str, tuple[set[str], list[ox.Quad]] | None] = {rule.name: None for rule in stratum}
        for round_number in range(1, max_rounds + 1):
            ran = False
            for rule in stratum:  # in file order: a rule sees what the rules before it derived this round
                changed = pending[rule.name]
                if changed is not None and not rule.reads_any(changed[0]):
                    continue
                computed = rule.transitive_predicate or rule.chained_closure
                queries = None if changed is None or computed else rule.delta_queries(changed[1])
                pending[rule.name] = (set(), [])
                if rule.transitive_predicate:
                    fresh = _add_closure(store, *rule.transitive_predicate)
                elif rule.chained_closure:
                    fresh = _add_chained(store, rule.chained_closure, None if changed is None else changed[1])
                elif queries == []:
                    continue  # no pattern matches what changed: no new answer
                else:  # the first run, or a rule that cannot be restricted, runs whole
                    fresh = set().union(*fresh_answers(store, queries or [rule.text]))
                ran = True
                per_rule[rule.name] += len(fresh)
                added += len(fresh)
                gained = triple_keys(fresh)
                derived |= gained
                for name, waiting in pending.items():
                    # a closure (or a chain up one) is closed under its own answers
                    if waiting is not None and not (computed and name == rule.name):
                        waiting[0].update(gained)
                        waiting[1].extend(fresh)
            if not ran:
                rounds += round_number - 1
                break
        else:
            raise RuntimeError(f"rules did not reach a fixpoint in {max_rounds} rounds")
    return MaterialisationReport(added, rounds + 1, per_rule, frozenset(derived))


def _add_closure(store: OxigraphStore, predicate: str, reflexive: bool) -> set[ox.Quad]:
    """Add to the inferred graph every pair of the transitive closure of ``predicate`` no graph holds.

    Answers the rule that says the predicate is transitive (:attr:`Rule.transitive_predicate`);
    ``reflexive`` False leaves out ``?x P ?x``.
    """
    native = store.native
    relation = ox.NamedNode(predicate)
    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    graph = closure.successors((q.subject, q.object) for q in native.quads_for_pattern(None, relation, None, None))
    fresh = {
        ox.Quad(start, relation, end, inferred)  # type: ignore[arg-type]
        for start, ends in closure.reach(graph).items()
        for end in ends - graph[start]
        if reflexive or end != start
    }
    native.extend(fresh)
    return fresh


def _add_chained(store: OxigraphStore, rule: ChainedClosure, changed: list[ox.Quad] | None) -> set[ox.Quad]:
    """Add to the inferred graph every answer of a :attr:`Rule.chained_closure` rule no graph holds.

    ``?x P ?y . ?y Q+ ?z => ?x P ?z``: the closure of Q (:func:`neuromech.closure.reach`)
    followed from every P edge, held edges dropped. ``changed`` (the triples added since the
    rule last ran; None on its first run) restricts it to the new P edges, unless a Q edge is
    among them.
    """
    native = store.native
    predicate = ox.NamedNode(rule.predicate)
    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    up_edges = native.quads_for_pattern(None, ox.NamedNode(rule.up), None, None)
    ups = closure.reach(closure.successors((q.subject, q.object) for q in up_edges))
    if rule.iri_only:
        ups = {node: {end for end in ends if isinstance(end, ox.NamedNode)} for node, ends in ups.items()}
    if changed is None or any(q.predicate.value == rule.up for q in changed):
        edges = {(q.subject, q.object) for q in native.quads_for_pattern(None, predicate, None, None)}
        answers = {(start, end) for start, middle in edges for end in ups.get(middle, ())} - edges
    else:
        held = native.quads_for_pattern
        new = {(q.subject, q.object) for q in changed if q.predicate == predicate}
        answers = {
            (start, end)
            for start, middle in new
            for end in ups.get(middle, ())
            if next(held(start, predicate, end, None), None) is None
        }
    fresh = {ox.Quad(start, predicate, end, inferred) for start, end in answers}
    native.extend(fresh)
    return fresh


def fresh_answers(
    store: OxigraphStore, queries: list[str], keep: Callable[[ox.Triple], bool] | None = None
) -> list[set[ox.Quad]]:
    """Run the rule ``queries`` side by side; add and return, per query, the answers no graph held yet.

    The queries run on every core (:func:`~neuromech.store.side_by_side`) against the store as
    it was before any of their answers were added; an answer two queries give counts for the
    first. ``keep`` filters the answers further. Answers go to the inferred graph.
    """
    native = store.native
    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    answers = partial(construct_triples, native)
    seen: set[ox.Quad] = set()
    fresh_per_query: list[set[ox.Quad]] = []
    held = native.quads_for_pattern  # any graph holding the triple (a quad lookup; inlined: 400k calls at 10^6)
    for triples in side_by_side(store, answers, queries):
        fresh = {
            quad
            for t in triples
            if (keep is None or keep(t)) and next(held(t.subject, t.predicate, t.object, None), None) is None
            for quad in [ox.Quad(t.subject, t.predicate, t.object, inferred)]
            if quad not in seen
        }
        seen |= fresh
        fresh_per_query.append(fresh)
    native.extend(seen)
    return fresh_per_query


def construct_triples(native: ox.Store, query: str) -> list[ox.Triple]:
    """Return the triples a rule's CONSTRUCT ``query`` gives over every graph of ``native``."""
    return list(native.query(query, use_default_graph_as_union=True))  # type: ignore[arg-type]


def rematerialise_around(
    store: OxigraphStore, rules: list[Rule], around: set[str], max_rounds: int = 10
) -> MaterialisationReport:
    """Re-derive the inferred triples whose subject is in ``around``, leaving the others alone.

    Every inferred triple about a node of ``around`` is dropped, then each rule is evaluated
    once per subject variable of its template with that variable bound (a VALUES block) to the
    nodes of ``around``. The rules run stratum by stratum (:func:`~neuromech.rules.strata`),
    each stratum to its fixpoint, so that a rule runs after what it reads is complete (at 10^6
    triples the mechanism-module rules had run in four rounds, 1.6 s, in one loop over every
    rule). Correct when every inferred triple an edit can change has its subject in ``around``
    (see :meth:`neuromech.pipeline.BuildSession.rebuild`, which checks that against a full
    materialisation in its tests); costs milliseconds for a few nodes instead of a pass over
    the whole graph. ``rounds`` in the report is the most rounds a stratum took.

    Raises:
        RuntimeError: if a stratum has not reached a fixpoint after ``max_rounds``.
    """
    native = store.native
    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    nodes = [ox.NamedNode(iri) for iri in sorted(around)]
    for node in nodes:
        for quad in list(native.quads_for_pattern(node, None, None, inferred)):
            native.remove(quad)
    per_rule = {rule.name: 0 for rule in rules}
    added = rounds = 0
    for stratum in strata(rules):
        bound = [(rule, _bind_subject(rule, variable, around)) for rule in stratum for variable in rule.head_subjects]
        gained: set[str] | None = None  # keys that gained triples last round (None: first round)
        for round_number in range(1, max_rounds + 1):
            # semi-naive, as in materialise_in_store: after the first round a rule runs again only
            # if something it reads gained triples (re-running the chain rules of a condition
            # with 12k findings took 65 s each at 10^6 triples, for nothing new)
            due = [(rule, query) for rule, query in bound if gained is None or rule.reads_any(gained)]
            answers = fresh_answers(
                store,
                [query for _, query in due],
                keep=lambda t: isinstance(t.subject, ox.NamedNode) and t.subject.value in around,
            )
            gained = set()
            for (rule, _), fresh in zip(due, answers, strict=True):
                per_rule[rule.name] += len(fresh)
                added += len(fresh)
                gained |= triple_keys(fresh)
            if not gained:
                rounds = max(rounds, round_number)
                break
        else:
            raise RuntimeError(f"rules did not reach a fixpoint in {max_rounds} rounds")
    return MaterialisationReport(added, rounds, per_rule)


def _bind_subject(rule: Rule, variable: str, iris: set[str]) -> str:
    """Return the rule with ``VALUES ?variable { <iri> ... }`` opening its WHERE group."""
    text = rule.text
    inside = where_group_start(text)
    return f"{text[:inside]}\n  {values_block(variable, iris)}\n{text[inside:]}"


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


# OWL 2's built-in annotation properties (the structural specification, section 5.5): their
# triples are annotations, without logical content, whether declared or not
BUILT_IN_ANNOTATIONS = frozenset(
    {
        "http://www.w3.org/2000/01/rdf-schema#label",
        "http://www.w3.org/2000/01/rdf-schema#comment",
        "http://www.w3.org/2000/01/rdf-schema#seeAlso",
        "http://www.w3.org/2000/01/rdf-schema#isDefinedBy",
        "http://www.w3.org/2002/07/owl#deprecated",
        "http://www.w3.org/2002/07/owl#versionInfo",
        "http://www.w3.org/2002/07/owl#priorVersion",
        "http://www.w3.org/2002/07/owl#backwardCompatibleWith",
        "http://www.w3.org/2002/07/owl#incompatibleWith",
    }
)

INCONSISTENT = (
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

    ``niced`` runs the JVM at the lowest priority (``nice -n 19``, where the command exists):
    beside a full build, whose steps are the longer path, HermiT then takes the cycles the
    build leaves idle (loading uses one core, the end of the export one) instead of slowing
    its steps. At 10^6 triples the first build took 35.0-35.2 s that way, 36.5-37.3 s at the
    same priority. A rebuild waits for HermiT, so it runs HermiT at the build's priority.
    """

    def __init__(self, data: bytes, action: str, niced: bool = False) -> None:
        """Write ``data`` to a temporary file and start HermiT with ``action`` on it."""
        import owlready2  # noqa: PLC0415 -- heavy import, only needed by `build`, not by query commands
        from owlready2 import reasoning as owl_reasoning  # noqa: PLC0415

        if shutil.which(owlready2.JAVA_EXE) is None:  # checked here: `nice` would start, then fail to run it
            raise ReasonerUnavailable(
                f"cannot start HermiT ({owlready2.JAVA_EXE}: no such program): it needs a Java runtime "
                "(`make setup` installs one), or build with --no-reasoner"
            )
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
        nice = shutil.which("nice") if niced else None
        if nice is not None:
            command = [nice, "-n", "19", *command]
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
            raise InconsistentOntology(INCONSISTENT)
        if self._process.returncode != 0:
            raise InconsistentOntology(f"HermiT failed (exit {self._process.returncode}): {stderr.strip()[-500:]}")
        return stdout

    @property
    def pid(self) -> int:
        """The process id of HermiT's JVM."""
        return self._process.pid

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
