"""Check a whole cohort CSV before anything is written: every error with its line number.

A row with an `enrolled_on` enrols the patient; a row with an `event` records it (`fields` as
`name=value;name=value`). Each patient's events are replayed through the state machines, starting
from their stored history when they are already enrolled (the rows then append to it). A row whose
`row_id` the patient already holds (or, without a `row_id` column, an event identical to a stored
one) was imported before and is skipped; an enrolment row of an enrolled patient with the same date
likewise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pathway.domain.clinical_time import local_date
from pathway.domain.definition import PathwayDefinition
from pathway.domain.errors import InvalidInput, PathwayError
from pathway.domain.events import histology_value, validate_event_data
from pathway.domain.history import live_events
from pathway.domain.hour_clocks import clocks_needing_time
from pathway.domain.memo import PerDefinition
from pathway.ports import Deps, StoredHistory

LINE = "\x00line"  # not a CSV column: the physical line a row starts on
ROW_ID = "row_id"


@dataclass
class PlannedEvent:
    line: int
    type: str
    on: date
    data: dict[str, Any]
    changes: dict[str, tuple[str, str]]
    row_id: str | None


@dataclass
class PlannedPatient:
    mrn: str
    enrolled_on: date
    histology: str | None
    line: int
    stored: StoredHistory | None = None
    events: list[PlannedEvent] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)
    last: date | None = None
    paused: bool = False
    row_ids: dict[str, int] = field(default_factory=dict)  # row id -> line
    seen: set[tuple[str, date, str]] = field(default_factory=set)  # stored events (no row ids)


@dataclass
class Plan:
    """What checking the whole file found: every error, and where each patient's rows end."""

    errors: list[str] = field(default_factory=list)
    skipped: int = 0  # rows imported before
    rows: int = 0
    last_line: dict[str, int] = field(default_factory=dict)  # MRN -> the line of its last row to import
    new: int = 0  # patients to enrol
    mrns: set[str] = field(default_factory=set)  # every MRN the file names


class Checker:
    """Checks rows in file order. `keep` collects each patient's events (the second pass, fed one
    complete patient at a time); without it only the little each patient's next row needs is kept."""

    def __init__(self, deps: Deps, stored: dict[str, StoredHistory], keep: bool) -> None:
        self.deps, self.stored, self.keep = deps, stored, keep
        self.today = local_date(deps.clock.now(), deps.zone)
        self.patients: dict[str, PlannedPatient] = {}
        d = deps.pathway.definition
        self.roles = (d.event_with_role("pause"), d.event_with_role("resume"))

    def row(self, row: dict[str, str], line: int) -> tuple[str, bool]:
        """The row's MRN, and True if it was imported before; raises PathwayError."""
        mrn = self.deps.mrn.canonical(row.get("mrn") or "")  # one identity whatever the letter case
        if (row.get("enrolled_on") or "").strip():
            return mrn, _enrolment(row, mrn, line, self.today, self.patients, self.stored, self.deps)
        patient = self.patients.get(mrn) or _from_store(mrn, self.stored, self.patients, self.deps)
        if patient is None:
            raise InvalidInput(f"{mrn} is not enrolled earlier in the file")
        return mrn, _event(row, patient, line, self.today, self.deps, self.keep, self.roles)


def line_of(row: dict[str, str], position: int) -> int:
    return int(row.get(LINE) or position)


def parse(rows: Iterable[dict[str, str]], deps: Deps, stored: dict[str, StoredHistory]) -> Plan:
    """Check the whole file (the first pass): every error as 'line N: ...'."""
    plan = Plan()
    checker = Checker(deps, stored, keep=False)
    for position, row in enumerate(rows, start=2):
        line = line_of(row, position)
        plan.rows += 1
        plan.mrns.add(deps.mrn.lookup(row.get("mrn") or "") or "")
        try:
            mrn, skipped = checker.row(row, line)
        except PathwayError as exc:
            plan.errors.append(f"line {line}: {exc}")
            continue
        if skipped:
            plan.skipped += 1
        else:
            plan.last_line[mrn] = line
    plan.new = sum(p.stored is None for p in checker.patients.values())
    return plan


def _event(
    row: dict[str, str],
    patient: PlannedPatient,
    line: int,
    today: date,
    deps: Deps,
    keep: bool,
    roles: tuple[str | None, str | None],
) -> bool:
    """Check one event row against the patient's history; True if it was imported before."""
    definition = deps.pathway.definition
    event = (row.get("event") or "").strip().lower()
    if not event:
        raise InvalidInput("give either enrolled_on (an enrolment) or event")
    data = _data(definition, event, row.get("fields") or "")
    on = _date(row.get("on") or "", "on")
    row_id = (row.get(ROW_ID) or "").strip() or None
    if row_id is not None and len(row_id) > 100:
        raise InvalidInput("row_id: at most 100 characters")
    if patient.stored is not None:
        if row_id is not None and row_id in patient.stored.row_ids:
            return True
        if row_id is None and (event, on, _key(data)) in patient.seen:
            return True
    if row_id is not None and row_id in patient.row_ids:
        raise InvalidInput(f"row_id {row_id} of {patient.mrn} repeats line {patient.row_ids[row_id]}")
    if definition.events[event].retracts:
        raise InvalidInput(f"{event} is not imported; record it with `pathway {event}` and a reason")
    if on > today:
        raise InvalidInput(f"{on} is in the future")
    if on < patient.enrolled_on:
        raise InvalidInput(f"{on} is before the enrolment on {patient.enrolled_on}")
    if patient.last is not None and on < patient.last:
        raise InvalidInput(
            f"{event} on {on} is before the previous event of {patient.mrn} ({patient.last}); "
            "list each patient's events in clinical order"
        )
    pause, resume = roles
    if event == pause and patient.paused:
        raise InvalidInput(f"care of {patient.mrn} is already paused; record {resume} first")
    if event == resume and not patient.paused:
        raise InvalidInput(f"care of {patient.mrn} is not paused; nothing to resume")
    patient.last = on
    patient.paused = event == pause or (patient.paused and event != resume)
    if keep:  # the second pass, after the first checked the states: the changes come from the timeline
        if row_id is not None:
            patient.row_ids[row_id] = line
        patient.events.append(PlannedEvent(line, event, on, data, {}, row_id))
        return False
    outcome = deps.pathway.fire(patient.states, event, data)
    hour_clocks = clocks_needing_time(definition, event, data, outcome.changes)
    if hour_clocks:
        raise InvalidInput(
            f"{event} starts an hour clock ({', '.join(hour_clocks)}) and the `on` column "
            "holds a date alone; leave it out of the file and record it with "
            "`pathway record ... --at` the time it happened"
        )
    patient.states = outcome.states
    return False


def _enrolment(
    row: dict[str, str],
    mrn: str,
    line: int,
    today: date,
    patients: dict[str, PlannedPatient],
    stored: dict[str, StoredHistory],
    deps: Deps,
) -> bool:
    """Plan an enrolment; True if the patient is already enrolled with this date (imported before)."""
    enrolled_on = _date(row["enrolled_on"], "enrolled_on")
    known = stored.get(mrn)
    if known is not None:
        if known.patient.enrolled_on != enrolled_on:
            raise InvalidInput(f"{mrn} is already enrolled in the database, on {known.patient.enrolled_on}")
        if mrn not in patients:
            _from_store(mrn, stored, patients, deps)
        return True
    if mrn in patients:
        raise InvalidInput(f"{mrn} is enrolled twice in the file (first on line {patients[mrn].line})")
    if enrolled_on > today:
        raise InvalidInput(f"enrolment date {enrolled_on} is in the future")
    histology = (row.get("histology") or "").strip() or None
    if histology is not None:
        histology = histology_value(deps.pathway.definition, "import", histology)
    patients[mrn] = PlannedPatient(
        mrn, enrolled_on, histology, line, states=deps.pathway.definition.initial_states()
    )
    return False


def _from_store(
    mrn: str, stored: dict[str, StoredHistory], patients: dict[str, PlannedPatient], deps: Deps
) -> PlannedPatient | None:
    known = stored.get(mrn)
    if known is None:
        return None
    definition = deps.pathway.definition
    live = live_events(definition, known.events)
    pause, resume = definition.event_with_role("pause"), definition.event_with_role("resume")
    marks = [e.type for e in live if e.type in (pause, resume)]
    patient = PlannedPatient(
        mrn,
        known.patient.enrolled_on,
        known.patient.histology,
        0,
        stored=known,
        states=dict(known.states),
        last=max((local_date(e.occurred_at, deps.zone) for e in live), default=None),
        paused=bool(marks) and marks[-1] == pause,
        seen={(e.type, local_date(e.occurred_at, deps.zone), _key(e.data)) for e in live},
    )
    patients[mrn] = patient
    return patient


def _key(data: dict[str, Any]) -> str:
    return repr(sorted((k, str(v)) for k, v in data.items()))


def _date(text: str, column: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{column}: {text!r} is not a date (YYYY-MM-DD)") from None


_CHECKED: PerDefinition[dict[str, Any]] = PerDefinition(limit=65536)


def _data(definition: PathwayDefinition, event: str, text: str) -> dict[str, Any]:
    """The event's checked fields; the same text of the same event is checked once (a cohort
    repeats a few thousand field texts), each row getting its own copy."""
    checked = _CHECKED.get(
        definition, (event, text), lambda: validate_event_data(definition, event, _fields(text))
    )
    return dict(checked)


def _fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, value = part.partition("=")
        if not sep:
            raise InvalidInput(f"fields: {part!r} is not name=value")
        out[name.strip().lower()] = value.strip()
    return out
