"""A patient's timeline as inline SVG: recorded events on top, one band per follow-up step below.

Pure: dates in, markup out. Each band spans a follow-up window (opens to closes, both inclusive
clinic days) with a tick at the target and a mark on the day it was done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

LABEL_W, ROW_H, TOP, PAD = 236, 24, 44, 12
FILL = {
    "done": "#cfe8d5",
    "cancelled": "#e4e4e4",
    "upcoming": "#d6e4f5",
    "due": "#fde7b0",
    "overdue": "#f6c4c4",
}
STROKE = {
    "done": "#2e7d32",
    "cancelled": "#9e9e9e",
    "upcoming": "#1f5fa8",
    "due": "#a86b00",
    "overdue": "#b00020",
}
Scale = Callable[[date], float]


@dataclass(frozen=True)
class Band:
    opens: date
    target: date
    closes: date
    status: str
    done: date | None = None
    note: str = ""


@dataclass(frozen=True)
class Row:
    label: str
    bands: tuple[Band, ...]


@dataclass(frozen=True)
class Mark:
    day: date
    label: str
    retracted: bool = False


def span(rows: list[Row], marks: list[Mark], enrolled: date, today: date) -> tuple[date, date]:
    """From enrolment to a little after today or the last open window, whichever is later."""
    ends = [b.closes for r in rows for b in r.bands if b.status in ("upcoming", "due")]
    end = max([today + timedelta(days=14), *ends])
    start = min([enrolled, *(m.day for m in marks)])
    return start - timedelta(days=3), end + timedelta(days=3)


def timeline_svg(rows: list[Row], marks: list[Mark], enrolled: date, today: date, width: int = 960) -> str:
    start, end = span(rows, marks, enrolled, today)
    days = max((end - start).days, 1)
    plot = width - LABEL_W - PAD

    def x(day: date) -> float:
        return LABEL_W + plot * (day - start).days / days

    height = TOP + ROW_H * (len(rows) + 1) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" '
        f'viewBox="0 0 {width} {height}" aria-label="Timeline of events and follow-up windows">',
        "<title>Timeline of events and follow-up windows</title>",
    ]
    out += _months(start, end, x, height)
    out.append(_row_label(0, "Events"))
    for m in marks:
        cx, cy = x(m.day), TOP + ROW_H / 2
        colour = "#9e9e9e" if m.retracted else "#333"
        out.append(
            f'<path d="M{cx:.1f} {cy - 6:.1f} l5 6 l-5 6 l-5 -6 z" fill="{colour}">'
            f"<title>{escape(m.day.isoformat())}: {escape(m.label)}</title></path>"
        )
    for i, row in enumerate(rows, start=1):
        out.append(_row_label(i, row.label))
        out += [_band(b, TOP + i * ROW_H, x) for b in row.bands]
    tx = x(today)
    out.append(
        f'<line x1="{tx:.1f}" y1="{TOP - 6}" x2="{tx:.1f}" y2="{height - 26}" '
        'stroke="#b00020" stroke-dasharray="4 3"/>'
    )
    out.append(
        f'<text x="{tx:.1f}" y="{TOP - 10}" font-size="10" text-anchor="middle" fill="#b00020">today</text>'
    )
    out += _legend(height - 12)
    out.append("</svg>")
    return "".join(out)


def _row_label(i: int, label: str) -> str:
    y = TOP + i * ROW_H
    shown = label if len(label) <= 38 else label[:37] + "…"
    fill = "#f7f7f7" if i % 2 == 0 else "#ffffff"
    return (
        f'<rect x="0" y="{y}" width="100%" height="{ROW_H}" fill="{fill}"/>'
        f'<text x="4" y="{y + 16}" font-size="11"><title>{escape(label)}</title>'
        f"{escape(shown)}</text>"
    )


def _band(b: Band, y: int, x: Scale) -> str:
    x0, x1 = x(b.opens), x(b.closes + timedelta(days=1))
    title = (
        f"{b.status}: window {b.opens} to {b.closes}, target {b.target}"
        + (f", done {b.done}" if b.done else "")
        + (f" ({b.note})" if b.note else "")
    )
    parts = [
        f"<g><title>{escape(title)}</title>"
        f'<rect x="{x0:.1f}" y="{y + 5}" width="{max(x1 - x0, 2):.1f}" height="{ROW_H - 10}" '
        f'rx="3" fill="{FILL.get(b.status, "#eee")}" stroke="{STROKE.get(b.status, "#999")}"/>'
    ]
    tx = x(b.target + timedelta(days=1)) if b.target != b.opens else x0
    parts.append(
        f'<line x1="{tx:.1f}" y1="{y + 3}" x2="{tx:.1f}" y2="{y + ROW_H - 3}" '
        f'stroke="{STROKE.get(b.status, "#999")}" stroke-width="2"/>'
    )
    if b.done is not None:
        dx = x(b.done)
        parts.append(f'<circle cx="{dx:.1f}" cy="{y + ROW_H / 2}" r="5" fill="#2e7d32" stroke="#fff"/>')
    parts.append("</g>")
    return "".join(parts)


def _months(start: date, end: date, x: Scale, height: int) -> list[str]:
    out = []
    day = date(start.year, start.month, 1)
    step = 1 if (end - start).days <= 400 else 3
    while day <= end:
        if day >= start:
            px = x(day)
            out.append(
                f'<line x1="{px:.1f}" y1="{TOP - 36}" x2="{px:.1f}" y2="{height - 26}" stroke="#e0e0e0"/>'
            )
            out.append(f'<text x="{px + 2:.1f}" y="{TOP - 26}" font-size="10" fill="#555">{day:%b %Y}</text>')
        month = day.month - 1 + step
        day = date(day.year + month // 12, month % 12 + 1, 1)
    return out


def _legend(y: int) -> list[str]:
    out = []
    for i, status in enumerate(("upcoming", "due", "overdue", "done", "cancelled")):
        lx = LABEL_W + i * 110
        out.append(
            f'<rect x="{lx}" y="{y - 9}" width="14" height="10" rx="2" '
            f'fill="{FILL[status]}" stroke="{STROKE[status]}"/>'
            f'<text x="{lx + 18}" y="{y}" font-size="10">{status}</text>'
        )
    lx = LABEL_W + 5 * 110
    out.append(
        f'<circle cx="{lx + 5}" cy="{y - 4}" r="4" fill="#2e7d32"/>'
        f'<text x="{lx + 14}" y="{y}" font-size="10">done on</text>'
        f'<line x1="{lx + 80}" y1="{y - 10}" x2="{lx + 80}" y2="{y + 1}" stroke="#333" '
        f'stroke-width="2"/><text x="{lx + 86}" y="{y}" font-size="10">target</text>'
    )
    return out
