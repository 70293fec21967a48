"""Render the site's pages and data files from :class:`~neuromech.site.model.SiteData`.

Pages are Jinja templates (package data under ``templates/``); what the scripts need (search
index, matrix evidence, network) is written as ``data/*.js`` files that assign one global, so
the pages work when opened from disk (``file://``), where ``fetch`` is not allowed.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from neuromech.namespaces import CONVERTER, compress
from neuromech.site.diagrams import causal_diagram
from neuromech.site.model import Finding, Label, MechanismModel, Node, SiteData
from neuromech.site.overlap import overlap_matrix, similar_conditions

# the order kinds are listed in, by group CURIE
KIND_ORDER = (
    "nm:BrainRegion",
    "nm:Circuit",
    "nm:Neuromodulator",
    "nm:Receptor",
    "nm:Gene",
    "nm:GeneticVariant",
    "nm:Construct",
)
_REGION_GROUPS = ("nm:BrainRegion", "nm:Circuit")
_SIMILAR = 5


def _kind_rank(group: str) -> tuple[int, str]:
    return (KIND_ORDER.index(group) if group in KIND_ORDER else len(KIND_ORDER), group)


@dataclass
class RegionTreeNode:
    """A region on a condition's part-of tree; ``count`` is 0 for an ancestor only shown for context."""

    iri: str
    implicated: bool
    count: int
    children: list[RegionTreeNode]


def to_js(variable: str, value: object) -> str:
    """Return a script assigning ``value`` (as JSON) to ``window[variable]``; safe inside HTML."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    text = text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"window.{variable} = {text};\n"


class SiteRenderer:
    """Turn site data into files: relative path -> content."""

    def __init__(self, data: SiteData) -> None:
        """Index ``data`` for rendering."""
        self.data = data
        self.env = Environment(
            loader=PackageLoader("neuromech.site", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(
            bi=self.bi, link=self.link, href=self.href, badge=self.badge, kind_label=self.kind_label, curie=compress
        )
        self.pages: dict[str, str] = {}
        self.anchor_of_finding: dict[str, str] = {}
        self.findings_by_condition: dict[str, list[Finding]] = defaultdict(list)
        self.findings_by_entity: dict[str, list[Finding]] = defaultdict(list)
        for finding in data.findings:
            self.findings_by_condition[finding.condition].append(finding)
            self.findings_by_entity[finding.measured].append(finding)
            if finding.partner and finding.partner != finding.measured:
                self.findings_by_entity[finding.partner].append(finding)
        self.mechanism_of_step = {s.iri: m for m in data.mechanisms for s in m.steps}
        self.paths: dict[str, str] = {}
        for node in data.conditions.values():
            self.paths[node.iri] = f"condition/{node.slug}.html"
        for node in data.entities.values():
            self.paths[node.iri] = f"entity/{node.slug}.html"
        for review in data.reviews.values():
            self.paths[review.iri] = f"review/{review.slug}.html"
        for model in data.mechanisms:
            if model.review in data.reviews:
                self.paths[model.iri] = f"review/{data.reviews[model.review].slug}.html#{model.slug}"
        for finding in data.findings:
            if finding.condition in self.paths:
                self.paths[finding.iri] = f"{self.paths[finding.condition]}#{_anchor(finding.iri)}"
        self.by_entity_condition: dict[tuple[str, str], list[Finding]] = defaultdict(list)
        for finding in data.findings:
            for entity in {finding.measured, finding.partner} - {""}:
                self.by_entity_condition[(finding.condition, entity)].append(finding)

    # ---- helpers available in templates -------------------------------------------------

    def label(self, iri: str) -> Label:
        """Return the bilingual label of ``iri`` (its CURIE when it has none)."""
        return self.data.labels.get(iri) or Label(self.data.studies.get(iri, compress(iri)))

    def bi(self, value: str | Label) -> Markup:
        """Render a label (or the label of an IRI) in both languages; the page's toggle shows one or both."""
        label = value if isinstance(value, Label) else self.label(value)
        parts = []
        if label.en:
            parts.append(Markup('<span class="l-en" lang="en">{}</span>').format(label.en))
        if label.zh:
            parts.append(Markup('<span class="l-zh" lang="zh">{}</span>').format(label.zh))
        return Markup("").join(parts) if parts else Markup("")

    @pass_context
    def href(self, context: Context, iri: str) -> str:
        """Return the page of ``iri`` relative to the current page, or '' when it has none."""
        path = self.paths.get(iri)
        return f"{context['root']}{path}" if path else ""

    @pass_context
    def link(self, context: Context, iri: str, text: str | None = None) -> Markup:
        """Return a link to the page of ``iri`` showing its bilingual label (or ``text``)."""
        body = escape(text) if text is not None else self.bi(iri)
        target = self.href(context, iri)
        if not target:
            return Markup('<span class="nolink">{}</span>').format(body)
        return Markup('<a href="{}">{}</a>').format(target, body)

    def badge(self, direction: str) -> Markup:
        """Return a coloured badge for a direction IRI, labelled in both languages."""
        name = direction.rsplit("/", 1)[-1]
        arrow = {"increased": "▲", "decreased": "▼", "no_difference": "="}.get(name, "◆")
        return Markup('<span class="badge dir-{}" title="{}">{} {}</span>').format(
            name, compress(direction), arrow, self.bi(direction)
        )

    def kind_label(self, curie: str) -> Markup:
        """Return the bilingual label of a class given by CURIE."""
        return self.bi(CONVERTER.expand(curie) or curie)

    # ---- pages -------------------------------------------------------------------------

    def render(self, template: str, path: str, **context: Any) -> None:
        """Render ``template`` into the page at ``path`` (relative to the site root)."""
        depth = path.count("/")
        self.pages[path] = self.env.get_template(template).render(
            root="../" * depth, data=self.data, page=path, **context
        )

    def files(self) -> dict[str, str]:
        """Render every page and data file."""
        self.render_home()
        self.render_entities_index()
        for node in self.data.conditions.values():
            self.render_condition(node)
        for node in self.data.entities.values():
            self.render_entity(node)
        for review in self.data.reviews.values():
            self.render_review(review.iri)
        self.render_matrix()
        self.render_network()
        self.render(
            "ontology.html", "ontology.html", terms=self.data.ontology, anchors={t.curie for t in self.data.ontology}
        )
        self.render("queries.html", "queries.html", queries=self.data.queries)
        files = dict(self.pages)
        files["data/search.js"] = to_js("NM_SEARCH", self.search_index())
        files["data/matrix.js"] = to_js("NM_MATRIX", self.matrix_data())
        files["data/network.js"] = to_js("NM_NETWORK", self.network_data())
        return files

    def conditions_sorted(self) -> list[Node]:
        """Conditions, those with most implicated entities first."""
        return sorted(
            self.data.conditions.values(),
            key=lambda n: (
                -len(self.data.implicates.get(n.iri, ())),
                -len(self.findings_by_condition[n.iri]),
                n.label.any,
            ),
        )

    def entities_by_group(self, iris: Iterable[str] | None = None) -> list[tuple[str, list[Node]]]:
        """Entities (all, or those of ``iris``) grouped by kind in the display order."""
        nodes = (
            self.data.entities.values()
            if iris is None
            else [self.data.entities[i] for i in iris if i in self.data.entities]
        )
        groups: dict[str, list[Node]] = defaultdict(list)
        for node in nodes:
            groups[node.group].append(node)
        return [
            (group, sorted(groups[group], key=lambda n: n.label.any.casefold()))
            for group in sorted(groups, key=_kind_rank)
        ]

    def render_home(self) -> None:
        """Render the front page: what the graph holds, how to cite it, search."""
        kinds = Counter(n.group for n in self.data.entities.values())
        implicated_any = set().union(*self.data.implicates.values()) if self.data.implicates else set()
        implicated = Counter(self.data.entities[i].group for i in implicated_any if i in self.data.entities)
        findings_by_review = Counter(f.review for f in self.data.findings)
        self.render(
            "home.html",
            "index.html",
            conditions=self.conditions_sorted(),
            findings_by_condition={k: len(v) for k, v in self.findings_by_condition.items()},
            kinds=sorted(kinds.items(), key=lambda kv: _kind_rank(kv[0])),
            implicated=implicated,
            reviews=list(self.data.reviews.values()),
            findings_by_review=findings_by_review,
        )

    def render_entities_index(self) -> None:
        """Render the list of every entity by kind."""
        self.render("entities.html", "entities.html", groups=self.entities_by_group())

    def region_tree(self, counts: dict[str, int]) -> list[RegionTreeNode]:
        """Return the part-of tree of the regions in ``counts`` and their ancestors (ancestors count 0)."""
        entities = self.data.entities
        shown: set[str] = set()
        pending = [i for i in counts if i in entities]
        while pending:
            iri = pending.pop()
            if iri in shown:
                continue
            shown.add(iri)
            pending.extend(p for p in entities[iri].parents if p in entities)
        children: dict[str, list[str]] = defaultdict(list)
        roots = []
        for iri in shown:
            parents = [p for p in entities[iri].parents if p in shown]
            for parent in parents:
                children[parent].append(iri)
            if not parents:
                roots.append(iri)

        def build(iri: str, trail: frozenset[str]) -> RegionTreeNode:
            kids = sorted((c for c in children[iri] if c not in trail), key=lambda c: self.label(c).any.casefold())
            return RegionTreeNode(iri, iri in counts, counts.get(iri, 0), [build(c, trail | {iri}) for c in kids])

        return [build(r, frozenset()) for r in sorted(roots, key=lambda c: self.label(c).any.casefold())]

    def render_condition(self, node: Node) -> None:
        """Render a condition's page."""
        findings = self.findings_by_condition[node.iri]
        implicated = self.data.implicates.get(node.iri, set())
        counts = Counter(f.measured for f in findings if f.with_effect and f.measured in implicated)
        # findings grouped by the measured entity's kind, then by measure
        grouped: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
        for finding in findings:
            group = self.data.entities[finding.measured].group if finding.measured in self.data.entities else "other"
            grouped[group][finding.measure].append(finding)
        sections = [
            (group, sorted(grouped[group].items(), key=lambda kv: self.label(kv[0]).any))
            for group in sorted(grouped, key=_kind_rank)
        ]
        regions = {
            i: counts.get(i, 0)
            for i in implicated
            if i in self.data.entities and self.data.entities[i].group in _REGION_GROUPS
        }
        others = [(g, ns) for g, ns in self.entities_by_group(implicated) if g not in _REGION_GROUPS]
        similar = similar_conditions(self.data.implicates, node.iri, _SIMILAR)
        models = [m for m in self.data.mechanisms if node.iri in m.explains]
        self.render(
            "condition.html",
            f"condition/{node.slug}.html",
            node=node,
            findings=findings,
            sections=sections,
            region_tree=self.region_tree(regions),
            others=others,
            counts=counts,
            similar=similar,
            evidence=self.by_entity_condition,
            models=models,
            anchor=_anchor,
        )

    def render_entity(self, node: Node) -> None:
        """Render an entity's page."""
        findings = self.findings_by_entity[node.iri]
        by_condition: dict[str, list[Finding]] = defaultdict(list)
        for finding in findings:
            by_condition[finding.condition].append(finding)
        implicating = sorted(
            (c for c, e in self.data.implicates.items() if node.iri in e), key=lambda c: self.label(c).any
        )
        children = sorted(
            (e.iri for e in self.data.entities.values() if node.iri in e.parents), key=lambda c: self.label(c).any
        )
        steps = [
            (self.mechanism_of_step[s.iri], s) for m in self.data.mechanisms for s in m.steps if node.iri in s.involves
        ]
        self.render(
            "entity.html",
            f"entity/{node.slug}.html",
            node=node,
            by_condition=sorted(by_condition.items(), key=lambda kv: self.label(kv[0]).any),
            implicating=implicating,
            children=children,
            steps=steps,
            anchor=_anchor,
        )

    def render_review(self, iri: str) -> None:
        """Render a review's page with its mechanism models drawn as causal diagrams."""
        review = self.data.reviews[iri]
        models = [m for m in self.data.mechanisms if m.review == iri]
        diagrams = {m.iri: Markup(causal_diagram(m, {s.iri: f"#{_anchor(s.iri)}" for s in m.steps})) for m in models}
        conditions = sorted(
            {f.condition for f in self.data.findings if f.review == iri}, key=lambda c: self.label(c).any
        )
        self.render(
            "review.html",
            f"review/{review.slug}.html",
            review=review,
            models=models,
            diagrams=diagrams,
            conditions=conditions,
            counts=self.data.claims_by_review.get(iri, {}),
            anchor=_anchor,
        )

    def matrix_conditions(self) -> list[Node]:
        """Return the conditions shown in the matrices: those implicating at least one entity."""
        return [n for n in self.conditions_sorted() if self.data.implicates.get(n.iri)]

    def render_matrix(self) -> None:
        """Render the conditions x conditions heatmap and the conditions x entities matrix."""
        conditions = self.matrix_conditions()
        iris = [n.iri for n in conditions]
        matrix = overlap_matrix(self.data.implicates, iris)
        entity_conditions: dict[str, list[str]] = defaultdict(list)
        for condition in iris:
            for entity in self.data.implicates.get(condition, ()):
                entity_conditions[entity].append(condition)
        rows = [
            (group, [n for n in nodes if entity_conditions.get(n.iri)])
            for group, nodes in self.entities_by_group(entity_conditions)
        ]
        cells = {}
        for (condition, entity), found in self.by_entity_condition.items():
            effect = [f for f in found if f.with_effect and f.measured == entity]
            if effect:
                directions = {f.direction.rsplit("/", 1)[-1] for f in effect}
                cells[(condition, entity)] = (len(effect), directions.pop() if len(directions) == 1 else "mixed")
        self.render(
            "matrix.html",
            "matrix.html",
            conditions=conditions,
            matrix=matrix,
            rows=rows,
            cells=cells,
            entity_conditions=entity_conditions,
        )

    def render_network(self) -> None:
        """Render the interactive network page (the graph itself is in data/network.js)."""
        groups = sorted({n.group for n in self.data.entities.values()}, key=_kind_rank)
        self.render("network.html", "network.html", groups=groups, reviews=list(self.data.reviews.values()))

    # ---- data files for the scripts ----------------------------------------------------

    def search_index(self) -> list[dict[str, object]]:
        """Every condition, entity, review and mechanism model with its names in both languages."""
        entries: list[dict[str, object]] = []
        for kind, nodes in (("condition", self.data.conditions.values()), ("entity", self.data.entities.values())):
            for node in nodes:
                entries.append(
                    {
                        "curie": node.curie,
                        "en": node.label.en,
                        "zh": node.label.zh,
                        "syn": node.synonyms + [m.curie for m in node.mappings],
                        "kind": node.kind if kind == "entity" else "nm:Condition",
                        "kindLabel": self._kind_names(node.kind),
                        "url": self.paths[node.iri],
                    }
                )
        for review in self.data.reviews.values():
            entries.append(
                {
                    "curie": compress(review.iri),
                    "en": review.label.en,
                    "zh": review.label.zh,
                    "syn": [review.identifier] if review.identifier else [],
                    "kind": "nm:Review",
                    "kindLabel": self._kind_names("nm:Review"),
                    "url": self.paths[review.iri],
                }
            )
        for model in self.data.mechanisms:
            if model.iri in self.paths:
                entries.append(
                    {
                        "curie": compress(model.iri),
                        "en": model.label.en,
                        "zh": model.label.zh,
                        "syn": [],
                        "kind": "nm:Mechanism",
                        "kindLabel": self._kind_names("nm:Mechanism"),
                        "url": self.paths[model.iri],
                    }
                )
        return entries

    def _kind_names(self, curie: str) -> list[str]:
        label = self.label(CONVERTER.expand(curie) or curie)
        return [label.en, label.zh]

    def _finding_record(self, finding: Finding) -> dict[str, object]:
        return {
            "id": finding.curie,
            "url": self.paths.get(finding.iri, ""),
            "entity": self.label(finding.measured).en,
            "partner": self.label(finding.partner).en if finding.partner else "",
            "measure": [self.label(finding.measure).en, self.label(finding.measure).zh],
            "direction": finding.direction.rsplit("/", 1)[-1],
            "directionLabel": [self.label(finding.direction).en, self.label(finding.direction).zh],
            "study": "; ".join(self.data.studies.get(s, compress(s)) for s in finding.studies),
            "quote": finding.quote,
            "statement": finding.statement,
        }

    def matrix_data(self) -> dict[str, object]:
        """Conditions, entities and the evidence behind every shared entity, for the heatmap's detail panel."""
        conditions = self.matrix_conditions()
        iris = [n.iri for n in conditions]
        matrix = overlap_matrix(self.data.implicates, iris)
        entities = sorted({e for o in matrix.values() for e in o.shared})
        evidence: dict[str, list[dict[str, object]]] = {}
        for condition in iris:
            for entity in self.data.implicates.get(condition, ()):
                if entity in entities:
                    found = [f for f in self.by_entity_condition.get((condition, entity), []) if f.with_effect]
                    evidence[f"{compress(condition)} {compress(entity)}"] = [self._finding_record(f) for f in found]
        return {
            "conditions": {
                compress(n.iri): {"en": n.label.en, "zh": n.label.zh, "url": self.paths[n.iri]} for n in conditions
            },
            "entities": {
                compress(e): {
                    "en": self.label(e).en,
                    "zh": self.label(e).zh,
                    "url": self.paths.get(e, ""),
                    "kind": self.data.entities[e].group if e in self.data.entities else "",
                }
                for e in entities
            },
            "pairs": {
                f"{compress(a)} {compress(b)}": {"score": round(o.score, 4), "shared": [compress(e) for e in o.shared]}
                for (a, b), o in matrix.items()
            },
            "evidence": evidence,
        }

    def network_data(self) -> dict[str, object]:  # noqa: PLR0912 -- one pass per kind of node and edge
        """Nodes and edges of the network: conditions, implicated entities, mechanism models."""
        nodes: dict[str, dict[str, object]] = {}
        edges: list[dict[str, object]] = []
        reviews_of: dict[str, set[str]] = defaultdict(set)
        for finding in self.data.findings:
            reviews_of[finding.condition].add(compress(finding.review))
            if finding.with_effect:
                reviews_of[finding.measured].add(compress(finding.review))
        for model in self.data.mechanisms:
            reviews_of[model.iri].add(compress(model.review))
            for step in model.steps:
                for entity in step.involves:
                    reviews_of[entity].add(compress(model.review))

        def add_node(iri: str, group: str) -> None:
            if iri in nodes:
                return
            label = self.label(iri)
            nodes[iri] = {
                "id": compress(iri),
                "en": label.en,
                "zh": label.zh,
                "group": group,
                "url": self.paths.get(iri, ""),
                "reviews": sorted(reviews_of.get(iri, set())),
            }

        for condition, entities in sorted(self.data.implicates.items()):
            if condition not in self.data.conditions:
                continue
            add_node(condition, "nm:Condition")
            for entity in sorted(entities):
                if entity not in self.data.entities:
                    continue
                add_node(entity, self.data.entities[entity].group)
                support = [f for f in self.by_entity_condition.get((condition, entity), []) if f.with_effect]
                edges.append(
                    {
                        "source": compress(condition),
                        "target": compress(entity),
                        "kind": "implicates",
                        "weight": len(support),
                        "reviews": sorted({compress(f.review) for f in support}),
                    }
                )
        for model in self.data.mechanisms:
            add_node(model.iri, "nm:Mechanism")
            review = [compress(model.review)]
            for condition in model.explains:
                if condition in self.data.conditions:
                    add_node(condition, "nm:Condition")
                    edges.append(
                        {
                            "source": compress(model.iri),
                            "target": compress(condition),
                            "kind": "explains",
                            "weight": 1,
                            "reviews": review,
                        }
                    )
            involved = sorted({e for s in model.steps for e in s.involves if e in self.data.entities})
            for entity in involved:
                add_node(entity, self.data.entities[entity].group)
                edges.append(
                    {
                        "source": compress(model.iri),
                        "target": compress(entity),
                        "kind": "involves",
                        "weight": 1,
                        "reviews": review,
                    }
                )
        return {"nodes": sorted(nodes.values(), key=lambda n: str(n["id"])), "edges": edges}


def _anchor(iri: str) -> str:
    """Return the HTML id of a finding, step or mechanism model on its page."""
    local = iri.rstrip("/").rsplit("/", 1)[-1]
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in local)


def render_site(data: SiteData) -> dict[str, str]:
    """Return every page and data file of the site (relative path -> text)."""
    return SiteRenderer(data).files()


__all__ = ["MechanismModel", "SiteRenderer", "render_site", "to_js"]
