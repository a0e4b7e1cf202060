"""A pause never hides a missed step: pausable windows are extended by the pause, never re-anchored."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pathway.domain.clinical_time import local_date
from pathway.domain.followups import FollowUp
from pathway.domain.machine import Pathway
from pathway.domain.windows import Window
from tests.unit.test_followups import LONDON, History, day, of, only_open


def days(window: Window) -> tuple[date, date, date]:
    return tuple(local_date(at, LONDON) for at in (window.opens_at, window.target_at, window.closes_at))  # type: ignore[return-value]


def moved(before: FollowUp, after: FollowUp) -> list[int]:
    return [(b - a).days for a, b in zip(days(before.window), days(after.window), strict=True)]


@settings(max_examples=60, deadline=None)
@given(start=st.integers(min_value=0, max_value=85), length=st.integers(min_value=1, max_value=400))
def test_a_pause_of_n_days_moves_a_pausable_window_exactly_n_days_later(
    pathway: Pathway, start: int, length: int
) -> None:
    plain = only_open(History().follow_ups(pathway), "T10")  # exam: 3-4 months after enrolment
    paused = History().add("care_paused", day(start)).add("care_resumed", day(start + length))
    fu = only_open(paused.follow_ups(pathway), "T10")
    assert fu.anchor_at == plain.anchor_at  # extended, never re-anchored on the resume
    assert moved(plain, fu) == [length, length, length]
    assert any(f"window extended by {length} day(s)" in note for note in fu.notes)


@settings(max_examples=30, deadline=None)
@given(first=st.integers(min_value=1, max_value=40), second=st.integers(min_value=1, max_value=40))
def test_two_pauses_add_up(pathway: Pathway, first: int, second: int) -> None:
    plain = only_open(History().follow_ups(pathway), "T10")
    history = (
        History()
        .add("care_paused", day(2))
        .add("care_resumed", day(2 + first))
        .add("care_paused", day(3 + first))
        .add("care_resumed", day(3 + first + second))
    )
    assert moved(plain, only_open(history.follow_ups(pathway), "T10")) == [first + second] * 3


def test_a_window_that_opens_during_the_pause_is_extended_by_the_rest_of_the_pause(pathway: Pathway) -> None:
    base = History().rt_completed(day(40))
    plain = only_open(base.follow_ups(pathway), "T09", "pelvis_sacrum")
    history = (
        History()
        .add("mdt_decision", day(1))
        .add("rt_started", day(5))
        .add("care_paused", day(30))
        .add("rt_completed", day(40))  # anchors imaging during the pause
        .add("care_resumed", day(52))
    )
    fu = only_open(history.follow_ups(pathway), "T09", "pelvis_sacrum")
    assert fu.anchor_at == day(40) and moved(plain, fu) == [12, 12, 12]


def test_while_the_pause_lasts_a_pausable_step_is_held_with_the_reason(pathway: Pathway) -> None:
    [fu] = of(History().add("care_paused", day(20)).follow_ups(pathway), "T10")
    assert fu.outcome == "cancelled"
    assert fu.cancel_reason == "paused on 2026-03-22 (hospital_admission): held until care resumes"


def test_a_step_already_overdue_when_the_pause_begins_stays_overdue_and_is_not_extended(
    pathway: Pathway,
) -> None:
    plain = only_open(History().follow_ups(pathway), "T10")  # closes at the end of 2 July
    assert plain.status(day(130)) == "overdue"
    during = only_open(History().add("care_paused", day(130)).follow_ups(pathway), "T10")
    assert during.window == plain.window and during.status(day(140)) == "overdue"
    assert any("already overdue or alerting, so not paused" in n for n in during.notes)
    after = only_open(
        History().add("care_paused", day(130)).add("care_resumed", day(160)).follow_ups(pathway), "T10"
    )
    assert after.window == plain.window and after.status(day(161)) == "overdue"


def test_a_step_whose_alert_already_fired_is_not_held_by_a_pause(pathway: Pathway) -> None:
    # T16 palliative referral: info at the target (28 days), warning when it closes (56 days)
    plain = only_open(History().follow_ups(pathway), "T16")
    fu = only_open(
        History().add("care_paused", day(35)).add("care_resumed", day(70)).follow_ups(pathway), "T16"
    )
    assert fu.window == plain.window and fu.status(day(71)) == "overdue"


def test_a_missed_step_done_during_the_pause_re_anchors_and_its_next_window_is_extended(
    pathway: Pathway,
) -> None:
    history = (
        History()
        .add("care_paused", day(130))  # T10 already overdue
        .add("exam_done", day(140))
        .add("care_resumed", day(150))
    )
    first, second = of(history.follow_ups(pathway), "T10")
    assert first.outcome == "done" and first.late_days > 0
    plain_next = only_open(History().add("exam_done", day(140)).follow_ups(pathway), "T10")
    assert second.anchor_at == day(140) and moved(plain_next, second) == [10, 10, 10]


def test_non_pausable_clocks_run_through_a_pause(pathway: Pathway) -> None:
    plain = History().add("mdt_decision", day(3)).add("pain_score", day(4), nrs=8)
    paused = (
        History()
        .add("mdt_decision", day(3))
        .add("pain_score", day(4), nrs=8)
        .add("care_paused", day(3, hour=11))
        .add("care_resumed", day(30))
    )
    for rule in ("T01", "T02", "A19", "A20", "T12", "T13"):
        before, after = of(plain.follow_ups(pathway), rule), of(paused.follow_ups(pathway), rule)
        assert [f.window for f in after] == [f.window for f in before], rule
        assert all(f.cancel_reason is None for f in after), rule
    assert only_open(paused.follow_ups(pathway), "A20").status(day(5, hour=11)) == "overdue"


def test_a_pause_opens_a_review_step_that_the_resume_completes(pathway: Pathway) -> None:
    review = only_open(History().add("care_paused", day(10)).follow_ups(pathway), "A49")
    assert local_date(review.window.closes_at - timedelta(microseconds=1), LONDON) == date(2026, 4, 9)
    [done] = of(History().add("care_paused", day(10)).add("care_resumed", day(12)).follow_ups(pathway), "A49")
    assert done.outcome == "done"
