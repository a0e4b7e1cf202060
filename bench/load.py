"""Create a benchmark database (SQLite file or PostgreSQL) and bulk-load a generated cohort."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from sqlalchemy import Engine, insert, text

from bench.cohort import Generated
from db import migrate
from db.tables import AlertRow, EventRow, FollowUpRow, PatientRow, TrackStateRow

BATCH = 1000


def load(engine: Engine, cohort: Iterable[Generated], total: int) -> dict[str, int]:
    migrate.upgrade(engine)
    counts = {"patients": 0, "events": 0, "follow_ups": 0, "alerts": 0}
    follow_up_id = 0
    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    ) as bar:
        task = bar.add_task("generating and loading the cohort", total=total)
        iterator = iter(cohort)
        while chunk := list(itertools.islice(iterator, BATCH)):
            patients, states, events, follow_ups, alerts = [], [], [], [], []
            for g in chunk:
                patients.append(g.patient)
                states += [
                    {
                        "patient_id": g.patient["id"],
                        "track": t,
                        "state": s,
                        "entered_at": g.patient["updated_at"],
                    }
                    for t, s in g.states.items()
                ]
                events += g.events
                ids: dict[str, int] = {}
                for f in g.follow_ups:
                    follow_up_id += 1
                    ids[f["instance_key"]] = follow_up_id
                    follow_ups.append({"id": follow_up_id, **f})
                alerts += [{**a, "follow_up_id": ids.get(a["instance_key"])} for a in g.alerts]
            with engine.begin() as conn:
                for table, rows in (
                    (PatientRow, patients),
                    (TrackStateRow, states),
                    (EventRow, events),
                    (FollowUpRow, follow_ups),
                    (AlertRow, alerts),
                ):
                    if rows:
                        conn.execute(insert(table), _complete(table, rows))
            counts["patients"] += len(patients)
            counts["events"] += len(events)
            counts["follow_ups"] += len(follow_ups)
            counts["alerts"] += len(alerts)
            bar.advance(task, len(chunk))
    _fix_sequences(engine)
    return counts


def _complete(table: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """executemany needs the same keys in every row."""
    keys = set().union(*rows)
    return [{k: r.get(k) for k in keys} for r in rows]


def _fix_sequences(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for table in ("patient", "event", "follow_up", "alert"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            )
        conn.execute(text("ANALYZE"))
