"""The picture of the upgrade paths: server-rendered SVG of `domain.paths.upgrade_paths`.

Drawing only: which moves exist, their kind and their timing all come from the domain. One panel
per plan group (the plans in no group last, apart); in a panel, the plan options top to bottom
in the Change page's order; a move down the list is an arc on the right, a move up one on the
left. Colour and a word give the kind, a dashed line means "at the end of the term". Every arc
carries a <title>, and the page lists the same moves as a table for those who cannot see it.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from bridge.domain.money import format_amount
from bridge.domain.paths import Family, Path, PathMap, Stop

BOX_W, BOX_H, STEP, TOP = 230, 46, 78, 56
LEFT = 270  # boxes start here; arcs up the list bulge into the space on the left
WIDTH = LEFT + BOX_W + 270
COLOURS = {"upgrade": "#1a7f37", "downgrade": "#b35900", "crossgrade": "#0550ae"}
WORDS = {"upgrade": "upgrade", "downgrade": "downgrade", "crossgrade": "crossgrade"}
TIMINGS = {"immediate": "at once", "end_of_term": "at end of term"}


def stop_label(stop: Stop, currency: str) -> str:
    return (
        f"{stop.name}, every {stop.billing.describe()}, {format_amount(stop.price_minor, currency)}"
    )


def path_sentence(path: Path, currency: str) -> str:
    return (
        f"From {stop_label(path.source, currency)} to {stop_label(path.target, currency)}: "
        f"{WORDS[path.kind]}, {TIMINGS[path.timing]}"
    )


def _panel(family: Family, paths: list[Path], currency: str, index: int) -> str:
    stops = list(family.stops)
    height = TOP + STEP * max(len(stops), 1) + 10
    title = family.name if family.name is not None else "Plans in no group"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="paths" role="img" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="paths-title-{index}">',
        f'<title id="paths-title-{index}">{escape(title)}: upgrade paths</title>',
        "<defs>",
    ]
    for kind, colour in COLOURS.items():
        parts.append(
            f'<marker id="arrow-{kind}-{index}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    parts.append("</defs>")
    parts.append(
        f'<text x="{LEFT}" y="24" font-size="17" font-weight="bold" fill="#1f2328">'
        f"{escape(title)}</text>"
    )
    position = {(s.plan, s.billing): i for i, s in enumerate(stops)}
    for path in paths:
        i = position.get((path.source.plan, path.source.billing))
        j = position.get((path.target.plan, path.target.billing))
        if i is None or j is None:
            continue
        parts.append(_arc(path, i, j, index, currency))
    for i, stop in enumerate(stops):
        y = TOP + STEP * i
        parts.append(
            f'<g><rect x="{LEFT}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" '
            f'fill="#f6f8fa" stroke="#57606a"/>'
            f'<text x="{LEFT + 10}" y="{y + 19}" font-size="14" font-weight="bold" '
            f'fill="#1f2328">{escape(stop.name)}</text>'
            f'<text x="{LEFT + 10}" y="{y + 37}" font-size="13" fill="#1f2328">'
            f"every {escape(stop.billing.describe())} · "
            f"{escape(format_amount(stop.price_minor, currency))} {escape(currency)}</text></g>"
        )
    if not stops:
        parts.append(f'<text x="{LEFT}" y="{TOP + 20}" font-size="14">(no plans)</text>')
    parts.append("</svg>")
    return "".join(parts)


def _arc(path: Path, i: int, j: int, index: int, currency: str) -> str:
    y1 = TOP + STEP * i + BOX_H / 2 + (6 if i < j else -6)
    y2 = TOP + STEP * j + BOX_H / 2 + (-6 if i < j else 6)
    bulge = 50 + 55 * abs(i - j)
    if i < j:  # down the list: on the right
        x = LEFT + BOX_W
        cx = x + bulge
        label_x = x + bulge * 0.75 + 4
        anchor = "start"
    else:  # up the list: on the left
        x = LEFT
        cx = x - bulge
        label_x = x - bulge * 0.75 - 4
        anchor = "end"
    colour = COLOURS[path.kind]
    dash = ' stroke-dasharray="6 4"' if path.timing == "end_of_term" else ""
    mid_y = (y1 + y2) / 2
    word = f"{WORDS[path.kind]} · {'now' if path.timing == 'immediate' else 'end of term'}"
    return (
        f'<g class="path path-{path.kind} timing-{path.timing}" '
        f'data-from="{escape(path.source.plan)}" data-to="{escape(path.target.plan)}">'
        f"<title>{escape(path_sentence(path, currency))}</title>"
        f'<path d="M{x},{y1} C{cx},{y1} {cx},{y2} {x},{y2}" fill="none" stroke="{colour}" '
        f'stroke-width="2"{dash} marker-end="url(#arrow-{path.kind}-{index})"/>'
        f'<text x="{label_x}" y="{mid_y + 4}" font-size="11" text-anchor="{anchor}" '
        f'fill="{colour}">{escape(word)}</text></g>'
    )


def render(path_map: PathMap, currency: str) -> Markup:
    """One SVG per plan group, the plans in no group last."""
    panels = []
    for index, family in enumerate(path_map.families):
        mine = {(s.plan, s.billing) for s in family.stops}
        paths = [
            p
            for p in path_map.paths
            if (p.source.plan, p.source.billing) in mine
            and (p.target.plan, p.target.billing) in mine
        ]
        panels.append(
            f'<figure class="paths-panel">{_panel(family, paths, currency, index)}</figure>'
        )
    return Markup("".join(panels))
