"""Pre-dose windows (pure): a `before_dose` rule's window counts back from the next planned dose as
the history stood at each dose, and only a result inside it counts (T19, T20, T26)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from config import DEFAULT_PATHWAY
from pathway.adapters.pathway_file import load_pathway_file
from pathway.domain.dose_arithmetic import next_line_dose
from pathway.domain.followups import FollowUp, derive_follow_ups
from pathway.domain.machine import Pathway
from pathway.domain.model import EventRecord
from pathway.domain.timeline import build_timeline
from pathway.domain.windows import Calendar, closes_day

DEFINITION = load_pathway_file(DEFAULT_PATHWAY)
PATHWAY = Pathway(DEFINITION)
DAY0 = date(2026, 3, 2)
ENROLLED = datetime(2026, 3, 1, 9, tzinfo=UTC)
CALENDAR = Calendar(UTC)


def record(i: int, type: str, day: int, data: dict[str, Any]) -> EventRecord:
    at = datetime.combine(DAY0 + timedelta(days=day), datetime.min.time(), UTC) + timedelta(hours=10)
    return EventRecord(i, 1, type, at, at, "t", data, None, {})


def follow_ups(events: list[tuple[str, int, dict[str, Any]]], rule: str) -> list[FollowUp]:
    records = [record(i + 1, t, d, data) for i, (t, d, data) in enumerate(events)]
    timeline = build_timeline(PATHWAY, ENROLLED, records)
    assert len(timeline) == len(records) + 1, "an event was not allowed"
    return sorted(
        (f for f in derive_follow_ups(DEFINITION, timeline, CALENDAR) if f.rule == rule),
        key=lambda f: f.anchor_at,
    )


DENOSUMAB = {"agent": "denosumab", "schedule": "q4w", "dose_mg": 120}
CALCIUM = {"test": "corrected_calcium", "value": 2.4, "unit": "mmol/L"}


@settings(max_examples=40, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=10, max_value=45), min_size=0, max_size=4),
    lab_before=st.integers(min_value=0, max_value=30),
)
def test_the_open_calcium_clock_ends_on_the_planned_day_and_counts_only_results_inside(
    gaps: list[int], lab_before: int
) -> None:
    days = [0]
    for gap in gaps:
        days.append(days[-1] + gap)
    events: list[tuple[str, int, dict[str, Any]]] = [("bma_started", 0, DENOSUMAB)]
    events += [("bma_dose", d, {"agent": "denosumab", "dose_mg": 120}) for d in days[1:]]
    planned = days[-1] + 28  # q4w: the last dose plus the schedule's 28-day target (T21a)
    lab_day = planned - lab_before
    if lab_day > days[-1]:
        events.append(("lab_result", lab_day, CALCIUM))
    fus = follow_ups(events, "T19")
    # one instance per dose; every one before the last ends when the next dose comes
    assert len(fus) == len(days)
    assert all(f.outcome == "cancelled" and "the dose came" in (f.cancel_reason or "") for f in fus[:-1])
    last = fus[-1]
    assert closes_day(last.window, UTC) == DAY0 + timedelta(days=planned)
    assert last.window.opens_at == datetime.combine(
        DAY0 + timedelta(days=planned - 14), datetime.min.time(), UTC
    )
    inside = lab_day > days[-1] and lab_before <= 14
    assert (last.outcome == "done") == inside


@settings(max_examples=40, deadline=None)
@given(
    interval=st.integers(min_value=7, max_value=42),
    cycles_given=st.integers(min_value=0, max_value=3),
    days_per_cycle=st.integers(min_value=1, max_value=5),
)
def test_an_ifosfamide_cycle_is_planned_from_the_first_day_of_the_last_cycle(
    interval: int, cycles_given: int, days_per_cycle: int
) -> None:
    plan = {"regimen": "ifosfamide", "planned_dose": 3, "planned_cycles": 4, "cycle_interval_days": interval}
    events = [record(1, "systemic_started", 0, plan)]
    for c in range(cycles_given):
        for d in range(days_per_cycle):
            dose = {"drug": "ifosfamide", "dose": 3, "unit": "g/m2", "cycle": c + 1, "day": d + 1}
            events.append(record(len(events) + 1, "drug_given", c * interval + d, dose))
    due = next_line_dose(DEFINITION, events, "ifosfamide")
    assert due is not None
    assert due.date() == DAY0 + timedelta(days=cycles_given * interval)
    assert next_line_dose(DEFINITION, events, "doxorubicin") is None  # not in this regimen


def test_the_last_planned_cycle_given_ends_the_pre_dose_clocks() -> None:
    plan = {"regimen": "ifosfamide", "planned_dose": 3, "planned_cycles": 2, "cycle_interval_days": 21}
    dose = {"drug": "ifosfamide", "dose": 3, "unit": "g/m2"}
    events = [
        ("mdt_decision", 0, {"resectability": "unresectable", "plan": "systemic"}),
        ("systemic_started", 0, plan),
        ("drug_given", 0, {**dose, "cycle": 1}),
        ("drug_given", 21, {**dose, "cycle": 2}),
    ]
    fus = follow_ups(events, "T26")
    assert fus and all(f.outcome == "cancelled" for f in fus)  # nothing left open
    assert "no further dose planned" in (fus[-1].cancel_reason or "")
