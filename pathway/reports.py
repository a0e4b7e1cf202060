"""The daily status report: gather a snapshot, build it (pure), and run it once per clinic date."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pathway.domain.clinical_time import local_date, plausible, start_of_day
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
    plausible(as_of, "--as-of")
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
    since = at - timedelta(days=QUALITY_DAYS)
    prev_at = datetime.fromisoformat(previous["generated_at"]) if previous else None
    names = _rule_names(deps)
    patients = uow.reports.patients()
    exits = set(definition.exit_states)
    active = {mrn for _, mrn, _, states in patients if states.get("main") not in exits}
    gone = _retracted(uow)
    last_pain = uow.reports.last_event_per_patient("pain_score", gone)
    actions = [("escalated" if a == "resolved" and (note or "").startswith("escalated") else a,
                alert_id, mrn) for a, alert_id, mrn, note in uow.reports.actions_since(prev_at)]
    return Snapshot(
        at=at, zone=deps.zone, patients=len(patients), active_patients=len(active),
        by_state=_in_pathway_order(definition, uow.reports.counts_by_state()),
        open_follow_ups=uow.reports.follow_up_facts(True, named=names),
        closed_follow_ups=uow.reports.follow_up_facts(False, since, named=names),
        alerts=uow.reports.alert_facts(since), actions_since=actions,
        left_since=[(mrn, t) for _, mrn, t, _, _ in uow.reports.events_of(EXIT_EVENTS, prev_at)]
        if prev_at else [],
        last_pain_score={mrn: last_pain.get(mrn) for mrn in active},
        rt_delays_days=_rt_delays(uow, since, at, gone))


def _rule_names(deps: Deps) -> dict[str, tuple[str, int | None]]:
    """Each rule's step name, and its recurrence in days for the forecast (recurring only)."""
    names: dict[str, tuple[str, int | None]] = {}
    for rid, rule in deps.pathway.definition.rules.follow_ups.items():
        every = None
        if rule.recurring and not rule.window.clock_time:
            target = Duration.parse(rule.window.target or rule.window.closes)
            every = (target.add_to_date(date(2001, 1, 1)) - date(2001, 1, 1)).days
        names[rid] = (rule.step, every)
    return names


def _in_pathway_order(definition: PathwayDefinition, counts: dict[str, dict[str, int]]
                      ) -> dict[str, dict[str, int]]:
    return {track: {s: counts[track][s] for s in definition.track_states(track)
                    if s in counts.get(track, {})}
            for track in definition.tracks if track in counts}


def _retracted(uow: UnitOfWork) -> set[int]:
    return {int(d["event_id"]) for _, _, _, _, d in uow.reports.events_of(("retraction",))}


def _rt_delays(uow: UnitOfWork, since: datetime, at: datetime, gone: set[int]) -> list[float]:
    """Days from an unresectable / definitive-RT decision to the first fraction after it."""
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
        follow_ups = uow.reports.follow_up_facts(True, named=_rule_names(deps))
        alerts = [a for a in uow.reports.alert_facts(now) if a.status in ("open", "acknowledged",
                                                                         "snoozed")]
    rank = {"info": 1, "warning": 2, "critical": 3}
    by_mrn: dict[str, list[FollowUpFact]] = {}
    for f in follow_ups:
        by_mrn.setdefault(f.mrn, []).append(f)
    alerts_of: dict[str, list[Any]] = {}
    for a in alerts:
        alerts_of.setdefault(a.mrn, []).append(a)
    lines = []
    for _, mrn, enrolled_on, states in patients:
        mine = sorted(by_mrn.get(mrn, []), key=lambda f: f.target_at)
        upcoming = [f for f in mine if f.closes_at > now]
        theirs = alerts_of.get(mrn, [])
        top = max(theirs, key=lambda a: rank[a.severity], default=None)
        nxt = upcoming[0] if upcoming else None
        lines.append(PatientLine(
            mrn, enrolled_on, states, sum(1 for f in mine if f.closes_at <= now),
            nxt.step if nxt else "",
            local_date(nxt.target_at - timedelta(microseconds=1), deps.zone).isoformat()
            if nxt else "", len(theirs), top.severity if top else ""))
    return lines


def as_json(report: DailyReport) -> dict[str, Any]:
    data = asdict(report)
    data["date"] = report.date.isoformat()
    data["generated_at"] = report.generated_at.isoformat()
    return data
