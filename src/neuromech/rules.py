"""SPARQL CONSTRUCT rules: what each reads and derives, in which order they run, and their semi-naive re-runs.

A :class:`Rule` is one file of ``ontology/rules/``. Its parsed algebra (rdflib's parser) tells
which triples it reads and derives, keyed by :func:`triple_key`; :func:`strata` orders the
rules so that each runs to its fixpoint before the rules it feeds; and
:meth:`Rule.delta_queries` gives, after the first run, the queries that find only the answers
that use a triple derived since (semi-naive evaluation), so that a closure's later rounds join
the few new edges with the relation instead of the whole relation with itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, BNode, Literal, URIRef, Variable
from rdflib.paths import AlternativePath, MulPath, NegatedPath, SequencePath
from rdflib.paths import Path as PropertyPath
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

from neuromech.store import sparql_braces

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

    @cached_property
    def transitive_predicate(self) -> tuple[str, bool] | None:
        """Return ``(P, reflexive)`` when the rule says only that the predicate P is transitive.

        The rule must be ``CONSTRUCT { ?x P ?z } WHERE { ?x P ?y . ?y P ?z }`` or ``WHERE {
        ?x P/P+ ?z }``, optionally with ``FILTER(?x != ?z)``; ``reflexive`` is False with that
        filter (no ``?x P ?x`` is derived from a cycle). The in-store engine computes such a
        rule's answers as the closure of P in Python: Oxigraph took 9.5 s for one round of the
        ``falls_under`` self-join at 10^6 triples and 140 s for ``P/P+``.
        """
        template, where = _template_and_where(self.text)
        reflexive = True
        if where.name == "Filter" and _is_inequality(where["expr"], template):
            where, reflexive = where["p"], False
        if where.name != "BGP" or len(template) != 1:
            return None
        x, predicate, z = template[0]
        if not isinstance(predicate, URIRef):
            return None
        triples = [tuple(t) for t in where.get("triples") or []]
        y = next((t[2] for t in triples if t[0] == x), None)
        chained = [(x, predicate, y), (y, predicate, z)]
        as_path = [(x, SequencePath(predicate, MulPath(predicate, "+")), z)]
        if not (isinstance(x, Variable) and isinstance(z, Variable) and x != z):
            return None
        if triples == as_path or (isinstance(y, Variable) and y not in (x, z) and sorted(triples) == sorted(chained)):
            return str(predicate), reflexive
        return None

    @cached_property
    def chained_closure(self) -> ChainedClosure | None:
        """Return the rule's shape when it follows one predicate's edges up another's closure.

        The rule must be ``CONSTRUCT { ?x P ?z } WHERE { ?x P ?y . ?y Q+ ?z }`` with P and Q
        two IRIs, optionally with ``FILTER(isIRI(?z))``: the class-hierarchy rule (rdfs9,
        ``?x a ?class . ?class rdfs:subClassOf+ ?super``). The in-store engine computes its
        answers in Python from the closure of Q (:func:`neuromech.closure.reach`) and the P
        edges: at 10^6 triples Oxigraph took 0.55 s for the join and 1.0 s more to look each of
        its 63k answers up, twice, the second time after ``nm:NonNullFinding`` types arrived.

        Such a rule gains nothing from its own answers: an answer ``?x P ?z`` read as a P edge
        reaches only what Q+ reaches from ``?z``, which Q+ already reaches from ``?y`` (and the
        rule derives no Q edge, as P is not Q).
        """
        template, where = _template_and_where(self.text)
        iri_only, filtered = False, None
        if where.name == "Filter":
            expression = where["expr"]
            if not (isinstance(expression, CompValue) and expression.name == "Builtin_isIRI"):
                return None
            where, iri_only, filtered = where["p"], True, expression.get("arg")
        if where.name != "BGP" or len(template) != 1:
            return None
        x, predicate, z = template[0]
        triples = [tuple(t) for t in where.get("triples") or []]
        if len(triples) != 2 or not isinstance(predicate, URIRef) or (iri_only and filtered != z):
            return None
        step = next((t for t in triples if t[0] == x and t[1] == predicate), None)
        up = next((t for t in triples if isinstance(t[1], MulPath)), None)
        if step is None or up is None or len({x, step[2], z}) != 3:
            return None
        path = up[1]
        if not (
            all(isinstance(v, Variable) for v in (x, step[2], z))
            and up[0] == step[2]
            and up[2] == z
            and path.mod == "+"
            and isinstance(path.path, URIRef)
            and path.path != predicate
        ):
            return None
        return ChainedClosure(str(predicate), str(path.path), iri_only)

    def delta_queries(self, changed: Iterable[ox.Triple | ox.Quad], parts: int = 1) -> list[str] | None:
        """Return queries whose answers include every answer of the rule that uses a ``changed`` triple.

        Semi-naive evaluation: once the rule has run, an answer it has not given yet must match
        one of its triple patterns to a triple added since. For each pattern that can read a
        changed triple there is one query: the rule with a ``VALUES`` block, opening its WHERE
        group, that binds variables to the changed triples' terms, followed by patterns that
        join them to the rule's solutions when they are not the pattern's own (see
        :meth:`_restrictions`). Each answer of such a query is an answer of the rule (the block
        only restricts), and together they give every answer that uses a changed triple.

        Returns None when the rule must run whole: a changed triple can be read where the rule
        need not be monotonic in it or no block reaches it (:meth:`_restrictions`); more than
        :data:`DELTA_ROWS_LIMIT` changed triples match a pattern; or a changed triple holds a
        blank node (``VALUES`` cannot name one). Returns an empty list when no pattern can read
        a changed triple.

        ``parts``: a pattern's block of rows is split over up to that many queries (each of at
        least :data:`SPLIT_ROWS` rows), to run side by side. At 10^6 triples, after a hub's
        mappings were removed, one query maintaining the ``nm:falls_under`` closure took 0.44 s
        on one core while the other's took 0.07 s.
        """
        by_predicate: dict[str, list[ox.Triple | ox.Quad]] = {}
        for triple in changed:
            by_predicate.setdefault(triple.predicate.value, []).append(triple)
        keys = {key for p, triples in by_predicate.items() for key in _keys_of(p, triples)}
        queries: list[str] = []
        for restriction in self._restrictions(keys):
            if restriction is None:
                return None
            pattern, variables = restriction.pattern, restriction.variables
            matching = [t for p in _steps(pattern[1]) or () for t in by_predicate.get(p, [])]
            rows = _delta_rows(pattern, variables, matching)
            if rows is None:
                return None
            if not rows:
                continue
            ordered = sorted(rows)
            pieces = max(1, min(parts, len(ordered) // SPLIT_ROWS))
            for n in range(pieces):
                queries.append(_with_values(self.text, variables, ordered[n::pieces], restriction.patterns))
        return queries

    def restrictable_for(self, keys: Iterable[str]) -> bool:
        """Whether :meth:`delta_queries` can restrict the rule to changed triples with these ``keys``.

        True when every pattern that can read such a triple has a restriction
        (:meth:`_restrictions`): it sits where the rule is monotonic in it (not under one NOT
        EXISTS, OPTIONAL's right side, MINUS, GRAPH or an aggregate) and a ``VALUES`` block
        opening the WHERE group reaches it. Incremental maintenance (:mod:`neuromech.incremental`)
        relies on it: a rule restrictable for what changed gains or loses only answers that use
        a changed triple.
        """
        keys = set(keys)
        if not self.reads_any(keys):
            return True
        return all(restriction is not None for restriction in self._restrictions(keys))

    def _restrictions(self, keys: set[str]) -> Iterator[Restriction | None]:
        """Yield, for each pattern that can read a triple with ``keys``, how to restrict the rule to those.

        None when no ``VALUES`` block opening the WHERE group can restrict it.

        A pattern of the top-level conjunction binds its own variables; so does one in a branch
        of a UNION or in a sub-select without aggregates or a slice (both monotonic), but only
        the variables every solution of the UNION binds, or the sub-select projects, which the
        block at the top reaches. A pattern in a conjunction under FILTER (NOT) EXISTS filters
        only, under an even number of NOT EXISTS, is read monotonically (``FILTER NOT EXISTS {
        ... FILTER NOT EXISTS { ?f p ?x } }``: a new ``?f p ?x`` can only add answers), and an
        answer that uses a triple there has the triple's terms in the variables it shares with
        the solutions the outermost filter tests (EXISTS substitutes them), which are bound;
        with none shared, it is joined back to them through the groups around it
        (:func:`_join_back`).

        A path of one step (``p|q``, ``p?``) reads a triple as a pattern does. An answer of
        ``?x E+ ?y`` (or ``E*``; E one step) that uses the triple ``s p o`` has ``?x E* s`` and
        ``o E* ?y``: the restriction adds those two patterns with ``s`` and ``o`` bound.
        """
        where = _algebra(self.text)["p"]
        template = _algebra(self.text).get("template") or []
        exposed = {term for triple in template for term in triple if isinstance(term, Variable)} - _certain(where)
        for reading in _readings(where, _TOP):
            pattern, context, scope = reading.pattern, reading.context, reading.scope
            if not any(overlaps(key, read) for key in keys for read in _pattern_keys([pattern])):
                continue
            subject, path, value = pattern
            ends = [t for t in (subject, value) if isinstance(t, Variable)]
            variables = list(dict.fromkeys(v for v in ends if scope is None or v in scope))
            if context == _EVEN:
                variables = [v for v in variables if v in reading.outer]
            elif context != _TOP:
                variables = []
            if _steps(path) is None or exposed & set(variables):
                yield None
            elif isinstance(path, MulPath) and path.mod != "?":
                yield _path_restriction(subject, path, value, set(variables), context == _TOP)
            elif context == _EVEN and not variables:
                yield _join_back(reading, exposed)
            else:
                yield Restriction(pattern, variables) if variables else None

    def head_queries(self, derived: Iterable[ox.Triple | ox.Quad]) -> list[str] | None:
        """Return queries whose answers include every ``derived`` triple the rule still derives.

        For each template triple with the predicate of some of ``derived``: the rule with a
        ``VALUES`` block binding the template triple's variables to those triples' terms (so a
        finding's ``nm:implicates`` edge is checked with the condition and the entity bound,
        instead of re-deriving everything about the condition); when many of those triples share
        a term (:data:`ROWS_PER_SHARED_VALUE`), that term alone. Returns None when the rule must
        run whole: a variable predicate in the template, a bound variable the template may leave
        unbound, a blank node, or more than :data:`DELTA_ROWS_LIMIT` rows.
        """
        by_predicate: dict[str, list[ox.Triple | ox.Quad]] = {}
        for triple in derived:
            by_predicate.setdefault(triple.predicate.value, []).append(triple)
        algebra = _algebra(self.text)
        template = algebra.get("template") or []
        exposed = {term for triple in template for term in triple if isinstance(term, Variable)} - _certain(
            algebra["p"]
        )
        queries: list[str] = []
        for subject, predicate, value in template:
            if not isinstance(predicate, URIRef):
                return None
            matching = by_predicate.get(str(predicate), [])
            if not matching:
                continue
            variables = list(dict.fromkeys(t for t in (subject, value) if isinstance(t, Variable)))
            if exposed & set(variables):
                return None
            rows = _delta_rows((subject, predicate, value), variables, matching)
            if rows is None:
                return None
            if rows:
                variables, rows = _project_shared(variables, rows)
                queries.append(_with_values(self.text, variables, rows) if variables else self.text)
        return queries


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
    if predicate == _RDF_TYPE and isinstance(triple.object, ox.NamedNode):
        return f"{predicate} {triple.object.value}"
    return predicate


def triple_keys(triples: Iterable[ox.Triple | ox.Quad]) -> set[str]:
    """Return ``{triple_key(t) for t in triples}``, formatting each distinct predicate and class once.

    A rule's first run at 10^6 triples gives ~460k answers: one string each took 0.75 s.
    """
    predicates: set[ox.NamedNode] = set()
    classes: set[object] = set()
    for triple in triples:
        if triple.predicate == _RDF_TYPE_NODE:
            classes.add(triple.object)
        else:
            predicates.add(triple.predicate)
    keys = {p.value for p in predicates}
    keys.update(f"{_RDF_TYPE} {c.value}" if isinstance(c, ox.NamedNode) else _RDF_TYPE for c in classes)
    return keys


_RDF_TYPE = str(RDF.type)
_RDF_TYPE_NODE = ox.NamedNode(_RDF_TYPE)


def query_keys(query: str) -> frozenset[str]:
    """Return the keys (:func:`triple_key`) of what a SPARQL query's patterns read, types told apart by class."""
    return _pattern_keys(_body_triples(_algebra(query)["p"]))


def predicates_read(query: str) -> frozenset[str]:
    """Return the predicates a SPARQL query's patterns read (:data:`ANY_PREDICATE`: a variable one, a negated set).

    Raises:
        pyparsing.ParseException: when rdflib cannot parse the query.
    """
    return frozenset(_predicate_keys(_body_predicates(_algebra(query)["p"])))


@lru_cache(maxsize=256)
def _algebra(text: str) -> CompValue:
    """Parse a rule once (rdflib's SPARQL parser takes ~50 ms a rule), with its EXISTS patterns in the tree."""
    algebra = prepareQuery(text).algebra
    _expose_exists_patterns(algebra)
    return algebra


def _expose_exists_patterns(node: object) -> None:
    """Put each translated (NOT) EXISTS pattern where a walk of the tree finds it.

    rdflib translates the pattern of ``FILTER (NOT) EXISTS`` into an *attribute* of the
    expression node (``node.graph = ...``), leaving under the key ``graph`` the parse tree it
    took the inner FILTERs out of: a walk of the items missed a FILTER nested in a NOT EXISTS
    (the mechanism-module rule's ``?f nm:has_partner_entity ?partner``).
    """
    if isinstance(node, CompValue):
        translated = vars(node).get("graph")
        if node.name in {"Builtin_EXISTS", "Builtin_NOTEXISTS"} and translated is not None:
            node["graph"] = translated
        for value in node.values():
            _expose_exists_patterns(value)
    elif isinstance(node, list | tuple):
        for value in node:
            _expose_exists_patterns(value)


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
    if isinstance(path, NegatedPath):  # !(p|q) reads every predicate but those
        yield ANY_PREDICATE
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


def load_rules(rules_dir: Path) -> list[Rule]:
    """Read the rules of ``rules_dir`` in file-name order."""
    return [Rule(p.stem, p.read_text(encoding="utf-8")) for p in sorted(rules_dir.glob("*.rq"))]


def _template_and_where(text: str) -> tuple[list[tuple[object, object, object]], CompValue]:
    """Return a CONSTRUCT rule's template triples and its WHERE algebra (below the projection)."""
    algebra = _algebra(text)
    where = algebra["p"]
    return algebra.get("template") or [], where["p"] if where.name == "Project" else where


def _is_inequality(expression: object, template: list[tuple[object, object, object]]) -> bool:
    """Whether ``expression`` is ``?x != ?z`` (either way round) for the template ``?x P ?z``."""
    if not isinstance(expression, CompValue) or expression.name != "RelationalExpression" or len(template) != 1:
        return False
    ends = {template[0][0], template[0][2]}
    return expression.get("op") == "!=" and {expression.get("expr"), expression.get("other")} == ends


# -- semi-naive re-runs (Rule.delta_queries) ---------------------------------------------------

# beyond this many bound rows a restricted run costs what the whole rule costs: at 10^6 triples
# the class-hierarchy rule took 1.0 s restricted to 148k new types and 0.8 s whole
DELTA_ROWS_LIMIT = 20_000
#: The fewest rows a split VALUES block gets (:meth:`Rule.delta_queries` with ``parts``).
SPLIT_ROWS = 500


def _keys_of(predicate: str, triples: list[ox.Triple | ox.Quad]) -> set[str]:
    """Return the keys (:func:`triple_key`) of ``triples``, all with the given predicate."""
    return triple_keys(triples) if predicate == _RDF_TYPE else {predicate}


# algebra nodes whose triple patterns a VALUES block opening the WHERE group can restrict, and
# the children that keep that property; everything else (OPTIONAL's right side, MINUS, GRAPH,
# aggregates, the expressions of FILTER and BIND) makes its patterns unbindable. A UNION's
# branches and a plain sub-select's pattern keep it for some variables (see _readings).
_TRANSPARENT = {
    "BGP": (),
    "Join": ("p1", "p2"),
    "Filter": ("p",),
    "Extend": ("p",),
    "LeftJoin": ("p1",),
    "Union": ("p1", "p2"),
    "ToMultiSet": ("p",),
}
# what makes a sub-select's answers not grow with its patterns' (or unreachable by a VALUES join)
_NOT_PLAIN = {"AggregateJoin", "Group", "Slice", "Minus", "Graph"}


# where a triple pattern sits, for restricting a rule to changed triples (Rule._restrictions)
_TOP = "top-level conjunction"  # a VALUES block opening the WHERE group binds it
_EVEN = "under an even number of NOT EXISTS"  # through conjunctions and (NOT) EXISTS filters only
_ODD = "under an odd number of NOT EXISTS"
# inside a (NOT) EXISTS pattern, the nodes that keep a conjunction
_CONJUNCTION = {"BGP": (), "Join": ("p1", "p2"), "Filter": ("p",)}

Triple = tuple[object, object, object]


@dataclass(frozen=True)
class _Reading:
    """A triple pattern of a rule and where it sits (see :func:`_readings`)."""

    pattern: Triple
    context: str | None
    outer: frozenset[Variable]
    scope: frozenset[Variable] | None
    chain: tuple[Triple, ...]  # under (NOT) EXISTS: the patterns of the groups around it, outermost first


@dataclass(frozen=True)
class ChainedClosure:
    """A rule ``?x P ?y . ?y Q+ ?z => ?x P ?z`` (see :attr:`Rule.chained_closure`).

    ``iri_only``: the rule keeps only answers whose ``?z`` is an IRI (``FILTER(isIRI(?z))``).
    """

    predicate: str
    up: str
    iri_only: bool


@dataclass(frozen=True)
class Restriction:
    """How a rule is restricted to changed triples that match ``pattern``.

    A ``VALUES`` block binds ``variables`` to the terms the changed triples give them in
    ``pattern``; ``patterns`` (SPARQL), if any, join those to the rule's solutions: the
    pattern's own variables need none; a ``+``/``*`` path binds its changed edge (``?x E* s .
    o E* ?y``); a pattern under two negations is joined back through the groups around it.
    """

    pattern: Triple
    variables: list[Variable]
    patterns: str = ""


def _readings(
    node: object,
    context: str | None,
    top: bool = True,
    outer: frozenset[Variable] = frozenset(),
    scope: frozenset[Variable] | None = None,
    *,
    chain: tuple[Triple, ...] = (),
) -> Iterator[_Reading]:
    """Yield every triple pattern under ``node``, where it sits (``_TOP``, ``_EVEN``, ``_ODD``, None), its outer, scope.

    ``top``: ``node`` is, or wraps (DISTINCT, REDUCED), the query's own projection.
    ``outer``, under (NOT) EXISTS filters: the variables every solution the outermost filter
    tests binds, which EXISTS substitutes into the patterns. ``scope``: the variables of the
    pattern that a VALUES block opening the WHERE group reaches (None: all of them); under a
    UNION those every solution of the UNION binds, in a sub-select those it projects.
    ``chain``: the triple patterns of the (NOT) EXISTS groups around the pattern, its own included.
    """
    if isinstance(node, CompValue):
        if node.name == "BGP":
            for triple in node.get("triples") or []:
                yield _Reading((triple[0], triple[1], triple[2]), context, outer, scope, chain)
            return
        keep, scope = _kept(node, context, top, scope)
        for key, value in node.items():
            exists = node.name == "Filter" and key == "expr" and isinstance(value, CompValue)
            if exists and context and value.name in {"Builtin_EXISTS", "Builtin_NOTEXISTS"}:
                negated = value.name == "Builtin_NOTEXISTS"
                inner = _ODD if (context == _ODD) != negated else _EVEN
                tested = _certain(node["p"]) if context == _TOP else outer
                group = value.get("graph")
                yield from _readings(group, inner, False, tested, scope, chain=(*chain, *_group_triples(group)))
            elif key in keep:
                wraps = top and node.name in {"Distinct", "Reduced"}
                yield from _readings(value, context, wraps, outer, scope, chain=chain)
            else:
                yield from _readings(value, None, False, outer, scope, chain=chain)
    elif isinstance(node, list | tuple):
        for value in node:
            if isinstance(value, CompValue | list):
                yield from _readings(value, None, False)


def _group_triples(node: object) -> Iterator[Triple]:
    """Yield the triple patterns of a group's conjunction (not those of the filters in it)."""
    if isinstance(node, CompValue):
        if node.name == "BGP":
            for triple in node.get("triples") or []:
                yield triple[0], triple[1], triple[2]
        for key in _CONJUNCTION.get(node.name, ()):
            yield from _group_triples(node[key])


def _kept(
    node: CompValue, context: str | None, top: bool, scope: frozenset[Variable] | None
) -> tuple[tuple[str, ...], frozenset[Variable] | None]:
    """Return the children of ``node`` that keep ``context``, and the scope under it (see :func:`_readings`)."""
    if context != _TOP:
        return (_CONJUNCTION.get(node.name, ()) if context else ()), scope
    if node.name in {"Distinct", "Reduced"} or (node.name == "Project" and top):  # the query's own projection
        return ("p",), scope
    if node.name == "Project":  # a sub-select: its projected variables are reached, if it is plain
        plain = not _names(node) & _NOT_PLAIN
        return (("p",) if plain else ()), _narrowed(scope, frozenset(node.get("PV") or []))
    if node.name == "Union":
        return _TRANSPARENT["Union"], _narrowed(scope, _certain(node))
    return _TRANSPARENT.get(node.name, ()), scope


def _narrowed(scope: frozenset[Variable] | None, reach: frozenset[Variable]) -> frozenset[Variable]:
    return reach if scope is None else scope & reach


def _names(node: object) -> set[str]:
    """Return the names of the algebra nodes under ``node`` (itself included)."""
    if isinstance(node, CompValue):
        return {node.name}.union(*(_names(value) for value in node.values()))
    if isinstance(node, list | tuple):
        return set().union(*(_names(value) for value in node))
    return set()


def _steps(path: object) -> frozenset[str] | None:
    """Return the predicates one step of ``path`` can take: an IRI, ``p|q``, or such a step under ``?``, ``*``, ``+``.

    None for anything else (a sequence, an inverse, a negated set, a variable predicate).
    """
    if isinstance(path, URIRef):
        return frozenset([str(path)])
    if isinstance(path, AlternativePath) and all(isinstance(a, URIRef) for a in path.args):
        return frozenset(str(a) for a in path.args)
    if isinstance(path, MulPath) and not isinstance(path.path, MulPath):
        return _steps(path.path)
    return None


def _join_back(reading: _Reading, exposed: set[Variable]) -> Restriction | None:
    """Restrict a rule to the solutions whose filter a pattern read under two negations can change.

    The pattern shares no variable with the solutions the outermost filter tests, as in
    ``FILTER NOT EXISTS { ?module anchor ?a . FILTER NOT EXISTS { ?f partner ?p . FILTER EXISTS
    { ?p counts_for ?a } } }``. A solution whose filter a changed triple there decides joins
    the patterns of the groups around it (``?module anchor ?a . ?f partner ?p . ?p counts_for
    ?a``) with the triple's terms in the pattern: those patterns, their other variables
    renamed apart, restrict the rule (a superset: the filters between them are left out).
    None when they share no reachable variable with the tested solutions.
    """
    scope = reading.scope
    kept = {v for v in reading.outer if scope is None or v in scope} - exposed

    def renamed(term: object) -> object:
        if isinstance(term, Variable) and term not in kept:
            return Variable(f"nm_changed_{term}")
        return term

    chain = [tuple(renamed(t) for t in triple) for triple in reading.chain]
    if (
        any(isinstance(t, BNode) for triple in chain for t in triple)
        or not {t for triple in chain for t in triple if isinstance(t, Variable)} & kept
    ):
        return None
    pattern = tuple(renamed(t) for t in reading.pattern)
    variables = list(dict.fromkeys(t for t in (pattern[0], pattern[2]) if isinstance(t, Variable)))
    if not variables:
        return None
    text = "\n  ".join(" ".join(_term(t) for t in triple) + " ." for triple in chain)
    return Restriction((pattern[0], pattern[1], pattern[2]), variables, text)


# the ends of a changed edge, bound by a path restriction's VALUES block
_EDGE_START = Variable("nm_changed_edge_start")
_EDGE_END = Variable("nm_changed_edge_end")


def _path_restriction(
    subject: object, path: MulPath, value: object, bindable: set[Variable], top: bool
) -> Restriction | None:
    """Return the restriction of a ``+``/``*`` path pattern to a changed edge, or None when no end can be bound.

    An end is bound when it is a constant, or a variable the block reaches (``bindable``) of a
    pattern in the top-level conjunction.
    """
    if not top:
        return None
    star = MulPath(path.path, "*").n3()
    parts = []
    if not isinstance(subject, Variable) or subject in bindable:
        parts.append(f"{_term(subject)} {star} ?{_EDGE_START} .")
    if not isinstance(value, Variable) or value in bindable:
        parts.append(f"?{_EDGE_END} {star} {_term(value)} .")
    edge = (_EDGE_START, path, _EDGE_END)
    return Restriction(edge, [_EDGE_START, _EDGE_END], "\n  ".join(parts)) if parts else None


def _term(term: object) -> str:
    if isinstance(term, Variable):
        return f"?{term}"
    return term.n3() if isinstance(term, URIRef | Literal | PropertyPath) else str(term)


# the children whose solutions every solution of a node extends (Union: either child's)
_EXTENDS = {
    "Join": ("p1", "p2"),
    "LeftJoin": ("p1",),
    "Minus": ("p1",),
    **dict.fromkeys(("Filter", "Extend", "ToMultiSet", "Distinct", "Reduced", "OrderBy", "Slice", "Graph"), ("p",)),
    "Project": ("p",),
}


def _certain(node: object) -> frozenset[Variable]:
    """Return the variables every solution of the algebra ``node`` binds (a safe under-estimate)."""
    if not isinstance(node, CompValue):
        return frozenset()
    if node.name == "BGP":
        return frozenset(t for triple in node.get("triples") or [] for t in triple if isinstance(t, Variable))
    if node.name == "Union":
        return _certain(node["p1"]) & _certain(node["p2"])
    found = frozenset[Variable]().union(*(_certain(node[key]) for key in _EXTENDS.get(node.name, ())))
    return found & frozenset(node.get("PV") or []) if node.name == "Project" else found


def _delta_rows(
    pattern: tuple[object, object, object], variables: list[Variable], changed: list[ox.Triple | ox.Quad]
) -> set[tuple[str, ...]] | None:
    """Return the values ``changed`` triples that match ``pattern`` give its ``variables``.

    None when a value is a blank node or there are more than :data:`DELTA_ROWS_LIMIT` rows
    (the rule runs whole then; stopping there saved 1.2 s of the build at 10^6 triples, where
    the class-hierarchy rule's second round met 148k new types). ``changed`` holds triples
    whose predicate the pattern's predicate (or one step of its path) is: the callers select
    them by predicate.
    """
    subject, _, value = pattern
    if variables and isinstance(subject, Variable) and isinstance(value, Variable) and subject != value:
        # the usual case, ``?s <p> ?o``: every changed triple matches; columns built by C loops
        # (a Python loop per triple took 0.25 s of a rebuild at 10^6 triples)
        columns = [[t.subject for t in changed] if v == subject else [t.object for t in changed] for v in variables]
        if {type(term) for column in columns for term in column} & {ox.BlankNode, ox.Triple}:
            return None
        rows = set(zip(*(map(str, column) for column in columns), strict=True))
        return None if len(rows) > DELTA_ROWS_LIMIT else rows
    rows = set()
    for triple in changed:
        bound: dict[Variable, ox.NamedNode | ox.BlankNode | ox.Literal] = {}
        matches = True
        for term, actual in ((subject, triple.subject), (value, triple.object)):
            if isinstance(term, Variable):
                matches &= bound.setdefault(term, actual) == actual  # type: ignore[arg-type]
            elif isinstance(term, URIRef):
                matches &= isinstance(actual, ox.NamedNode) and actual.value == str(term)
            # a blank node or literal of the pattern matches anything here: more rows, same answers
        if not matches:
            continue
        if any(isinstance(bound[v], ox.BlankNode | ox.Triple) for v in variables):
            return None
        rows.add(tuple(str(bound[v]) for v in variables))
        if len(rows) > DELTA_ROWS_LIMIT:
            return None
    return rows


# a head-bound query with at least this many rows for each value of one of its variables binds
# that variable alone: Oxigraph hash-joins a VALUES block of many rows with the rule evaluated
# whole, while one bound term is looked up. At 10^6 triples rule 09 (``?condition
# nm:implicates_within ?whole``) bound by 120 (condition, whole) rows of one condition took
# 0.2-1.1 s, bound by the condition alone 0.02-0.13 s; rule 05 bound by its condition alone
# took 0.2 s against 6 ms for 120 rows, a cost no larger than running it whole.
ROWS_PER_SHARED_VALUE = 16


def _project_shared(
    variables: list[Variable], rows: set[tuple[str, ...]]
) -> tuple[list[Variable], set[tuple[str, ...]]]:
    """Return ``variables`` and ``rows`` bound by one variable alone when many rows share its values.

    Binding fewer variables answers a superset, which is what a head-bound query promises.
    """
    if len(variables) < 2:  # a projection needs a variable to drop
        return variables, rows
    distinct = [{row[i] for row in rows} for i in range(len(variables))]
    index = min(range(len(variables)), key=lambda i: len(distinct[i]))
    if len(rows) < ROWS_PER_SHARED_VALUE * len(distinct[index]):
        return variables, rows
    return [variables[index]], {(value,) for value in distinct[index]}


def _with_values(text: str, variables: list[Variable], rows: Iterable[tuple[str, ...]], patterns: str = "") -> str:
    """Return the rule ``text`` with ``VALUES (?v ...) { (...) ... }`` (then ``patterns``) opening its WHERE group."""
    heading = " ".join(f"?{v}" for v in variables)
    body = " ".join(f"({' '.join(row)})" for row in sorted(rows))
    inside = where_group_start(text)
    return f"{text[:inside]}\n  VALUES ({heading}) {{ {body} }}\n  {patterns}\n{text[inside:]}"


def where_group_start(text: str) -> int:
    """Return the index just inside the WHERE group of a CONSTRUCT rule: its last top-level group.

    Braces in comments, strings and IRIs do not count (a comment may say "WHERE").

    Raises:
        ValueError: the text has no group.
    """
    depth, start = 0, -1
    for index, char in sparql_braces(text):
        if char == "{":
            if depth == 0:
                start = index + 1
            depth += 1
        else:
            depth -= 1
    if start < 0:
        raise ValueError("the rule has no WHERE group")
    return start
