"""The daily status report: gather a snapshot, build it (pure), and run it once per clinic date."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from pathway.domain.clinical_time import local_date, start_of_day
from pathway.domain.definition import PathwayDefinition
from pathway.domain.durations import Duration
from pathway.domain.errors import InvalidInput
from pathway.domain.report import QUALITY_DAYS, DailyReport, FollowUpFact, Snapshot, build_report
from pathway.ports import Deps, UnitOfWork

STALE_RUN = timedelta(minutes=30)
EXIT_EVENTS = ("death", "transfer", "withdrawal", "lost_to_follow_up")


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


def report_instant(deps: Deps, as_of: date | None) -> datetime:
    now = deps.clock.now()
    today = local_date(now, deps.zone)
    if as_of is None or as_of == today:
        return now
    if as_of > today + timedelta(days=366):
        raise InvalidInput("--as-of is more than a year ahead")
    return start_of_day(as_of + timedelta(days=1), deps.zone) - timedelta(seconds=1)


def build(deps: Deps, as_of: date | None = None) -> DailyReport:
    """The report as of the end of `as_of` (default: now), compared with the last stored report."""
    at = report_instant(deps, as_of)
    with deps.uow() as uow:
        previous = uow.reports.previous(local_date(at, deps.zone))
        snapshot = gather(deps, uow, at, previous)
    return build_report(snapshot, previous)


def gather(deps: Deps, uow: UnitOfWork, at: datetime, previous: dict[str, Any] | None) -> Snapshot:
    definition = deps.pathway.definition
    rules = definition.rules.follow_ups
    since = at - timedelta(days=QUALITY_DAYS)
    prev_at = datetime.fromisoformat(previous["generated_at"]) if previous else None

    def named(f: FollowUpFact) -> FollowUpFact:
        rule = rules.get(f.rule)
        every = None
        if rule is not None and rule.recurring and not rule.window.clock_time:
            target = Duration.parse(rule.window.target or rule.window.closes)
            every = (target.add_to_date(date(2001, 1, 1)) - date(2001, 1, 1)).days
        return replace(f, step=rule.step if rule else f.rule, recurring_days=every)

    patients = uow.reports.patients()
    exits = set(definition.exit_states)
    active = {mrn for _, mrn, _, states in patients if states.get("main") not in exits}
    pain = {mrn: None for mrn in active} | _last_pain(uow, active)
    actions = [("escalated" if a == "resolved" and (note or "").startswith("escalated") else a,
                alert_id, mrn) for a, alert_id, mrn, note in uow.reports.actions_since(prev_at)]
    return Snapshot(
        at=at, zone=deps.zone, patients=len(patients), active_patients=len(active),
        by_state=_in_pathway_order(definition, uow.reports.counts_by_state()),
        open_follow_ups=[named(f) for f in uow.reports.follow_up_facts(True)],
        closed_follow_ups=[named(f) for f in uow.reports.follow_up_facts(False, since)],
        alerts=uow.reports.alert_facts(since), actions_since=actions,
        left_since=[(mrn, t) for _, mrn, t, _, _ in uow.reports.events_of(EXIT_EVENTS, prev_at)]
        if prev_at else [],
        last_pain_score=pain, rt_delays_days=_rt_delays(uow, since, at))


def _in_pathway_order(definition: PathwayDefinition, counts: dict[str, dict[str, int]]
                      ) -> dict[str, dict[str, int]]:
    return {track: {s: counts[track][s] for s in definition.track_states(track)
                    if s in counts.get(track, {})}
            for track in definition.tracks if track in counts}


def _retracted(uow: UnitOfWork) -> set[int]:
    return {int(d["event_id"]) for _, _, _, _, d in uow.reports.events_of(("retraction",))}


def _last_pain(uow: UnitOfWork, active: set[str]) -> dict[str, datetime | None]:
    gone = _retracted(uow)
    last: dict[str, datetime | None] = {}
    for event_id, mrn, _, at, _ in uow.reports.events_of(("pain_score",)):
        current = last.get(mrn)
        if mrn in active and event_id not in gone and (current is None or at > current):
            last[mrn] = at
    return last


def _rt_delays(uow: UnitOfWork, since: datetime, at: datetime) -> list[float]:
    """Days from an unresectable / definitive-RT decision to the first fraction after it."""
    gone = _retracted(uow)
    decisions: dict[str, datetime] = {}
    starts: dict[str, list[datetime]] = {}
    for event_id, mrn, kind, when, data in uow.reports.events_of(("mdt_decision", "rt_started")):
        if event_id in gone:
            continue
        if kind == "mdt_decision" and data.get("resectability") == "unresectable" \
                and data.get("plan") == "definitive_rt":
            decisions[mrn] = min(when, decisions.get(mrn, when))
        elif kind == "rt_started":
            starts.setdefault(mrn, []).append(when)
    delays = []
    for mrn, decided in decisions.items():
        first = min((s for s in starts.get(mrn, []) if s >= decided), default=None)
        if first is not None and since <= first <= at:
            delays.append((first - decided).total_seconds() / 86400)
    return delays


def patient_lines(deps: Deps) -> list[PatientLine]:
    """One line per patient, for the CSV export."""
    now = deps.clock.now()
    with deps.uow() as uow:
        patients = uow.reports.patients()
        follow_ups = uow.reports.follow_up_facts(True)
        alerts = [a for a in uow.reports.alert_facts(now) if a.status in ("open", "acknowledged",
                                                                         "snoozed")]
    rules = deps.pathway.definition.rules.follow_ups
    rank = {"info": 1, "warning": 2, "critical": 3}
    lines = []
    for _, mrn, enrolled_on, states in patients:
        mine = sorted((f for f in follow_ups if f.mrn == mrn), key=lambda f: f.target_at)
        upcoming = [f for f in mine if f.closes_at > now]
        theirs = [a for a in alerts if a.mrn == mrn]
        top = max(theirs, key=lambda a: rank[a.severity], default=None)
        nxt = upcoming[0] if upcoming else None
        lines.append(PatientLine(
            mrn, enrolled_on, states, sum(1 for f in mine if f.closes_at <= now),
            (rules[nxt.rule].step if nxt.rule in rules else nxt.rule) if nxt else "",
            local_date(nxt.target_at - timedelta(microseconds=1), deps.zone).isoformat()
            if nxt else "", len(theirs), top.severity if top else ""))
    return lines


def as_json(report: DailyReport) -> dict[str, Any]:
    data = asdict(report)
    data["date"] = report.date.isoformat()
    data["generated_at"] = report.generated_at.isoformat()
    return data
