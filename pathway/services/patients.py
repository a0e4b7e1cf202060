"""Use cases: one unit of work each, the clock read once, bad input refused before any write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from pathway.domain.bone_agents import dose_problem
from pathway.domain.clinical_time import (
    check_not_before_enrolment,
    local_date,
    occurred_instant,
    start_of_day,
)
from pathway.domain.definition import HISTOLOGY_FIELD, PathwayDefinition
from pathway.domain.enrolment import check_age
from pathway.domain.errors import (
    Conflict,
    EventNotAllowed,
    InvalidInput,
    NotFound,
    PermissionDenied,
    PossibleDuplicate,
    StaleVersion,
)
from pathway.domain.events import (
    MRN_PATTERN,
    clean_text,
    histology_value,
    reference_problem,
    validate_event_data,
)
from pathway.domain.followups import scope_of
from pathway.domain.history import live_events, replay, retracted_ids, retraction_types
from pathway.domain.hour_clocks import clocks_needing_time
from pathway.domain.integrity import action_chain_breaks, chain_breaks
from pathway.domain.machine import Pathway
from pathway.domain.model import EventRecord, NewEvent, Patient, PatientView
from pathway.domain.roles import event_refusal
from pathway.domain.timeline import build_timeline
from pathway.ports import Deps, UnitOfWork
from pathway.services import audit
from pathway.services.handover import capture as capture_handover
from pathway.services.raising import Changes
from pathway.services.sync import find_patient, lock_patient_with_states, refresh_patient

__all__ = ["MRN_PATTERN", "Deps", "find_patient"]


@dataclass(frozen=True)
class Recorded:
    patient: Patient
    event: EventRecord
    states: dict[str, str]
    changes: dict[str, tuple[str, str]]
    tracking: Changes
    handover: bool = False  # a hand-over summary was stored with this exit (`pathway handover MRN`)


@dataclass(frozen=True)
class History:
    patient: Patient
    events: list[EventRecord]
    retracted: set[int]


def enroll(
    deps: Deps,
    mrn: str,
    *,
    name: str | None = None,
    birth_date: date | None = None,
    histology: str | None = None,
    on: date | None = None,
    fields: dict[str, Any] | None = None,
    prior: dict[str, Any] | None = None,
    actor: str = "system",
    confirm_new: bool = False,
) -> Patient:
    """Enrol a patient (`actor`: who, for the audit trail); raises InvalidInput (bad MRN, date,
    histology or fields), Conflict (the MRN, in its canonical form, is enrolled) or
    PossibleDuplicate (the same name and birth date are, and `confirm_new` was not given).

    `fields` (e.g. the involved sites) are recorded as the pathway's `staging` event at the
    enrolment instant, in the same transaction; `prior` (anthracycline given before, cardiac-region
    RT) as its prior-treatment event (the one whose dose is `prior`), likewise.
    """
    mrn = deps.mrn.canonical(mrn)
    name = clean_text(name, "--name", 200) or None if name is not None else None
    now = deps.clock.now()
    today = local_date(now, deps.zone)
    enrolled_on = on or today
    if enrolled_on > today:
        raise InvalidInput(f"enrolment date {enrolled_on} is in the future (today is {today})")
    if birth_date is not None and birth_date >= enrolled_on:
        raise InvalidInput(f"birth date {birth_date} must be before the enrolment date")
    check_age(deps.pathway.definition, birth_date, enrolled_on)
    if histology is not None:
        histology = histology_value(deps.pathway.definition, "enroll", histology)
    staging = _staging(deps.pathway.definition, fields or {})
    prior_event = _prior(deps.pathway.definition, prior or {})
    with deps.uow() as uow:
        if uow.patients.by_mrn(mrn) is not None:
            raise Conflict(f"MRN {mrn} is already enrolled; use `pathway status {mrn}`")
        twins = uow.patients.same_person(name, birth_date) if name and birth_date else []
        if twins and not confirm_new:
            raise PossibleDuplicate(
                f"a patient with the same name and birth date is already enrolled as MRN "
                f"{', '.join(twins)}; if {mrn} is a different person, enrol again with --confirm-new "
                "(API: confirm_new)"
            )
        patient = uow.patients.add(
            mrn,
            name,
            birth_date,
            histology,
            enrolled_on,
            start_of_day(enrolled_on, deps.zone) if on else now,
            deps.pathway.definition.initial_states(),
        )
        refresh_patient(uow, deps.pathway, deps.calendar, patient, now, deps.routes)
        audit.note(uow, now, actor, "enrol", mrn, patient_id=patient.id, enrolled_on=str(enrolled_on))
        for found in (staging, prior_event):
            if found is not None:
                event, data = found
                patient = record_in(
                    uow, deps, mrn, event, data, patient.enrolled_at, now, _valid_actor(actor)
                ).patient
        uow.commit()
    return patient


def _staging(definition: PathwayDefinition, fields: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The staging event enrolment records with its fields (validated before any write), or None."""
    if not fields:
        return None
    event = definition.event_with_role("staging")
    if event is None:
        raise InvalidInput(
            "enroll --set: this pathway records nothing at enrolment (no event has role staging)"
        )
    return event, validate_event_data(definition, event, fields)


def _prior(definition: PathwayDefinition, fields: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The prior-treatment event enrolment records with its fields (validated first), or None."""
    if not fields:
        return None
    event = next((e for e, s in definition.events.items() if s.dose is not None and s.dose.prior), None)
    if event is None:
        raise InvalidInput(
            "enroll --prior: this pathway records no prior treatment (no event has a dose with prior: true)"
        )
    return event, validate_event_data(definition, event, fields)


def record_event(
    deps: Deps,
    mrn: str,
    event: str,
    fields: dict[str, Any],
    *,
    on: date | None = None,
    at: datetime | None = None,
    reason: str | None = None,
    actor: str,
    expected_version: int | None = None,
    role: str | None = None,
) -> Recorded:
    """Validate and apply one event to every track; refuse (write nothing) if any check fails.

    `role` is the acting account's role (None: a trusted internal caller such as the demo).
    Raises NotFound (patient or event), InvalidInput (fields, dates), EventNotAllowed /
    GuardRefused (state), Conflict (a concurrent change or a stale expected_version),
    PermissionDenied (the role may not record or retract this event).
    """
    data = validate_event_data(deps.pathway.definition, event, fields)
    if deps.pathway.definition.events[event].role == "booking":
        raise InvalidInput(
            f"'{event}' books an open follow-up: use `pathway book MRN RULE --on DATE` (checks the "
            "step is open and the date in its window)"
        )
    actor = _valid_actor(actor)
    reason = clean_text(reason, "--reason") or None if reason is not None else None
    now = deps.clock.now()
    occurred_at = occurred_instant(on, at, deps.zone, now)
    with deps.uow() as uow:
        done = record_in(
            uow,
            deps,
            mrn,
            event,
            data,
            occurred_at,
            now,
            actor,
            reason,
            expected_version,
            date_only=on is not None and at is None,
            role=role,
            undated=on is None and at is None,
        )
        uow.commit()
    return done


def record_in(
    uow: UnitOfWork,
    deps: Deps,
    mrn: str,
    event: str,
    data: dict[str, Any],
    occurred_at: datetime,
    now: datetime,
    actor: str,
    reason: str | None = None,
    expected_version: int | None = None,
    source_ref: str | None = None,
    date_only: bool = False,
    role: str | None = None,
    undated: bool = False,
) -> Recorded:
    """Apply one validated event inside the caller's unit of work (the caller commits).

    `source_ref` keeps the id of the record it came from (an imported FHIR resource); `date_only`
    says the time was given as a clinic date alone (refused for events that start an hour clock);
    `undated` events happen "now", read after the patient is locked.
    """
    definition = deps.pathway.definition
    patient, states = lock_patient_with_states(uow, mrn, deps.mrn)
    # "now" once the patient is locked: concurrent undated writes then get ordered instants
    now = max(now, deps.clock.now())
    if undated:
        occurred_at = now
    if expected_version is not None and expected_version != patient.version:
        raise StaleVersion(
            f"patient {patient.id} is at version {patient.version}, not "
            f"{expected_version}: someone recorded something meanwhile; reload"
        )
    check_not_before_enrolment(occurred_at, patient.enrolled_on, deps.zone)
    history = uow.events.for_patient(patient.id)
    if role is not None:
        _check_role(role, actor, event, data, history, definition)
    _check_pause(event, history, definition)
    problem = reference_problem(
        definition, event, data, {e.id: e.type for e in live_events(definition, history)}
    )
    if problem:
        raise InvalidInput(problem)
    dose_problem(definition, event, data, lambda: build_timeline(deps.pathway, patient.enrolled_at, history))
    if definition.events[event].retracts:
        new_states = _after_retraction(deps.pathway, history, int(data["event_id"]), patient)
        if not reason:
            raise InvalidInput("a retraction needs --reason saying why the event was wrong")
    else:
        new_states = deps.pathway.fire(states, event, data).states
    changes = {t: (states[t], s) for t, s in new_states.items() if states[t] != s}
    if not definition.events[event].retracts:
        _check_clinical_order(history, changes, occurred_at, event, deps.zone, definition)
        if date_only:
            _check_has_time(definition, event, data, changes)
    histology = data.get(HISTOLOGY_FIELD) if definition.events[event].role == "histology" else None
    saved = uow.patients.save(patient, new_states, now, histology=histology, old=states)
    if definition.events[event].role == "demographics":
        saved = correct_demographics(uow, saved, data, reason)
    record = uow.events.append(
        NewEvent(
            patient_id=patient.id,
            type=event,
            occurred_at=occurred_at,
            recorded_at=now,
            actor=actor,
            data=data,
            reason=reason,
            changes=changes,
            source_ref=source_ref,
        )
    )
    handover = event in definition.handover_exits
    if handover:
        capture_handover(uow, deps, saved, states, history, record, now)
    types = {event} | (
        {t.type for t in history if t.id == data.get("event_id")}
        if definition.events[event].retracts
        else set()
    )
    scope = scope_of(definition, types, set(changes))
    tracking = refresh_patient(
        uow, deps.pathway, deps.calendar, saved, now, deps.routes, scope, events=[*history, record]
    )
    retracts = definition.events[event].retracts
    audit.note(
        uow,
        now,
        actor,
        "retract" if retracts else "record",
        saved.mrn,
        event=event,
        event_id=record.id,
        **({"retracted": data.get("event_id")} if retracts else {}),
    )
    return Recorded(
        patient=saved, event=record, states=new_states, changes=changes, tracking=tracking, handover=handover
    )


def status(deps: Deps, mrn: str, recent: int = 10) -> PatientView:
    with deps.read() as uow:
        patient = find_patient(uow, mrn, deps.mrn)
        stored = uow.patients.states(patient.id)
        events = uow.events.for_patient(patient.id)
    states = {t: stored[t] for t in deps.pathway.definition.tracks if t in stored}
    return PatientView(
        patient=patient,
        states=states,
        allowed_events=deps.pathway.allowed_events(states),
        recent=events[-recent:] if recent else events,
        order=tuple(deps.pathway.definition.tracks),
    )


def history(deps: Deps, mrn: str) -> History:
    with deps.read() as uow:
        patient = find_patient(uow, mrn, deps.mrn)
        events = uow.events.for_patient(patient.id)
    return History(patient=patient, events=events, retracted=retracted_ids(deps.pathway.definition, events))


def list_patients(
    deps: Deps,
    track: str | None = None,
    state: str | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> list[tuple[Patient, dict[str, str]]]:
    """Patients in MRN order; `after`/`limit` page through them by MRN (keyset, never OFFSET)."""
    definition = deps.pathway.definition
    if track is not None and track not in definition.tracks:
        raise InvalidInput(f"unknown track '{track}'; tracks: {', '.join(definition.tracks)}")
    if state is not None:
        known = {
            s for t in definition.tracks for s in definition.track_states(t) if track is None or t == track
        }
        if state not in known:
            raise InvalidInput(
                f"unknown state '{state}'"
                + (f" in track {track}" if track else "")
                + f"; states: {', '.join(sorted(known))}"
            )
    with deps.read() as uow:
        return uow.patients.listing(track, state, after=after, limit=limit)


def verify_replay(deps: Deps) -> list[str]:
    """Rebuild every patient's tracks from history and check its hash chain; list what differs,
    naming the patient and the row."""
    mismatches: list[str] = []
    with deps.read() as uow:
        for patient, stored in uow.patients.listing(None, None):
            events = uow.events.for_patient(patient.id)
            rebuilt = replay(deps.pathway, events)
            if rebuilt != stored:
                mismatches.append(f"patient {patient.id}: stored {stored}, history gives {rebuilt}")
            for problem in chain_breaks(events, uow.events.chains(patient.id), patient.version - 1):
                mismatches.append(f"patient {patient.id} ({patient.mrn}): {problem}")
        for alert_id, actions, head in uow.alerts.audit_chains():
            mismatches += action_chain_breaks(alert_id, actions, head)
    return mismatches


def _valid_actor(actor: str) -> str:
    actor = clean_text(actor, "--by", 100)
    if not actor or len(actor) > 100:
        raise InvalidInput("--by needs the name of the person recording (1-100 characters)")
    return actor


def _check_role(
    role: str,
    actor: str,
    event: str,
    data: dict[str, Any],
    history: list[EventRecord],
    definition: PathwayDefinition,
) -> None:
    target = None
    if definition.events[event].retracts:
        target = next((e.type for e in history if e.id == data.get("event_id")), None)
    refusal = event_refusal(role, event, target)
    if refusal:
        raise PermissionDenied(f"{actor} is a {role}: {refusal}")


def _after_retraction(
    pathway: Pathway, history: list[EventRecord], target_id: int, patient: Patient
) -> dict[str, str]:
    target = next((e for e in history if e.id == target_id), None)
    if target is None:
        raise NotFound(f"patient {patient.id} has no event {target_id}; see `pathway history`")
    if target.type in retraction_types(pathway.definition):
        raise InvalidInput(f"event {target_id} is itself a retraction; record the event again")
    if target_id in retracted_ids(pathway.definition, history):
        raise Conflict(f"event {target_id} is already retracted")
    remaining = [e for e in history if e.id != target_id]
    try:
        return replay(pathway, remaining)
    except EventNotAllowed as exc:
        raise EventNotAllowed(
            f"cannot retract event {target_id} ({target.type}): the later "
            f"history would no longer be valid ({exc}). Retract the later "
            "events first, newest first"
        ) from None


def _check_clinical_order(
    history: list[EventRecord],
    changes: dict[str, tuple[str, str]],
    occurred_at: datetime,
    event: str,
    zone: tzinfo,
    definition: PathwayDefinition,
) -> None:
    """A state change may not be dated before the last state change of the same track."""
    retracted = retracted_ids(definition, history)
    for e in reversed(history):
        if e.id in retracted or e.occurred_at <= occurred_at:
            continue
        clash = set(e.changes) & set(changes)
        if clash:
            track = sorted(clash)[0]
            raise InvalidInput(
                f"{event} on {local_date(occurred_at, zone)} would change the {track} track before "
                f"its last change ({e.type} on {local_date(e.occurred_at, zone)}, event {e.id}); "
                "record events in clinical order, or retract the later one first"
            )


def _check_pause(event: str, history: list[EventRecord], definition: PathwayDefinition) -> None:
    """The pause and resume events must alternate: no double pause, no resume without a pause."""
    pause, resume = definition.event_with_role("pause"), definition.event_with_role("resume")
    if event not in (pause, resume):
        return
    retracted = retracted_ids(definition, history)
    last = next(
        (e for e in reversed(history) if e.type in (pause, resume) and e.id not in retracted),
        None,
    )
    paused = last is not None and last.type == pause
    if event == pause and paused:
        raise EventNotAllowed(
            f"care is already paused since event {last.id if last else '?'}; record {resume} first"
        )
    if event == resume and not paused:
        raise EventNotAllowed("care is not paused; nothing to resume")


def _check_has_time(
    definition: PathwayDefinition, event: str, data: dict[str, Any], changes: dict[str, tuple[str, str]]
) -> None:
    """An event that starts an hour clock, given a date alone, would anchor it at midnight."""
    rules = clocks_needing_time(definition, event, data, changes)
    if rules:
        raise InvalidInput(
            f"{event} starts an hour clock ({', '.join(rules)}) and a date alone would anchor it at "
            "midnight: record it with the time it happened (--at YYYY-MM-DDTHH:MM; `at` in the API; "
            "Time on the patient page), or without a date for now"
        )


def correct_demographics(
    uow: UnitOfWork, patient: Patient, data: dict[str, Any], reason: str | None
) -> Patient:
    """The event with role `demographics` corrects the stored name and birth date (with a reason)."""
    name, raw = data.get("name"), data.get("birth_date")
    born = date.fromisoformat(raw) if isinstance(raw, str) else raw  # date fields are stored as ISO text
    if name is None and born is None:
        raise InvalidInput(
            "a demographics correction needs a name or a birth date (--set name=… / birth_date=…)"
        )
    if not reason:
        raise InvalidInput("a demographics correction needs --reason saying what was wrong")
    if isinstance(born, date) and born >= patient.enrolled_on:
        raise InvalidInput(f"birth date {born} must be before the enrolment date {patient.enrolled_on}")
    return uow.patients.correct_demographics(patient, name, born)


def names_of(deps: Deps, mrns: set[str]) -> dict[str, str]:
    """MRN -> name of the patients who have one (for screens that show names)."""
    with deps.read() as uow:
        found = [uow.patients.by_mrn(m) for m in sorted(mrns)]
    return {p.mrn: p.name for p in found if p is not None and p.name}
