"""Concurrent undated writes to one patient (issue 17 item 13), on SQLite and PostgreSQL.

"Now" for an event recorded without a date is read after the patient is locked, so writers that
queue behind each other get instants in the order they commit and none is refused for changing
a track "before its last change".
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from pathway.bootstrap import App
from pathway.domain.errors import Conflict
from pathway.ports import Deps
from pathway.services import patients
from tests.fakes import utc


@dataclass
class TickingClock:
    """Each reading is one millisecond after the previous one (thread-safe)."""

    current: datetime
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> datetime:
        with self.lock:
            self.current += timedelta(milliseconds=1)
            return self.current


def test_undated_writes_queued_on_one_patient_are_never_refused_as_out_of_order(app: App) -> None:
    clock = TickingClock(utc(2026, 3, 2, 9))
    deps = Deps(uow=app.deps.uow, clock=clock, pathway=app.deps.pathway, zone=app.deps.zone)
    patients.enroll(deps, "MRN-1", histology="sts", on=date(2026, 3, 2))
    # alternating scores move the pain track each time: an out-of-order instant would be refused
    scores = [2, 6] * 15

    def write(nrs: int) -> str:
        for _ in range(50):
            try:
                patients.record_event(deps, "MRN-1", "pain_score", {"nrs": str(nrs)}, actor="j.smith")
                return "ok"
            except Conflict:  # the database was busy: retry, as a client would
                continue
        return "gave up"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(write, scores))
    assert outcomes == ["ok"] * len(scores)
    events = patients.history(deps, "MRN-1").events
    assert len(events) == len(scores)
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
