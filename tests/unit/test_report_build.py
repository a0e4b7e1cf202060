"""build_report on a hand-made snapshot: formatting, totals, news, quality rates, forecast.

Which step falls in which section is decided in SQL along `report_bounds`; that is tested on
both databases in tests/integration/test_report_sections.py. Today is Monday 2026-03-02 in
London (GMT, so clinic days start at 00:00 UTC); the report is at 09:00.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pathway.domain.report import (
    LIST_LIMIT,
    AlertFact,
    ForecastBucket,
    Listed,
    Snapshot,
    StepFact,
    build_report,
    report_bounds,
)

LONDON = ZoneInfo("Europe/London")
AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
NO_STEPS = {
    n: Listed[StepFact](0, []) for n in ("overdue", "due_today", "due_soon", "newly_overdue", "newly_due")
}


def day(d: date) -> datetime:
    """The start of a clinic day (GMT: midnight UTC)."""
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def step(mrn: str, rule: str, opens: date, target: date, closes: date, region: str = "") -> StepFact:
    """A window over whole clinic days: it closes at the end of `closes` (the next day's start)."""
    return StepFact(
        mrn,
        rule,
        f"step {rule}",
        region,
        day(opens),
        day(target + timedelta(days=1)),
        day(closes + timedelta(days=1)),
    )


def alert(id_: int, mrn: str, severity: str, opened: datetime, status: str = "open") -> AlertFact:
    return AlertFact(id_, mrn, "A10", severity, status, f"message {id_}", opened)


def snapshot(**changes: Any) -> Snapshot:
    empty = Snapshot(
        at=AT,
        zone=LONDON,
        patients=5,
        active_patients=4,
        by_state={},
        steps=dict(NO_STEPS),
        alerts={s: Listed(0, []) for s in ("critical", "warning", "info")},
        pain_overdue=Listed(0, []),
        palliative_overdue=Listed(0, []),
        quality={},
        alert_open_days=[],
        actions_since=[],
        left_since=[],
        rt_delays_days=[],
        forecast=[],
    )
    return replace(empty, **changes)


def test_rows_show_clinic_dates_the_region_and_days_late_since_the_last_day_of_the_window() -> None:
    overdue = [
        step("MRN-1", "T09", date(2026, 1, 9), date(2026, 1, 23), date(2026, 2, 20), region="chest"),
        step("MRN-2", "T16", date(2026, 1, 1), date(2026, 1, 29), date(2026, 2, 26)),
    ]
    steps = NO_STEPS | {"overdue": Listed(2, overdue)}

    report = build_report(snapshot(steps=steps))

    assert report.overdue == [
        {
            "mrn": "MRN-1",
            "rule": "T09",
            "step": "step T09 (chest)",
            "opens": "2026-01-09",
            "target": "2026-01-23",
            "closes": "2026-02-20",
            "days_late": 10,
            "late": "10 d late",
        },
        {
            "mrn": "MRN-2",
            "rule": "T16",
            "step": "step T16",
            "opens": "2026-01-01",
            "target": "2026-01-29",
            "closes": "2026-02-26",
            "days_late": 4,
            "late": "4 d late",
        },
    ]
    assert (report.date, report.cohort, report.active) == (date(2026, 3, 2), 5, 4)


def test_totals_carry_the_full_counts_of_lists_cut_at_the_limit() -> None:
    rows = [
        step(f"MRN-{i:03d}", "T10", date(2026, 2, 1), date(2026, 2, 10), date(2026, 2, 20))
        for i in range(LIST_LIMIT)
    ]
    steps = NO_STEPS | {"overdue": Listed(4321, rows), "due_soon": Listed(7, rows[:7])}
    no_pain = Listed(250, [f"MRN-{i:03d}" for i in range(LIST_LIMIT)])

    report = build_report(
        snapshot(
            steps=steps,
            pain_overdue=no_pain,
            alerts={
                "critical": Listed(3, [alert(1, "A", "critical", AT)]),
                "warning": Listed(0, []),
                "info": Listed(0, []),
            },
        )
    )

    assert len(report.overdue) == LIST_LIMIT and len(report.due_next_7_days) == 7
    assert {
        k: report.totals[k]
        for k in ("overdue", "due_today", "due_next_7_days", "pain_steps_overdue", "alerts_critical")
    } == {
        "overdue": 4321,
        "due_today": 0,
        "due_next_7_days": 7,
        "pain_steps_overdue": 250,
        "alerts_critical": 3,
    }


def test_live_alerts_keep_their_order_and_show_their_age_in_whole_days() -> None:
    alerts = {
        "critical": Listed(1, [alert(2, "MRN-2", "critical", AT - timedelta(hours=5))]),
        "warning": Listed(
            2,
            [
                alert(3, "MRN-3", "warning", AT - timedelta(days=9), status="acknowledged"),
                alert(1, "MRN-1", "warning", AT - timedelta(days=2, hours=1)),
            ],
        ),
        "info": Listed(1, [alert(4, "MRN-4", "info", AT - timedelta(days=30), "snoozed")]),
    }

    grouped = build_report(snapshot(alerts=alerts)).alerts_by_severity

    assert {s: [(a["id"], a["status"], a["age_days"]) for a in v] for s, v in grouped.items()} == {
        "critical": [(2, "open", 0)],
        "warning": [(3, "acknowledged", 9), (1, "open", 2)],
        "info": [(4, "snoozed", 30)],
    }


def test_news_lists_newly_overdue_and_due_steps_alert_actions_and_leavers() -> None:
    newly = step("MRN-1", "T09", date(2026, 1, 9), date(2026, 1, 23), date(2026, 3, 1), "chest")
    soon = step("MRN-4", "T28", date(2026, 3, 4), date(2026, 3, 5), date(2026, 3, 20))
    actions = [
        ("escalated", 11, "MRN-1"),
        ("resolved", 12, "MRN-2"),
        ("acknowledged", 13, "MRN-3"),
        ("opened", 14, "MRN-4"),
        ("resolved", 15, "MRN-5"),
    ]
    steps = NO_STEPS | {"newly_overdue": Listed(1, [newly]), "newly_due": Listed(1, [soon])}

    report = build_report(
        snapshot(
            steps=steps,
            actions_since=actions,
            has_previous=True,
            left_since=[("MRN-9", "death"), ("MRN-8", "transfer")],
        )
    )

    assert report.news == {
        "newly_overdue": ["MRN-1 T09 step T09 (chest)"],
        "newly_due": ["MRN-4 T28 step T28"],
        "escalated": ["MRN-1 alert 11"],
        "resolved": ["MRN-2 alert 12", "MRN-5 alert 15"],
        "acknowledged": ["MRN-3 alert 13"],
        "left_pathway": ["MRN-9 (death)", "MRN-8 (transfer)"],
    }
    assert report.totals["news_newly_overdue"] == 1 and report.totals["news_resolved"] == 2


def test_without_a_previous_report_nothing_is_newly_overdue_or_due() -> None:
    newly = step("MRN-1", "T09", date(2026, 1, 9), date(2026, 1, 23), date(2026, 3, 1))
    steps = NO_STEPS | {"newly_overdue": Listed(1, [newly])}

    news = build_report(snapshot(steps=steps)).news

    assert news["newly_overdue"] == news["newly_due"] == []


def test_quality_rates_come_from_the_counts_per_rule_and_outcome() -> None:
    quality = {"T09": {"on_time": 1, "early": 1, "late": 1, "missed": 1}, "T10": {"on_time": 1}, "T12": {}}

    named = snapshot(quality=quality, steps_named={"T09": "Response imaging"})
    by_rule = build_report(named).quality["by_rule"]

    assert by_rule["T09"] == {
        "step": "Response imaging",
        "on_time": 1,
        "early": 1,
        "late": 1,
        "missed": 1,
        "total": 4,
        "on_time_rate": 0.25,
        "early_rate": 0.25,
        "late_rate": 0.25,
        "missed_rate": 0.25,
    }
    assert by_rule["T10"] == {
        "step": "T10",  # a rule the pathway does not name is shown by its code
        "on_time": 1,
        "early": 0,
        "late": 0,
        "missed": 0,
        "total": 1,
        "on_time_rate": 1.0,
        "early_rate": 0.0,
        "late_rate": 0.0,
        "missed_rate": 0.0,
    }
    assert "T12" not in by_rule  # nothing judged: no rates


@pytest.mark.parametrize(
    ("delays", "expected"), [([], None), ([16.0], 16.0), ([30.0, 16.0], 23.0), ([10.0, 45.5, 20.4], 20.4)]
)
def test_median_days_from_decision_to_radiotherapy(delays: list[float], expected: float | None) -> None:
    quality = build_report(snapshot(rt_delays_days=delays)).quality

    assert quality["median_days_decision_to_rt"] == expected


def test_median_days_an_alert_stays_open() -> None:
    quality = build_report(snapshot(alert_open_days=[2.0, 4.5, 9.0])).quality

    assert (quality["median_days_alert_open"], quality["alerts_resolved"]) == (4.5, 3)


def test_the_forecast_counts_12_weeks_of_imaging_and_exams_with_projected_recurrences() -> None:
    def bucket(rule: str, target: date, count: int, every: int | None) -> ForecastBucket:
        section = {"T09": "imaging", "T10": "exam"}.get(rule)
        return ForecastBucket(rule, day(target + timedelta(days=1)), count, every, section)

    buckets = [
        bucket("T09", date(2026, 1, 23), 1, 56),  # overdue: counted this week, then +56 days
        bucket("T09", date(2026, 3, 11), 2, 14),  # 03-11, 03-25, ... 05-20, twice each
        bucket("T10", date(2026, 4, 14), 1, None),  # one exam only
        bucket("T10", date(2026, 6, 1), 1, None),  # beyond the 12 weeks
        bucket("T01", date(2026, 3, 2), 5, None),  # neither imaging nor an exam
    ]

    forecast = build_report(snapshot(forecast=buckets)).forecast

    assert len(forecast) == 12
    assert [w["week_of"] for w in forecast][:3] == ["2026-03-02", "2026-03-09", "2026-03-16"]
    assert forecast[-1]["week_of"] == "2026-05-18"
    imaging = {w["week_of"]: w["imaging"] for w in forecast if w["imaging"]}
    exams = {w["week_of"]: w["exams"] for w in forecast if w["exams"]}
    assert imaging == {
        "2026-03-02": 1,
        "2026-03-09": 2,
        "2026-03-23": 2,
        "2026-04-06": 2,
        "2026-04-20": 2,
        "2026-04-27": 1,
        "2026-05-04": 2,
        "2026-05-18": 2,
    }
    assert exams == {"2026-04-13": 1}


def test_bounds_split_clinic_days_in_the_clinic_zone_and_follow_the_previous_report() -> None:
    summer = datetime(2026, 6, 1, 9, tzinfo=UTC)  # BST: clinic days start at 23:00 UTC
    previous = {"generated_at": "2026-05-31T08:00:00+00:00", "date": "2026-05-31", "last_follow_up_id": 41}

    b = report_bounds(summer, LONDON, previous)

    assert b.day_end == datetime(2026, 6, 1, 23, tzinfo=UTC)
    assert b.week_end == datetime(2026, 6, 8, 23, tzinfo=UTC)
    assert b.previous_week_end == datetime(2026, 6, 7, 23, tzinfo=UTC)
    assert (b.previous_at, b.previous_last_id) == (datetime(2026, 5, 31, 8, tzinfo=UTC), 41)
    assert report_bounds(summer, LONDON, None).previous_at is None
