"""Where in a SPARQL text a parameter's value can be bound: the sub-selects that project it.

Oxigraph evaluates a sub-select on its own and joins its answers afterwards: a ``VALUES``
block opening the query's top-level group does not reach inside it. A sub-select that
projects a parameter and computes a table per value (``GROUP BY ?a ?entity`` over every
condition, when the query wants one) is then evaluated for every value and most of it thrown
away (``shared-mechanisms`` at 10^6 triples: 1.1 s bound at the top only, 0.44 s bound inside
too; docs/performance.md, pass 17). :func:`projecting_sub_selects` finds the groups where the
same block can be repeated without changing the answers.

It works on the text with comments, string literals and IRIs blanked out
(:func:`masked`), so a brace, a parenthesis or a keyword inside them is never taken for
syntax.
"""

from __future__ import annotations

import re

_IRI = re.compile(r"<[^\s<>\"{}|^`\\]*>")
#: the characters that may open an opaque span or be a brace: the scanners jump between them
SIGNIFICANT = re.compile(r"[#\"'<{}]")
_SELECT = re.compile(r"(?<![?$:\w])SELECT\b", re.IGNORECASE)
_MODIFIER = re.compile(r"\b(LIMIT|OFFSET)\b", re.IGNORECASE)


def opaque_end(query: str, index: int) -> int:
    """Return where the comment, string literal or IRI starting at ``index`` ends (``index`` if none does).

    Braces, parentheses and keywords inside such a span are not syntax.
    """
    char = query[index]
    if char == "#":
        newline = query.find("\n", index)
        return len(query) if newline < 0 else newline
    if char in "\"'":
        stop = index + 1
        while stop < len(query) and query[stop] != char:
            stop += 2 if query[stop] == "\\" else 1
        return min(stop + 1, len(query))
    if char == "<" and (iri := _IRI.match(query, index)):
        return iri.end()
    return index


def masked(query: str) -> str:
    """Return ``query`` with every comment, string literal and IRI replaced by spaces.

    The result has the same length and keeps its line breaks, so an index into it is an index
    into ``query``.
    """
    pieces: list[str] = []
    done = index = 0
    while (significant := SIGNIFICANT.search(query, index)) is not None:
        index = significant.start()
        stop = opaque_end(query, index)
        if stop == index:
            index += 1
            continue
        pieces += [query[done:index], re.sub(r"[^\n]", " ", query[index:stop])]
        done = index = stop
    return "".join([*pieces, query[done:]])


def group_end(text: str, start: int) -> int:
    """Return the index of the ``}`` closing the group that ``start`` is inside, in masked ``text``.

    Raises:
        ValueError: when that group is never closed.
    """
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            if depth == 0:
                return index
            depth -= 1
    raise ValueError(f"unbalanced braces: the group around character {start} is never closed")


def _group_after(text: str, start: int) -> int:
    """Return the index of the first ``{`` after ``start`` outside parentheses (a sub-select's WHERE group)."""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "{" and depth == 0:
            return index
    raise ValueError(f"the SELECT at character {start} has no WHERE group")


def projects(projection: str, variable: str) -> bool:
    """Tell whether ``variable`` is projected as itself, not only used inside an expression."""
    while (plain := re.sub(r"\([^()]*\)", " ", projection)) != projection:
        projection = plain
    return re.search(rf"[?$]{re.escape(variable)}\b", projection) is not None


def projecting_sub_selects(text: str, variable: str, start: int, end: int) -> list[int]:
    """Return the index just inside the WHERE group of each sub-select that can take ``variable``'s value.

    Searches ``text[start:end]`` (``text`` as :func:`masked` returns it; the inside of a group
    in which ``variable`` has a single value on every solution). A sub-select qualifies when
    it projects ``variable`` as itself, has no ``LIMIT`` or ``OFFSET`` (whose rows would change
    if restricted first), and every sub-select around it qualifies too (a sub-select that does
    not project the variable has its own, unrelated variable of that name). Restricting such a
    sub-select to the value keeps exactly the rows that join with the outer solutions, provided
    the variable is bound by a required pattern of the sub-select: a ``FILTER`` or a group keyed
    on it would otherwise see the value where it saw no binding.

    Raises:
        ValueError: when a sub-select has no group or its braces are unbalanced.
    """
    positions: list[int] = []
    search = start
    while (select := _SELECT.search(text, search, end)) is not None:
        opening = _group_after(text, select.end())
        closing = group_end(text, opening + 1)
        stop = group_end(text, closing + 1)  # the modifiers run to the brace around the sub-select
        if projects(text[select.end() : opening], variable) and not _MODIFIER.search(text, closing + 1, stop):
            positions.append(opening + 1)
            positions.extend(projecting_sub_selects(text, variable, opening + 1, closing))
        search = stop
    return positions
