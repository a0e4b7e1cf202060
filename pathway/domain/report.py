"""The daily status report as data (no formatting): pure, from a snapshot the adapter gathers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from statistics import median
from typing import Any

from pathway.domain.clinical_time import local_date

QUALITY_DAYS = 90
FORECAST_WEEKS = 12
PAIN_SCORE_DAYS = 30


@dataclass(frozen=True)
class FollowUpFact:
    patient_id: int
    mrn: str
    rule: str
    step: str
    region: str
    opens_at: datetime
    target_at: datetime
    closes_at: datetime
    status: str
    done_at: datetime | None
    recurring_days: int | None = None  # the rule's target interval, for the forecast


@dataclass(frozen=True)
class AlertFact:
    id: int
    patient_id: int
    mrn: str
    rule: str
    severity: str
    status: str
    message: str
    opened_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class Snapshot:
    """Everything the report needs, gathered by the storage adapter in set-based queries."""

    at: datetime
    zone: tzinfo
    patients: int
    active_patients: int
    by_state: dict[str, dict[str, int]]
    open_follow_ups: list[FollowUpFact]
    closed_follow_ups: list[FollowUpFact]  # done or cancelled, closing within the quality period
    alerts: list[AlertFact]  # live ones and those resolved in the quality period
    actions_since: list[tuple[str, int, str]]  # (action, alert id, mrn) since the previous report
    left_since: list[tuple[str, str]]  # (mrn, exit event)
    last_pain_score: dict[str, datetime | None]  # mrn of every active patient -> last NRS
    rt_delays_days: list[float]  # unresectable/definitive-RT decision -> first fraction
    imaging_rules: tuple[str, ...] = ("T09",)
    exam_rules: tuple[str, ...] = ("T10",)
    palliative_rules: tuple[str, ...] = ("T16",)


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
    no_pain_score_30_days: list[str]
    palliative_referral_overdue: list[str]
    quality: dict[str, Any]
    forecast: list[dict[str, Any]]
    keys: dict[str, list[str]] = field(default_factory=dict)  # for tomorrow's "what changed"


def build_report(s: Snapshot, previous: dict[str, Any] | None) -> DailyReport:
    today = local_date(s.at, s.zone)
    overdue, due_today, soon = _steps(s, today)
    live = [a for a in s.alerts if a.status in ("open", "acknowledged", "snoozed")]
    by_severity: dict[str, list[dict[str, Any]]] = {"critical": [], "warning": [], "info": []}
    for a in sorted(live, key=lambda a: a.opened_at):
        by_severity.setdefault(a.severity, []).append({
            "id": a.id, "mrn": a.mrn, "rule": a.rule, "status": a.status, "message": a.message,
            "age_days": (s.at - a.opened_at).days})
    keys = {"overdue": sorted(_key(r) for r in overdue),
            "due": sorted(_key(r) for r in due_today + soon)}
    return DailyReport(
        date=today, generated_at=s.at, cohort=s.patients, active=s.active_patients,
        by_state=s.by_state, overdue=overdue, due_today=due_today, due_next_7_days=soon,
        alerts_by_severity=by_severity, news=_news(s, keys, previous, overdue, due_today + soon),
        no_pain_score_30_days=sorted(
            mrn for mrn, at in s.last_pain_score.items()
            if at is None or at < s.at - timedelta(days=PAIN_SCORE_DAYS)),
        palliative_referral_overdue=sorted({r["mrn"] for r in overdue
                                            if r["rule"] in s.palliative_rules}),
        quality=_quality(s), forecast=_forecast(s, today), keys=keys)


def _row(f: FollowUpFact, today: date, zone: tzinfo) -> dict[str, Any]:
    closes = local_date(f.closes_at - timedelta(microseconds=1), zone)
    return {"mrn": f.mrn, "rule": f.rule, "step": f.step + (f" ({f.region})" if f.region else ""),
            "opens": local_date(f.opens_at, zone).isoformat(), "closes": closes.isoformat(),
            "days_late": max(0, (today - closes).days)}


def _key(row: dict[str, Any]) -> str:
    return f"{row['mrn']} {row['rule']} {row['step']}"


def _steps(s: Snapshot, today: date) -> tuple[list[dict[str, Any]], ...]:
    """Overdue: the window has closed. Due today: open, target day reached. Next 7 days: target soon."""
    overdue, due_today, soon = [], [], []
    for f in s.open_follow_ups:
        row = _row(f, today, s.zone)
        target = local_date(f.target_at - timedelta(microseconds=1), s.zone)
        row["target"] = target.isoformat()
        if s.at >= f.closes_at:
            overdue.append(row)
        elif target <= today and s.at >= f.opens_at:
            due_today.append(row)
        elif target <= today + timedelta(days=7):
            soon.append(row)
    overdue.sort(key=lambda r: -r["days_late"])
    return (overdue, sorted(due_today, key=lambda r: r["closes"]),
            sorted(soon, key=lambda r: r["target"]))


def _news(s: Snapshot, keys: dict[str, list[str]], previous: dict[str, Any] | None,
          overdue: list[dict[str, Any]], due: list[dict[str, Any]]) -> dict[str, list[str]]:
    before = (previous or {}).get("keys", {})
    news: dict[str, list[str]] = {
        "newly_overdue": [k for k in keys["overdue"] if k not in set(before.get("overdue", []))],
        "newly_due": [k for k in keys["due"] if k not in set(before.get("due", []))],
        "escalated": [], "resolved": [], "acknowledged": [],
        "left_pathway": [f"{mrn} ({event})" for mrn, event in s.left_since]}
    for action, alert_id, mrn in s.actions_since:
        if action == "acknowledged":
            news["acknowledged"].append(f"{mrn} alert {alert_id}")
        elif action == "escalated":
            news["escalated"].append(f"{mrn} alert {alert_id}")
        elif action == "resolved":
            news["resolved"].append(f"{mrn} alert {alert_id}")
    if previous is None:
        news["newly_overdue"], news["newly_due"] = [], []
    return news


def _quality(s: Snapshot) -> dict[str, Any]:
    since = s.at - timedelta(days=QUALITY_DAYS)
    per_rule: dict[str, dict[str, int]] = {}
    for f in s.closed_follow_ups + s.open_follow_ups:
        if f.status == "cancelled" or not (since <= f.closes_at <= s.at or
                                           (f.done_at is not None and f.done_at >= since)):
            continue
        if f.done_at is None:
            if f.closes_at > s.at:
                continue
            outcome = "missed"
        elif f.done_at < f.opens_at:
            outcome = "early"
        elif f.done_at < f.closes_at:
            outcome = "on_time"
        else:
            outcome = "late"
        counts = per_rule.setdefault(f.rule, {"on_time": 0, "early": 0, "late": 0, "missed": 0})
        counts[outcome] += 1
    rates = {rule: {**c, "total": sum(c.values()),
                    **{f"{k}_rate": round(v / sum(c.values()), 3) for k, v in c.items()}}
             for rule, c in sorted(per_rule.items())}
    open_days = [(a.resolved_at - a.opened_at).total_seconds() / 86400 for a in s.alerts
                 if a.resolved_at is not None and a.resolved_at >= since]
    return {"period_days": QUALITY_DAYS, "by_rule": rates,
            "median_days_decision_to_rt": _median(s.rt_delays_days),
            "median_days_alert_open": _median(open_days),
            "alerts_resolved": len(open_days)}


def _median(values: list[float]) -> float | None:
    return round(median(values), 1) if values else None


def _forecast(s: Snapshot, today: date) -> list[dict[str, Any]]:
    """Imaging and exam load per week for 12 weeks: current targets, then projected recurrences."""
    start = today - timedelta(days=today.weekday())
    weeks: list[dict[str, Any]] = [
        {"week_of": (start + timedelta(weeks=i)).isoformat(), "imaging": 0, "exams": 0}
        for i in range(FORECAST_WEEKS)]
    end = start + timedelta(weeks=FORECAST_WEEKS)
    for f in s.open_follow_ups:
        kind = "imaging" if f.rule in s.imaging_rules else "exams" if f.rule in s.exam_rules else None
        if kind is None:
            continue
        due = max(local_date(f.target_at - timedelta(microseconds=1), s.zone), today)
        while due < end:
            weeks[(due - start).days // 7][kind] += 1
            if not f.recurring_days:
                break
            due += timedelta(days=f.recurring_days)
    return weeks
