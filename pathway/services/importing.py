"""Bulk import of a cohort from CSV: validate every row first, write nothing unless all are good.

The file has one row per enrolment or per event, in clinical order for each patient:

    mrn,enrolled_on,histology,event,on,fields
    MRN-1,2026-01-05,sts,,,
    MRN-1,,,neuro_exam,2026-01-06,finding=baseline
    MRN-1,,,pain_score,2026-01-06,nrs=4

A row with an `enrolled_on` enrols the patient; a row with an `event` records it (`fields` as
`name=value;name=value`). Every row is checked — field schema, dates, and the state machine, by
replaying each patient's events in memory — and all errors are reported with line numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pathway.domain.clinical_time import local_date
from pathway.domain.errors import InvalidInput, PathwayError
from pathway.domain.events import histology_value, validate_event_data
from pathway.domain.hour_clocks import clocks_needing_time
from pathway.ports import Deps
from pathway.services.patients import enroll, record_event

COLUMNS = ("mrn", "enrolled_on", "histology", "event", "on", "fields")
LINE = "\x00line"  # not a CSV column: the physical line a row starts on


@dataclass
class PlannedPatient:
    mrn: str
    enrolled_on: date
    histology: str | None
    line: int
    events: list[tuple[int, str, date, dict[str, Any]]] = field(default_factory=list)


def parse(
    rows: Iterable[dict[str, str]], deps: Deps, existing: set[str]
) -> tuple[list[PlannedPatient], list[str]]:
    """Check the whole file; return the plan and every error as 'line N: ...'."""
    definition = deps.pathway.definition
    today = local_date(deps.clock.now(), deps.zone)
    plan: dict[str, PlannedPatient] = {}
    errors: list[str] = []
    states: dict[str, dict[str, str]] = {}
    for position, row in enumerate(rows, start=2):
        line = int(row.get(LINE) or position)
        try:
            mrn = deps.mrn.canonical(row.get("mrn") or "")
            if (row.get("enrolled_on") or "").strip():
                plan[mrn] = _enrolment(row, mrn, line, today, plan, existing, deps)
                states[mrn] = definition.initial_states()
                continue
            patient = plan.get(mrn)
            if patient is None:
                raise InvalidInput(f"{mrn} is not enrolled earlier in the file")
            event = (row.get("event") or "").strip().lower()
            if not event:
                raise InvalidInput("give either enrolled_on (an enrolment) or event")
            data = validate_event_data(definition, event, _fields(row.get("fields") or ""))
            on = _date(row.get("on") or "", "on")
            if on > today:
                raise InvalidInput(f"{on} is in the future")
            if on < patient.enrolled_on:
                raise InvalidInput(f"{on} is before the enrolment on {patient.enrolled_on}")
            if patient.events and on < patient.events[-1][2]:
                raise InvalidInput(
                    f"{event} on {on} is before the previous row of {mrn}; "
                    "list each patient's events in clinical order"
                )
            outcome = deps.pathway.fire(states[mrn], event, data)
            hour_clocks = clocks_needing_time(definition, event, data, outcome.changes)
            if hour_clocks:
                raise InvalidInput(
                    f"{event} starts an hour clock ({', '.join(hour_clocks)}) and the `on` column "
                    "holds a date alone; leave it out of the file and record it with "
                    "`pathway record ... --at` the time it happened"
                )
            states[mrn] = outcome.states
            patient.events.append((line, event, on, data))
        except PathwayError as exc:
            errors.append(f"line {line}: {exc}")
    return list(plan.values()), errors


def _enrolment(
    row: dict[str, str],
    mrn: str,
    line: int,
    today: date,
    plan: dict[str, PlannedPatient],
    existing: set[str],
    deps: Deps,
) -> PlannedPatient:
    if mrn in plan:
        raise InvalidInput(f"{mrn} is enrolled twice in the file (first on line {plan[mrn].line})")
    if mrn in existing:
        raise InvalidInput(f"{mrn} is already enrolled in the database")
    enrolled_on = _date(row["enrolled_on"], "enrolled_on")
    if enrolled_on > today:
        raise InvalidInput(f"enrolment date {enrolled_on} is in the future")
    histology = (row.get("histology") or "").strip() or None
    if histology is not None:
        histology = histology_value(deps.pathway.definition, "import", histology)
    return PlannedPatient(mrn, enrolled_on, histology, line)


def _date(text: str, column: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{column}: {text!r} is not a date (YYYY-MM-DD)") from None


def _fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, value = part.partition("=")
        if not sep:
            raise InvalidInput(f"fields: {part!r} is not name=value")
        out[name.strip().lower()] = value.strip()
    return out


def read_rows(text: str) -> list[dict[str, str]]:
    """The rows, quoted newlines kept inside their field; each row's physical line under LINE."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in ("mrn", "enrolled_on", "event") if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(
            f"the CSV header lacks {', '.join(missing)}; expected columns: {', '.join(COLUMNS)}"
        )
    rows = []
    for row in reader:  # line_num is the row's last physical line; count back its quoted newlines
        inside = sum(v.count("\n") for v in row.values() if isinstance(v, str))
        rows.append({**row, LINE: str(reader.line_num - inside)})
    return rows


def import_cohort(
    deps: Deps, rows: list[dict[str, str]], actor: str, progress: Callable[[int], None] | None = None
) -> tuple[int, int]:
    """Validate everything, then enrol and record through the same services as the CLI."""
    with deps.read() as uow:
        keys = {deps.mrn.lookup(r.get("mrn") or "") for r in rows}
        existing = {k for k in keys if k and uow.patients.by_mrn(k)}
    plan, errors = parse(rows, deps, existing)
    if errors:
        shown = errors[:50] + ([f"... and {len(errors) - 50} more"] if len(errors) > 50 else [])
        raise InvalidInput(f"{len(errors)} error(s), nothing imported:\n" + "\n".join(shown))
    events = 0
    for patient in plan:
        enroll(deps, patient.mrn, histology=patient.histology, on=patient.enrolled_on)
        for _, event, on, data in patient.events:
            record_event(deps, patient.mrn, event, {k: str(v) for k, v in data.items()}, on=on, actor=actor)
            events += 1
        if progress:
            progress(1 + len(patient.events))
    return len(plan), events
