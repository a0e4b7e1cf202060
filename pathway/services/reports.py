"""The daily status report: gather a snapshot, build it (pure), and run it once per clinic date."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pathway.domain.clinical_time import local_date, plausible
from pathway.domain.definition import PathwayDefinition
from pathway.domain.durations import Duration
from pathway.domain.errors import InvalidInput
from pathway.domain.history import retracted_ids, retraction_types
from pathway.domain.report import (
    FORECAST_COLUMNS,
    LIST_LIMIT,
    DailyReport,
    ForecastBucket,
    Listed,
    PatientLine,
    ReportBounds,
    Snapshot,
    StepFact,
    build_report,
    report_bounds,
)
from pathway.ports import Deps, UnitOfWork
from pathway.services import alerting


def report_instant(deps: Deps, as_of: date | None) -> datetime:
    """Now: a report is built from today's states, steps and alerts only. A report as of another
    day would count today's cohort and states under that day's date, so it is refused."""
    now = deps.clock.now()
    today = local_date(now, deps.zone)
    if as_of is None or as_of == today:
        return now
    plausible(as_of, "--as-of")
    raise InvalidInput(
        f"--as-of {as_of}: a report can only be built for today ({today}); the states, steps and "
        "alerts of another day are not rebuilt from history. The report stored for each day is "
        "kept by the daily job (`pathway report` on that day, or its written file)"
    )


def build(deps: Deps, as_of: date | None = None) -> DailyReport:
    """The report as of the end of `as_of` (default: now), compared with the last stored report."""
    at = report_instant(deps, as_of)
    with deps.read() as uow:
        previous = uow.report_runs.previous(local_date(at, deps.zone))
        snapshot = gather(deps, uow, report_bounds(at, deps.zone, previous))
    return build_report(snapshot)


def gather(deps: Deps, uow: UnitOfWork, b: ReportBounds) -> Snapshot:
    """Counts and first rows of every section, each from one or two set-based queries."""
    definition = deps.pathway.definition
    names = _rule_names(deps)
    sections = {rid: r.report_section for rid, r in definition.rules.follow_ups.items()}
    forecast_rules = tuple(rid for rid, s in sections.items() if s in FORECAST_COLUMNS)
    exits = tuple(definition.exit_states)
    enrolled, active = uow.reports.active_patients(exits)
    gone = _retracted(uow, definition)
    actions = [
        ("escalated" if a == "resolved" and (note or "").startswith("escalated") else a, alert_id, mrn)
        for a, alert_id, mrn, note in uow.reports.actions_since(b.previous_at)
    ]
    step_sections = ("overdue", "due_today", "due_soon") + (
        ("newly_overdue", "newly_due") if b.previous_at else ()
    )
    counts = uow.reports.step_counts(b)
    steps = {name: Listed(counts[name], _steps(uow, name, b, names)) for name in step_sections}
    for name in ("newly_overdue", "newly_due"):
        steps.setdefault(name, Listed(0, []))
    return Snapshot(
        at=b.at,
        zone=deps.zone,
        patients=enrolled,
        active_patients=active,
        by_state=_in_pathway_order(definition, uow.reports.counts_by_state()),
        steps=steps,
        alerts={s: Listed(*uow.reports.live_alerts(s, LIST_LIMIT)) for s in ("critical", "warning", "info")},
        pain_overdue=Listed(
            *uow.reports.mrns_with_overdue(definition.rules_in_section("pain"), b.at, LIST_LIMIT)
        ),
        palliative_overdue=Listed(
            *uow.reports.mrns_with_overdue(definition.rules_in_section("palliative"), b.at, LIST_LIMIT)
        ),
        quality=uow.reports.quality_counts(b.quality_since, b.at),
        alert_open_days=uow.reports.alert_open_days(b.quality_since),
        actions_since=actions,
        left_since=[
            (mrn, t) for _, mrn, t, _, _ in uow.reports.events_of(tuple(definition.exits), b.previous_at)
        ]
        if b.previous_at
        else [],
        rt_delays_days=_rt_delays(uow, b.quality_since, b.at, gone),
        forecast=[
            ForecastBucket(rule, target, n, names.get(rule, (rule, None))[1], sections.get(rule))
            for rule, target, n in uow.reports.forecast_buckets(forecast_rules)
        ],
        last_follow_up_id=uow.reports.last_follow_up_id(),
        has_previous=b.previous_at is not None,
        counts={str(k): n for k, n in alerting.counts_at(uow, b.at).items()},
        steps_named={rid: step for rid, (step, _) in names.items()},
    )


def _steps(
    uow: UnitOfWork, section: str, b: ReportBounds, names: dict[str, tuple[str, int | None]]
) -> list[StepFact]:
    return [
        StepFact(mrn, rule, names.get(rule, (rule, None))[0], region, o, t, c)
        for mrn, rule, region, o, t, c in uow.reports.steps(section, b, LIST_LIMIT)
    ]


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


def _in_pathway_order(
    definition: PathwayDefinition, counts: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    return {
        track: {s: counts[track][s] for s in definition.track_states(track) if s in counts.get(track, {})}
        for track in definition.tracks
        if track in counts
    }


def _retracted(uow: UnitOfWork, definition: PathwayDefinition) -> set[int]:
    return retracted_ids(definition, uow.reports.events_of(tuple(sorted(retraction_types(definition)))))


def _rt_delays(uow: UnitOfWork, since: datetime, at: datetime, gone: set[int]) -> list[float]:
    """Days from an unresectable / definitive-RT decision to the first fraction after it."""
    decisions: dict[int, datetime] = {}
    starts: dict[int, list[datetime]] = {}
    for event_id, patient_id, kind, when in uow.reports.rt_events(since, at):
        if event_id in gone:
            continue
        if kind == "mdt_decision":
            decisions[patient_id] = min(when, decisions.get(patient_id, when))
        else:
            starts.setdefault(patient_id, []).append(when)
    delays = []
    for patient_id, decided in decisions.items():
        first = min((s for s in starts.get(patient_id, []) if s >= decided), default=None)
        if first is not None and since <= first <= at:
            delays.append((first - decided).total_seconds() / 86400)
    return delays


def patient_lines(deps: Deps) -> list[PatientLine]:
    """One line per patient, for the CSV export."""
    now = deps.clock.now()
    names = _rule_names(deps)
    rank = {"info": 1, "warning": 2, "critical": 3}
    with deps.read() as uow:
        rows = uow.reports.patient_lines(now)
    lines = []
    for mrn, enrolled_on, states, overdue, nxt, alerts in rows:
        step = ""
        if nxt is not None:
            step = names.get(nxt[0], (nxt[0], None))[0]
        lines.append(
            PatientLine(
                mrn,
                enrolled_on,
                states,
                overdue,
                step,
                local_date(nxt[2] - timedelta(microseconds=1), deps.zone).isoformat() if nxt else "",
                sum(alerts.values()),
                max(alerts, key=lambda s: rank[s], default=""),
            )
        )
    return lines
