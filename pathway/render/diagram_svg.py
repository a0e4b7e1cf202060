"""A track's state diagram as SVG, laid out by the app from the definition (no graphviz).

Layout: states in rows by their distance from the initial state (breadth-first), each row ordered
by where its predecessors sit; transitions as arrows, straight between neighbouring rows and curved
otherwise, labelled with their events (guards in the tooltip). Exit states form the last row without
arrows (every active state may exit); events that change no state (in some state) are listed
underneath.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from html import escape

from pathway.domain.definition import PathwayDefinition
from pathway.domain.machine import Guard

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 168, 36, 44, 84, 16
Point = tuple[float, float]


@dataclass(frozen=True)
class Edge:
    source: str
    dest: str
    events: tuple[str, ...]
    guards: tuple[str, ...]


def track_edges(definition: PathwayDefinition, track: str) -> list[Edge]:
    """One edge per (source, dest) pair, carrying every event that moves along it."""
    spec = definition.tracks[track]
    merged: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for tr in spec.transitions:
        if tr.dest is None:
            continue
        guard = f"{tr.event} when {Guard(definition, tr.when).describe()}" if tr.when else tr.event
        for source in tr.sources(spec.states):
            if source == tr.dest:
                continue  # staying put: listed with the events that change no state
            merged.setdefault((source, tr.dest), []).append((tr.event, guard))
    return [
        Edge(s, d, tuple(dict.fromkeys(e for e, _ in items)), tuple(g for _, g in items))
        for (s, d), items in merged.items()
    ]


def rows_of(states: tuple[str, ...], initial: str, edges: list[Edge]) -> list[list[str]]:
    depth = {initial: 0}
    queue = deque([initial])
    while queue:
        state = queue.popleft()
        for e in edges:
            if e.source == state and e.dest in states and e.dest not in depth:
                depth[e.dest] = depth[state] + 1
                queue.append(e.dest)
    last = max(depth.values())
    for s in states:
        depth.setdefault(s, last + 1)
    rows: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for s in states:
        rows[depth[s]].append(s)
    for i in range(1, len(rows)):
        above = {s: k for k, s in enumerate(rows[i - 1])}

        def pull(s: str, above: dict[str, int] = above) -> float:
            parents = [above[e.source] for e in edges if e.dest == s and e.source in above]
            return sum(parents) / len(parents) if parents else len(above)

        rows[i].sort(key=lambda s: (pull(s), states.index(s)))
    return [r for r in rows if r]


def diagram_svg(definition: PathwayDefinition, track: str, current: str | None = None) -> str:
    spec = definition.tracks[track]
    edges = track_edges(definition, track)
    rows = rows_of(spec.states, spec.initial, edges)
    exits = list(definition.exit_states)
    widest = max(len(r) for r in [*rows, exits])
    width = MARGIN * 2 + widest * BOX_W + (widest - 1) * GAP_X
    centre: dict[str, Point] = {}
    for i, row in enumerate([*rows, exits]):
        row_w = len(row) * BOX_W + (len(row) - 1) * GAP_X
        left = (width - row_w) / 2
        for k, s in enumerate(row):
            centre[s] = (
                left + k * (BOX_W + GAP_X) + BOX_W / 2,
                MARGIN + 14 + i * (BOX_H + GAP_Y) + BOX_H / 2,
            )
    row_of = {s: i for i, row in enumerate(rows) for s in row}
    notes = _notes(definition, track)
    height = MARGIN * 2 + 14 + (len(rows) + 1) * (BOX_H + GAP_Y) - GAP_Y + 18 * len(notes) + 8
    arrow = f"arrow-{escape(track)}"
    title = f"{definition.pathway.id}: {track} track" + (f", current state {current}" if current else "")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" role="img" '
        'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" '
        'fill="#555"/></marker></defs>',
    ]
    pairs = {(e.source, e.dest) for e in edges}
    drawn = [_edge(e, centre, row_of, (e.dest, e.source) in pairs) for e in edges]
    out += [_line(e, path, arrow) for e, (path, _) in zip(edges, drawn, strict=True)]
    for s in spec.states:
        out.append(_box(s, centre[s], s == current, s == spec.initial, exit_state=False))
    placed = [(x, y, float(BOX_W), float(BOX_H)) for (x, y) in centre.values()]
    for e, (_, at) in zip(edges, drawn, strict=True):  # labels last, over lines and boxes
        out.append(_label(e, _free_spot(at, _text_width(e), placed)))
    y_exit = centre[exits[0]][1] - BOX_H / 2 - 8 if exits else 0
    out.append(
        f'<text x="{MARGIN}" y="{y_exit:.0f}" font-size="11" fill="#555">Exits, from every '
        "active state:</text>"
    )
    for s in exits:
        out.append(_box(s, centre[s], s == current, False, exit_state=True))
    y = height - MARGIN - 18 * len(notes) + 10
    for note in notes:
        out.append(f'<text x="{MARGIN}" y="{y:.0f}" font-size="11" fill="#333">{escape(note)}</text>')
        y += 18
    out.append("</svg>")
    return "".join(out)


def _notes(definition: PathwayDefinition, track: str) -> list[str]:
    exits = ", ".join(f"{e} → {s}" for e, s in definition.exits.items())
    spec = definition.tracks[track]
    observed = sorted(
        {t.event for t in spec.transitions if t.dest is None or t.dest in t.sources(spec.states)}
    )
    notes = [f"Exit events: {exits}"]
    if observed:
        notes += _wrap("Recorded without a state change: " + ", ".join(observed), 120)
    return notes


def _wrap(text: str, limit: int) -> list[str]:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + len(word) + 1 > limit:
            lines.append(line)
            line = "    " + word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line]


def _box(state: str, c: Point, current: bool, initial: bool, exit_state: bool) -> str:
    x, y = c[0] - BOX_W / 2, c[1] - BOX_H / 2
    fill = "#ffe08a" if current else ("#f4f4f4" if exit_state else "#eef4fb")
    stroke = "#b8860b" if current else ("#999" if exit_state else "#1f5fa8")
    dash = ' stroke-dasharray="5 3"' if exit_state else ""
    width = 3 if current or initial else 1.2
    label = state.replace("_", " ")
    extra = " (current)" if current else (" (start)" if initial else "")
    return (
        f'<g><title>{escape(state + extra)}</title><rect x="{x:.1f}" y="{y:.1f}" '
        f'width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="{width}"{dash}/><text x="{c[0]:.1f}" y="{c[1] + 4:.1f}" '
        f'font-size="12" text-anchor="middle" font-weight="{"bold" if current else "normal"}">'
        f"{escape(label)}</text></g>"
    )


def _edge(e: Edge, centre: dict[str, Point], row_of: dict[str, int], two_way: bool) -> tuple[str, Point]:
    """The SVG path of one transition and the point where its label goes."""
    (sx, sy), (dx, dy) = centre[e.source], centre[e.dest]
    same_row = row_of[e.dest] == row_of[e.source]
    straight = row_of[e.dest] == row_of[e.source] + 1 and not two_way
    mx, my = (sx + dx) / 2, (sy + dy) / 2
    length = math.hypot(dx - sx, dy - sy) or 1.0
    if straight:
        cx, cy = mx, my
    elif same_row:  # below the row; a leftward arc further out than the rightward one
        cx, cy = mx, my + 28 + length / 6 + (0 if dx > sx else 30)
    else:  # a reverse edge bends to the other side of its pair
        cx, cy = mx + 46 * (sy - dy) / length, my + 46 * (dx - sx) / length
    p0, p1 = _border((sx, sy), (cx, cy)), _border((dx, dy), (cx, cy))
    if straight:
        return (
            f"M{p0[0]:.1f} {p0[1]:.1f} L{p1[0]:.1f} {p1[1]:.1f}",
            ((p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2),
        )
    return (
        f"M{p0[0]:.1f} {p0[1]:.1f} Q{cx:.1f} {cy:.1f} {p1[0]:.1f} {p1[1]:.1f}",
        (0.25 * p0[0] + 0.5 * cx + 0.25 * p1[0], 0.25 * p0[1] + 0.5 * cy + 0.25 * p1[1]),
    )


def _tooltip(e: Edge) -> str:
    return f"<title>{escape(f'{e.source} → {e.dest}: ' + '; '.join(e.guards))}</title>"


def _line(e: Edge, path: str, arrow: str) -> str:
    return (
        f'<path d="{path}" fill="none" stroke="#555" stroke-width="1.3" '
        f'marker-end="url(#{arrow})">{_tooltip(e)}</path>'
    )


def _label(e: Edge, at: Point) -> str:
    return (
        f'<text x="{at[0]:.1f}" y="{at[1] + 3:.1f}" font-size="10" text-anchor="middle" '
        f'fill="#222" stroke="#fff" stroke-width="3" paint-order="stroke">{_tooltip(e)}'
        f"{escape(', '.join(e.events))}</text>"
    )


def _text_width(e: Edge) -> float:
    return 5.8 * len(", ".join(e.events)) + 6


def _free_spot(at: Point, width: float, placed: list[tuple[float, float, float, float]]) -> Point:
    """Nudge a label down or up until it overlaps no box and no label placed before it."""
    for dy in (0, 13, -13, 26, -26, 39, -39):
        x, y = at[0], at[1] + dy
        if all(abs(x - px) * 2 >= width + pw or abs(y - py) * 2 >= 13 + ph for px, py, pw, ph in placed):
            placed.append((x, y, width, 13))
            return x, y
    placed.append((at[0], at[1], width, 13))
    return at


def _border(c: Point, toward: Point) -> Point:
    """Where the line from a box's centre toward a point leaves the box."""
    vx, vy = toward[0] - c[0], toward[1] - c[1]
    if vx == 0 and vy == 0:
        return c
    t = min(BOX_W / 2 / abs(vx) if vx else math.inf, BOX_H / 2 / abs(vy) if vy else math.inf)
    return c[0] + vx * t, c[1] + vy * t
