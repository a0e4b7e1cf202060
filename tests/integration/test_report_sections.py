"""Which open step falls in which report section, counted and listed in SQL, on both databases.

Rows are written straight into the tables (no history behind them), so each boundary can be
placed exactly. Today is Monday 2026-03-02 in London (GMT: clinic days start at 00:00 UTC); the
report is at 09:00 and the previous one was yesterday at 09:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert

from db.tables import EventRow, FollowUpRow, PatientRow, TrackStateRow
from pathway.domain.report import report_bounds
from pathway.domain.status import PENDING, Outcome, follow_up_status
from pathway.ports import Deps

LONDON = ZoneInfo("Europe/London")
AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
PREVIOUS = {"generated_at": "2026-03-01T09:00:00+00:00", "date": "2026-03-01"}
EXITS = ("deceased", "transferred", "withdrawn", "lost_to_follow_up")


def day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def window(opens: date, target: date, closes: date) -> dict[str, datetime]:
    """Whole clinic days: the target and closing instants are the ends of those days."""
    return {
        "opens_at": day(opens),
        "target_at": day(target + timedelta(days=1)),
        "closes_at": day(closes + timedelta(days=1)),
    }


STEPS: list[tuple[str, str, str, dict[str, datetime], str, datetime | None]] = [
    # (mrn, rule, region, window, status at AT, done_at); stored: the outcome (open, done, ...)
    (
        "MRN-1",
        "T09",
        "chest",
        window(date(2026, 1, 9), date(2026, 1, 23), date(2026, 2, 20)),
        "overdue",
        None,
    ),  # 10 days late
    (
        "MRN-2",
        "T16",
        "",
        window(date(2026, 1, 1), date(2026, 1, 29), date(2026, 2, 26)),
        "overdue",
        None,
    ),  # palliative referral, 4 days late
    (
        "MRN-5",
        "T12",
        "",
        window(date(2026, 2, 1), date(2026, 2, 20), date(2026, 3, 1)),
        "overdue",
        None,
    ),  # closed at the end of yesterday: newly overdue
    (
        "MRN-3",
        "T10",
        "",
        window(date(2026, 2, 20), date(2026, 3, 2), date(2026, 3, 9)),
        "due",
        None,
    ),  # target today, window open: due today
    (
        "MRN-4",
        "T01",
        "",
        window(date(2026, 3, 1), date(2026, 3, 9), date(2026, 3, 16)),
        "due",
        None,
    ),  # target in 7 days: next 7 days, and new since yesterday's 7 days
    (
        "MRN-4",
        "T28",
        "",
        window(date(2026, 3, 4), date(2026, 3, 5), date(2026, 3, 20)),
        "upcoming",
        None,
    ),  # target in 3 days
    (
        "MRN-5",
        "T13",
        "",
        window(date(2026, 3, 1), date(2026, 3, 10), date(2026, 3, 20)),
        "due",
        None,
    ),  # target in 8 days: not listed
    (
        "MRN-1",
        "T09",
        "pelvis",
        window(date(2026, 1, 1), date(2026, 1, 15), date(2026, 2, 1)),
        "done",
        day(date(2026, 1, 10)),
    ),  # on time
    (
        "MRN-2",
        "T09",
        "pelvis",
        window(date(2026, 1, 1), date(2026, 1, 15), date(2026, 2, 1)),
        "done",
        day(date(2025, 12, 30)),
    ),  # early
    (
        "MRN-3",
        "T09",
        "pelvis",
        window(date(2026, 1, 1), date(2026, 1, 15), date(2026, 2, 1)),
        "done",
        day(date(2026, 2, 2)),
    ),  # late: after the window's last day
    (
        "MRN-4",
        "T09",
        "pelvis",
        window(date(2026, 1, 1), date(2026, 1, 15), date(2026, 2, 1)),
        "cancelled",
        None,
    ),  # not judged
    (
        "MRN-5",
        "T09",
        "pelvis",
        window(date(2025, 9, 1), date(2025, 9, 15), date(2025, 10, 1)),
        "done",
        day(date(2025, 9, 10)),
    ),  # before the 90 days: not judged
    (
        "MRN-5",
        "T10",
        "",
        window(date(2026, 1, 1), date(2026, 1, 1), date(2026, 2, 1)),
        "done",
        day(date(2026, 2, 1)),
    ),  # done on the last day: on time
    (
        "MRN-6",
        "T10",
        "",
        window(date(2025, 10, 1), date(2025, 10, 15), date(2025, 11, 1)),
        "done",
        day(date(2026, 1, 5)),
    ),  # window closed before the period, done in it: late
]
LATE = (
    "MRN-6",
    "T28",
    "",
    window(date(2026, 3, 4), date(2026, 3, 4), date(2026, 3, 20)),
    "upcoming",
    None,
)  # created after yesterday's report: newly due though its target is old


def add_patients(engine: Engine) -> dict[str, int]:
    ids = {}
    with engine.begin() as conn:
        for n, state in (
            (1, "surveillance"),
            (2, "surveillance"),
            (3, "rt_active"),
            (4, "assessment"),
            (5, "surveillance"),
            (6, "surveillance"),
            (7, "deceased"),
        ):
            mrn = f"MRN-{n}"
            ids[mrn] = conn.execute(
                insert(PatientRow)
                .values(
                    mrn=mrn,
                    enrolled_on=date(2025, 9, 1),
                    enrolled_at=day(date(2025, 9, 1)),
                    pathway_id="test",
                    version=1,
                    updated_at=AT,
                )
                .returning(PatientRow.id)
            ).scalar_one()
            conn.execute(
                insert(TrackStateRow).values(patient_id=ids[mrn], track="main", state=state, entered_at=AT)
            )
    return ids


def add_steps(engine: Engine, ids: dict[str, int], steps: list[Any]) -> int:
    last = 0
    with engine.begin() as conn:
        for mrn, rule, region, times, status, done in steps:
            outcome = Outcome.OPEN if status in PENDING else status
            assert follow_up_status(outcome, times["opens_at"], times["closes_at"], AT) == status
            last = conn.execute(
                insert(FollowUpRow)
                .values(
                    patient_id=ids[mrn],
                    rule=rule,
                    region=region,
                    anchor_at=times["opens_at"],
                    anchor_label="test",
                    clock_time=False,
                    status=outcome,
                    done_at=done,
                    late_days=0,
                    early=False,
                    notes=[],
                    updated_at=AT,
                    instance_key=f"{rule}:{region}",
                    track="main",
                    urgent=False,
                    raised=0,
                    **times,
                )
                .returning(FollowUpRow.id)
            ).scalar_one()
    return int(last)


@pytest.fixture
def stored(deps: Deps, engine: Engine) -> dict[str, Any]:
    ids = add_patients(engine)
    last = add_steps(engine, ids, STEPS)
    add_steps(engine, ids, [LATE])
    return {"ids": ids, "bounds": report_bounds(AT, LONDON, PREVIOUS | {"last_follow_up_id": last})}


def test_each_section_counts_and_lists_its_steps_in_order(deps: Deps, stored: dict[str, Any]) -> None:
    b = stored["bounds"]
    with deps.uow() as uow:
        counts = uow.reports.step_counts(b)
        listed = {
            name: [(mrn, rule, region) for mrn, rule, region, *_ in uow.reports.steps(name, b, 10)]
            for name in counts
        }

    # due: the window is open; due soon: it opens within 7 days (pathway/domain/counts.py)
    assert counts == {"overdue": 3, "newly_overdue": 1, "due_today": 3, "due_soon": 2, "newly_due": 2}
    assert listed == {
        "overdue": [("MRN-1", "T09", "chest"), ("MRN-2", "T16", ""), ("MRN-5", "T12", "")],
        "newly_overdue": [("MRN-5", "T12", "")],
        "due_today": [("MRN-3", "T10", ""), ("MRN-4", "T01", ""), ("MRN-5", "T13", "")],
        "due_soon": [("MRN-4", "T28", ""), ("MRN-6", "T28", "")],
        "newly_due": [("MRN-6", "T28", ""), ("MRN-4", "T01", "")],
    }


def test_lists_stop_at_the_limit_but_the_counts_do_not(deps: Deps, stored: dict[str, Any]) -> None:
    with deps.uow() as uow:
        first = uow.reports.steps("overdue", stored["bounds"], 2)
        total = uow.reports.step_counts(stored["bounds"])["overdue"]

    assert [(m, r) for m, r, *_ in first] == [("MRN-1", "T09"), ("MRN-2", "T16")] and total == 3


def test_quality_judges_each_step_closed_or_done_in_the_last_90_days(
    deps: Deps, stored: dict[str, Any]
) -> None:
    b = stored["bounds"]
    with deps.uow() as uow:
        quality = uow.reports.quality_counts(b.quality_since, b.at)

    assert quality == {
        "T09": {"on_time": 1, "early": 1, "late": 1, "missed": 1},
        "T10": {"on_time": 1, "late": 1},
        "T16": {"missed": 1},
        "T12": {"missed": 1},
    }


def test_palliative_referrals_past_their_window_are_listed_by_mrn(deps: Deps, stored: dict[str, Any]) -> None:
    with deps.uow() as uow:
        assert uow.reports.mrns_with_overdue(("T16",), AT, 10) == (1, ["MRN-2"])
        assert uow.reports.mrns_with_overdue(("T09", "T16"), AT, 1) == (2, ["MRN-1"])


def test_active_patients_without_a_pain_score_in_30_days_leave_out_retracted_scores(
    deps: Deps, engine: Engine, stored: dict[str, Any]
) -> None:
    ids = stored["ids"]
    scored = {
        "MRN-1": AT - timedelta(days=31),
        "MRN-2": AT - timedelta(days=29),
        "MRN-4": AT - timedelta(hours=1),
        "MRN-5": AT - timedelta(days=2),
        "MRN-6": AT - timedelta(days=3),
    }
    event_ids = {}
    with engine.begin() as conn:
        for mrn, when in scored.items():
            event_ids[mrn] = conn.execute(
                insert(EventRow)
                .values(
                    patient_id=ids[mrn],
                    type="pain_score",
                    occurred_at=when,
                    recorded_at=when,
                    actor="t",
                    data={"nrs": 1},
                    changes={},
                )
                .returning(EventRow.id)
            ).scalar_one()

    with deps.uow() as uow:
        gaps = uow.reports.active_without_event(
            "pain_score", AT - timedelta(days=30), EXITS, {event_ids["MRN-6"]}, 10
        )
        first = uow.reports.active_without_event("pain_score", AT - timedelta(days=30), EXITS, set(), 1)

    assert gaps == (3, ["MRN-1", "MRN-3", "MRN-6"])  # MRN-7 has died: not listed
    assert first == (2, ["MRN-1"])


def test_a_previous_report_without_follow_up_ids_makes_news_of_time_alone(
    deps: Deps, stored: dict[str, Any]
) -> None:
    b = report_bounds(AT, LONDON, PREVIOUS)  # stored before reports kept the last follow-up id
    with deps.uow() as uow:
        counts = uow.reports.step_counts(b)
        newly_due = [(m, r) for m, r, *_ in uow.reports.steps("newly_due", b, 10)]

    assert (counts["newly_overdue"], counts["newly_due"]) == (1, 1)
    assert newly_due == [("MRN-4", "T01")]
