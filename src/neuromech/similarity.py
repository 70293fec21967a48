"""Rank conditions by mechanistic overlap, with a degree-preserving permutation null.

The score of conditions A and B is a weighted Jaccard index over the entities each
implicates, rolled up the mechanism hierarchy (an entity counts for itself and for what it is
part of, a member, subtype or variant of): shared entities weigh ``log(N / n_e)``, where
``N`` is the number of conditions and ``n_e`` how many implicate ``e``, so a shared rare gene
variant says more than a shared amygdala. Significance comes from the approach Hetionet made
standard: the bipartite condition -> entity graph is rewired by edge swaps that keep every
condition's and every entity's degree (XSwap), the score is recomputed on each permuted
graph, and ``p = (1 + #{null >= observed}) / (1 + permutations)``. A seed makes it
reproducible.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import asdict, dataclass

from rdflib import URIRef

from neuromech.build import KnowledgeGraph
from neuromech.errors import UsageError
from neuromech.evidence import EvidenceIndex
from neuromech.namespaces import NM, compress
from neuromech.queries import get_query

Edge = tuple[URIRef, URIRef]


@dataclass(frozen=True)
class SimilarCondition:
    """One condition ranked against the query condition."""

    rank: int
    condition: str
    label: str
    score: float
    null_mean: float
    p_value: float
    shared: int
    top_shared: list[str]


@dataclass(frozen=True)
class SimilarityReport:
    """The answer of :func:`similar_conditions` (the documented ``--format json`` output)."""

    condition: str
    label: str
    permutations: int
    seed: int
    conditions_compared: int
    ranking: list[SimilarCondition]

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dictionary."""
        return asdict(self)

    def to_rows(self) -> tuple[list[str], list[list[str]]]:
        """One row per ranked condition (table and TSV output)."""
        columns = ["rank", "condition", "label", "score", "null_mean", "p_value", "shared", "top_shared"]
        rows = [
            [
                str(s.rank),
                s.condition,
                s.label,
                f"{s.score:.4f}",
                f"{s.null_mean:.4f}",
                f"{s.p_value:.4f}",
                str(s.shared),
                "|".join(s.top_shared),
            ]
            for s in self.ranking
        ]
        return columns, rows


def _rolled_up(index: EvidenceIndex, edges: set[Edge]) -> dict[URIRef, set[URIRef]]:
    profile: dict[URIRef, set[URIRef]] = defaultdict(set)
    for condition, entity in edges:
        profile[condition] |= index.counts_for(entity)
    return profile


def _weights(profile: dict[URIRef, set[URIRef]]) -> dict[URIRef, float]:
    frequency: dict[URIRef, int] = defaultdict(int)
    for entities in profile.values():
        for entity in entities:
            frequency[entity] += 1
    total = len(profile)
    return {entity: math.log((total + 1) / n) for entity, n in frequency.items()}


def _score(a: set[URIRef], b: set[URIRef], weights: dict[URIRef, float]) -> float:
    union = sum(weights[e] for e in a | b)
    return sum(weights[e] for e in a & b) / union if union else 0.0


def _scores(profile: dict[URIRef, set[URIRef]], target: URIRef) -> dict[URIRef, float]:
    weights = _weights(profile)
    mine = profile.get(target, set())
    return {c: _score(mine, entities, weights) for c, entities in profile.items() if c != target}


def xswap(edges: list[Edge], swaps: int, rng: random.Random) -> list[Edge]:
    """Rewire a bipartite edge list by ``swaps`` attempted swaps that keep every node's degree.

    A swap picks two edges ``(c1, e1)``, ``(c2, e2)`` and replaces them with ``(c1, e2)``,
    ``(c2, e1)`` unless that would duplicate an existing edge.
    """
    current = list(edges)
    present = set(current)
    for _ in range(swaps):
        i, j = rng.randrange(len(current)), rng.randrange(len(current))
        (c1, e1), (c2, e2) = current[i], current[j]
        if c1 == c2 or e1 == e2 or (c1, e2) in present or (c2, e1) in present:
            continue
        present -= {(c1, e1), (c2, e2)}
        present |= {(c1, e2), (c2, e1)}
        current[i], current[j] = (c1, e2), (c2, e1)
    return current


def condition_edges(kg: KnowledgeGraph) -> set[Edge]:
    """Return the direct condition -> implicated entity edges (stored query ``condition-entity-edges``)."""
    table = kg.store.select(get_query(kg.catalogue, "condition-entity-edges").text)
    return {
        (condition, entity)
        for condition, entity, _ in table.rows
        if isinstance(condition, URIRef) and isinstance(entity, URIRef)
    }


def similar_conditions(
    kg: KnowledgeGraph,
    condition: str,
    *,
    permutations: int = 200,
    seed: int = 0,
    top: int = 5,
    index: EvidenceIndex | None = None,
) -> SimilarityReport:
    """Rank every other condition by mechanistic overlap with ``condition``.

    Args:
        kg: the loaded graph.
        condition: a condition label, CURIE, IRI or mapped external CURIE.
        permutations: how many degree-preserving permuted graphs make the null distribution.
        seed: the random seed (same seed, same data: same p-values).
        top: how many of the heaviest shared entities to list per condition.
        index: a prepared :class:`EvidenceIndex` (built from ``kg`` when not given).

    Raises:
        UsageError: when the condition is unknown, or implicates no entity.
    """
    index = index or EvidenceIndex.load(kg)
    target = kg.resolver.resolve(condition, NM.Condition, "condition")
    edges = condition_edges(kg)
    observed_profile = _rolled_up(index, edges)
    if target not in observed_profile:
        raise UsageError(f"{index.label(target)} ({compress(str(target))}) implicates no entity: nothing to compare")
    observed = _scores(observed_profile, target)
    weights = _weights(observed_profile)
    rng = random.Random(seed)
    ordered = sorted(edges)
    state = xswap(ordered, 10 * len(ordered), rng)  # burn-in
    exceed: dict[URIRef, int] = defaultdict(int)
    null_sum: dict[URIRef, float] = defaultdict(float)
    for _ in range(permutations):
        state = xswap(state, 2 * len(state), rng)
        null = _scores(_rolled_up(index, set(state)), target)
        for other, score in observed.items():
            value = null.get(other, 0.0)
            null_sum[other] += value
            if value >= score - 1e-12:
                exceed[other] += 1
    mine = observed_profile[target]
    ranking = []
    ordered_conditions = sorted(observed, key=lambda c: (-observed[c], index.label(c).casefold()))
    for rank, other in enumerate(ordered_conditions, start=1):
        shared = mine & observed_profile[other]
        heaviest = sorted(shared, key=lambda e: (-weights[e], index.label(e).casefold()))[:top]
        ranking.append(
            SimilarCondition(
                rank=rank,
                condition=compress(str(other)),
                label=index.label(other),
                score=round(observed[other], 4),
                null_mean=round(null_sum[other] / permutations, 4) if permutations else 0.0,
                p_value=round((1 + exceed[other]) / (1 + permutations), 4),
                shared=len(shared),
                top_shared=[index.label(e) for e in heaviest],
            )
        )
    return SimilarityReport(
        condition=compress(str(target)),
        label=index.label(target),
        permutations=permutations,
        seed=seed,
        conditions_compared=len(observed),
        ranking=ranking,
    )
