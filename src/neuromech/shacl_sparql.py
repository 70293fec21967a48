"""SHACL validation compiled to SPARQL SELECT queries, run on a SPARQL store (Oxigraph).

:func:`compile_shapes` turns a shapes graph into one :class:`Check` per (shape, constraint
component): a SELECT query returning the focus node (``?this``) and, where SHACL reports one,
the value node (``?value``), plus the metadata pySHACL writes into a validation result (source
shape, source constraint, constraint component, result path, severity, messages).
:meth:`CompiledShapes.run` runs them on a store and returns :class:`ShaclResult` records.

pySHACL (``inference="none"``) is the reference; ``tests/test_shacl_sparql.py`` checks that
both give the same violations on every fixture. Supported (anything else in the ``sh:``
namespace is refused at compile time, naming the shape and the component):

- targets: ``sh:targetClass`` (instances of the class and of its ``rdfs:subClassOf*``
  subclasses in the data; the class set is computed once per run and given as ``VALUES``),
  ``sh:targetNode``, ``sh:targetSubjectsOf``, ``sh:targetObjectsOf``;
- paths: IRIs, ``sh:alternativePath``, ``sh:inversePath``, sequences, ``sh:zeroOrMorePath``,
  ``sh:oneOrMorePath``, ``sh:zeroOrOnePath``;
- components: ``sh:class``, ``sh:datatype``, ``sh:nodeKind``, ``sh:minCount``, ``sh:maxCount``,
  ``sh:pattern`` (+ ``sh:flags``), ``sh:minLength``, ``sh:maxLength``, ``sh:languageIn``,
  ``sh:in``, ``sh:or``, ``sh:and``, ``sh:not``, ``sh:node``, ``sh:property``,
  ``sh:qualifiedValueShape`` with ``sh:qualifiedMinCount``/``sh:qualifiedMaxCount`` (not
  disjoint), ``sh:sparql`` SELECT constraints on node shapes (``sh:prefixes``/``sh:declare``,
  ``{?var}`` substitution in messages), ``sh:severity``, ``sh:deactivated``.

Where pySHACL departs from the SHACL specification, the queries follow pySHACL:

- ``sh:languageIn`` matches a tag when it, or its first subtag, equals a listed range
  (case-insensitively), not by ``langMatches``;
- ``sh:pattern`` and ``sh:minLength``/``sh:maxLength`` fail on blank nodes;
- a SPARQL-based constraint's rows are deduplicated on all projected variables.

Limits of the store, not of the compiler (Oxigraph normalises literals on load, see
oxigraph/oxigraph#526): a literal typed with a type derived from ``xsd:integer``
(``xsd:nonNegativeInteger``, ``xsd:positiveInteger``, ``xsd:int`` ...) is stored as
``xsd:integer``. ``sh:datatype`` with such a type is therefore checked as "an ``xsd:integer``
in the type's value range": an ill-formed or out-of-range value is reported as pySHACL
reports it, but a plain ``xsd:integer`` (``nm:sample_size 42`` in Turtle) passes here where
pySHACL reports it. Non-canonical lexical forms (``"+1"^^xsd:int``) reach ``sh:pattern`` and
the report in canonical form. Regular expressions run on Rust's ``regex`` crate, not Python's
``re`` (``$`` does not match before a final newline).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Final

from pyshacl.rdfutil.stringify import stringify_node
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection as RdfList
from rdflib.namespace import OWL, RDF, RDFS, XSD
from rdflib.term import Node

from neuromech.errors import NeuroMechError
from neuromech.namespaces import SH, bind_prefixes
from neuromech.rules import ANY_PREDICATE, predicates_read
from neuromech.store import Store, Term, _sparql_term, side_by_side, sparql_braces


class UnsupportedShapeError(NeuroMechError):
    """A shape uses a target or constraint component the SPARQL compiler does not support."""

    exit_code = 2


@dataclass(frozen=True)
class ShaclResult:
    """One SHACL validation result, with the fields pySHACL writes into its report."""

    focus: Term
    shape: Node
    component: URIRef
    severity: URIRef
    messages: tuple[str, ...]
    path: Node | None = None
    value: Term | None = None
    constraint: Node | None = None


@dataclass(frozen=True)
class Check:
    """One compiled (shape, constraint component) pair.

    ``query`` is a SELECT whose target block and class sets are markers filled in by
    :meth:`CompiledShapes.run`; ``reports`` says what ``sh:value`` is: ``"value"`` (the
    ``?value`` column), ``"focus"`` (the focus node, for node shapes), ``"none"`` (counts).
    """

    shape: Node
    component: URIRef
    severity: URIRef
    query: str
    reports: str
    path: Node | None = None
    constraint: Node | None = None
    messages: tuple[str, ...] = ()
    default_message: str = ""
    sparql: bool = False
    merge: Merge | None = None


@dataclass(frozen=True)
class Merge:
    """How a check can share one query with the other checks of its target (:func:`merged_queries`).

    ``kind`` is ``"value"`` (a value check on a path: ``pattern`` binds ``?this`` and ``?value``,
    ``test`` is true of a violating value), ``"max"`` (``sh:maxCount`` ``count``) or ``"min"``
    (``sh:minCount 1``); for the counts ``pattern`` binds ``?this`` and ``?_v`` to the path's
    values.
    """

    kind: str
    target: str
    pattern: str
    test: str = ""
    count: int = 0


_FOCUS: Final = "\x00focus\x00"
_CLASS_MARK: Final = re.compile("\x00classes:([^\x00]*)\x00")
# a class target: "\x00target:?var class-IRI ...\x00", expanded by CompiledShapes.run
_TARGET_MARK: Final = re.compile("\x00target:([^\x00]*)\x00")
_MAX_NESTED_COUNT: Final = 4
_IRI_IN_TEXT: Final = re.compile(r"<([^<>\s]*)>")

# sh: predicates that are not constraints (or are read together with a component)
_STRUCTURAL: Final = frozenset(
    SH[n]
    for n in [
        "targetClass",
        "targetNode",
        "targetSubjectsOf",
        "targetObjectsOf",
        "property",
        "path",
        "message",
        "description",
        "name",
        "severity",
        "deactivated",
        "order",
        "group",
        "defaultValue",
        "flags",
        "qualifiedMinCount",
        "qualifiedMaxCount",
        "qualifiedValueShapesDisjoint",
        "prefixes",
        "select",
    ]
)
_VALUE_COMPONENTS: Final = {
    SH["class"]: SH.ClassConstraintComponent,
    SH.datatype: SH.DatatypeConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent,
    SH.pattern: SH.PatternConstraintComponent,
    SH.minLength: SH.MinLengthConstraintComponent,
    SH.maxLength: SH.MaxLengthConstraintComponent,
    SH.languageIn: SH.LanguageInConstraintComponent,
    SH["in"]: SH.InConstraintComponent,
    SH["or"]: SH.OrConstraintComponent,
    SH["and"]: SH.AndConstraintComponent,
    SH["not"]: SH.NotConstraintComponent,
    SH.node: SH.NodeConstraintComponent,
}
_COUNT_COMPONENTS: Final = {
    SH.minCount: SH.MinCountConstraintComponent,
    SH.maxCount: SH.MaxCountConstraintComponent,
}
_TOP_ONLY: Final = {SH.qualifiedValueShape, SH.sparql}
_SUPPORTED: Final = _STRUCTURAL | set(_VALUE_COMPONENTS) | set(_COUNT_COMPONENTS) | _TOP_ONLY

_CONDITIONS: Final = {
    SH["class"]: "c_class",
    SH.datatype: "c_datatype",
    SH.nodeKind: "c_node_kind",
    SH.pattern: "c_pattern",
    SH.minLength: "c_min_length",
    SH.maxLength: "c_max_length",
    SH.languageIn: "c_language_in",
    SH["in"]: "c_in",
    SH["or"]: "c_or",
    SH["and"]: "c_and",
    SH["not"]: "c_not",
    SH.node: "c_node",
}
_DEFAULT_MESSAGES: Final = {
    SH["class"]: "Value does not have class {arg}",
    SH.datatype: "Value is not Literal with datatype {arg}",
    SH.nodeKind: "Value is not of Node Kind {arg}",
    SH.pattern: "Value does not match pattern '{arg}'",
    SH.languageIn: "String language is not in {arg}",
    SH["not"]: "Node {value} must not conform to shape {arg}",
    SH.node: "Value does not conform to Shape {arg}. See details for more information.",
}
_NODE_KINDS: Final = {
    SH.IRI: "isIRI({x})",
    SH.BlankNode: "isBlank({x})",
    SH.Literal: "isLiteral({x})",
    SH.BlankNodeOrIRI: "!isLiteral({x})",
    SH.BlankNodeOrLiteral: "!isIRI({x})",
    SH.IRIOrLiteral: "!isBlank({x})",
}
# xsd:integer and the types derived from it, as value ranges (Oxigraph stores them all as xsd:integer)
_INTEGER_RANGES: Final[dict[URIRef, tuple[int | None, int | None]]] = {
    XSD.integer: (None, None),
    XSD.nonNegativeInteger: (0, None),
    XSD.positiveInteger: (1, None),
    XSD.nonPositiveInteger: (None, 0),
    XSD.negativeInteger: (None, -1),
    XSD.long: (-(2**63), 2**63 - 1),
    XSD.int: (-(2**31), 2**31 - 1),
    XSD.short: (-(2**15), 2**15 - 1),
    XSD.byte: (-128, 127),
    XSD.unsignedLong: (0, 2**64 - 1),
    XSD.unsignedInt: (0, 2**32 - 1),
    XSD.unsignedShort: (0, 2**16 - 1),
    XSD.unsignedByte: (0, 255),
}
_CASTABLE: Final = {XSD.decimal, XSD.double, XSD.float, XSD.boolean, XSD.date, XSD.dateTime, XSD.time}


def _iri(term: URIRef) -> str:
    if re.search(r"[\s<>\"{}|\\^`]", str(term)):
        raise UnsupportedShapeError(f"malformed IRI in the shapes graph: {str(term)!r}")
    return f"<{term}>"


def _data_namespaces() -> Graph:
    """Return a graph carrying the prefixes a loaded SourceGraph binds (for pySHACL-style messages)."""
    return bind_prefixes(Graph())


@dataclass
class _Compiler:
    sg: Graph
    classes: set[URIRef] = field(default_factory=set)
    counter: itertools.count[int] = field(default_factory=itertools.count)
    data_ns: Graph = field(default_factory=_data_namespaces)

    # -- helpers -----------------------------------------------------------------------------
    def var(self) -> str:
        return f"?_v{next(self.counter)}"

    def name(self, node: Node) -> str:
        return str(node) if isinstance(node, URIRef) else f"blank node {stringify_node(self.sg, node)}"

    def refuse(self, shape: Node, what: str) -> UnsupportedShapeError:
        return UnsupportedShapeError(
            f"shape {self.name(shape)}: {what} is not supported by the SPARQL validator "
            "(neuromech.shacl_sparql); validate with pySHACL or extend the compiler"
        )

    def one(self, shape: Node, predicate: URIRef) -> Node | None:
        values = list(self.sg.objects(shape, predicate))
        if len(values) > 1:
            raise self.refuse(shape, f"more than one {self.sg.qname(predicate)}")
        return values[0] if values else None

    def items(self, node: Node) -> list[Node]:
        return list(RdfList(self.sg, node))

    def str_(self, node: Node) -> str:
        return stringify_node(self.sg, node)

    def check_supported(self, shape: Node) -> None:
        for predicate in set(self.sg.predicates(shape, None)):
            if str(predicate).startswith(str(SH)) and predicate not in _SUPPORTED:
                raise self.refuse(shape, f"constraint component {self.sg.qname(predicate)}")  # type: ignore[arg-type]
        disjoint = self.one(shape, SH.qualifiedValueShapesDisjoint)
        if disjoint is not None and disjoint.toPython() is True:  # type: ignore[attr-defined]
            raise self.refuse(shape, "sh:qualifiedValueShapesDisjoint true")

    def deactivated(self, shape: Node) -> bool:
        flag = self.one(shape, SH.deactivated)
        return flag is not None and flag.toPython() is True  # type: ignore[attr-defined]

    def count(self, shape: Node, predicate: URIRef) -> int | None:
        value = self.one(shape, predicate)
        if value is None:
            return None
        if not isinstance(value, Literal) or not isinstance(value.toPython(), int):
            raise self.refuse(shape, f"a non-integer {self.sg.qname(predicate)}")
        return int(value.toPython())

    # -- paths and targets --------------------------------------------------------------------
    def path(self, shape: Node, node: Node) -> str:
        if isinstance(node, URIRef):
            return _iri(node)
        if (self.sg.value(node, RDF.first)) is not None:
            return "(" + "/".join(self.path(shape, step) for step in self.items(node)) + ")"
        for predicate, template in (
            (SH.alternativePath, None),
            (SH.inversePath, "^{}"),
            (SH.zeroOrMorePath, "({})*"),
            (SH.oneOrMorePath, "({})+"),
            (SH.zeroOrOnePath, "({})?"),
        ):
            inner = self.sg.value(node, predicate)
            if inner is None:
                continue
            if template is None:
                return "(" + "|".join(self.path(shape, alt) for alt in self.items(inner)) + ")"
            return template.format(self.path(shape, inner))
        raise self.refuse(shape, f"the path {self.str_(node)}")

    def targets(self, shape: Node) -> str | None:
        parts: list[str] = []
        target_classes = list(self.sg.objects(shape, SH.targetClass))
        if any((shape, RDF.type, cls) in self.sg for cls in (RDFS.Class, OWL.Class)):
            raise self.refuse(shape, "an implicit class target (a shape that is also a class)")
        if target_classes:
            for cls in target_classes:
                if not isinstance(cls, URIRef):
                    raise self.refuse(shape, "a blank node sh:targetClass")
                self.classes.add(cls)
            roots = " ".join(sorted(map(str, target_classes)))
            parts.append(f"\x00target:{self.var()} {roots}\x00")
        nodes = list(self.sg.objects(shape, SH.targetNode))
        if nodes:
            if any(isinstance(n, BNode) for n in nodes):
                raise self.refuse(shape, "a blank node sh:targetNode")
            parts.append("{ VALUES ?this { " + " ".join(_sparql_term(n) for n in nodes) + " } }")  # type: ignore[arg-type]
        for p in self.sg.objects(shape, SH.targetSubjectsOf):
            parts.append(f"{{ ?this {_iri(p)} [] }}")  # type: ignore[arg-type]
        for p in self.sg.objects(shape, SH.targetObjectsOf):
            parts.append(f"{{ [] {_iri(p)} ?this }}")  # type: ignore[arg-type]
        if not parts:
            return None
        return f"{{ SELECT DISTINCT ?this WHERE {{ {_FOCUS} {' UNION '.join(parts)} }} }}"

    # -- conformance of a node to a shape, as a SPARQL expression ---------------------------
    def conforms(self, shape: Node, x: str, stack: tuple[Node, ...] = ()) -> str:
        if shape in stack:
            raise self.refuse(shape, "a recursive shape reference")
        stack = (*stack, shape)
        self.check_supported(shape)
        if self.deactivated(shape):
            return "true"
        for predicate in _TOP_ONLY:
            if (shape, predicate, None) in self.sg:
                raise self.refuse(shape, f"{self.sg.qname(predicate)} inside sh:or/sh:and/sh:not/sh:node")
        path_node = self.one(shape, SH.path)
        if path_node is None:
            return self.node_conditions(shape, x, stack)
        path = self.path(shape, path_node)
        parts: list[str] = []
        for predicate in _COUNT_COMPONENTS:
            n = self.count(shape, predicate)
            if n is None:
                continue
            need = n if predicate == SH.minCount else n + 1
            if need > _MAX_NESTED_COUNT:
                raise self.refuse(shape, f"a nested {self.sg.qname(predicate)} above {_MAX_NESTED_COUNT - 1}")
            if need == 0:
                continue
            vs = [self.var() for _ in range(need)]
            distinct = " && ".join(f"!sameTerm({a}, {b})" for a, b in itertools.combinations(vs, 2))
            body = " ".join(f"{x} {path} {v} ." for v in vs) + (f" FILTER({distinct})" if distinct else "")
            parts.append(f"EXISTS {{ {body} }}" if predicate == SH.minCount else f"NOT EXISTS {{ {body} }}")
        v = self.var()
        values = self.node_conditions(shape, v, stack)
        if values != "true":
            parts.append(f"NOT EXISTS {{ {x} {path} {v} . FILTER(!({values})) }}")
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def node_conditions(self, shape: Node, x: str, stack: tuple[Node, ...]) -> str:
        parts = [self.value_condition(shape, p, x, stack) for p in _VALUE_COMPONENTS if (shape, p, None) in self.sg]
        for prop in self.sg.objects(shape, SH.property):
            parts.append(self.conforms(prop, x, stack))
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def value_condition(self, shape: Node, predicate: URIRef, x: str, stack: tuple[Node, ...] = ()) -> str:
        """Return a SPARQL expression true when node ``x`` satisfies ``shape``'s ``predicate`` constraint."""
        arg = self.one(shape, predicate)
        assert arg is not None
        method: Callable[[Node, Node, str, tuple[Node, ...]], str] = getattr(self, _CONDITIONS[predicate])
        return method(shape, arg, x, stack)

    def c_class(self, shape: Node, arg: Node, x: str, _stack: tuple[Node, ...]) -> str:
        if not isinstance(arg, URIRef):
            raise self.refuse(shape, "a blank node sh:class")
        self.classes.add(arg)
        c = self.var()
        return f"EXISTS {{ {x} a {c} . VALUES {c} {{ \x00classes:{arg}\x00 }} }}"

    def c_node_kind(self, shape: Node, arg: Node, x: str, _stack: tuple[Node, ...]) -> str:
        if arg not in _NODE_KINDS:
            raise self.refuse(shape, f"sh:nodeKind {self.str_(arg)}")
        return _NODE_KINDS[arg].format(x=x)  # type: ignore[index]

    def c_pattern(self, shape: Node, arg: Node, x: str, _stack: tuple[Node, ...]) -> str:
        flags = self.one(shape, SH.flags)
        flag_text = f", {_sparql_term(Literal(str(flags)))}" if flags is not None else ""
        return f"(!isBlank({x}) && REGEX(STR({x}), {_sparql_term(Literal(str(arg)))}{flag_text}))"

    def c_min_length(self, shape: Node, _arg: Node, x: str, _stack: tuple[Node, ...]) -> str:
        n = self.count(shape, SH.minLength)
        return "true" if n == 0 else f"(!isBlank({x}) && STRLEN(STR({x})) >= {n})"

    def c_max_length(self, shape: Node, _arg: Node, x: str, _stack: tuple[Node, ...]) -> str:
        return f"(!isBlank({x}) && STRLEN(STR({x})) <= {self.count(shape, SH.maxLength)})"

    def c_language_in(self, _shape: Node, arg: Node, x: str, _stack: tuple[Node, ...]) -> str:
        ranges = {str(r).lower() for r in self.items(arg)}
        if "*" in ranges:
            return f'(isLiteral({x}) && LANG({x}) != "")'
        listed = ", ".join(_sparql_term(Literal(r)) for r in sorted(ranges))
        first = f'LCASE(STRBEFORE(CONCAT(LANG({x}), "-"), "-"))'
        return f'(isLiteral({x}) && LANG({x}) != "" && (LCASE(LANG({x})) IN ({listed}) || {first} IN ({listed})))'

    def c_in(self, _shape: Node, arg: Node, x: str, _stack: tuple[Node, ...]) -> str:
        members = self.items(arg)
        if not members:
            return "false"
        return "(" + " || ".join(f"sameTerm({x}, {_sparql_term(m)})" for m in members) + ")"  # type: ignore[arg-type]

    def c_or(self, _shape: Node, arg: Node, x: str, stack: tuple[Node, ...]) -> str:
        members = self.items(arg)
        return "(" + " || ".join(self.conforms(m, x, stack) for m in members) + ")" if members else "false"

    def c_and(self, _shape: Node, arg: Node, x: str, stack: tuple[Node, ...]) -> str:
        members = self.items(arg)
        return "(" + " && ".join(self.conforms(m, x, stack) for m in members) + ")" if members else "true"

    def c_not(self, _shape: Node, arg: Node, x: str, stack: tuple[Node, ...]) -> str:
        return f"!({self.conforms(arg, x, stack)})"

    def c_node(self, _shape: Node, arg: Node, x: str, stack: tuple[Node, ...]) -> str:
        return self.conforms(arg, x, stack)

    def c_datatype(self, shape: Node, arg: Node, x: str, _stack: tuple[Node, ...]) -> str:
        return self.datatype(shape, arg, x)

    def datatype(self, shape: Node, datatype: Node, x: str) -> str:
        if not isinstance(datatype, URIRef):
            raise self.refuse(shape, "a blank node sh:datatype")
        if datatype == RDF.langString:
            return f'(isLiteral({x}) && LANG({x}) != "")'
        if datatype == RDFS.Literal:
            return f"isLiteral({x})"
        if datatype == XSD.string:
            return f'(isLiteral({x}) && LANG({x}) = "" && sameTerm(DATATYPE({x}), {_iri(XSD.string)}))'
        if datatype in _INTEGER_RANGES:
            low, high = _INTEGER_RANGES[datatype]
            value = f'{_iri(XSD.integer)}(REPLACE(STR({x}), "^\\\\s+|\\\\s+$", ""))'
            tests = [f"BOUND({x})"] + [f"{value} {op} {n}" for op, n in ((">=", low), ("<=", high)) if n is not None]
            types = f"sameTerm(DATATYPE({x}), {_iri(XSD.integer)}) || sameTerm(DATATYPE({x}), {_iri(datatype)})"
            return f"(isLiteral({x}) && ({types}) && COALESCE({' && '.join(tests)}, false))"
        typed = f"(isLiteral({x}) && sameTerm(DATATYPE({x}), {_iri(datatype)})"
        if datatype in _CASTABLE:
            return f"{typed} && COALESCE(sameTerm(DATATYPE({_iri(datatype)}(STR({x}))), {_iri(datatype)}), false))"
        return typed + ")"

    # -- default messages (pySHACL's, for shapes without sh:message) -------------------------
    def default_message(self, shape: Node, predicate: URIRef, path: Node | None, arg: Node | None) -> str:
        """Return pySHACL's message for ``predicate``, with ``{focus}``/``{value}`` left to fill in."""
        if predicate in _COUNT_COMPONENTS:
            which = "Less" if predicate == SH.minCount else "More"
            return f"{which} than {self.count(shape, predicate)} values on {{focus}}->{self.str_(path)}"  # type: ignore[arg-type]
        assert arg is not None
        if predicate in (SH.minLength, SH.maxLength):
            op = ">=" if predicate == SH.minLength else "<="
            return f"String length not {op} {stringify_node(self.data_ns, arg)}"
        if predicate == SH["in"]:
            # pySHACL lists the members of a Python set: built the same way, in its (per-process) order
            members = set()
            for member in self.items(arg):
                members.add(member)
            return f"Value {{value}} not in list {[self.str_(m) for m in members]}"
        if predicate in (SH["or"], SH["and"]):
            listed = " , ".join(self.str_(member) for member in self.items(arg))
            how = "one or more shapes" if predicate == SH["or"] else "all shapes"
            return f"Node {{value}} must conform to {how} in {listed}"
        shown = str(arg) if predicate == SH.pattern else self.str_(arg)
        return _DEFAULT_MESSAGES[predicate].replace("{arg}", shown)

    # -- top-level checks ---------------------------------------------------------------------
    def compile_shape(self, shape: Node, target: str) -> list[Check]:
        self.check_supported(shape)
        if self.deactivated(shape):
            return []
        severity = self.one(shape, SH.severity) or SH.Violation
        messages = tuple(sorted(str(m) for m in self.sg.objects(shape, SH.message)))
        path_node = self.one(shape, SH.path)
        path = self.path(shape, path_node) if path_node is not None else None
        if path is not None and (shape, SH.property, None) in self.sg:
            raise self.refuse(shape, "sh:property inside a property shape")
        base: dict[str, object] = {"shape": shape, "severity": severity, "path": path_node, "messages": messages}
        checks = self.value_checks(shape, target, path, base) + self.count_checks(shape, target, path, base)
        checks += self.qualified(shape, target, path, base)
        for constraint in self.sg.objects(shape, SH.sparql):
            if path is not None:
                raise self.refuse(shape, "sh:sparql on a property shape")
            checks += self.sparql(shape, constraint, target, severity)
        for prop in self.sg.objects(shape, SH.property):
            checks += self.compile_shape(prop, target)
        return checks

    def value_checks(self, shape: Node, target: str, path: str | None, base: dict[str, object]) -> list[Check]:
        checks: list[Check] = []
        for predicate, component in _VALUE_COMPONENTS.items():
            if (shape, predicate, None) not in self.sg:
                continue
            default = self.default_message(shape, predicate, base["path"], self.one(shape, predicate))  # type: ignore[arg-type]
            if path is None:
                cond = self.value_condition(shape, predicate, "?this")
                query = f"SELECT DISTINCT ?this WHERE {{ {target} FILTER(!({cond})) }}"
                reports = "focus"
            else:
                cond = self.value_condition(shape, predicate, "?value")
                query = f"SELECT DISTINCT ?this ?value WHERE {{ {target} ?this {path} ?value . FILTER(!({cond})) }}"
                reports = "value"
            merge = None if path is None else Merge("value", target, f"?this {path} ?value .", f"!({cond})")
            checks.append(
                Check(component=component, query=query, reports=reports, default_message=default, merge=merge, **base)  # type: ignore[arg-type]
            )
        return checks

    def count_checks(self, shape: Node, target: str, path: str | None, base: dict[str, object]) -> list[Check]:
        checks: list[Check] = []
        for predicate, component in _COUNT_COMPONENTS.items():
            n = self.count(shape, predicate)
            if n is None or (predicate == SH.minCount and n == 0):
                continue
            if path is None:
                raise self.refuse(shape, f"{self.sg.qname(predicate)} on a node shape")
            merge = None
            if predicate == SH.minCount and n == 1:
                query = f"SELECT DISTINCT ?this WHERE {{ {target} FILTER NOT EXISTS {{ ?this {path} ?_any }} }}"
                merge = Merge("min", target, f"?this {path} ?_v", count=1)
            elif predicate == SH.minCount:
                query = (
                    f"SELECT ?this WHERE {{ {target} OPTIONAL {{ ?this {path} ?_v }} }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT ?_v) < {n})"
                )
            elif n == 0:
                query = f"SELECT DISTINCT ?this WHERE {{ {target} ?this {path} ?_v }}"
            else:
                query = (
                    f"SELECT ?this WHERE {{ {target} ?this {path} ?_v }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT ?_v) > {n})"
                )
                merge = Merge("max", target, f"?this {path} ?_v", count=n)
            default = self.default_message(shape, predicate, base["path"], None)  # type: ignore[arg-type]
            checks.append(
                Check(component=component, query=query, reports="none", default_message=default, merge=merge, **base)  # type: ignore[arg-type]
            )
        return checks

    def qualified(self, shape: Node, target: str, path: str | None, base: dict[str, object]) -> list[Check]:
        value_shape = self.one(shape, SH.qualifiedValueShape)
        if value_shape is None:
            return []
        if path is None:
            raise self.refuse(shape, "sh:qualifiedValueShape on a node shape")
        low, high = self.count(shape, SH.qualifiedMinCount), self.count(shape, SH.qualifiedMaxCount)
        counts = "".join(f" {name} {n}" for name, n in (("MinCount", low), ("MaxCount", high)) if n is not None)
        default = f"Focus node does not conform to shape{counts}: {self.str_(value_shape)}"
        cond = self.conforms(value_shape, "?_q")
        checks: list[Check] = []
        for n, op, component in (
            (low, "<", SH.QualifiedMinCountConstraintComponent),
            (high, ">", SH.QualifiedMaxCountConstraintComponent),
        ):
            if n is None:
                continue
            query = (
                f"SELECT ?this WHERE {{ {target} OPTIONAL {{ ?this {path} ?_q . FILTER({cond}) }} }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?_q) {op} {n})"
            )
            checks.append(Check(component=component, query=query, reports="none", default_message=default, **base))  # type: ignore[arg-type]
        return checks

    def sparql(self, shape: Node, constraint: Node, target: str, severity: Node) -> list[Check]:
        self.check_supported(constraint)
        if self.deactivated(constraint):
            return []
        select = self.one(constraint, SH.select)
        if not isinstance(select, Literal):
            raise self.refuse(shape, f"the SPARQL constraint {self.name(constraint)} without one sh:select string")
        text = str(select)
        for banned in ("$PATH", "$shapesGraph", "$currentShape", "?failure"):
            if banned in text:
                raise self.refuse(shape, f"{banned} in the SPARQL constraint {self.name(constraint)}")
        prefixes: dict[str, str] = {}
        for source in self.sg.objects(constraint, SH.prefixes):
            for declaration in self.sg.objects(source, SH.declare):
                prefixes[str(self.sg.value(declaration, SH.prefix))] = str(self.sg.value(declaration, SH.namespace))
        head = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(prefixes.items()))
        brace = next(i for i, ch in sparql_braces(text) if ch == "{")
        query = f"{head}{text[: brace + 1]} {target} {text[brace + 1 :]}"
        if not re.search(r"[?$]this\b|\*", text[:brace]):
            raise self.refuse(shape, f"the SPARQL constraint {self.name(constraint)} not projecting $this")
        # pySHACL reports the constraint's messages and the shape's
        own = {str(m) for s in (constraint, shape) for m in self.sg.objects(s, SH.message)}
        messages = tuple(sorted(own))
        return [
            Check(
                shape=shape,
                component=SH.SPARQLConstraintComponent,
                severity=severity,  # type: ignore[arg-type]
                query=query,
                reports="focus",
                constraint=constraint,
                messages=messages,
                sparql=True,
            )
        ]


def _shapes_with_targets(sg: Graph) -> list[Node]:
    predicates = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
    found = {s for p in predicates for s in sg.subjects(p, None)}
    return sorted(found, key=str)


@dataclass(frozen=True)
class CompiledShapes:
    """The checks of one shapes graph and the classes whose subclass sets they need."""

    checks: tuple[Check, ...]
    classes: frozenset[URIRef]

    def run(self, store: Store, focus: Collection[URIRef] | None = None) -> list[ShaclResult]:
        """Run every check on ``store`` (optionally only for the focus nodes in ``focus``)."""
        closure = self._class_closure(store)
        focus_block = ""
        if focus is not None:
            if not focus:
                return []
            for node in focus:
                if not isinstance(node, URIRef) or re.search(r"[\s<>\"{}|\\^`]", str(node)):
                    raise ValueError(f"focus nodes must be well-formed IRIs: {node!r}")
            focus_block = "VALUES ?this { " + " ".join(_sparql_term(n) for n in sorted(focus)) + " }"

        def classes(match: re.Match[str]) -> str:
            return " ".join(_sparql_term(c) for c in closure[URIRef(match.group(1))])

        def target(match: re.Match[str]) -> str:
            # Oxigraph joins a VALUES block of classes with every instance before it meets the
            # focus nodes' VALUES (60 ms a check at 10^6 triples); a FILTER on the focus nodes'
            # types takes 0.2 ms. Without focus nodes, the VALUES join is the faster plan.
            var, *roots = match.group(1).split(" ")
            terms = [_sparql_term(c) for c in sorted({c for root in roots for c in closure[URIRef(root)]})]
            if focus is not None:
                return f"{{ ?this a {var} FILTER({var} IN ({', '.join(terms)})) }}"
            return f"{{ VALUES {var} {{ {' '.join(terms)} }} ?this a {var} }}"

        # a rebuild's few focus nodes are looked up check by check (0.2 ms each); a merged query
        # would read each path whole
        jobs = self._merged_jobs if focus is None else [_Job(c.query, (i,)) for i, c in enumerate(self.checks)]
        queries = [
            _CLASS_MARK.sub(classes, _TARGET_MARK.sub(target, job.query.replace(_FOCUS, focus_block))) for job in jobs
        ]
        rows: list[list[dict[str, Term | None]]] = [[] for _ in self.checks]
        for job, table in zip(jobs, side_by_side(store, store.select, queries), strict=True):
            for index, row in job.rows(table.dicts()):
                rows[index].append(row)
        results: list[ShaclResult] = []
        for check, found in zip(self.checks, rows, strict=True):
            results += _results(check, found)
        return results

    @cached_property
    def _merged_jobs(self) -> list[_Job]:
        return merged_queries(self.checks)

    @cached_property
    def predicates_read(self) -> frozenset[str] | None:
        """The predicates the checks can read, or None when a check can read any predicate.

        A rebuild validates with the inferred triples of these predicates set aside, instead of
        the whole inferred graph (:meth:`~neuromech.store.OxigraphStore.without_inferred`).
        The compiler writes every predicate as an IRI (no variable predicate, no negated
        property set: ``tests/test_shacl_sparql.py`` checks it on every compiled check), so for
        its checks the IRIs in the text are a superset of what they read; ``rdf:type`` and
        ``rdfs:subClassOf`` (targets, ``sh:class``, the class sets) are always read. A
        ``sh:sparql`` constraint is parsed (rdflib) for its predicates.
        """
        read = {str(RDF.type), str(RDFS.subClassOf)}
        for check in self.checks:
            if not check.sparql:
                read.update(_IRI_IN_TEXT.findall(check.query))
                continue
            found = predicates_read(parseable(check.query))
            if ANY_PREDICATE in found:
                return None
            read |= found
        return frozenset(read)

    def _class_closure(self, store: Store) -> dict[URIRef, list[URIRef]]:
        closure: dict[URIRef, set[URIRef]] = {c: {c} for c in self.classes}
        if self.classes:
            roots = " ".join(_sparql_term(c) for c in sorted(self.classes))
            query = (
                "SELECT DISTINCT ?root ?class WHERE { VALUES ?root { " + roots + " } "
                "?class <http://www.w3.org/2000/01/rdf-schema#subClassOf>* ?root . FILTER(isIRI(?class)) }"
            )
            for row in store.select(query).rows:
                root, cls = row
                if isinstance(root, URIRef) and isinstance(cls, URIRef):
                    closure[root].add(cls)
        return {root: sorted(classes) for root, classes in closure.items()}


@dataclass(frozen=True)
class _Job:
    """One query run by :meth:`CompiledShapes.run`: a check's own, or several checks' merged."""

    query: str
    members: tuple[int, ...]  # the checks' indexes in CompiledShapes.checks
    kind: str = "single"  # "single", or the Merge kind: "value", "min", "max"

    def rows(self, table: Iterable[Mapping[str, Term | None]]) -> Iterator[tuple[int, dict[str, Term | None]]]:
        """Yield (check index, row) for each violation the query's ``table`` reports."""
        for row in table:
            if self.kind == "single":
                yield self.members[0], dict(row)
            elif self.kind == "value":
                for k, index in enumerate(self.members):
                    flag = row.get(f"_f{k}")
                    if isinstance(flag, Literal) and flag.toPython() is True:
                        yield index, {"this": row.get("this"), "value": row.get("value")}
            else:
                key = row.get("_k")
                assert isinstance(key, Literal)
                yield self.members[int(key.toPython())], {"this": row.get("this")}


def merged_queries(checks: Sequence[Check]) -> list[_Job]:
    """Return the queries that run ``checks``: one per check, but one for each group of mergeable checks.

    Checks with the same target and :class:`Merge` kind share one query, which reads the target
    once and each path once. Value checks become a ``UNION`` with a branch per path, each of
    its checks a flag (``BIND(COALESCE(test, false) AS ?_fK)``: an error is no violation, as in
    the check's own ``FILTER``); ``sh:maxCount N`` checks one ``GROUP BY ?this ?_k`` over a
    ``UNION`` of their paths; ``sh:minCount 1`` checks the target's (node, check) pairs
    ``MINUS`` that ``UNION``. At 10^6 triples five class checks on the findings took 1.4 s
    one by one and 0.5 s merged, six ``sh:maxCount 1`` 1.9 s and 1.4 s, six
    ``sh:minCount 1`` 0.9 s and 0.66 s. A path with a step that can match zero times is not
    merged (the ``UNION`` could read it from every node).
    """
    jobs: list[_Job] = []
    groups: dict[tuple[str, int, str], list[tuple[int, Merge]]] = {}
    for index, check in enumerate(checks):
        merge = check.merge
        if merge is None or _ZERO_LENGTH.search(merge.pattern):
            jobs.append(_Job(check.query, (index,)))
        else:
            groups.setdefault((merge.kind, merge.count, merge.target), []).append((index, merge))
    for (kind, count, target), members in groups.items():
        if len(members) == 1:
            index, _ = members[0]
            jobs.append(_Job(checks[index].query, (index,)))
            continue
        merges = [merge for _, merge in members]
        if kind == "value":
            by_pattern: dict[str, list[int]] = {}
            for k, merge in enumerate(merges):
                by_pattern.setdefault(merge.pattern, []).append(k)
            branches = " UNION ".join(
                "{ "
                + pattern
                + "".join(f" BIND(COALESCE({merges[k].test}, false) AS ?_f{k})" for k in ks)
                + f" FILTER({' || '.join(f'?_f{k}' for k in ks)}) }}"
                for pattern, ks in by_pattern.items()
            )
            flags = " ".join(f"?_f{k}" for k in range(len(merges)))
            query = f"SELECT DISTINCT ?this ?value {flags} WHERE {{ {target} {branches} }}"
        else:
            branches = " UNION ".join(f"{{ {merge.pattern} BIND({k} AS ?_k) }}" for k, merge in enumerate(merges))
            if kind == "min":
                keys = " ".join(str(k) for k in range(len(merges)))
                query = f"SELECT ?this ?_k WHERE {{ {target} VALUES ?_k {{ {keys} }} MINUS {{ {branches} }} }}"
            else:
                query = (
                    f"SELECT ?this ?_k WHERE {{ {target} {branches} }} "
                    f"GROUP BY ?this ?_k HAVING (COUNT(DISTINCT ?_v) > {count})"
                )
        jobs.append(_Job(query, tuple(index for index, _ in members), kind))
    return jobs


# a path with a step that can match zero times (`(p)*`, `(p)?` as the compiler writes them)
_ZERO_LENGTH: Final = re.compile(r"\)[*?]")


def parseable(query: str) -> str:
    """Return a check's query with its markers filled in with placeholders, for a SPARQL parser."""
    query = query.replace(_FOCUS, "")
    query = _TARGET_MARK.sub(lambda m: f"{{ ?this a {m.group(1).split(' ')[0]} }}", query)
    return _CLASS_MARK.sub("<urn:neuromech:class>", query)


def _substitute(message: str, bindings: Mapping[str, Term | None]) -> str:
    for name, term in bindings.items():
        if term is not None:
            pieces = re.split(r"\{[?$]" + re.escape(name) + r"\}", message)
            message = str(term).join(pieces)
    return message


def _results(check: Check, rows: Iterable[Mapping[str, Term | None]]) -> Iterable[ShaclResult]:
    seen: set[tuple[tuple[str, Term | None], ...]] = set()
    value: Term | None
    for row in rows:
        focus = row.get("this")
        if focus is None:
            continue
        if check.sparql:
            key = tuple(sorted(row.items(), key=lambda kv: kv[0]))
            if key in seen:
                continue
            seen.add(key)
            value = row.get("value") or focus
            path = row.get("path") or check.path
            bound = {**row, "this": focus, "path": path if isinstance(path, URIRef) else None, "value": value}
            messages = tuple(_substitute(m, bound) for m in check.messages)
        else:
            value = {"value": row.get("value"), "focus": focus, "none": None}[check.reports]
            path = check.path
            messages = check.messages or (_default(check.default_message, focus, value),)
        yield ShaclResult(focus, check.shape, check.component, check.severity, messages, path, value, check.constraint)


_NS_FOR_MESSAGES: Final = _data_namespaces()


def _default(template: str, focus: Term, value: Term | None) -> str:
    def show(term: Term | None) -> str:
        if term is None or isinstance(term, BNode):
            return str(term)
        return stringify_node(_NS_FOR_MESSAGES, term)

    return template.replace("{focus}", show(focus)).replace("{value}", show(value))


_CACHE: dict[frozenset[tuple[Node, Node, Node]], CompiledShapes] = {}


def compile_shapes(shapes: Graph) -> CompiledShapes:
    """Compile ``shapes`` into SPARQL checks (cached per shapes graph content).

    Raises:
        UnsupportedShapeError: naming the shape and the target, path or component that the
            compiler cannot translate, so that no constraint is ever skipped silently.
    """
    key = frozenset(shapes)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    compiler = _Compiler(shapes)
    checks: list[Check] = []
    for shape in _shapes_with_targets(shapes):
        target = compiler.targets(shape)
        if target is not None:
            checks += compiler.compile_shape(shape, target)
    compiled = CompiledShapes(tuple(checks), frozenset(compiler.classes))
    if len(_CACHE) >= 8:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = compiled
    return compiled


def run_shapes(store: Store, shapes: Graph, focus: Collection[URIRef] | None = None) -> list[ShaclResult]:
    """Validate the union graph of ``store`` against ``shapes``; see :func:`compile_shapes`."""
    return compile_shapes(shapes).run(store, focus)


__all__ = [
    "Check",
    "CompiledShapes",
    "ShaclResult",
    "UnsupportedShapeError",
    "compile_shapes",
    "run_shapes",
]
