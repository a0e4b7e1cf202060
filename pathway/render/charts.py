"""Small inline SVG charts for the HTML report and pages (no external assets)."""

from __future__ import annotations

from html import escape
from typing import Any

# One colour per meaning, the same in every chart (and as the web pages' severity badges).
COLOURS = {
    "critical": "#b00020",
    "warning": "#c77700",
    "info": "#0b5394",
    "overdue": "#b00020",
    "due": "#d49a00",
    "soon": "#1f5fa8",
    "patients": "#4a6785",  # a count of patients (patients by state)
    "imaging": "#2a7f62",
    "exams": "#6a4c93",
}
OTHER = "#7f7f7f"


def colour(meaning: str) -> str:
    return COLOURS.get(meaning, OTHER)


def horizontal_bars(title: str, counts: dict[str, int], width: int = 320, meaning: str = "patients") -> str:
    """One bar per label, the count at its end, in the colour of what is counted (a label with a
    colour of its own, such as a severity, keeps it); sized for a column on A4."""
    if not counts:
        return ""
    row, label_w = 16, 150
    top = max(counts.values()) or 1
    height = row * len(counts) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="12" font-size="12" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, n) in enumerate(counts.items()):
        y = 20 + i * row
        bar = int((width - label_w - 30) * n / top)
        parts.append(
            f'<text x="{label_w - 4}" y="{y + 11}" font-size="10" text-anchor="end">{escape(label)}</text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 2}" width="{max(bar, 1)}" height="{row - 4}" '
            f'fill="{COLOURS.get(label, colour(meaning))}"/>'
        )
        parts.append(f'<text x="{label_w + bar + 4}" y="{y + 11}" font-size="10">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def grouped_columns(
    title: str,
    rows: list[dict[str, Any]],
    label: str,
    series: tuple[str, ...],
    width: int = 640,
    height: int = 200,
) -> str:
    """Columns per row (e.g. week) for each series (e.g. imaging, exams), with a legend."""
    if not rows:
        return ""
    top = max((int(r[s]) for r in rows for s in series), default=0) or 1
    plot_h, base = height - 60, height - 30
    slot = (width - 40) / len(rows)
    bar = max(2.0, slot / (len(series) + 1))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="12" font-size="12" font-weight="bold">{escape(title)}</text>',
        f'<line x1="30" y1="{base}" x2="{width}" y2="{base}" stroke="#999"/>',
        f'<text x="26" y="{base - plot_h + 4}" font-size="9" text-anchor="end">{top}</text>',
        f'<text x="26" y="{base}" font-size="9" text-anchor="end">0</text>',
    ]
    for i, r in enumerate(rows):
        x0 = 34 + i * slot
        for j, s in enumerate(series):
            h = plot_h * int(r[s]) / top
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{base - h:.1f}" width="{bar - 1:.1f}" '
                f'height="{h:.1f}" fill="{colour(s)}"><title>{escape(str(r[label]))} '
                f"{escape(s)}: {r[s]}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + slot / 2 - bar / 2:.1f}" y="{base + 12}" font-size="8" '
            f'text-anchor="middle">{escape(str(r[label])[5:])}</text>'
        )
    for j, s in enumerate(series):
        parts.append(
            f'<rect x="{40 + j * 90}" y="{height - 12}" width="10" height="10" '
            f'fill="{colour(s)}"/><text x="{54 + j * 90}" y="{height - 3}" '
            f'font-size="10">{escape(s)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
