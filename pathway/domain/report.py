"""The daily status report as data (no formatting): pure, from a snapshot the adapter gathers.

The storage adapter classifies and counts in SQL along the bounds computed here (`ReportBounds`),
so the report costs the same whatever the cohort size: every list holds its first LIST_LIMIT rows
and the report carries the full count of each (`totals`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from statistics import median
from typing import Any, Generic, NamedTuple, TypeVar

from pathway.domain.clinical_time import local_date, start_of_day
from pathway.domain.counts import SOON_DAYS, soon_until
from pathway.domain.urgency import late_text

QUALITY_DAYS = 90
FORECAST_WEEKS = 12
LIST_LIMIT = 100
OUTCOMES = ("on_time", "early", "late", "missed")
T = TypeVar("T")


@dataclass(frozen=True)
class ReportBounds:
    """The instants that split open steps into the report's sections.

    The sections count as the worklist does (pathway/domain/counts.py): overdue, the window
    closed at or before `at`; due (`due_today`), the window is open at `at`; due soon
    (`due_soon`), the window opens after `at` and before `soon_until`.
    Newly overdue / due: the same, since the previous report (`previous_at`, `previous_week_end`)
    or created since it (follow-up ids above `previous_last_id`).
    """

    at: datetime
    day_end: datetime
    week_end: datetime
    soon_until: datetime
    quality_since: datetime
    previous_at: datetime | None
    previous_week_end: datetime | None
    previous_last_id: int | None


def report_bounds(at: datetime, zone: tzinfo, previous: dict[str, Any] | None) -> ReportBounds:
    today = local_date(at, zone)
    prev_at = datetime.fromisoformat(previous["generated_at"]) if previous else None
    prev_day = date.fromisoformat(previous["date"]) if previous and "date" in previous else None
    return ReportBounds(
        at=at,
        day_end=start_of_day(today + timedelta(days=1), zone),
        week_end=start_of_day(today + timedelta(days=SOON_DAYS + 1), zone),
        soon_until=soon_until(at),
        quality_since=at - timedelta(days=QUALITY_DAYS),
        previous_at=prev_at,
        previous_week_end=start_of_day(prev_day + timedelta(days=SOON_DAYS + 1), zone) if prev_day else None,
        previous_last_id=previous.get("last_follow_up_id") if previous else None,
    )


@dataclass(frozen=True)
class StepFact:
    mrn: str
    rule: str
    step: str
    region: str
    opens_at: datetime
    target_at: datetime
    closes_at: datetime


@dataclass(frozen=True)
class AlertFact:
    id: int
    mrn: str
    rule: str
    severity: str
    status: str
    message: str
    opened_at: datetime


class EventFact(NamedTuple):
    """An event as the report reads it: with its patient's MRN."""

    id: int
    mrn: str
    type: str
    occurred_at: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class Listed(Generic[T]):
    """The first rows of a section (at most LIST_LIMIT) and how many there are in all."""

    total: int
    items: list[T]


@dataclass(frozen=True)
class ForecastBucket:
    rule: str
    target_at: datetime
    count: int
    recurring_days: int | None  # the rule's target interval, for projected recurrences
    section: str | None = None  # the rule's report_section in the pathway file


@dataclass(frozen=True)
class Snapshot:
    """Everything the report needs, counted and listed by the storage adapter in SQL."""

    at: datetime
    zone: tzinfo
    patients: int
    active_patients: int
    by_state: dict[str, dict[str, int]]
    steps: dict[str, Listed[StepFact]]  # overdue, due_today, due_soon, newly_overdue, newly_due
    alerts: dict[str, Listed[AlertFact]]  # live alerts by severity, oldest first
    pain_overdue: Listed[str]  # MRNs with a step of the pain track past its window (T13-T15 ...)
    palliative_overdue: Listed[str]  # MRNs with a palliative referral past its window
    quality: dict[str, dict[str, int]]  # rule -> outcome -> steps judged in the period
    alert_open_days: list[float]  # alerts resolved in the period: days open
    actions_since: list[tuple[str, int, str]]  # (action, alert id, mrn) since the previous report
    left_since: list[tuple[str, str]]  # (mrn, exit event)
    rt_delays_days: list[float]  # unresectable/definitive-RT decision -> first fraction
    forecast: list[ForecastBucket]
    last_follow_up_id: int = 0
    has_previous: bool = False
    counts: dict[str, int] = field(default_factory=dict)  # pathway/domain/counts.py, as the worklist
    steps_named: dict[str, str] = field(default_factory=dict)  # rule -> its step, for the quality table


@dataclass
class DailyReport:
    date: date
    generated_at: datetime
    cohort: int
    active: int
    by_state: dict[str, dict[str, int]]
    overdue: list[dict[str, Any]]
    due_today: list[dict[str, Any]]
    due_next_7_days: list[dict[str, Any]]
    alerts_by_severity: dict[str, list[dict[str, Any]]]
    news: dict[str, list[str]]
    pain_steps_overdue: list[str]
    palliative_referral_overdue: list[str]
    quality: dict[str, Any]
    forecast: list[dict[str, Any]]
    totals: dict[str, int] = field(default_factory=dict)  # full counts of the capped lists
    last_follow_up_id: int = 0  # for tomorrow's "what changed"
    has_previous: bool = False  # False: the first report ever, nothing to compare with
    counts: dict[str, int] = field(default_factory=dict)  # the worklist's counts (domain/counts.py)


def build_report(s: Snapshot) -> DailyReport:
    today = local_date(s.at, s.zone)
    rows = {name: [_row(f, today, s.zone, s.at) for f in listed.items] for name, listed in s.steps.items()}
    by_severity = {
        severity: [
            {
                "id": a.id,
                "mrn": a.mrn,
                "rule": a.rule,
                "status": a.status,
                "message": a.message,
                "age_days": (s.at - a.opened_at).days,
            }
            for a in listed.items
        ]
        for severity, listed in s.alerts.items()
    }
    news, news_totals = _news(s, rows)
    totals = {
        "overdue": s.steps["overdue"].total,
        "due_today": s.steps["due_today"].total,
        "due_next_7_days": s.steps["due_soon"].total,
        "pain_steps_overdue": s.pain_overdue.total,
        "palliative_referral_overdue": s.palliative_overdue.total,
        **{f"alerts_{sev}": listed.total for sev, listed in s.alerts.items()},
        **news_totals,
    }
    return DailyReport(
        date=today,
        generated_at=s.at,
        cohort=s.patients,
        active=s.active_patients,
        by_state=s.by_state,
        overdue=rows["overdue"],
        due_today=rows["due_today"],
        due_next_7_days=rows["due_soon"],
        alerts_by_severity=by_severity,
        news=news,
        pain_steps_overdue=list(s.pain_overdue.items),
        palliative_referral_overdue=list(s.palliative_overdue.items),
        quality=_quality(s),
        forecast=_forecast(s, today),
        totals=totals,
        last_follow_up_id=s.last_follow_up_id,
        has_previous=s.has_previous,
        counts=dict(s.counts),
    )


def _row(f: StepFact, today: date, zone: tzinfo, at: datetime) -> dict[str, Any]:
    closes = local_date(f.closes_at - timedelta(microseconds=1), zone)
    target = local_date(f.target_at - timedelta(microseconds=1), zone)
    return {
        "mrn": f.mrn,
        "rule": f.rule,
        "step": f.step + (f" ({f.region})" if f.region else ""),
        "opens": local_date(f.opens_at, zone).isoformat(),
        "target": target.isoformat(),
        "closes": closes.isoformat(),
        "days_late": max(0, (today - closes).days),
        "late": late_text(f.closes_at, at, max(0, (today - closes).days)),
    }


def _key(row: dict[str, Any]) -> str:
    return f"{row['mrn']} {row['rule']} {row['step']}"


def _news(s: Snapshot, rows: dict[str, list[dict[str, Any]]]) -> tuple[dict[str, list[str]], dict[str, int]]:
    news: dict[str, list[str]] = {
        "newly_overdue": [_key(r) for r in rows["newly_overdue"]] if s.has_previous else [],
        "newly_due": [_key(r) for r in rows["newly_due"]] if s.has_previous else [],
        "escalated": [],
        "resolved": [],
        "acknowledged": [],
        "left_pathway": [f"{mrn} ({event})" for mrn, event in s.left_since],
    }
    for action, alert_id, mrn in s.actions_since:
        if action in ("acknowledged", "escalated", "resolved"):
            news[action].append(f"{mrn} alert {alert_id}")
    totals = {f"news_{k}": len(v) for k, v in news.items()}
    if s.has_previous:
        totals["news_newly_overdue"] = s.steps["newly_overdue"].total
        totals["news_newly_due"] = s.steps["newly_due"].total
    return {k: v[:LIST_LIMIT] for k, v in news.items()}, totals


def _quality(s: Snapshot) -> dict[str, Any]:
    rates = {}
    for rule, counts in sorted(s.quality.items()):
        c = {k: counts.get(k, 0) for k in OUTCOMES}
        total = sum(c.values())
        if total:
            rates[rule] = {
                "step": s.steps_named.get(rule, rule),
                **c,
                "total": total,
                **{f"{k}_rate": round(v / total, 3) for k, v in c.items()},
            }
    return {
        "period_days": QUALITY_DAYS,
        "by_rule": rates,
        "median_days_decision_to_rt": _median(s.rt_delays_days),
        "median_days_alert_open": _median(s.alert_open_days),
        "alerts_resolved": len(s.alert_open_days),
    }


def _median(values: list[float]) -> float | None:
    return round(median(values), 1) if values else None


def _forecast(s: Snapshot, today: date) -> list[dict[str, Any]]:
    """Imaging and exam load per week for 12 weeks: current targets, then projected recurrences."""
    start = today - timedelta(days=today.weekday())
    weeks: list[dict[str, Any]] = [
        {"week_of": (start + timedelta(weeks=i)).isoformat(), "imaging": 0, "exams": 0}
        for i in range(FORECAST_WEEKS)
    ]
    end = start + timedelta(weeks=FORECAST_WEEKS)
    for b in s.forecast:
        kind = FORECAST_COLUMNS.get(b.section or "")
        if kind is None:
            continue
        due = max(local_date(b.target_at - timedelta(microseconds=1), s.zone), today)
        while due < end:
            weeks[(due - start).days // 7][kind] += b.count
            if not b.recurring_days:
                break
            due += timedelta(days=b.recurring_days)
    return weeks


FORECAST_COLUMNS = {"imaging": "imaging", "exam": "exams"}  # report_section -> forecast column


@dataclass(frozen=True)
class PatientLine:
    mrn: str
    enrolled_on: date
    states: dict[str, str]
    overdue: int
    next_step: str
    next_due: str
    live_alerts: int
    highest_severity: str


def as_json(report: DailyReport) -> dict[str, Any]:
    data = asdict(report)
    data["date"] = report.date.isoformat()
    data["generated_at"] = report.generated_at.isoformat()
    return data
