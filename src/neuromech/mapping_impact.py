"""Mapping impact: for each mapping of the SSSOM set, the findings that depend on it.

A finding depends on a mapping when its condition, measured entity or partner entity is the
mapping's subject (``direct``), or a part or subtype of it (``inherited``: ``nm:falls_under``).
A curator about to change a mapping sees which claims it carries; ``mapping-impact.tsv`` in a
release lists them.

:class:`ImpactIndex` keeps the impact per finding, so that a rebuild after an edit to a few
claims re-files those findings and re-sorts only the mappings they touch (at 10^6 triples the
whole impact took 2 s, an edit's update takes milliseconds). An edit to the hierarchy
(:meth:`ImpactIndex.update_hierarchy`) re-files the findings about the entities whose
``nm:falls_under`` changed, and :meth:`ImpactIndex.tsv` renders again only the rows of the
mappings whose findings changed.
"""

from __future__ import annotations

import re
from bisect import insort
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from neuromech.mapping_set import MappingRow, MappingSet
from neuromech.namespaces import compress as curie
from neuromech.store import Store, chunks, restrict

# Each finding's slot fillers, and what each entity falls under (materialised part-of and
# subtype-of, nm: entities only). The impact joins the two in Python: as one SPARQL join it
# produced a row per finding and ancestor, 30 s on a 10^6-triple project.
FINDING_SLOTS_QUERY = """
PREFIX nm: <https://w3id.org/neuromech/>
SELECT ?finding ?entity WHERE {
  ?finding nm:has_condition|nm:has_measured_entity|nm:has_partner_entity ?entity . ?finding a nm:Finding .
}
"""

ENTITY_NAMESPACE = "https://w3id.org/neuromech/entity/"

FALLS_UNDER_QUERY = f"""
PREFIX nm: <https://w3id.org/neuromech/>
SELECT ?part ?entity WHERE {{
  ?part nm:falls_under ?entity . FILTER(STRSTARTS(STR(?entity), "{ENTITY_NAMESPACE}"))
}}
"""

IMPACT_COLUMNS = (
    "subject_id",
    "predicate",
    "object_id",
    "object_label",
    "direct_findings",
    "inherited_findings",
    "findings",
)


@dataclass(frozen=True)
class Impact:
    """The findings that depend on one mapping: about its subject, or about a part or subtype of it."""

    row: MappingRow
    direct: tuple[str, ...]
    inherited: tuple[str, ...]


def finding_slots(store: Store, query: str = FINDING_SLOTS_QUERY) -> dict[str, list[str]]:
    """Return finding IRI -> the IRIs of its condition(s), measured and partner entities."""
    slots: dict[str, list[str]] = {}
    for finding, entity in store.select_values(query):
        slots.setdefault(str(finding), []).append(str(entity))
    return slots


def falls_under(store: Store, parts: Iterable[str] | None = None) -> dict[str, set[str]]:
    """Return entity IRI -> the nm: entities it is a part or subtype of (``nm:falls_under``).

    With ``parts``, only those entities' (an entity that falls under nothing gets no key).
    """
    above: dict[str, set[str]] = {}
    queries = [FALLS_UNDER_QUERY] if parts is None else [restrict(FALLS_UNDER_QUERY, "part", c) for c in chunks(parts)]
    for part, entity in (row for query in queries for row in store.select_values(query)):
        above.setdefault(str(part), set()).add(str(entity))
    return above


def mapping_impact(store: Store, mapping_set: MappingSet) -> list[Impact]:
    """For each mapping, the findings whose condition or entity is the mapped entity (or a part/subtype of it)."""
    index = ImpactIndex(mapping_set, falls_under(store))
    index.file(finding_slots(store))
    return index.impacts()


class ImpactIndex:
    """The mapping impact of a mapping set, kept per finding.

    :meth:`file` records (or replaces) findings' slot fillers, :meth:`drop` forgets findings,
    :meth:`update_hierarchy` takes entities' new ancestors, and :meth:`impacts` lists the
    impact of every mapping (:meth:`tsv` renders it), re-sorting only the mappings whose
    findings changed since the last call. Each finding's CURIE and natural sort key, and each
    entity's mapped ancestors, are worked out once: per slot and per mapping they had cost 11 s
    at 10^6 triples (57k findings, mappings of entities with 30k findings under them).
    """

    def __init__(self, mapping_set: MappingSet, above: dict[str, set[str]]) -> None:
        """Index the impact of ``mapping_set``'s rows, with ``above`` from :func:`falls_under`.

        ``above`` is kept, not copied: :meth:`update_hierarchy` updates it in place.
        """
        self.rows = sorted(mapping_set.rows, key=MappingRow.sort_key)
        self.mapped = frozenset(row.subject_id for row in self.rows)
        self.above = above
        # entity IRI -> its CURIE if it is a mapped subject, and the CURIEs of its mapped ancestors
        self._keys: dict[str, tuple[str | None, list[str]]] = {}
        self._filed: dict[str, tuple[str, frozenset[str], frozenset[str]]] = {}  # IRI -> (CURIE, direct, inherited)
        self._direct: dict[str, set[str]] = {}  # mapped subject -> finding CURIEs
        self._inherited: dict[str, set[str]] = {}
        self._order: dict[str, tuple[list[object], str]] = {}  # finding CURIE -> natural sort key
        self._sorted: dict[str, tuple[list[str], list[str]]] = {}
        self._stale: set[str] = set(self.mapped)  # mapped subjects to sort afresh
        self._moved: dict[str, set[str]] = {}  # mapped subject -> findings filed or dropped since
        self._lines: dict[MappingRow, str] = {}  # row -> its rendered TSV line
        self._unrendered: set[str] = set()  # mapped subjects whose lines are out of date (see _sort)

    def matches(self, mapping_set: MappingSet, above: dict[str, set[str]]) -> bool:
        """Whether this index was made for these mapping rows and this hierarchy."""
        return above is self.above and self.rows == sorted(mapping_set.rows, key=MappingRow.sort_key)

    def follows(self, above: dict[str, set[str]]) -> bool:
        """Whether this index follows this hierarchy (its rows may differ: :meth:`update_rows`)."""
        return above is self.above

    def drop(self, findings: Iterable[str]) -> None:
        """Forget ``findings`` (IRIs); a finding never filed is ignored."""
        for finding in findings:
            filed = self._filed.pop(finding, None)
            if filed is None:
                continue
            finding_id, direct, inherited = filed
            for key in direct:
                self._direct[key].discard(finding_id)
            for key in inherited:
                self._inherited[key].discard(finding_id)
            self._note_moved(finding_id, direct | inherited)

    def file(self, slots: Mapping[str, Iterable[str]]) -> None:
        """Record each finding's slot fillers (finding IRI -> entity IRIs), replacing what was filed for it.

        Only the mappings a finding joins or leaves are touched: after an edit to a hub's
        mapping, 30k findings under the hub were filed again, and dropping each from its ~40
        mappings and adding it back (every one of them then re-sorted) took 1.3 s at 10^6 triples
        where a handful of their mappings changed.
        """
        for finding, entities in slots.items():
            filed = self._filed.get(finding)
            finding_id = curie(finding) if filed is None else filed[0]
            direct: set[str] = set()
            inherited: set[str] = set()
            for entity in entities:
                own, ancestors = self._entity_keys(entity)
                if own is not None:
                    direct.add(own)
                inherited.update(ancestors)
            old_direct, old_inherited = (frozenset(), frozenset()) if filed is None else filed[1:]
            if filed is not None and old_direct == direct and old_inherited == inherited:
                continue
            for key in old_direct - direct:
                self._direct[key].discard(finding_id)
            for key in old_inherited - inherited:
                self._inherited[key].discard(finding_id)
            for key in direct - old_direct:
                self._direct.setdefault(key, set()).add(finding_id)
            for key in inherited - old_inherited:
                self._inherited.setdefault(key, set()).add(finding_id)
            self._filed[finding] = (finding_id, frozenset(direct), frozenset(inherited))
            if finding_id not in self._order:
                self._order[finding_id] = (_natural(finding_id), finding_id)
            moved = (old_direct ^ direct) | (old_inherited ^ inherited)
            self._note_moved(finding_id, moved - self._stale)  # stale ones are sorted afresh

    def update_rows(self, mapping_set: MappingSet, slots: Mapping[str, Iterable[str]]) -> None:
        """Take an edited mapping set: findings are filed again only where the mapped subjects changed.

        ``slots`` are the filed findings' slot fillers (as given to :meth:`file`). A finding's
        impact changes only when one of its slot fillers, or an ancestor of one, became or
        stopped being a mapped subject; the rows whose subject stayed keep their sorted lists
        (filing all 57k findings again took 1.3 s at 10^6 triples after a hub's rows were
        removed). The next :meth:`tsv` renders the new rows and those whose findings changed.
        """
        rows = sorted(mapping_set.rows, key=MappingRow.sort_key)
        mapped = frozenset(row.subject_id for row in rows)
        changed = self.mapped ^ mapped
        gone = self.mapped - mapped
        self.rows, self.mapped = rows, mapped
        self._stale = (self._stale - gone) | (mapped - self._sorted.keys())  # new subjects sorted afresh
        if changed:
            # the changed subjects as IRIs: each entity's CURIE is worked out once, not once a slot
            entities = {e for ancestors in self.above.values() for e in ancestors} | self.above.keys()
            entities |= {e for fillers in slots.values() for e in fillers}
            changed_iris = {e for e in entities if curie(e) in changed}
            affected = {e for e, ancestors in self.above.items() if not changed_iris.isdisjoint(ancestors)}
            affected |= changed_iris
            for entity in affected:
                self._keys.pop(entity, None)
            self.file({finding: fillers for finding, fillers in slots.items() if not affected.isdisjoint(fillers)})
        for key in gone:
            for table in (self._direct, self._inherited, self._sorted, self._moved):
                table.pop(key, None)
        kept = set(rows)
        self._lines = {row: line for row, line in self._lines.items() if row in kept}

    def update_hierarchy(self, above: Mapping[str, set[str]], slots: Mapping[str, Iterable[str]]) -> None:
        """Take new ancestors (entity IRI -> the nm: entities it now falls under, empty for none).

        ``slots`` are the filed findings' slot fillers (as given to :meth:`file`). The findings
        about those entities are filed again; the others' impact cannot change, as a finding's
        mapped ancestors are its slot fillers' (at 10^6 triples a moved part-of edge re-filed a
        few hundred findings where filing all 57k again took 3-4 s).
        """
        for entity, ancestors in above.items():
            if ancestors:
                self.above[entity] = set(ancestors)
            else:
                self.above.pop(entity, None)
            self._keys.pop(entity, None)
        changed = above.keys()
        self.file({f: entities for f, entities in slots.items() if not changed.isdisjoint(entities)})

    def impacts(self) -> list[Impact]:
        """One :class:`Impact` per mapping row, in the mapping set's order; findings in natural order.

        A mapping whose findings changed by a few since the last call has them taken out of and
        put into its sorted lists (a finding's ancestors can hold 30k findings at 10^6 triples:
        sorting them again for each of a finding's ~40 mapped ancestors took 1.4 s).
        """
        self._sort()
        return [Impact(row, *map(tuple, self._sorted[row.subject_id])) for row in self.rows]

    def tsv(self) -> str:
        """``mapping-impact.tsv`` (as :func:`impact_tsv` of :meth:`impacts`), rendering only the rows that changed.

        Rendering every row took 1.9 s at 10^6 triples (rows list up to 30k findings each).
        """
        self._sort()
        for row in self.rows:
            if row.subject_id in self._unrendered or row not in self._lines:  # all rows, at the first call
                direct, inherited = self._sorted[row.subject_id]
                self._lines[row] = "\t".join(_cells(Impact(row, tuple(direct), tuple(inherited))))
        self._unrendered = set()
        return "\n".join(["\t".join(IMPACT_COLUMNS), *(self._lines[row] for row in self.rows)]) + "\n"

    def _sort(self) -> None:
        """Sort the lists of the mappings that are stale or whose findings moved."""
        self._unrendered.update(self._stale, self._moved)
        if self._stale:  # findings ranked once, so that each mapping's lists sort by an int
            rank = {finding: i for i, finding in enumerate(sorted(self._order, key=self._order.__getitem__))}
            order = rank.__getitem__
        for key in self._stale:
            own = self._direct.get(key, set())
            self._sorted[key] = (
                sorted(own, key=order),
                sorted(self._inherited.get(key, set()) - own, key=order),
            )
        for key, moved in self._moved.items():
            if key not in self._stale:
                self._sorted[key] = self._resorted(key, moved)
        self._stale = set()
        self._moved = {}

    def _note_moved(self, finding_id: str, keys: Iterable[str]) -> None:
        for key in keys:
            self._moved.setdefault(key, set()).add(finding_id)

    def _resorted(self, key: str, moved: set[str]) -> tuple[list[str], list[str]]:
        """Return ``key``'s sorted direct and inherited lists with the ``moved`` findings re-placed."""
        order = self._order.__getitem__
        own = self._direct.get(key, set())
        inherited = self._inherited.get(key, set())
        if len(moved) > RESORT_LIMIT:  # one sort beats thousands of insertions into a long list
            return sorted(own, key=order), sorted(inherited - own, key=order)
        kept = [[f for f in listed if f not in moved] for listed in self._sorted[key]]
        for finding in moved:
            if finding in own:
                insort(kept[0], finding, key=order)
            elif finding in inherited:
                insort(kept[1], finding, key=order)
        return kept[0], kept[1]

    def _entity_keys(self, entity: str) -> tuple[str | None, list[str]]:
        keys = self._keys.get(entity)
        if keys is None:
            own = curie(entity)
            keys = self._keys[entity] = (
                own if own in self.mapped else None,
                [key for a in self.above.get(entity, ()) if (key := curie(a)) in self.mapped],
            )
        return keys


#: Above this many moved findings a mapping's lists are sorted again rather than patched.
RESORT_LIMIT = 512

_DIGITS = re.compile(r"(\d+)")


def _natural(text: str) -> list[object]:
    parts: list[object] = list(_DIGITS.split(text))
    parts[1::2] = map(int, parts[1::2])  # type: ignore[arg-type]  # the odd parts are the digit runs
    return parts


def impact_rows(impacts: list[Impact]) -> list[list[str]]:
    """Table rows of :func:`mapping_impact` (findings ``|``-separated), columns :data:`IMPACT_COLUMNS`."""
    return [_cells(i) for i in impacts]


def _cells(impact: Impact) -> list[str]:
    return [
        impact.row.subject_id,
        ("NOT " if impact.row.negative else "") + impact.row.predicate_id,
        impact.row.object_id,
        impact.row.object_label,
        str(len(impact.direct)),
        str(len(impact.inherited)),
        "|".join(impact.direct + impact.inherited),
    ]


def impact_tsv(impacts: list[Impact]) -> str:
    """``mapping-impact.tsv``: one row per mapping with the findings that depend on it."""
    lines = ["\t".join(IMPACT_COLUMNS)] + ["\t".join(cells) for cells in impact_rows(impacts)]
    return "\n".join(lines) + "\n"
