"""Bulk import of a cohort from CSV: check every row, then write the whole cohort as a batch.

    mrn,enrolled_on,histology,event,on,fields,row_id
    MRN-1,2026-01-05,sts,,,,
    MRN-1,,,neuro_exam,2026-01-06,finding=baseline,r1
    MRN-1,,,pain_score,2026-01-06,nrs=4,r2

Nothing is written unless every row is good (`import_plan.parse`). Then each patient's states,
follow-ups and open alerts are derived once from their whole history as of now
(`import_derive.derive`) and written with executemany, `batch` patients at a time, in one
transaction (or one per batch with `atomic=False`). Rows for enrolled patients append to their
history: the stored and the new events are re-derived together and the difference written, as
recording does.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import IO

from pathway.domain.clinical_time import start_of_day
from pathway.domain.errors import InvalidInput, PathwayError
from pathway.domain.integrity import GENESIS, event_digest
from pathway.domain.model import EventRecord, Patient
from pathway.ports import Deps, UnitOfWork
from pathway.services import audit
from pathway.services.heap import bulk_work
from pathway.services.import_derive import Derived, alert_rows, derive
from pathway.services.import_plan import LINE, ROW_ID, Checker, PlannedPatient, line_of, parse
from pathway.services.patients import _valid_actor
from pathway.services.sync import refresh_patient

COLUMNS = ("mrn", "enrolled_on", "histology", "event", "on", "fields", ROW_ID)
BATCH = 1000  # patients per batch of statements


@dataclass(frozen=True)
class Imported:
    patients: int  # enrolled by this import
    events: int  # recorded by this import
    skipped: int  # rows imported before
    alerts: int  # alert levels opened (open as of now; none resolved within the history)


def read_rows(text: str) -> list[dict[str, str]]:
    return list(iter_rows(io.StringIO(text, newline="")))


def iter_rows(stream: IO[str]) -> Iterator[dict[str, str]]:
    """The rows, quoted newlines kept inside their field; each row's physical line under LINE."""
    reader = csv.DictReader(stream)
    missing = [c for c in ("mrn", "enrolled_on", "event") if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(
            f"the CSV header lacks {', '.join(missing)}; expected columns: {', '.join(COLUMNS)}"
        )
    previous = reader.line_num
    for row in reader:  # line_num is the row's last physical line; count back its quoted newlines
        line = reader.line_num
        if line - previous > 1:  # more than one physical line since the last row: newlines inside
            line -= sum(v.count("\n") for v in row.values() if isinstance(v, str))
        previous = reader.line_num
        row[LINE] = str(line)
        yield row


Rows = Iterable[dict[str, str]] | Callable[[], Iterable[dict[str, str]]]


@bulk_work()
def import_cohort(
    deps: Deps,
    rows: Rows,
    actor: str,
    progress: Callable[[int], None] | None = None,
    *,
    batch: int = BATCH,
    atomic: bool = True,
) -> Imported:
    """Check every row (first pass), then derive and write `batch` complete patients at a time
    (second pass). `rows` is a list, or a function giving the rows afresh for each pass (a file
    read twice keeps memory to the patients in flight). InvalidInput lists every bad row."""
    actor = _valid_actor(actor)
    now = deps.clock.now()
    source = rows if callable(rows) else (lambda: rows)
    plan = parse(source(), deps, {})
    with deps.read() as uow:
        stored = uow.imports.histories(plan.mrns)
    if stored:  # some rows append to enrolled patients: check again from their stored history
        plan = parse(source(), deps, stored)
    if plan.errors:
        errors = plan.errors
        shown = errors[:50] + ([f"... and {len(errors) - 50} more"] if len(errors) > 50 else [])
        raise InvalidInput(f"{len(errors)} error(s), nothing imported:\n" + "\n".join(shown))
    events = alerts = 0
    checker = Checker(deps, stored, keep=True)
    waiting: dict[str, list[tuple[dict[str, str], int]]] = {}
    ready: list[PlannedPatient] = []
    with deps.uow() as uow:

        def flush() -> None:
            nonlocal events, alerts
            alerts += _write(uow, deps, ready, actor, now)
            events += sum(len(p.events) for p in ready)
            if not atomic:
                uow.commit()
            if progress:
                progress(sum(len(p.events) + (p.stored is None) for p in ready))
            ready.clear()

        for position, row in enumerate(source(), start=2):
            line, mrn = line_of(row, position), deps.mrn.lookup(row.get("mrn") or "") or ""
            last = plan.last_line.get(mrn)
            if last is None or line > last:
                continue  # rows imported before
            waiting.setdefault(mrn, []).append((row, line))
            if line < last:
                continue
            for r, n in waiting.pop(mrn):  # the patient's rows are all here: check them again, keep them
                try:
                    checker.row(r, n)
                except PathwayError as exc:
                    kept = "nothing imported" if atomic else "the batches before it were imported"
                    raise InvalidInput(f"line {n}: {exc}; {kept}") from None
            ready.append(checker.patients.pop(mrn))
            if len(ready) >= batch:
                flush()
        if ready:
            flush()
        audit.note(uow, now, actor, "import", None, patients=plan.new, events=events, skipped=plan.skipped)
        uow.commit()
    if progress and plan.skipped:
        progress(plan.skipped)
    return Imported(plan.new, events, plan.skipped, alerts)


def _write(uow: UnitOfWork, deps: Deps, chunk: list[PlannedPatient], actor: str, now: datetime) -> int:
    """One batch: ids reserved up front, every table written with one executemany."""
    zone = deps.zone
    new = [p for p in chunk if p.stored is None]
    pids = iter(uow.imports.reserve_ids("patient", len(new)))
    eids = iter(uow.imports.reserve_ids("event", sum(len(p.events) for p in chunk)))
    tables: dict[str, list[dict[str, object]]] = {
        t: []
        for t in ("patient", "track_state", "event", "follow_up", "alert", "alert_action", "notification")
    }
    derived: list[tuple[PlannedPatient, Patient, list[EventRecord], Derived]] = []
    for p in chunk:
        if p.stored is None:
            pid = next(pids)
            patient = Patient(pid, p.mrn, p.enrolled_on, start_of_day(p.enrolled_on, zone), p.histology)
            history: list[EventRecord] = []
        else:
            patient, history = p.stored.patient, list(p.stored.events)
        added = [
            EventRecord(
                next(eids), patient.id, e.type, start_of_day(e.on, zone), now, actor, e.data, None, {}
            )
            for e in p.events
        ]
        full = history + added
        d = derive(deps.pathway, deps.calendar, patient, full, now, frozenset(e.id for e in added))
        previous = GENESIS
        if p.stored is not None:
            chains = uow.events.chains(patient.id)
            previous = (chains[max(chains)] if chains else None) or GENESIS
        for e, planned in zip(added, p.events, strict=True):
            # the tamper-evident chain, as recording computes it (pathway.domain.integrity)
            previous = event_digest(previous, replace(e, id=0, changes=d.changes.get(e.id, {})))
            tables["event"].append(
                {
                    "id": e.id,
                    "patient_id": e.patient_id,
                    "type": e.type,
                    "occurred_at": e.occurred_at,
                    "recorded_at": now,
                    "actor": actor,
                    "reason": None,
                    "data": e.data,
                    "changes": {k: list(v) for k, v in d.changes.get(e.id, {}).items()},
                    "source_ref": None,
                    "row_id": planned.row_id,
                    "chain": previous,
                }
            )
        if p.stored is not None:
            full = history + [replace(e, changes=d.changes.get(e.id, {})) for e in added]
        derived.append((p, patient, full, d))
        if p.stored is None:
            initial = deps.pathway.definition.initial_states()
            tables["patient"].append(
                {
                    "id": patient.id,
                    "mrn": p.mrn,
                    "name": None,
                    "birth_date": None,
                    "histology": d.histology,
                    "enrolled_on": p.enrolled_on,
                    "enrolled_at": patient.enrolled_at,
                    "pathway_id": deps.pathway.definition.pathway.id,
                    "version": 1 + len(added),
                    "updated_at": now if added else patient.enrolled_at,
                }
            )
            tables["track_state"] += [
                {
                    "patient_id": patient.id,
                    "track": t,
                    "state": s,
                    "entered_at": now if initial.get(t) != s else patient.enrolled_at,
                }
                for t, s in d.states.items()
            ]
    new_derived = [x for x in derived if x[0].stored is None]
    fids = iter(uow.imports.reserve_ids("follow_up", sum(len(d.follow_ups) for *_, d in new_derived)))
    aids = iter(uow.imports.reserve_ids("alert", sum(len(d.alerts) for *_, d in new_derived)))
    for _, _, _, d in new_derived:
        ids: dict[tuple[str, str, datetime], int] = {}
        for row in d.follow_ups:
            row["id"] = ids[(row["rule"], row["region"], row["anchor_at"])] = next(fids)
            tables["follow_up"].append(row)
        alert_ids = [next(aids) for _ in d.alerts]
        a, actions, outbox = alert_rows(d, ids, alert_ids, deps.routes, now)
        tables["alert"] += a
        tables["alert_action"] += actions
        tables["notification"] += outbox
    for name, rows in tables.items():
        uow.imports.insert(name, _complete(rows))
    opened = len(tables["alert"])
    for p, patient, full, d in derived:
        if p.stored is not None:
            saved = uow.imports.save_patient(
                patient, d.states, p.stored.states, patient.version + len(p.events), d.histology, now
            )
            changes = refresh_patient(uow, deps.pathway, deps.calendar, saved, now, deps.routes, events=full)
            opened += changes.alerts_opened
    uow.imports.insert(  # after the events they name
        "handover",
        [
            {"patient_id": patient.id, "event_id": event_id, "created_at": now, "summary": summary}
            for _, patient, _, d in derived
            for event_id, summary in d.handovers
        ],
    )
    return opened


def _complete(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """executemany needs the same keys in every row."""
    if not rows:
        return rows
    keys = set().union(*rows)
    if all(len(r) == len(keys) for r in rows):
        return rows
    return [{k: r.get(k) for k in keys} for r in rows]
