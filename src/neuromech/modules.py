"""Mechanism modules: named reusable mechanisms that conditions are inferred to exhibit.

A module (``data/modules/*.ttl``, class ``nm:MechanismModule``) is defined by an anchor
entity and optional direction, measure and partner anchor; rule
``ontology/rules/08-mechanism-modules.rq`` marks every finding that satisfies a module, rule
``08-mechanism-modules-exhibited.rq`` every condition that then exhibits it (and
``08-mechanism-modules-exhibited-upward.rq`` every condition that one counts for), and rule
``10-models-draw-on-modules.rq`` links the reviews' own mechanism models to the modules their
supporting findings satisfy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from rdflib import URIRef

from neuromech.build import KnowledgeGraph
from neuromech.evidence import EvidenceIndex
from neuromech.namespaces import NM, compress
from neuromech.queries import get_query


@dataclass(frozen=True)
class ExhibitedModule:
    """A module a condition exhibits, with the findings that satisfy it."""

    condition: str
    condition_label: str
    module: str
    module_label: str
    module_label_zh: str
    findings: list[str]
    models: list[str]


@dataclass(frozen=True)
class ModuleReport:
    """The answer of :func:`exhibited_modules` (the documented ``--format json`` output)."""

    condition: str
    modules: list[ExhibitedModule]

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dictionary."""
        return asdict(self)

    def to_rows(self) -> tuple[list[str], list[list[str]]]:
        """One row per condition and module (table and TSV output)."""
        columns = ["condition", "module", "label", "findings", "models"]
        rows = [
            [m.condition_label, m.module, m.module_label, "|".join(m.findings), "|".join(m.models)]
            for m in self.modules
        ]
        return columns, rows


def exhibited_modules(
    kg: KnowledgeGraph, condition: str | None = None, index: EvidenceIndex | None = None
) -> ModuleReport:
    """List the mechanism modules each condition (or one condition) exhibits, with evidence.

    Raises:
        UsageError: when the condition is unknown or ambiguous.
    """
    index = index or EvidenceIndex.load(kg)
    bindings = {}
    if condition is not None:
        bindings["condition"] = kg.resolver.resolve(condition, NM.Condition, "condition")
    table = kg.store.select(get_query(kg.catalogue, "mechanism-modules").text, bindings)
    modules = []
    for row in table.dicts():
        node, module = URIRef(str(row["condition"])), URIRef(str(row["module"]))
        modules.append(
            ExhibitedModule(
                condition=compress(str(node)),
                condition_label=index.label(node),
                module=compress(str(module)),
                module_label=index.label(module),
                module_label_zh=index.label_zh(module),
                findings=sorted(compress(f) for f in str(row["findings"] or "").split("|") if f),
                models=sorted(compress(m) for m in str(row["models"] or "").split("|") if m),
            )
        )
    label = index.label(bindings["condition"]) if bindings else "all conditions"
    return ModuleReport(condition=label, modules=modules)
