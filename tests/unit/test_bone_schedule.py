"""Bone-agent schedule arithmetic: the next planned dose from the schedule rule and the doses given
(T21a q4w, T21b q3-4w, T21c q12w, T22 GCTB loading days 1, 8, 15, 29 then every 28 days)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import DEFAULT_PATHWAY
from pathway.adapters.pathway_file import load_pathway_file
from pathway.domain.bone_agents import conflicting, courses, next_planned_dose, planned_day, schedule_rule
from pathway.domain.machine import Pathway
from pathway.domain.model import EventRecord
from pathway.domain.timeline import build_timeline

DEFINITION = load_pathway_file(DEFAULT_PATHWAY)
PATHWAY = Pathway(DEFINITION)
DAY1 = date(2026, 3, 2)
ENROLLED = datetime(2026, 3, 1, 9, tzinfo=UTC)


def timeline(*events: tuple[str, int, dict[str, Any]]) -> Any:
    records = [
        EventRecord(
            i + 1,
            1,
            t,
            datetime.combine(DAY1 + timedelta(days=d), datetime.min.time(), UTC) + timedelta(hours=10),
            ENROLLED,
            "t",
            data,
            None,
            {},
        )
        for i, (t, d, data) in enumerate(events)
    ]
    return build_timeline(PATHWAY, ENROLLED, records)


GCTB = [
    ("mdt_decision", 0, {"resectability": "unresectable", "plan": "systemic"}),
    ("systemic_started", 0, {"regimen": "denosumab_gctb"}),
]


def rule(rid: str) -> Any:
    return DEFINITION.rules.follow_ups[rid]


def test_gctb_loading_gives_days_8_15_29_then_every_28_days_when_each_dose_is_on_time() -> None:
    given_days = [0]
    for expected in (7, 14, 28, 56, 84):
        planned = planned_day(rule("T22"), len(given_days), DAY1 + timedelta(days=given_days[-1]))
        assert planned == DAY1 + timedelta(days=expected)  # day 8, 15, 29, 57, 85
        given_days.append(expected)


@given(st.lists(st.integers(-3, 3), min_size=0, max_size=6))
def test_each_planned_dose_follows_the_last_dose_actually_given(shifts: list[int]) -> None:
    offsets = [7, 7, 14] + [28] * 10
    last, n = DAY1, 1
    for shift in shifts:
        planned = planned_day(rule("T22"), n, last)
        assert planned == last + timedelta(days=offsets[n - 1])
        last, n = planned + timedelta(days=shift), n + 1


@pytest.mark.parametrize(("rid", "interval"), [("T21a", 28), ("T21b", 28), ("T21c", 84)])
@given(doses=st.integers(1, 30), last=st.dates(date(2020, 1, 1), date(2030, 1, 1)))
def test_sre_schedules_are_every_interval_from_the_last_dose(
    rid: str, interval: int, doses: int, last: date
) -> None:
    assert planned_day(rule(rid), doses, last) == last + timedelta(days=interval)


def test_a_course_has_at_least_one_dose() -> None:
    with pytest.raises(ValueError, match="at least its first dose"):
        planned_day(rule("T21a"), 0, DAY1)


@pytest.mark.parametrize(
    ("start", "rid"),
    [
        ({"agent": "denosumab", "schedule": "q4w", "dose_mg": 120}, "T21a"),
        ({"agent": "zoledronic_acid", "schedule": "q4w", "dose_mg": 4}, "T21b"),
        ({"agent": "zoledronic_acid", "schedule": "q12w", "dose_mg": 4}, "T21c"),
    ],
)
def test_the_schedule_rule_is_the_one_anchored_on_the_start(start: dict[str, Any], rid: str) -> None:
    [course] = courses(timeline(("bma_started", 0, start)))
    found = schedule_rule(DEFINITION, course)
    assert found is not None and found[0] == rid


def test_the_gctb_course_counts_line_doses_and_ends_with_the_line() -> None:
    moments = timeline(*GCTB, ("systemic_dose", 7, {}), ("systemic_dose", 15, {}))
    [course] = courses(moments)
    assert (course.agent, course.schedule, len(course.doses)) == ("denosumab", "gctb_loading", 3)
    assert next_planned_dose(DEFINITION, course, UTC) == DAY1 + timedelta(days=29)  # day 15 + 14
    ended = courses(timeline(*GCTB, ("systemic_completed", 20, {})))
    assert ended[0].ended_at is not None and next_planned_dose(DEFINITION, ended[0], UTC) is None


def test_a_held_agent_ends_and_a_second_agent_while_one_runs_conflicts() -> None:
    deno = ("bma_started", 0, {"agent": "denosumab", "schedule": "q4w", "dose_mg": 120})
    zol = ("bma_started", 10, {"agent": "zoledronic_acid", "schedule": "q4w", "dose_mg": 4})
    both = courses(timeline(deno, zol))
    assert [c.label for c in conflicting(both, both[1])] == ["denosumab q4w (SRE prevention)"]
    held = courses(timeline(deno, ("bma_held", 5, {"reason_code": "other"}), zol))
    assert conflicting(held, held[1]) == []
    again = courses(timeline(deno, ("bma_started", 10, deno[2])))  # same agent restarted: replaces
    assert conflicting(again, again[1]) == []


def test_the_renal_table_is_the_same_at_the_first_and_at_later_doses() -> None:
    checks = DEFINITION.rules.checks
    assert checks["A25b"].dose_table == checks["A25b_dose"].dose_table
    table = checks["A25b"].dose_table
    assert table is not None and [(r.min, r.max, r.dose) for r in table.rows] == [
        (50, 60, 3.5),
        (40, 50, 3.3),
        (30, 40, 3.0),
    ]
