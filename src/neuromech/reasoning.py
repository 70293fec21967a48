"""Reasoning: HermiT consistency checking and rule-based materialisation of derived edges.

The DL reasoner sees the ontology and the data once per build, to check that they are
consistent. The edges that queries use (class hierarchy, transitive part-of, condition ->
implicated entity) are materialised by the SPARQL CONSTRUCT rules in ``ontology/rules/``,
which implement the OWL axioms of ``ontology/neuromech.ttl`` and run in milliseconds; a
test checks that on the real data they derive what HermiT derives.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph

from neuromech.errors import InconsistentOntology
from neuromech.store import OxigraphStore, Store


@dataclass(frozen=True)
class Rule:
    """A named SPARQL CONSTRUCT rule."""

    name: str
    text: str


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

    Raises:
        RuntimeError: if the rules have not reached a fixpoint after ``max_rounds``.
    """
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


def check_consistency(graph: Graph) -> list[str]:
    """Check ``graph`` (ontology plus data) with HermiT through owlready2.

    Returns:
        The IRIs of unsatisfiable classes (empty when every class is satisfiable).

    Raises:
        InconsistentOntology: when HermiT finds the ontology plus data inconsistent.
    """
    import owlready2  # noqa: PLC0415 -- heavy import, only needed by `build`, not by query commands

    with tempfile.TemporaryDirectory(prefix="neuromech-hermit-") as tmp:
        path = Path(tmp) / "neuromech.nt"
        graph.serialize(path, format="nt", encoding="utf-8")
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


def reason(store: OxigraphStore, rules_dir: Path) -> MaterialisationReport:
    """Materialise the derived edges of ``rules_dir`` into ``store``."""
    return materialise(store, load_rules(rules_dir))
