"""The transitive closure of a relation, through its strongly connected components.

The in-store rule engine uses it for rules that only say a predicate is transitive
(:attr:`neuromech.rules.Rule.transitive_predicate`): a SPARQL self-join re-derives every known
pair in each round, which at 10^6 triples (entities with ~70 ancestors each) cost seconds a
round, while the closure below unions each node's successors' reach sets once.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

Node = TypeVar("Node", bound=Hashable)


def successors(pairs: Iterable[tuple[Node, Node]]) -> dict[Node, set[Node]]:
    """Return the relation ``pairs`` as a map from each node to its direct successors."""
    found: dict[Node, set[Node]] = {}
    for start, end in pairs:
        found.setdefault(start, set()).add(end)
    return found


def reach(graph: Mapping[Node, set[Node]]) -> dict[Node, set[Node]]:
    """Return, for each node with successors, every node reachable from it by one edge or more.

    A node reaches itself only on a cycle. Tarjan's algorithm (iterative) finds the strongly
    connected components in reverse topological order, so each component's reach is the union
    of its successors' reaches, computed once.
    """
    component_of: dict[Node, int] = {}
    components: list[list[Node]] = []
    for members in _components(graph):
        for member in members:
            component_of[member] = len(components)
        components.append(members)
    reaches: list[set[Node]] = []
    for number, members in enumerate(components):
        reached: set[Node] = set()
        cyclic = len(members) > 1 or members[0] in graph.get(members[0], ())
        for member in members:
            for end in graph.get(member, ()):
                other = component_of[end]
                if other != number:
                    reached.add(end)
                    reached |= reaches[other]
        if cyclic:
            reached.update(members)
        reaches.append(reached)
    return {node: reaches[component_of[node]] for node in graph}


def _components(graph: Mapping[Node, set[Node]]) -> list[list[Node]]:
    """Return the strongly connected components of ``graph``, each after every component it reaches."""
    index: dict[Node, int] = {}
    low: dict[Node, int] = {}
    stack: list[Node] = []
    on_stack: set[Node] = set()
    found: list[list[Node]] = []
    for root in graph:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(graph.get(root, ())))]
        while work:
            node, ends = work[-1]
            for end in ends:
                if end not in index:
                    index[end] = low[end] = len(index)
                    stack.append(end)
                    on_stack.add(end)
                    work.append((end, iter(graph.get(end, ()))))
                    break
                if end in on_stack:
                    low[node] = min(low[node], index[end])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    members: list[Node] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        members.append(member)
                        if member == node:
                            break
                    found.append(members)
    return found
