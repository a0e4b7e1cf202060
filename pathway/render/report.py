"""The daily report rendered as Markdown, self-contained HTML (inline SVG), CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from pathway.domain.report import DailyReport, PatientLine, as_json
from pathway.render.charts import grouped_columns, horizontal_bars

FORMATS = ("md", "html", "csv", "json")
_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
NEWS_TITLES = {
    "newly_overdue": "Newly overdue",
    "newly_due": "Newly due",
    "escalated": "Escalated",
    "resolved": "Resolved",
    "acknowledged": "Acknowledged",
    "left_pathway": "Left the pathway",
}


def to_json(report: DailyReport) -> str:
    return json.dumps(as_json(report), indent=2, default=str)


def to_html(report: DailyReport) -> str:
    charts = {
        track: Markup(horizontal_bars(f"{track} track", states)) for track, states in report.by_state.items()
    }
    forecast = Markup(
        grouped_columns(
            "Imaging and exams due per week (next 12 weeks)", report.forecast, "week_of", ("imaging", "exams")
        )
    )

    def total(key: str, shown: list[Any]) -> str:
        return f"{report.totals.get(key, len(shown)):,}"

    def shown(key: str, items: list[Any]) -> Markup:
        text = _shown(report, key, items)
        return Markup('<p class="none">{}</p>').format(text[1].replace("`", "")) if text else Markup("")

    return _ENV.get_template("report.html").render(
        r=report,
        charts=charts,
        forecast=forecast,
        news_titles=NEWS_TITLES,
        total=total,
        shown=shown,
        more=lambda key, items: _more(report, key, items),
    )


def to_markdown(report: DailyReport) -> str:
    out = [
        f"# Daily status report — {report.date}",
        "",
        f"Cohort: {report.cohort:,} patients ({report.active:,} on the pathway). "
        f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC. Decision support for clinicians.",
        "",
        "## What changed since the previous report",
        "",
    ]
    news = [
        f"- {NEWS_TITLES[k]} ({report.totals.get(f'news_{k}', len(v))}): {', '.join(v)}"
        + _more(report, f"news_{k}", v)
        for k, v in report.news.items()
        if v
    ]
    out += news or ["- Nothing new."]
    out += ["", f"## Overdue steps ({report.totals.get('overdue', len(report.overdue)):,})", ""]
    out += _md_table(
        ["MRN", "rule", "step", "window closed", "late"],
        [[r["mrn"], r["rule"], r["step"], r["closes"], r["late"]] for r in report.overdue],
    )
    out += _shown(report, "overdue", report.overdue)
    out += [
        "",
        f"## Due today (target reached, window open) "
        f"({report.totals.get('due_today', len(report.due_today)):,})",
        "",
    ]
    out += _md_table(
        ["MRN", "rule", "step", "target", "closes"],
        [[r["mrn"], r["rule"], r["step"], r["target"], r["closes"]] for r in report.due_today],
    )
    out += _shown(report, "due_today", report.due_today)
    out += [
        "",
        f"## Due in the next 7 days (by target) "
        f"({report.totals.get('due_next_7_days', len(report.due_next_7_days)):,})",
        "",
    ]
    out += _md_table(
        ["MRN", "rule", "step", "opens", "target", "closes"],
        [
            [r["mrn"], r["rule"], r["step"], r["opens"], r["target"], r["closes"]]
            for r in report.due_next_7_days
        ],
    )
    out += _shown(report, "due_next_7_days", report.due_next_7_days)
    out += ["", "## Open alerts", ""]
    for severity, alerts in report.alerts_by_severity.items():
        out += [f"### {severity} ({report.totals.get(f'alerts_{severity}', len(alerts)):,})", ""]
        out += _md_table(
            ["id", "MRN", "rule", "age (days)", "message"],
            [[a["id"], a["mrn"], a["rule"], a["age_days"], a["message"]] for a in alerts],
        )
        out += _shown(report, f"alerts_{severity}", alerts)
        out.append("")
    out += [
        "## Gaps",
        "",
        f"- No pain score in the last 30 days: {', '.join(report.no_pain_score_30_days) or 'none'}"
        + _more(report, "no_pain_score_30_days", report.no_pain_score_30_days),
        f"- Palliative referral past its window: "
        f"{', '.join(report.palliative_referral_overdue) or 'none'}"
        + _more(report, "palliative_referral_overdue", report.palliative_referral_overdue),
        "",
        "## Patients by state",
        "",
    ]
    for track, states in report.by_state.items():
        out.append(f"- **{track}**: " + ", ".join(f"{s} {n}" for s, n in states.items()))
    q = report.quality
    out += ["", f"## Quality indicators (last {q['period_days']} days)", ""]
    out += _md_table(
        ["rule", "on time", "early", "late", "missed", "total"],
        [
            [rule, c["on_time"], c["early"], c["late"], c["missed"], c["total"]]
            for rule, c in q["by_rule"].items()
        ],
    )
    to_rt, open_days = q["median_days_decision_to_rt"], q["median_days_alert_open"]
    out += [
        "",
        "- Median days from an unresectable decision to the first RT fraction: "
        f"{to_rt if to_rt is not None else 'n/a'}",
        f"- Median days an alert stays open: {open_days if open_days is not None else 'n/a'}",
        "",
        "## Forecast: imaging and exams per week",
        "",
    ]
    out += _md_table(
        ["week of", "imaging", "exams"], [[w["week_of"], w["imaging"], w["exams"]] for w in report.forecast]
    )
    return "\n".join(out) + "\n"


def _more(report: DailyReport, key: str, shown: list[Any]) -> str:
    """' and N more' when a list was cut at the report's limit."""
    rest = report.totals.get(key, len(shown)) - len(shown)
    return f" and {rest:,} more" if rest > 0 else ""


def _shown(report: DailyReport, key: str, shown: list[Any]) -> list[str]:
    rest = report.totals.get(key, len(shown)) - len(shown)
    return (
        [
            "",
            f"The first {len(shown)} of {len(shown) + rest:,}; `pathway due` and "
            "`pathway report --format csv` list them all.",
        ]
        if rest > 0
        else []
    )


def _md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    if not rows:
        return ["None."]

    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|")

    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(cell(v) for v in row) + " |" for row in rows
    ]


def to_csv(lines: list[PatientLine], tracks: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "mrn",
            "enrolled_on",
            *tracks,
            "overdue_steps",
            "next_step",
            "next_due",
            "live_alerts",
            "highest_severity",
        ]
    )
    for p in lines:
        writer.writerow(
            [
                p.mrn,
                p.enrolled_on.isoformat(),
                *(p.states.get(t, "") for t in tracks),
                p.overdue,
                p.next_step,
                p.next_due,
                p.live_alerts,
                p.highest_severity,
            ]
        )
    return buffer.getvalue()
