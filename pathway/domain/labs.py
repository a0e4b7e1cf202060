"""Laboratory results and performance status as the rules read them, from the history.

Pure: the caller passes the patient's events (retractions included; the one retraction rule,
`history.retracted_ids`, takes back what they name) and the instant of interest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pathway.domain.definition import PathwayDefinition
from pathway.domain.history import retracted_ids
from pathway.domain.lab_catalogue import LAB_TEST_FIELD, LAB_UNIT_FIELD, LAB_VALUE_FIELD
from pathway.domain.model import EventRecord

PERFORMANCE_EVENT, ECOG_FIELD = "performance_status", "ecog"


@dataclass(frozen=True)
class LabResult:
    event_id: int
    test: str
    value: float
    unit: str
    at: datetime  # when the sample was taken / the result is dated (the event's occurred_at)


def lab_results(definition: PathwayDefinition, events: Iterable[EventRecord]) -> list[LabResult]:
    """Every live laboratory result, oldest first (by clinical time, then recording order)."""
    events = list(events)
    lab = definition.event_with_role("lab")
    gone = retracted_ids(definition, events)
    found = [
        LabResult(
            e.id,
            str(e.data[LAB_TEST_FIELD]),
            float(e.data[LAB_VALUE_FIELD]),
            str(e.data[LAB_UNIT_FIELD]),
            e.occurred_at,
        )
        for e in events
        if e.type == lab and e.id not in gone
    ]
    return sorted(found, key=lambda r: (r.at, r.event_id))


def latest_result(results: Iterable[LabResult], test: str, at: datetime) -> LabResult | None:
    """The most recent result of `test` dated at or before `at`, or None."""
    before = [r for r in results if r.test == test and r.at <= at]
    return max(before, key=lambda r: (r.at, r.event_id), default=None)


def results_within(
    results: Iterable[LabResult], test: str, at: datetime, window: timedelta
) -> list[LabResult]:
    """The results of `test` dated in [at - window, at], oldest first."""
    found = [r for r in results if r.test == test and at - window <= r.at <= at]
    return sorted(found, key=lambda r: (r.at, r.event_id))


def latest_lab(
    definition: PathwayDefinition, events: Iterable[EventRecord], test: str, at: datetime
) -> LabResult | None:
    """Shorthand: the latest live result of `test` at or before `at`."""
    return latest_result(lab_results(definition, events), test, at)


def labs_within(
    definition: PathwayDefinition, events: Iterable[EventRecord], test: str, at: datetime, window: timedelta
) -> list[LabResult]:
    """Shorthand: the live results of `test` in the `window` up to and including `at`."""
    return results_within(lab_results(definition, events), test, at, window)


def latest_ecog(definition: PathwayDefinition, events: Iterable[EventRecord], at: datetime) -> int | None:
    """The most recent live ECOG performance status at or before `at`, or None."""
    events = list(events)
    gone = retracted_ids(definition, events)
    scored = [e for e in events if e.type == PERFORMANCE_EVENT and e.id not in gone and e.occurred_at <= at]
    last = max(scored, key=lambda e: (e.occurred_at, e.id), default=None)
    return None if last is None else int(last.data[ECOG_FIELD])
