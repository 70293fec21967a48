"""Incremental maintenance of the inferred graph after an edit: delete and re-derive (DRed).

When an edit removed the asserted triples ``removed`` and added ``added``, the inferred graph is
brought up to date without re-deriving what the edit cannot have changed (Gupta, Mumick and
Subrahmanian's DRed, 1993):

1. **over-delete**: every inferred triple with a derivation that uses a removed triple, or an
   over-deleted one. The rules' :meth:`~neuromech.rules.Rule.delta_queries` find them, run
   while nothing has been removed yet and the removed triples are back in a scratch graph (so
   the queries see the old graph, plus what the edit added: more candidates, never fewer);
2. the over-deleted triples are removed;
3. **re-derive**: the over-deleted triples that the rules still derive from what is left, found
   by the rules bound by their head (:meth:`~neuromech.rules.Rule.head_queries`), are put back;
4. **insert**: what the added and re-derived triples give, semi-naively, stratum by stratum.

At 10^6 triples a finding's direction flipped changes a few dozen inferred triples; re-deriving
everything about its condition (31k findings) instead took 1.3 s. :func:`maintain` gives up,
leaving the store as it found it, as soon as a rule reads a triple that changes where it
cannot be restricted to it (:meth:`~neuromech.rules.Rule.restrictable_for`: under one
negation or in an aggregate; patterns in paths, UNION branches, plain sub-selects and under two
negations, like the mechanism-module rule's partner test, are restricted), or a step has more
changed triples than a VALUES block binds, and the caller falls back to re-deriving around the
edited nodes, or everything after an edit to the entity layer.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import partial

import pyoxigraph as ox

from neuromech.namespaces import INFERRED_GRAPH
from neuromech.reasoning import MaterialisationReport, construct_triples, fresh_answers
from neuromech.rules import Rule, overlaps, strata, triple_keys
from neuromech.store import WORKERS, OxigraphStore, side_by_side

#: Where the removed triples wait while the over-deletion reads them.
SCRATCH_GRAPH = ox.NamedNode("urn:neuromech:graph:removed-by-the-edit")


@dataclass
class Maintenance:
    """What :func:`maintain` changed in the inferred graph."""

    report: MaterialisationReport
    deleted: int = 0
    rederived: int = 0
    subjects: set[str] = field(default_factory=set)
    #: the inferred quads the edit took away for good, and those it added
    lost: set[ox.Quad] = field(default_factory=set)
    gained: set[ox.Quad] = field(default_factory=set)


def maintain(
    store: OxigraphStore,
    rules: list[Rule],
    removed: Collection[ox.Triple],
    added: Collection[ox.Triple],
    max_rounds: int = 20,
) -> Maintenance | None:
    """Bring the inferred graph up to date after ``removed`` and ``added`` changed the asserted graphs.

    The rules are maintained group by group (:func:`maintenance_groups`), each group by delete
    and re-derive, and a group passes to the groups it feeds only what it lost or gained for
    good: an over-deleted triple that its group derives again is no change for the rules that
    read it. (At 10^6 triples, removing the mappings of a hub over-deleted 6k ``counts_for``
    edges, nearly all derived again, and in one pass over all rules they over-deleted 13k
    ``nm:satisfies_module`` edges, every one derived again by running the module rule whole.)

    Returns None, with the store as it was, when a rule reads a changed triple where it cannot
    be restricted to it, or one holds a blank node. ``subjects`` in the result are those whose
    inferred triples changed (not those whose over-deleted triples were all derived again).

    Raises:
        RuntimeError: if a step has not reached a fixpoint after ``max_rounds``.
    """
    native = store.native
    gone: list[ox.Triple] = list(removed)  # what the groups below lost, asserted triples first
    new: list[ox.Triple] = list(added)
    taken: set[ox.Quad] = set()  # every quad removed and added, to undo
    put: set[ox.Quad] = set()
    deleted = rederived = added_count = rounds = 0
    per_rule = {rule.name: 0 for rule in rules}
    subjects: set[str] = set()
    lost: set[ox.Quad] = set()
    gained: set[ox.Quad] = set()
    for group in maintenance_groups(rules):
        native.extend(ox.Quad(t.subject, t.predicate, t.object, SCRATCH_GRAPH) for t in gone)
        try:
            doomed = _overdelete(store, group, gone, max_rounds)
        finally:
            if native.contains_named_graph(SCRATCH_GRAPH):
                native.remove_graph(SCRATCH_GRAPH)
        if doomed is None:
            _undo(native, taken, put)
            return None
        for quad in doomed:
            native.remove(quad)
        taken |= doomed
        back = _rederive(store, group, doomed)
        put |= back
        inserted = _insert(store, group, [*new, *(q.triple for q in back)], max_rounds)
        if inserted is None:
            _undo(native, taken, put)
            return None
        report, fresh = inserted
        put |= fresh
        deleted, rederived, added_count = deleted + len(doomed), rederived + len(back), added_count + report.added
        rounds = max(rounds, report.rounds)
        per_rule.update(report.per_rule)  # each rule is in one group
        lost |= doomed - back
        gained |= fresh
        gone += [q.triple for q in doomed - back - fresh]
        new += [q.triple for q in fresh - doomed]
        # an over-deleted triple derived again changes no subject's block in the release
        subjects.update(q.subject.value for q in (doomed - back) ^ fresh if isinstance(q.subject, ox.NamedNode))
    return Maintenance(MaterialisationReport(added_count, rounds, per_rule), deleted, rederived, subjects, lost, gained)


def maintenance_groups(rules: list[Rule]) -> list[list[Rule]]:
    """Return the rules' strata (:func:`~neuromech.rules.strata`) joined where they derive alike.

    Delete and re-derive may take a group's over-deleted triples as lost only if no later group
    derives the same kind of triple: the rules deriving ``nm:counts_for`` from the hierarchies
    and its closure are two strata, and a triple the first over-deletes may still follow by the
    closure. So consecutive strata are joined until no key derived in the group is derived
    after it.
    """
    layers = strata(rules)
    groups: list[list[Rule]] = []
    current: list[Rule] = []
    for index, stratum in enumerate(layers):
        current = current + stratum
        derived = {key for rule in current for key in rule.head_keys}
        later = {key for layer in layers[index + 1 :] for rule in layer for key in rule.head_keys}
        if not any(overlaps(a, b) for a in derived for b in later):
            groups.append(current)
            current = []
    return groups


def _undo(native: ox.Store, taken: set[ox.Quad], put: set[ox.Quad]) -> None:
    """Leave the inferred graph as before :func:`maintain`: what was added goes, what was removed returns."""
    for quad in put:
        native.remove(quad)
    native.extend(taken)


def _overdelete(
    store: OxigraphStore, rules: list[Rule], removed: Collection[ox.Triple], max_rounds: int
) -> set[ox.Quad] | None:
    """Return the inferred quads with a derivation that uses a removed (or over-deleted) triple."""
    native = store.native
    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    doomed: set[ox.Quad] = set()
    frontier: list[ox.Triple] = list(removed)
    for _ in range(max_rounds):
        if not frontier:
            return doomed
        keys = triple_keys(frontier)
        queries: list[str] = []
        for rule in rules:
            if rule.reads_any(keys):
                restricted = rule.delta_queries(frontier, parts=WORKERS) if rule.restrictable_for(keys) else None
                if restricted is None:
                    return None
                queries += restricted
        found: set[ox.Quad] = set()
        for answers in side_by_side(store, partial(construct_triples, native), queries):
            for triple in answers:
                quad = ox.Quad(triple.subject, triple.predicate, triple.object, inferred)
                if quad not in doomed and quad in native:
                    found.add(quad)
        doomed |= found
        frontier = [q.triple for q in found]
    raise RuntimeError(f"the over-deletion did not reach a fixpoint in {max_rounds} rounds")


def _rederive(store: OxigraphStore, rules: list[Rule], doomed: set[ox.Quad]) -> set[ox.Quad]:
    """Put back, and return, the over-deleted quads the rules still derive from what is left."""
    native = store.native
    inferred = ox.NamedNode(str(INFERRED_GRAPH))
    predicates = {q.predicate.value for q in doomed}
    queries: list[str] = []
    for rule in rules:
        if rule.head_predicates & predicates:
            bound = rule.head_queries(q.triple for q in doomed)
            queries += [rule.text] if bound is None else bound
    back: set[ox.Quad] = set()
    for answers in side_by_side(store, partial(construct_triples, native), queries):
        for triple in answers:
            quad = ox.Quad(triple.subject, triple.predicate, triple.object, inferred)
            if quad in doomed:
                back.add(quad)
    native.extend(back)
    return back


def _insert(
    store: OxigraphStore, rules: list[Rule], changed: list[ox.Triple], max_rounds: int
) -> tuple[MaterialisationReport, set[ox.Quad]] | None:
    """Derive, stratum by stratum and semi-naively, what ``changed`` triples give; add it to the inferred graph.

    Returns the report and the quads added, or None, with those quads removed again, when a
    rule reads a new triple where it cannot be restricted to it. A restrictable rule whose
    restriction is too large (or names a blank node) runs whole: it is monotonic in what
    changed, so its answers are still right.
    """
    per_rule = {rule.name: 0 for rule in rules}
    pending: dict[str, list[ox.Triple]] = {rule.name: list(changed) for rule in rules}
    added_quads: set[ox.Quad] = set()
    added = rounds = 0
    for stratum in strata(rules):
        for round_number in range(1, max_rounds + 1):
            ran = False
            for rule in stratum:
                waiting = pending[rule.name]
                keys = triple_keys(waiting)
                if not waiting or not rule.reads_any(keys):
                    continue
                if not rule.restrictable_for(keys):
                    for quad in added_quads:
                        store.native.remove(quad)
                    return None
                pending[rule.name] = []
                queries = rule.delta_queries(waiting, parts=WORKERS)
                if queries == []:
                    continue
                fresh = set().union(*fresh_answers(store, queries or [rule.text]))
                ran = True
                per_rule[rule.name] += len(fresh)
                added += len(fresh)
                added_quads |= fresh
                for others in pending.values():
                    others.extend(q.triple for q in fresh)
            if not ran:
                rounds = max(rounds, round_number)
                break
        else:
            raise RuntimeError(f"the insertion did not reach a fixpoint in {max_rounds} rounds")
    return MaterialisationReport(added, rounds, per_rule), added_quads
