"""Draw a mechanism model as a causal diagram: an SVG of its steps in causal order.

Steps are placed in layers by their longest causal path from a first step (a step with no
upstream step), so every arrow (RO:0002411 causally upstream of) points downwards. The SVG is
plain markup: it needs no script and prints as it shows.
"""

from __future__ import annotations

import textwrap
from xml.sax.saxutils import escape, quoteattr

from neuromech.site.model import MechanismModel

BOX_WIDTH = 340
_GAP_X = 24
_GAP_Y = 34
_LINE = 17
_PAD = 9
_EN_CHARS = 46
_ZH_CHARS = 19


def _layers(model: MechanismModel) -> dict[str, int]:
    """Return each step's layer: the length of the longest causal path reaching it."""
    ids = {s.iri for s in model.steps}
    upstream: dict[str, list[str]] = {s.iri: [] for s in model.steps}
    for step in model.steps:
        for target in step.upstream_of:
            if target in ids:
                upstream[target].append(step.iri)
    layer: dict[str, int] = {}

    def depth(iri: str, trail: frozenset[str]) -> int:
        if iri in layer:
            return layer[iri]
        parents = [p for p in upstream[iri] if p not in trail]  # a cycle would be a data error; do not loop
        value = 1 + max((depth(p, trail | {iri}) for p in parents), default=-1)
        layer[iri] = value
        return value

    for step in model.steps:
        depth(step.iri, frozenset())
    return layer


def _lines(en: str, zh: str, number: int) -> list[tuple[str, str]]:
    lines = [("en", line) for line in textwrap.wrap(f"{number}. {en}", _EN_CHARS)] if en else []
    lines += [("zh", zh[i : i + _ZH_CHARS]) for i in range(0, len(zh), _ZH_CHARS)]
    return lines or [("en", str(number))]


def causal_diagram(model: MechanismModel, step_href: dict[str, str]) -> str:
    """Return the SVG markup of ``model``'s causal diagram.

    Args:
        model: the mechanism model.
        step_href: step IRI -> link target of its box (e.g. ``#step-...`` on the same page).
    """
    layer = _layers(model)
    rows: dict[int, list[int]] = {}
    for position, step in enumerate(model.steps):
        rows.setdefault(layer[step.iri], []).append(position)
    texts = [_lines(s.label.en, s.label.zh, s.index or n + 1) for n, s in enumerate(model.steps)]
    heights = [len(t) * _LINE + 2 * _PAD for t in texts]
    widest = max((len(r) for r in rows.values()), default=1)
    width = widest * BOX_WIDTH + (widest - 1) * _GAP_X + 2
    boxes: dict[str, tuple[float, float, float]] = {}  # iri -> x, y, height
    y = 1.0
    for number in sorted(rows):
        members = rows[number]
        row_width = len(members) * BOX_WIDTH + (len(members) - 1) * _GAP_X
        x = (width - row_width) / 2
        for position in members:
            boxes[model.steps[position].iri] = (x, y, heights[position])
            x += BOX_WIDTH + _GAP_X
        y += max(heights[p] for p in members) + _GAP_Y
    height = y - _GAP_Y + 2
    marker = f"arrow-{model.slug}"
    parts = [
        f'<svg class="causal" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label={quoteattr(model.label.en)}>',
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    for step in model.steps:
        x1, y1, h1 = boxes[step.iri]
        for target in step.upstream_of:
            if target not in boxes:
                continue
            x2, y2, _ = boxes[target]
            parts.append(
                f'<line class="edge" x1="{x1 + BOX_WIDTH / 2:.1f}" y1="{y1 + h1:.1f}" x2="{x2 + BOX_WIDTH / 2:.1f}" '
                f'y2="{y2 - 2:.1f}" stroke="#555" stroke-width="1.6" marker-end="url(#{marker})"/>'
            )
    for position, step in enumerate(model.steps):
        x, y, h = boxes[step.iri]
        href = step_href.get(step.iri)
        parts.append(f'<a href="{escape(href)}">' if href else "<g>")
        parts.append(
            f'<rect class="step" x="{x:.1f}" y="{y:.1f}" width="{BOX_WIDTH}" height="{h}" rx="7" '
            'fill="#f4f7fb" stroke="#4a6fa5" stroke-width="1.4"/>'
        )
        for line_number, (lang, text) in enumerate(texts[position]):
            ty = y + _PAD + (line_number + 1) * _LINE - 4
            parts.append(
                f'<text x="{x + 10:.1f}" y="{ty:.1f}" class="step-{lang}" lang="{lang}" font-size="13">'
                f"{escape(text)}</text>"
            )
        parts.append("</a>" if href else "</g>")
    parts.append("</svg>")
    return "\n".join(parts)
