"""Checks that turn user-supplied text into well-formed RDF terms, or say clearly why not."""

from __future__ import annotations

import re

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from neuromech.errors import UsageError
from neuromech.namespaces import CONVERTER

# RFC 3987 forbids these in an IRI; SPARQL's IRIREF production forbids the same set.
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x20]+$")
_CURIE = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\-]*):([^\s<>\"{}|\\^`]*)$")


def is_iri(text: str) -> bool:
    """Return whether ``text`` is an absolute IRI with a scheme and no forbidden characters."""
    return bool(_IRI.match(text)) and ("://" in text or text.startswith("urn:"))


def parse_iri(text: str, what: str = "value") -> URIRef:
    """Return ``text`` as an IRI term, expanding a known CURIE.

    Raises:
        UsageError: when ``text`` is neither an absolute IRI nor a CURIE with a known prefix.
    """
    candidate = text.strip()
    if candidate.startswith("<") and candidate.endswith(">"):
        candidate = candidate[1:-1]
    if is_iri(candidate):
        return URIRef(candidate)
    match = _CURIE.match(candidate)
    if match and match.group(1) in CONVERTER.prefix_map:
        expanded = CONVERTER.expand(candidate)
        if expanded and is_iri(expanded):
            return URIRef(expanded)
    raise UsageError(
        f"malformed IRI for {what}: {text!r} (give an absolute IRI such as "
        "https://w3id.org/neuromech/entity/amygdala or a CURIE with a known prefix such as nme:amygdala)"
    )


def looks_like_reference(text: str) -> bool:
    """Return whether ``text`` is written as an IRI or CURIE rather than as a label."""
    candidate = text.strip()
    if candidate.startswith("<") or "://" in candidate:
        return True
    match = _CURIE.match(candidate)
    return match is not None and match.group(1) in CONVERTER.prefix_map


def parse_literal(text: str, datatype: str, what: str = "value") -> Literal:
    """Return ``text`` as a literal of ``datatype`` (``string`` or ``integer``).

    Raises:
        UsageError: when ``text`` is not a valid lexical form of the datatype.
    """
    if datatype == "string":
        if "\x00" in text:
            raise UsageError(f"malformed literal for {what}: NUL characters are not allowed")
        return Literal(text)
    if datatype == "integer":
        if not re.fullmatch(r"[+-]?\d+", text.strip()):
            raise UsageError(f"malformed integer for {what}: {text!r}")
        return Literal(int(text), datatype=XSD.integer)
    raise UsageError(f"unknown parameter datatype {datatype!r}")
