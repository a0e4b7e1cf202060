"""The daily report rendered as Markdown, self-contained HTML (inline SVG), CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from pathway.domain.counts import SOON_DAYS, WORDS, Count, summary
from pathway.domain.report import DailyReport, PatientLine, as_json
from pathway.render.charts import grouped_columns, horizontal_bars

FORMATS = ("md", "html", "csv", "json")
NO_NEWS = "Nothing new since the previous report."
FIRST_REPORT = "No previous report: this is the first, so there is nothing to compare with yet."
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
        counts=_counts(report),
        count_cards=[
            (k, n, WORDS[Count(k)].one if n == 1 else WORDS[Count(k)].many) for k, n in report.counts.items()
        ],
        no_news=NO_NEWS if report.has_previous else FIRST_REPORT,
        soon_days=SOON_DAYS,
    )


def to_markdown(report: DailyReport) -> str:
    out = [
        f"# Daily status report — {report.date}",
        "",
        f"Cohort: {report.cohort:,} patients ({report.active:,} on the pathway). "
        f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC. Decision support for clinicians.",
        "",
        f"Worklist counts: {_counts(report)}.",
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
    out += news or [f"- {NO_NEWS if report.has_previous else FIRST_REPORT}"]
    out += ["", f"## Overdue steps ({report.totals.get('overdue', len(report.overdue)):,})", ""]
    out += _md_table(
        ["MRN", "rule", "step", "window closed", "late"],
        [[r["mrn"], r["rule"], r["step"], r["closes"], r["late"]] for r in report.overdue],
    )
    out += _shown(report, "overdue", report.overdue)
    out += [
        "",
        f"## Due (window open) ({report.totals.get('due_today', len(report.due_today)):,})",
        "",
    ]
    out += _md_table(
        ["MRN", "rule", "step", "target", "closes"],
        [[r["mrn"], r["rule"], r["step"], r["target"], r["closes"]] for r in report.due_today],
    )
    out += _shown(report, "due_today", report.due_today)
    out += [
        "",
        f"## Due soon (window opens within {SOON_DAYS} days) "
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
        f"- Pain assessment past its window: {', '.join(report.pain_steps_overdue) or 'none'}"
        + _more(report, "pain_steps_overdue", report.pain_steps_overdue),
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
        ["step", "rule", "on time", "early", "late", "missed", "total"],
        [
            [c["step"], rule, c["on_time"], c["early"], c["late"], c["missed"], c["total"]]
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


def _counts(report: DailyReport) -> str:
    return summary({Count(k): n for k, n in report.counts.items()}, zero=True) if report.counts else "n/a"


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
