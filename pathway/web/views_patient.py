"""What the patient page shows: tracks, alerts, follow-ups with their `why`, the timeline, history,
and the form to record an event built from the pathway file's event schema."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from markupsafe import Markup

from pathway.domain.alert_status import LIVE, OVERRIDE_REASONS
from pathway.domain.clinical_time import parse_date, parse_datetime
from pathway.domain.definition import FieldSpec
from pathway.domain.dose_summary import DoseSummary, shown_next
from pathway.domain.events import show_value
from pathway.domain.explanation import Explanation, shown
from pathway.domain.handover import handover_markdown
from pathway.domain.model import EventRecord, StoredFollowUp
from pathway.domain.pauses import open_pause
from pathway.domain.rules_spec import FollowUpRule
from pathway.domain.status import PENDING, Outcome
from pathway.domain.urgency import open_episode
from pathway.ports import Deps, User
from pathway.render.timeline_svg import Band, Mark, Row, timeline_svg
from pathway.services import accounts, alerting, bone, dosing, handover, patients
from pathway.web.fmt import day, local_day, when
from pathway.web.views import alert_lines, snooze_latest
from pathway.web.views_caseload import caseload_context

FIELD_PREFIX = "f_"


@dataclass(frozen=True)
class FollowUpLine:
    rule: str
    step: str
    status: str
    opens: str
    target: str
    closes: str
    why: str
    region: str = ""


@dataclass(frozen=True)
class FieldInput:
    name: str
    label: str
    kind: str  # select | number | date | text
    required: bool
    options: tuple[tuple[str, str], ...] = ()
    min: float | None = None
    max: float | None = None
    step: str = "any"
    help: str = ""


@dataclass(frozen=True)
class EventChoice:
    name: str
    description: str
    permitted: bool


@dataclass(frozen=True)
class EventLine:
    event: EventRecord
    occurred: str
    recorded: str
    data: str
    changes: str
    retracted: bool


def patient_page(deps: Deps, user: User, mrn: str, chosen: str | None) -> dict[str, Any]:
    view = patients.status(deps, mrn, recent=0)
    history = patients.history(deps, mrn)
    follow_ups, alerts = alerting.follow_ups_of(deps, mrn)
    mrn = view.patient.mrn
    definition = deps.pathway.definition
    events = definition.events
    choices = [
        EventChoice(e, events[e].description, accounts.may_record(user.role, e))
        for e in view.allowed_events
        if events[e].role != "booking"  # booked from the follow-up's own form (views_caseload)
    ]
    chosen = chosen if chosen in view.allowed_events else None
    now = deps.clock.now()
    windows = {f.id: (f.opens_at, f.closes_at, f.clock_time) for f in follow_ups}
    live = [
        (a, mrn)
        for a in sorted(alerts, key=lambda a: alerting.alert_urgency(a, windows, now))
        if a.status in LIVE
    ]
    today = local_day(deps.clock.now(), deps.zone)
    paused = open_pause(definition, history.events, history.retracted)
    summary = handover.find(deps, mrn)
    return {
        "patient": view.patient,
        "states": view.states,
        "episode": open_episode(view.states, definition.emergency_initials()),
        "pause": {
            "since": day(paused.occurred_at, deps.zone),
            "details": ", ".join(f"{k}: {v}" for k, v in paused.data.items()),
            "held": sorted(
                {
                    _step(definition.rules.follow_ups, f)
                    for f in follow_ups
                    if f.status == Outcome.CANCELLED and "held until care resumes" in (f.cancel_reason or "")
                }
            ),
        }
        if paused
        else None,
        "handover": handover_markdown(summary) if summary else None,
        "doses": dose_lines(dosing.summary_of(deps, mrn), deps.zone),
        "alerts": alert_lines(
            live, user, deps.zone, alerting.undelivered_alert_ids(deps), snooze_latest(deps)
        ),
        "follow_ups": follow_up_lines(deps, mrn, [f for f in follow_ups if f.status in PENDING]),
        "bone_agents": bone.agents_of(deps, mrn),
        "timeline": Markup(
            timeline(deps, follow_ups, history.events, history.retracted, view.patient.enrolled_on)
        ),
        "events": [event_line(e, deps.zone, e.id in history.retracted) for e in reversed(history.events)],
        "choices": choices,
        "chosen": chosen,
        "chosen_description": events[chosen].description if chosen else "",
        "fields": field_inputs(events[chosen].fields, _retractable(deps, history), deps.zone)
        if chosen
        else [],
        "can_record": accounts.allows(user.role, "record"),
        "today": today.isoformat(),
        "reasons": OVERRIDE_REASONS,
    } | caseload_context(deps, user, view.patient, history.events, follow_ups)


def follow_up_lines(deps: Deps, mrn: str, current: list[StoredFollowUp]) -> list[FollowUpLine]:
    rules = deps.pathway.definition.rules.follow_ups
    why: dict[tuple[str, str], str] = {}
    for rule in dict.fromkeys(f.rule for f in current):
        for e in alerting.why(deps, mrn, rule):
            why[(rule, e.region or "")] = why_line(e, deps.zone)
    zone = deps.zone
    return [
        FollowUpLine(
            f.rule,
            _step(rules, f),
            f.status,
            day(f.opens_at, zone, clock=f.clock_time),
            day(f.target_at, zone, end=True, clock=f.clock_time),
            day(f.closes_at, zone, end=True, clock=f.clock_time),
            why.get((f.rule, f.region), ""),
            f.region,
        )
        for f in sorted(current, key=lambda f: (f.closes_at, f.rule))
    ]


def _step(rules: Mapping[str, FollowUpRule], f: StoredFollowUp) -> str:
    step = rules[f.rule].step if f.rule in rules else f.rule
    return step + (f" ({f.region})" if f.region else "")


def why_line(e: Explanation, zone: tzinfo) -> str:
    """One sentence from `pathway.alerting.why`: anchor, interval, window, adjustments, source."""
    interval = e.interval
    target = f", target {interval.target}" if interval.target else ""
    again = "; repeats from each completion" if interval.recurring else ""
    shifts = [a for a in e.adjustments if not a.startswith("none")]
    return (
        f"Anchored on {e.anchor} ({shown(e.anchor_at, zone, clock=True)}); window opens "
        f"{interval.opens}{target}, closes {interval.closes} after it{again}: "
        f"{shown(e.opens_at, zone, e.clock_time)} to {shown(e.closes_at, zone, e.clock_time, end=True)}"
        + (f" ({'; '.join(shifts)})" if shifts else "")
        + f". Rule {e.rule}, source: {e.source} [{e.kind}]."
    )


def timeline(
    deps: Deps,
    follow_ups: list[StoredFollowUp],
    events: list[EventRecord],
    retracted: set[int],
    enrolled_on: date,
) -> str:
    zone = deps.zone
    rules = deps.pathway.definition.rules.follow_ups
    order = {rule: i for i, rule in enumerate(rules)}
    rows: dict[tuple[str, str], list[Band]] = {}
    for f in sorted(follow_ups, key=lambda f: (order.get(f.rule, 99), f.region, f.opens_at)):
        rows.setdefault((f.rule, f.region), []).append(
            Band(
                local_day(f.opens_at, zone),
                local_day(f.target_at, zone, end=True),
                local_day(f.closes_at, zone, end=True),
                f.status,
                local_day(f.done_at, zone) if f.done_at else None,
                f.cancel_reason or "",
            )
        )
    labelled = [
        Row(
            f"{rule} {rules[rule].step if rule in rules else ''}" + (f" ({region})" if region else ""),
            tuple(bands),
        )
        for (rule, region), bands in rows.items()
    ]
    marks = [
        Mark(local_day(e.occurred_at, zone), f"event {e.id} {e.type} {_data(e.data)}", e.id in retracted)
        for e in events
    ]
    return timeline_svg(labelled, marks, enrolled_on, local_day(deps.clock.now(), zone))


def event_line(e: EventRecord, zone: tzinfo, retracted: bool) -> EventLine:
    changes = ", ".join(f"{t}: {a} → {b}" for t, (a, b) in e.changes.items())
    return EventLine(
        e, when(e.occurred_at, zone), when(e.recorded_at, zone), _data(e.data), changes, retracted
    )


def _retractable(deps: Deps, history: patients.History) -> list[EventRecord]:
    kinds = deps.pathway.definition.events
    return [
        e for e in reversed(history.events) if e.id not in history.retracted and not kinds[e.type].retracts
    ]


def field_inputs(
    fields: dict[str, FieldSpec], retractable: list[EventRecord], zone: tzinfo
) -> list[FieldInput]:
    out = []
    for name, spec in fields.items():
        # a required choice starts empty: nothing is chosen for the coordinator
        blank: tuple[tuple[str, str], ...] = (("", "choose…") if spec.required else ("", "—"),)
        options: tuple[tuple[str, str], ...] = ()
        kind = {"int": "number", "number": "number", "date": "date"}.get(spec.type, "text")
        if spec.type == "choice":
            options = tuple((v, v.replace("_", " ")) for v in spec.values or ())
        elif spec.type == "bool":
            options = (("yes", "yes"), ("no", "no"))
        elif spec.type == "event_ref":
            options = tuple(
                (str(e.id), f"{e.id}: {e.type} on {day(e.occurred_at, zone)}") for e in retractable
            )
        if spec.type in ("choice", "bool", "event_ref"):
            kind, options = "select", blank + options
        out.append(
            FieldInput(
                FIELD_PREFIX + name,
                name.replace("_", " ") + (f" ({spec.unit})" if spec.unit else ""),
                kind,
                spec.required,
                options,
                spec.min,
                spec.max,
                "1" if spec.type == "int" else "any",
                spec.description,
            )
        )
    return out


def occurrence(on: str, at_time: str, today: date) -> tuple[date | None, datetime | None]:
    """The form's date and optional clinic-local time. Today without a time means now."""
    day = parse_date(on, "date") if on.strip() else None
    if at_time.strip():
        return None, parse_datetime(f"{day or today}T{at_time.strip()}", "time")
    return (None, None) if day in (None, today) else (day, None)


def event_fields(form: dict[str, str]) -> dict[str, str]:
    """The event's fields from a submitted form (blank ones left out)."""
    return {
        k.removeprefix(FIELD_PREFIX): v for k, v in form.items() if k.startswith(FIELD_PREFIX) and v.strip()
    }


def _data(data: dict[str, Any]) -> str:
    return ", ".join(f"{k}={show_value(v)}" for k, v in data.items())


def dose_lines(s: DoseSummary | None, zone: tzinfo) -> dict[str, Any] | None:
    """The anthracycline and heart panel: cumulative dose, last LVEF, the next planned dose."""
    if s is None:
        return None
    lvef = s.last_lvef
    return {
        "cumulative": f"{s.cumulative:g} mg/m² doxorubicin-equivalent given (prior treatment {s.prior:g})",
        "lvef": f"{lvef.percent:g} % by {lvef.method} on {day(lvef.at, zone)}" if lvef else "not recorded",
        "next": shown_next(s, zone),
        "projected": f"{s.projection.after_next:g} mg/m² after it, {s.projection.plan_total:g} in all",
        "outstanding": s.outstanding,
    }
