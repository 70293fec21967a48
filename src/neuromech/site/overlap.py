"""How much two conditions share: the overlap the matrix and the "similar conditions" lists show.

Today the overlap is the Jaccard index of the entity sets each condition implicates (the
inferred ``nm:implicates`` edges). :func:`shared_entities` is the one place that decides what
two conditions share; switch it to the hierarchy- and direction-aware comparison of
:mod:`neuromech.mechanisms` once that is available, and every page follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Overlap:
    """What conditions ``a`` and ``b`` share, and how much (0 = nothing, 1 = the same entities)."""

    a: str
    b: str
    score: float
    shared: tuple[str, ...]


def jaccard(left: set[str], right: set[str]) -> float:
    """Return |left ∩ right| / |left ∪ right|, 0 when both are empty."""
    union = left | right
    return len(left & right) / len(union) if union else 0.0


def shared_entities(implicated: Mapping[str, set[str]], a: str, b: str) -> Overlap:
    """Return the entities both ``a`` and ``b`` implicate and their Jaccard overlap.

    Args:
        implicated: condition IRI -> IRIs of the entities it implicates.
        a: a condition IRI.
        b: another condition IRI.
    """
    left, right = implicated.get(a, set()), implicated.get(b, set())
    return Overlap(a, b, jaccard(left, right), tuple(sorted(left & right)))


def overlap_matrix(implicated: Mapping[str, set[str]], conditions: list[str]) -> dict[tuple[str, str], Overlap]:
    """Return the overlap of every ordered pair of ``conditions`` (the diagonal included)."""
    return {(a, b): shared_entities(implicated, a, b) for a in conditions for b in conditions}


def similar_conditions(implicated: Mapping[str, set[str]], condition: str, top: int = 5) -> list[Overlap]:
    """Return up to ``top`` other conditions sharing most with ``condition``, best first.

    Conditions sharing nothing are left out; ties are broken by the number of shared entities,
    then by IRI, so the order is stable.
    """
    others = [shared_entities(implicated, condition, other) for other in implicated if other != condition]
    ranked = sorted((o for o in others if o.shared), key=lambda o: (-o.score, -len(o.shared), o.b))
    return ranked[:top]
