"""Curation checks against the source reviews: every quote must appear verbatim."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, Literal, URIRef

from neuromech.errors import UsageError
from neuromech.namespaces import NM, compress

# The chinaXiv stamp is split into one-character lines inside paragraphs of the NSSI review;
# it is removed so that a quote spanning a page break still matches.
_ARTEFACTS = (re.compile(r"chinaXiv:\d{6}\.\d{5}v\d"),)


def normalise(text: str) -> str:
    """Drop all whitespace and known extraction artefacts, so line breaks never matter."""
    collapsed = "".join(text.split())
    for pattern in _ARTEFACTS:
        collapsed = pattern.sub("", collapsed)
    return collapsed


@dataclass(frozen=True)
class QuoteProblem:
    """A quote not found verbatim in the text of its review."""

    node: str
    review: str
    source_file: str
    quote: str

    def render(self) -> str:
        """Return the problem as one line."""
        return f"{self.node}: quote not found in {self.source_file} ({self.review}): {self.quote[:60]!r}"


@dataclass(frozen=True)
class QuoteReport:
    """Outcome of :func:`check_quotes`."""

    checked: int
    problems: list[QuoteProblem]


def check_quotes(graph: Graph, seeds_dir: Path) -> QuoteReport:
    """Check that every ``nm:quote`` occurs in its review's seed text (whitespace aside).

    Raises:
        UsageError: when ``seeds_dir`` or a review's source file is missing.
    """
    if not seeds_dir.is_dir():
        raise UsageError(f"seed corpus not found at {seeds_dir}; pass --seeds DIR")
    texts: dict[URIRef, tuple[str, str]] = {}
    problems: list[QuoteProblem] = []
    checked = 0
    for node, quote in sorted(graph.subject_objects(NM.quote)):
        review = next(iter(graph.objects(node, NM.from_review)), None)
        if not isinstance(review, URIRef) or not isinstance(quote, Literal):
            continue
        if review not in texts:
            source = next(iter(graph.objects(review, NM.source_file)), None)
            if source is None:
                raise UsageError(f"review {compress(str(review))} has no nm:source_file")
            path = seeds_dir / str(source)
            if not path.is_file():
                raise UsageError(f"source file {path} of review {compress(str(review))} not found")
            texts[review] = (str(source), normalise(path.read_text(encoding="utf-8")))
        checked += 1
        file_name, text = texts[review]
        if normalise(str(quote)) not in text:
            problems.append(QuoteProblem(compress(str(node)), compress(str(review)), file_name, str(quote)))
    return QuoteReport(checked, problems)
