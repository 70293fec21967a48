"""Rules: transitive rules computed as closures, semi-naive re-runs restricted to what changed.

The in-store engine answers a rule that only says a predicate is transitive with a closure in
Python, and re-runs other rules with a VALUES block binding one pattern to the triples derived
since they last ran. Each shortcut must give exactly what running the rule as written gives.
"""

from __future__ import annotations

import random

import pyoxigraph as ox
import pytest
from rdflib import RDF, BNode, Graph

from neuromech.closure import reach, successors
from neuromech.loading import load_project, load_project_store
from neuromech.namespaces import INFERRED_GRAPH
from neuromech.paths import ProjectPaths
from neuromech.reasoning import materialise, materialise_in_store
from neuromech.rules import (
    ANY_PREDICATE,
    DELTA_ROWS_LIMIT,
    ROWS_PER_SHARED_VALUE,
    SPLIT_ROWS,
    ChainedClosure,
    Rule,
    load_rules,
    predicates_read,
    triple_key,
    triple_keys,
)
from neuromech.store import OxigraphStore

NM = "https://w3id.org/neuromech/"
ENTITY = NM + "entity/"
FALLS_UNDER = ox.NamedNode(NM + "falls_under")
EXACT = ox.NamedNode("http://www.w3.org/2004/02/skos/core#exactMatch")
CHAIN = f"""PREFIX nm: <{NM}>
CONSTRUCT {{ ?x nm:falls_under ?z }} WHERE {{ ?x nm:falls_under ?y . ?y nm:falls_under ?z . FILTER(?x != ?z) }}"""


def _brute_reach(pairs: list[tuple[int, int]]) -> dict[int, set[int]]:
    graph = successors(pairs)
    found: dict[int, set[int]] = {}
    for start in graph:
        seen: set[int] = set()
        todo = list(graph[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        found[start] = seen
    return found


def test_closure_reaches_what_a_search_from_each_node_reaches() -> None:
    rng = random.Random(7)
    for _ in range(300):  # small random graphs: cycles, self-loops, shared descendants
        size = rng.randint(1, 12)
        pairs = [(rng.randrange(size), rng.randrange(size)) for _ in range(rng.randint(0, 25))]
        assert reach(successors(pairs)) == _brute_reach(pairs)


def test_a_node_reaches_itself_only_on_a_cycle() -> None:
    assert reach(successors([(1, 2), (2, 3)])) == {1: {2, 3}, 2: {3}}
    assert reach(successors([(1, 2), (2, 1), (2, 3)])) == {1: {1, 2, 3}, 2: {1, 2, 3}}
    assert reach(successors([(1, 1)])) == {1: {1}}


def test_transitive_rules_are_recognised(repo: ProjectPaths) -> None:
    rules = {rule.name: rule for rule in load_rules(repo.rules_dir)}
    assert rules["02-part-of-closure"].transitive_predicate == ("http://purl.obolibrary.org/obo/BFO_0000050", False)
    assert rules["13-falls-under-closure"].transitive_predicate == (NM + "falls_under", False)
    assert rules["07-counts-for-closure"].transitive_predicate == (NM + "counts_for", True)
    assert rules["07-counts-for"].transitive_predicate is None
    assert rules["14-falls-under-matched-entity"].transitive_predicate is None
    # a filter other than ?x != ?z changes what the rule derives
    assert Rule("x", CHAIN.replace("?x != ?z", "?x != ?y")).transitive_predicate is None
    # a chain of two different predicates is not transitivity
    assert Rule("x", CHAIN.replace("?y nm:falls_under ?z", "?y nm:counts_for ?z")).transitive_predicate is None


RDFS9 = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
CONSTRUCT { ?x a ?super } WHERE { ?x a ?class . ?class rdfs:subClassOf+ ?super . FILTER(isIRI(?super)) }"""


def test_chains_up_a_closure_are_recognised(repo: ProjectPaths) -> None:
    rules = {rule.name: rule for rule in load_rules(repo.rules_dir)}
    shape = rules["01-class-hierarchy"].chained_closure
    assert shape == ChainedClosure(str(RDF.type), "http://www.w3.org/2000/01/rdf-schema#subClassOf", True)
    assert Rule("x", RDFS9.replace(" . FILTER(isIRI(?super))", "")).chained_closure == ChainedClosure(
        str(RDF.type), "http://www.w3.org/2000/01/rdf-schema#subClassOf", False
    )
    assert all(rules[name].chained_closure is None for name in rules if name != "01-class-hierarchy")
    for changed in (
        RDFS9.replace("isIRI(?super)", "isIRI(?class)"),  # another filter keeps other answers
        RDFS9.replace("subClassOf+", "subClassOf*"),  # zero steps: ?x a ?class itself
        RDFS9.replace("subClassOf+", "subClassOf/rdfs:subClassOf"),  # two steps exactly
        RDFS9.replace("?class rdfs:subClassOf+ ?super", "?super rdfs:subClassOf+ ?class"),  # downwards
        RDFS9.replace("?x a ?super", "?x rdfs:seeAlso ?super"),  # the head is not the edge followed
        RDFS9.replace(" . FILTER", " . ?x a ?k . FILTER"),  # a third pattern
        RDFS9.replace("rdfs:subClassOf+", "a+"),  # up the predicate itself: it feeds itself
    ):
        assert Rule("x", changed).chained_closure is None, changed


def _random_hierarchy(rng: random.Random) -> OxigraphStore:
    """Typed nodes over a small class graph with cycles, self-loops and blank-node classes."""
    held = OxigraphStore()
    store = held.native
    classes: list[ox.NamedNode | ox.BlankNode] = [ox.NamedNode(f"http://x/C{i}") for i in range(8)]
    classes += [ox.BlankNode(f"b{i}") for i in range(3)]
    sub = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
    kind = ox.NamedNode(str(RDF.type))
    for _ in range(rng.randint(0, 14)):
        store.add(ox.Quad(rng.choice(classes), sub, rng.choice(classes)))
    for i in range(rng.randint(0, 10)):
        store.add(ox.Quad(ox.NamedNode(f"http://x/n{i % 6}"), kind, rng.choice(classes)))
    return held


def test_a_chain_up_a_closure_derives_what_the_rule_as_written_derives() -> None:
    rng = random.Random(3)
    for _ in range(150):
        store = _random_hierarchy(rng)
        native = store.native
        expected = {
            t
            for t in _answers(native, [RDFS9])
            if next(native.quads_for_pattern(t.subject, t.predicate, t.object), None) is None
        }
        report = materialise_in_store(store, [Rule("01-class-hierarchy", RDFS9)])
        assert {
            q.triple for q in native.quads_for_pattern(None, None, None, ox.NamedNode(str(INFERRED_GRAPH)))
        } == expected
        assert report.added == len(expected)
        assert not _answers(native, [RDFS9]) - {q.triple for q in native}  # a fixpoint


def test_a_chain_up_a_closure_reruns_only_on_the_new_edges_another_rule_derives() -> None:
    finding = "https://w3id.org/neuromech/Finding"
    special = "http://x/SpecialFinding"
    other = Rule("special", f"CONSTRUCT {{ ?f a <{special}> }} WHERE {{ ?f a <{finding}> ; <http://x/p> ?v }}")
    store = OxigraphStore()
    native = store.native
    sub = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")
    native.add(ox.Quad(ox.NamedNode(special), sub, ox.NamedNode("http://x/Evidence")))
    native.add(ox.Quad(ox.NamedNode("http://x/Evidence"), sub, ox.NamedNode("http://x/Entity")))
    native.add(ox.Quad(ox.NamedNode("http://x/f1"), ox.NamedNode(str(RDF.type)), ox.NamedNode(finding)))
    native.add(ox.Quad(ox.NamedNode("http://x/f1"), ox.NamedNode("http://x/p"), ox.Literal("1")))
    report = materialise_in_store(store, [Rule("01-class-hierarchy", RDFS9), other])
    types = {q.object.value for q in native.quads_for_pattern(ox.NamedNode("http://x/f1"), None, None, None)}
    assert {special, "http://x/Evidence", "http://x/Entity"} <= types
    assert report.per_rule == {"01-class-hierarchy": 2, "special": 1}


def _quad(subject: str, predicate: ox.NamedNode, value: str) -> ox.Quad:
    return ox.Quad(ox.NamedNode(subject), predicate, ox.NamedNode(value))


def _answers(store: ox.Store, queries: list[str]) -> set[ox.Triple]:
    return {t for q in queries for t in store.query(q, use_default_graph_as_union=True)}  # type: ignore[union-attr]


@pytest.fixture
def matched(repo: ProjectPaths) -> tuple[Rule, ox.Store]:
    """Rule 14 and a store where a and b fall under external classes that entities c, d match."""
    rule = next(r for r in load_rules(repo.rules_dir) if r.name == "14-falls-under-matched-entity")
    store = ox.Store()
    store.extend(
        [
            _quad(ENTITY + "a", FALLS_UNDER, "http://example.org/X"),
            _quad(ENTITY + "b", FALLS_UNDER, "http://example.org/Y"),
            _quad(ENTITY + "c", EXACT, "http://example.org/X"),
            _quad(ENTITY + "d", EXACT, "http://example.org/Y"),
        ]
    )
    return rule, store


def test_a_rerun_finds_only_answers_that_use_a_changed_triple(matched: tuple[Rule, ox.Store]) -> None:
    rule, store = matched
    changed = [_quad(ENTITY + "b", FALLS_UNDER, "http://example.org/Y")]
    queries = rule.delta_queries(changed)
    assert queries is not None
    assert len(queries) == 1
    assert "VALUES (?x ?class)" in queries[0]
    whole = _answers(store, [rule.text])
    assert len(whole) == 2
    assert _answers(store, queries) == {ox.Triple(ox.NamedNode(ENTITY + "b"), FALLS_UNDER, ox.NamedNode(ENTITY + "d"))}


def test_a_rerun_is_skipped_or_whole_when_it_cannot_be_restricted(matched: tuple[Rule, ox.Store]) -> None:
    rule, _ = matched
    # nothing the rule reads changed: no query
    assert rule.delta_queries([_quad(ENTITY + "a", ox.NamedNode(NM + "counts_for"), ENTITY + "b")]) == []
    # a changed match is read by a one-step path inside a plain sub-select: the projected
    # variables are bound
    (query,) = rule.delta_queries([_quad(ENTITY + "a", EXACT, "http://example.org/Z")]) or [""]
    assert f"VALUES (?z ?class) {{ (<{ENTITY}a> <http://example.org/Z>) }}" in query
    # a blank node cannot be written in VALUES
    assert rule.delta_queries([ox.Quad(ox.BlankNode(), FALLS_UNDER, ox.NamedNode(ENTITY + "z"))]) is None
    # too many changed triples: the whole rule costs no more
    many = [_quad(f"{ENTITY}n{i}", FALLS_UNDER, "http://example.org/X") for i in range(DELTA_ROWS_LIMIT + 1)]
    assert rule.delta_queries(many) is None
    # a changed triple read under UNION binds only what every branch binds
    union = Rule("u", CHAIN.replace("?x nm:falls_under ?y .", "{ ?x nm:falls_under ?y } UNION { ?x nm:counts_for ?w }"))
    queries = union.delta_queries([_quad(ENTITY + "a", FALLS_UNDER, ENTITY + "b")]) or []
    assert any(f"VALUES (?x) {{ (<{ENTITY}a>) }}" in q for q in queries)  # the pattern in the branch
    # ... and nothing when the branches share no variable of the pattern
    apart = Rule("u", CHAIN.replace("?x nm:falls_under ?y .", "{ ?x nm:falls_under ?y } UNION { ?w nm:counts_for ?v }"))
    assert apart.delta_queries([_quad(ENTITY + "a", FALLS_UNDER, ENTITY + "b")]) is None
    # an aggregate sub-select is not monotonic in its patterns
    counted = Rule(
        "c",
        f"PREFIX nm: <{NM}> CONSTRUCT {{ ?x nm:counts_for ?x }} "
        "WHERE { { SELECT ?x (COUNT(?y) AS ?n) WHERE { ?x nm:falls_under ?y } GROUP BY ?x } FILTER(?n > 2) }",
    )
    assert counted.delta_queries([_quad(ENTITY + "a", FALLS_UNDER, ENTITY + "b")]) is None
    # a template variable left unbound by an OPTIONAL would take the VALUES row's value
    optional = Rule(
        "o",
        f"PREFIX nm: <{NM}> CONSTRUCT {{ ?x nm:counts_for ?y }} "
        "WHERE { ?x a nm:Condition OPTIONAL { ?x nm:falls_under ?y } }",
    )
    assert optional.delta_queries([_quad(ENTITY + "a", FALLS_UNDER, ENTITY + "b")]) is None


def test_a_long_block_of_changed_triples_is_split_over_queries_that_answer_alike() -> None:
    # a chain of entities, each falling under the next: the transitivity rule restricted to its
    # changed hops gives the same answers in one query per pattern or split into parts
    rule = Rule("t", CHAIN)
    n = 3 * SPLIT_ROWS
    hops = [_quad(f"{ENTITY}e{i}", FALLS_UNDER, f"{ENTITY}e{i + 1}") for i in range(n)]
    store = ox.Store()
    store.extend(hops)
    changed = hops[::2]  # 1.5 x SPLIT_ROWS rows a pattern
    whole = rule.delta_queries(changed)
    split = rule.delta_queries(changed, parts=4)
    assert whole is not None
    assert split is not None
    assert len(whole) == 2  # one a pattern
    assert len(split) == 2  # a block of fewer than 2 x SPLIT_ROWS rows stays whole
    split = rule.delta_queries(hops, parts=4)
    assert split is not None
    assert len(split) == 6  # 3 x SPLIT_ROWS rows: three parts a pattern
    whole = rule.delta_queries(hops)
    assert whole is not None
    expected = _answers(store, whole)
    assert len(expected) == n - 1
    assert _answers(store, split) == expected
    # a pattern with a fixed term takes the rows of the triples that match it, whatever the split
    anchored = Rule(
        "a", f"PREFIX nm: <{NM}> CONSTRUCT {{ ?y nm:counts_for ?y }} WHERE {{ ?y nm:falls_under <{ENTITY}e5> }}"
    )
    changed = [_quad(f"{ENTITY}e4", FALLS_UNDER, f"{ENTITY}e5"), _quad(f"{ENTITY}e3", FALLS_UNDER, f"{ENTITY}e6")]
    (query,) = anchored.delta_queries(changed, parts=4) or [""]
    assert f"VALUES (?y) {{ (<{ENTITY}e4>) }}" in query


def _no_blank(graph: Graph) -> set[tuple[object, object, object]]:
    return {t for t in graph if not any(isinstance(x, BNode) for x in t)}


@pytest.mark.slow
def test_in_store_rules_derive_what_the_rules_as_written_derive_on_the_real_data(repo: ProjectPaths) -> None:
    """Closures and restricted re-runs against the rules run as written (generic CONSTRUCT loop)."""
    rules = load_rules(repo.rules_dir)
    written = OxigraphStore.from_graph(load_project(repo).graph)
    report_written = materialise(_Written(written), rules)  # type: ignore[arg-type]
    source = load_project_store(repo)
    report = materialise_in_store(source.store, rules)
    assert report.added == report_written.added  # which rule is credited with a triple two rules derive may differ
    assert report.per_rule["13-falls-under-closure"] > 0
    assert report.per_rule["14-falls-under-matched-entity"] > 0
    assert _no_blank(source.store.inferred_graph()) == _no_blank(written.inferred_graph())


class _Written:
    """A Store that is not an OxigraphStore, so materialise() runs each rule's text as written."""

    def __init__(self, inner: OxigraphStore) -> None:
        self.inner = inner

    def construct(self, query: str, bindings: object = None) -> Graph:
        assert bindings is None
        return self.inner.construct(query)

    def add(self, graph: Graph, inferred: bool = False) -> None:
        self.inner.add(graph, inferred)


def test_a_negated_property_set_reads_any_predicate() -> None:
    assert predicates_read("SELECT * WHERE { ?s <http://x/p>/!<http://x/q> ?o }") == {"http://x/p", ANY_PREDICATE}
    assert predicates_read("SELECT * WHERE { ?s <http://x/p> ?o FILTER EXISTS { ?o <http://x/q> ?z } }") == {
        "http://x/p",
        "http://x/q",
    }


def test_a_pattern_in_a_filter_nested_in_a_not_exists_is_read() -> None:
    # rdflib keeps the translated EXISTS pattern in an attribute; its items hold a parse tree
    # without the inner FILTER, which the mechanism-module rule's partner test lives in
    query = (
        "SELECT * WHERE { ?f <http://x/p> ?m "
        "FILTER NOT EXISTS { ?m <http://x/q> ?a FILTER NOT EXISTS { ?f <http://x/partner> ?z "
        "FILTER EXISTS { ?z <http://x/counts> ?a } } } }"
    )
    assert predicates_read(query) == {"http://x/p", "http://x/q", "http://x/partner", "http://x/counts"}
    rule = Rule("nested", "CONSTRUCT { ?f <http://x/ok> ?m } WHERE {" + query.split("WHERE {", 1)[1])
    assert not rule.restrictable_for({"http://x/q"})  # under one NOT EXISTS: a new ?m q ?a removes answers
    assert rule.restrictable_for({"http://x/partner"})  # under two: monotonic, and ?f is the tested solution's
    # monotonic, sharing no variable with the solution: restricted by joining back to ?f and ?m
    assert rule.restrictable_for({"http://x/counts"})
    changed = ox.Triple(ox.NamedNode("http://x/z1"), ox.NamedNode("http://x/counts"), ox.NamedNode("http://x/a1"))
    (query,) = rule.delta_queries([changed]) or [""]
    assert "VALUES (?nm_changed_z ?nm_changed_a) { (<http://x/z1> <http://x/a1>) }" in query
    assert "?m <http://x/q> ?nm_changed_a ." in query
    assert "?f <http://x/partner> ?nm_changed_z ." in query
    assert rule.restrictable_for({"http://x/p"})


# the mechanism-module rule's partner test: every partner anchor of ?m is met by a partner of ?f
NESTED = """PREFIX x: <http://x/>
CONSTRUCT { ?f x:ok ?m } WHERE {
  ?f x:p ?m
  FILTER NOT EXISTS { ?m x:q ?a FILTER NOT EXISTS { ?f x:partner ?z FILTER EXISTS { ?z x:counts ?a } } }
}"""


def _constructed(store: ox.Store, query: str) -> set[ox.Triple]:
    return set(store.query(query, use_default_graph_as_union=True))  # type: ignore[arg-type]


def test_a_rule_restricted_under_two_negations_finds_every_answer_a_change_gives_or_takes() -> None:
    rule = Rule("nested", NESTED)
    x = "http://x/"
    graph = ox.NamedNode(x + "g")
    rng = random.Random(3)
    nodes = [ox.NamedNode(f"{x}n{i}") for i in range(4)]
    predicates = {name: ox.NamedNode(x + name) for name in ("p", "q", "partner", "counts")}
    changes_that_mattered = 0
    for _ in range(60):  # random graphs; a random partner triple added (or, read backwards, removed)
        store = ox.Store()
        for _ in range(20):
            name = rng.choice(list(predicates))
            store.add(ox.Quad(rng.choice(nodes), predicates[name], rng.choice(nodes), graph))
        changed = ox.Triple(rng.choice(nodes), predicates["partner"], rng.choice(nodes))
        without = _constructed(store, NESTED)
        store.add(ox.Quad(changed.subject, changed.predicate, changed.object, graph))
        with_it = _constructed(store, NESTED)
        assert without <= with_it  # monotonic in the partner triples
        queries = rule.delta_queries([changed])
        assert queries is not None
        assert all("VALUES (?f)" in q for q in queries)
        restricted = set().union(*(_constructed(store, q) for q in queries))
        # what the triple gives (or, removed, takes away) is among the restricted rule's answers
        assert with_it - without <= restricted <= with_it
        changes_that_mattered += with_it != without
    assert changes_that_mattered >= 3


# rules read through paths, UNION, sub-selects and two negations sharing no variable with the
# tested solutions: a restricted run must give every answer a changed triple gives or takes
MONOTONIC = {
    "path+": "CONSTRUCT { ?a x:ok ?b } WHERE { ?a (x:p|x:q)+ ?b FILTER(?a != ?b) }",
    "path*": "CONSTRUCT { ?a x:ok ?b } WHERE { ?a x:r ?b . ?b x:p* ?c . ?c x:q ?a }",
    "path?": "CONSTRUCT { ?a x:ok ?b } WHERE { ?a x:p? ?b . ?b x:q ?a }",
    "alternative": "CONSTRUCT { ?a x:ok ?b } WHERE { ?a x:p|x:q ?b . ?b x:r ?c }",
    "union": "CONSTRUCT { ?a x:ok ?b } WHERE { { ?a x:p ?b . ?b x:q ?c } UNION { ?a x:r+ ?b } }",
    "sub-select": "CONSTRUCT { ?a x:ok ?b } WHERE { { SELECT ?a ?b WHERE { ?a x:p ?c . ?c x:q ?b } } ?b x:r ?a }",
    "join back": "CONSTRUCT { ?f x:ok ?m } WHERE { ?f x:r ?m "
    "FILTER NOT EXISTS { ?m x:q ?a FILTER NOT EXISTS { ?f x:p ?z FILTER EXISTS { ?z x:counts ?a } } } }",
}
# the predicates a rule reads monotonically (x:q in "join back" is under one NOT EXISTS)
CHANGED = {"join back": ("p", "counts", "r")}


@pytest.mark.parametrize("name", list(MONOTONIC))
def test_a_restricted_rule_finds_every_answer_a_changed_triple_gives_or_takes(name: str) -> None:
    text = "PREFIX x: <http://x/> " + MONOTONIC[name]
    rule = Rule(name, text)
    x = "http://x/"
    graph = ox.NamedNode(x + "g")
    rng = random.Random(5)
    nodes = [ox.NamedNode(f"{x}n{i}") for i in range(4)]
    names = ("p", "q", "r", "counts")
    predicates = [ox.NamedNode(x + p) for p in names]
    read = [ox.NamedNode(x + p) for p in CHANGED.get(name, names) if rule.reads_any({x + p})]
    mattered = 0
    for _ in range(150):  # random graphs; a random triple added (or, read backwards, removed)
        store = ox.Store()
        for _ in range(rng.randint(6, 16)):
            store.add(ox.Quad(rng.choice(nodes), rng.choice(predicates), rng.choice(nodes), graph))
        changed = ox.Triple(rng.choice(nodes), rng.choice(read), rng.choice(nodes))
        without = _constructed(store, text)
        store.add(ox.Quad(changed.subject, changed.predicate, changed.object, graph))
        with_it = _constructed(store, text)
        assert without <= with_it
        queries = rule.delta_queries([changed])
        assert queries is not None, name
        restricted = set().union(*(_constructed(store, q) for q in queries))
        assert with_it - without <= restricted <= with_it, name
        mattered += with_it != without
    assert mattered >= 5, name


def test_under_exists_only_the_variables_of_the_tested_solutions_are_bound() -> None:
    # ?g is bound at the top level, but not in the inner group's solutions the EXISTS tests: a
    # new ?g x:p ?f can give an answer with another ?g, so only ?f may be bound
    rule = Rule(
        "inner",
        "PREFIX x: <http://x/> CONSTRUCT { ?f x:ok ?g } WHERE { { ?f a x:A FILTER EXISTS { ?g x:p ?f } } ?g a x:B }",
    )
    changed = ox.Triple(ox.NamedNode("http://x/g1"), ox.NamedNode("http://x/p"), ox.NamedNode("http://x/f1"))
    (query,) = rule.delta_queries([changed]) or []
    assert "VALUES (?f) { (<http://x/f1>) }" in query


def test_head_queries_bind_the_template_and_refuse_what_may_be_unbound() -> None:
    plain = Rule("plain", f"CONSTRUCT {{ ?c <{NM}implicates> ?e }} WHERE {{ ?f <{NM}has_condition> ?c ; <{NM}m> ?e }}")
    derived = ox.Triple(ox.NamedNode(NM + "c1"), ox.NamedNode(NM + "implicates"), ox.NamedNode(NM + "e1"))
    other = ox.Triple(ox.NamedNode(NM + "c1"), ox.NamedNode(NM + "investigates"), ox.NamedNode(NM + "e1"))
    (query,) = plain.head_queries([derived, other]) or []
    assert f"VALUES (?c ?e) {{ (<{NM}c1> <{NM}e1>) }}" in query
    assert plain.head_queries([other]) == []
    union = Rule(
        "union",
        f"CONSTRUCT {{ ?c <{NM}implicates> ?e . ?c <{NM}implicates> ?p }} "
        f"WHERE {{ ?f <{NM}has_condition> ?c {{ ?f <{NM}m> ?e }} UNION {{ ?f <{NM}partner> ?p }} }}",
    )
    assert union.head_queries([derived]) is None  # ?e is unbound in the UNION's other branch


def test_head_queries_bind_a_term_many_derived_triples_share_alone() -> None:
    plain = Rule("plain", f"CONSTRUCT {{ ?c <{NM}implicates> ?e }} WHERE {{ ?f <{NM}has_condition> ?c ; <{NM}m> ?e }}")
    implicates = ox.NamedNode(NM + "implicates")

    def edges(count: int) -> list[ox.Triple]:
        return [ox.Triple(ox.NamedNode(NM + "c1"), implicates, ox.NamedNode(f"{NM}e{i}")) for i in range(count)]

    (few,) = plain.head_queries(edges(ROWS_PER_SHARED_VALUE - 1)) or []
    assert "VALUES (?c ?e)" in few
    assert f"(<{NM}c1> <{NM}e0>)" in few
    (many,) = plain.head_queries(edges(ROWS_PER_SHARED_VALUE)) or []
    assert f"VALUES (?c) {{ (<{NM}c1>) }}" in many  # one lookup of the condition, not a join of 16 rows
    store = ox.Store()
    graph = ox.NamedNode(NM + "g")
    for i in range(ROWS_PER_SHARED_VALUE + 2):  # the bound query still answers every derived triple
        store.add(
            ox.Quad(ox.NamedNode(f"{NM}f{i}"), ox.NamedNode(NM + "has_condition"), ox.NamedNode(NM + "c1"), graph)
        )
        store.add(ox.Quad(ox.NamedNode(f"{NM}f{i}"), ox.NamedNode(NM + "m"), ox.NamedNode(f"{NM}e{i}"), graph))
    answers = set(store.query(many, use_default_graph_as_union=True))
    assert set(edges(ROWS_PER_SHARED_VALUE)) <= answers


def test_triple_keys_are_the_keys_of_each_triple() -> None:
    nm = "https://w3id.org/neuromech/"
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    a, b = ox.NamedNode(f"{nm}a"), ox.NamedNode(f"{nm}b")
    triples = [
        ox.Triple(a, rdf_type, ox.NamedNode(f"{nm}Finding")),
        ox.Triple(b, rdf_type, ox.NamedNode(f"{nm}Finding")),
        ox.Triple(a, rdf_type, ox.NamedNode(f"{nm}Claim")),
        ox.Triple(a, rdf_type, ox.BlankNode("c")),  # a type that is no IRI keys the predicate alone
        ox.Triple(a, ox.NamedNode(f"{nm}counts_for"), b),
        ox.Triple(b, ox.NamedNode(f"{nm}counts_for"), ox.Literal("x")),
    ]
    assert triple_keys(triples) == {triple_key(t) for t in triples}
    assert triple_keys(triples) == {
        f"{rdf_type.value} {nm}Finding",
        f"{rdf_type.value} {nm}Claim",
        rdf_type.value,
        f"{nm}counts_for",
    }
    assert triple_keys([]) == set()
