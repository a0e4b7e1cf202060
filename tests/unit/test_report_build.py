"""build_report on a hand-made snapshot: every number of the daily report from known facts.

Today is Monday 2026-03-02 in London (GMT, so clinic days start at 00:00 UTC); the report is at 09:00.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pathway.domain.report import AlertFact, FollowUpFact, Snapshot, build_report

LONDON = ZoneInfo("Europe/London")
AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


def day(d: date) -> datetime:
    """The start of a clinic day (GMT: midnight UTC)."""
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def follow_up(mrn: str, rule: str, opens: date, target: date, closes: date, *, region: str = "",
              status: str = "upcoming", done: datetime | None = None,
              every: int | None = None) -> FollowUpFact:
    """A window over whole clinic days: it closes at the end of `closes` (the next day's start)."""
    return FollowUpFact(1, mrn, rule, f"step {rule}", region, day(opens),
                        day(target + timedelta(days=1)), day(closes + timedelta(days=1)), status,
                        done, every)


def alert(id_: int, mrn: str, severity: str, opened: datetime, status: str = "open",
          resolved: datetime | None = None, rule: str = "A10") -> AlertFact:
    return AlertFact(id_, 1, mrn, rule, severity, status, f"message {id_}", opened, resolved)


def snapshot(**changes: Any) -> Snapshot:
    empty = Snapshot(at=AT, zone=LONDON, patients=5, active_patients=4, by_state={},
                     open_follow_ups=[], closed_follow_ups=[], alerts=[], actions_since=[],
                     left_since=[], last_pain_score={}, rt_delays_days=[])
    return replace(empty, **changes)


STEPS = [
    follow_up("MRN-1", "T09", date(2026, 1, 9), date(2026, 1, 23), date(2026, 2, 20),
              region="chest", status="overdue"),  # 10 days late
    follow_up("MRN-2", "T16", date(2026, 1, 1), date(2026, 1, 29), date(2026, 2, 26),
              status="overdue"),  # palliative referral, 4 days late
    follow_up("MRN-3", "T10", date(2026, 2, 20), date(2026, 3, 2), date(2026, 3, 9),
              status="due"),  # target today, window open
    follow_up("MRN-4", "T01", date(2026, 3, 1), date(2026, 3, 9), date(2026, 3, 16),
              status="due"),  # target in 7 days
    follow_up("MRN-4", "T28", date(2026, 3, 4), date(2026, 3, 5), date(2026, 3, 20)),  # in 3 days
    follow_up("MRN-5", "T13", date(2026, 3, 1), date(2026, 3, 10), date(2026, 3, 20),
              status="due"),  # target in 8 days: not listed
]


def test_overdue_steps_are_listed_latest_first_with_their_days_late() -> None:
    report = build_report(snapshot(open_follow_ups=STEPS), None)

    assert [(r["mrn"], r["rule"], r["step"], r["closes"], r["days_late"]) for r in report.overdue] == [
        ("MRN-1", "T09", "step T09 (chest)", "2026-02-20", 10),
        ("MRN-2", "T16", "step T16", "2026-02-26", 4)]
    assert report.palliative_referral_overdue == ["MRN-2"]
    assert (report.date, report.cohort, report.active) == (date(2026, 3, 2), 5, 4)


def test_due_today_means_target_reached_and_the_next_7_days_go_by_target() -> None:
    report = build_report(snapshot(open_follow_ups=STEPS), None)

    assert [(r["mrn"], r["target"], r["closes"]) for r in report.due_today] == [
        ("MRN-3", "2026-03-02", "2026-03-09")]
    assert [(r["mrn"], r["rule"], r["target"]) for r in report.due_next_7_days] == [
        ("MRN-4", "T28", "2026-03-05"), ("MRN-4", "T01", "2026-03-09")]


def test_live_alerts_are_grouped_by_severity_oldest_first_with_their_age_in_days() -> None:
    alerts = [alert(1, "MRN-1", "warning", AT - timedelta(days=2, hours=1)),
              alert(2, "MRN-2", "critical", AT - timedelta(hours=5)),
              alert(3, "MRN-3", "warning", AT - timedelta(days=9), status="acknowledged"),
              alert(4, "MRN-4", "info", AT - timedelta(days=30), status="snoozed"),
              alert(5, "MRN-5", "critical", AT - timedelta(days=3), status="resolved",
                    resolved=AT - timedelta(days=1))]

    grouped = build_report(snapshot(alerts=alerts), None).alerts_by_severity

    assert {s: [(a["id"], a["status"], a["age_days"]) for a in v] for s, v in grouped.items()} == {
        "critical": [(2, "open", 0)],
        "warning": [(3, "acknowledged", 9), (1, "open", 2)],
        "info": [(4, "snoozed", 30)]}


def test_news_compares_with_the_previous_report_and_lists_alert_actions_and_leavers() -> None:
    yesterday = build_report(snapshot(open_follow_ups=STEPS[1:4]), None)
    previous = {"keys": yesterday.keys}
    actions = [("escalated", 11, "MRN-1"), ("resolved", 12, "MRN-2"),
               ("acknowledged", 13, "MRN-3"), ("opened", 14, "MRN-4"), ("resolved", 15, "MRN-5")]

    news = build_report(snapshot(open_follow_ups=STEPS, actions_since=actions,
                                 left_since=[("MRN-9", "death"), ("MRN-8", "transfer")]),
                        previous).news

    assert news == {"newly_overdue": ["MRN-1 T09 step T09 (chest)"],
                    "newly_due": ["MRN-4 T28 step T28"],
                    "escalated": ["MRN-1 alert 11"],
                    "resolved": ["MRN-2 alert 12", "MRN-5 alert 15"],
                    "acknowledged": ["MRN-3 alert 13"],
                    "left_pathway": ["MRN-9 (death)", "MRN-8 (transfer)"]}


def test_without_a_previous_report_nothing_is_newly_overdue_or_due() -> None:
    news = build_report(snapshot(open_follow_ups=STEPS), None).news

    assert news["newly_overdue"] == news["newly_due"] == []


def test_patients_without_a_pain_score_in_30_days_include_those_never_scored() -> None:
    pain = {"MRN-1": AT - timedelta(days=31), "MRN-2": AT - timedelta(days=29),
            "MRN-3": None, "MRN-4": AT - timedelta(hours=1)}

    report = build_report(snapshot(last_pain_score=pain), None)

    assert report.no_pain_score_30_days == ["MRN-1", "MRN-3"]


def test_quality_counts_each_rule_on_time_early_late_or_missed_within_90_days() -> None:
    closed = [
        follow_up("A", "T09", date(2026, 1, 1), date(2026, 1, 15), date(2026, 2, 1),
                  status="done", done=day(date(2026, 1, 10))),  # on time
        follow_up("B", "T09", date(2026, 1, 1), date(2026, 1, 15), date(2026, 2, 1),
                  status="done", done=day(date(2025, 12, 30))),  # early
        follow_up("C", "T09", date(2026, 1, 1), date(2026, 1, 15), date(2026, 2, 1),
                  status="done", done=day(date(2026, 2, 2))),  # late: after the window's last day
        follow_up("D", "T09", date(2026, 1, 1), date(2026, 1, 15), date(2026, 2, 1),
                  status="cancelled"),  # not counted
        follow_up("E", "T09", date(2025, 9, 1), date(2025, 9, 15), date(2025, 10, 1),
                  status="done", done=day(date(2025, 9, 10))),  # before the 90 days: not counted
        follow_up("F", "T10", date(2026, 1, 1), date(2026, 1, 1), date(2026, 2, 1),
                  status="done", done=day(date(2026, 2, 1))),  # on the last day: on time
    ]
    still_open = [follow_up("G", "T09", date(2026, 1, 1), date(2026, 1, 15), date(2026, 2, 1),
                            status="overdue"),  # missed
                  follow_up("H", "T10", date(2026, 3, 1), date(2026, 3, 5), date(2026, 3, 20),
                            status="due")]  # still open: not judged yet

    by_rule = build_report(snapshot(closed_follow_ups=closed, open_follow_ups=still_open),
                           None).quality["by_rule"]

    assert by_rule["T09"] == {"on_time": 1, "early": 1, "late": 1, "missed": 1, "total": 4,
                              "on_time_rate": 0.25, "early_rate": 0.25, "late_rate": 0.25,
                              "missed_rate": 0.25}
    assert by_rule["T10"] == {"on_time": 1, "early": 0, "late": 0, "missed": 0, "total": 1,
                              "on_time_rate": 1.0, "early_rate": 0.0, "late_rate": 0.0,
                              "missed_rate": 0.0}


@pytest.mark.parametrize(("delays", "expected"), [([], None), ([16.0], 16.0),
                                                  ([30.0, 16.0], 23.0), ([10.0, 45.5, 20.4], 20.4)])
def test_median_days_from_decision_to_radiotherapy(delays: list[float],
                                                   expected: float | None) -> None:
    quality = build_report(snapshot(rt_delays_days=delays), None).quality

    assert quality["median_days_decision_to_rt"] == expected


def test_median_days_an_alert_stays_open_counts_alerts_resolved_in_the_period() -> None:
    opened = AT - timedelta(days=20)
    alerts = [alert(1, "A", "warning", opened, "resolved", opened + timedelta(days=2)),
              alert(2, "B", "warning", opened, "resolved", opened + timedelta(days=4, hours=12)),
              alert(3, "C", "critical", opened, "resolved", opened + timedelta(days=9)),
              alert(4, "D", "warning", opened),  # still open: not counted
              alert(5, "E", "warning", AT - timedelta(days=200), "resolved",
                    AT - timedelta(days=95))]  # resolved before the 90 days

    quality = build_report(snapshot(alerts=alerts), None).quality

    assert (quality["median_days_alert_open"], quality["alerts_resolved"]) == (4.5, 3)


def test_the_forecast_counts_12_weeks_of_imaging_and_exams_with_projected_recurrences() -> None:
    facts = [
        follow_up("A", "T09", date(2026, 1, 9), date(2026, 1, 23), date(2026, 2, 20),
                  region="chest", status="overdue", every=56),  # overdue: this week, then +56 d
        follow_up("B", "T09", date(2026, 3, 3), date(2026, 3, 11), date(2026, 4, 1),
                  region="pelvis_sacrum", every=14),  # 03-11, 03-25, ... 05-20: six in range
        follow_up("C", "T10", date(2026, 4, 1), date(2026, 4, 14), date(2026, 5, 1),
                  every=None),  # one exam only
        follow_up("D", "T10", date(2026, 6, 1), date(2026, 6, 1), date(2026, 6, 1)),  # too late
        follow_up("E", "T01", date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 9)),  # not counted
    ]

    forecast = build_report(snapshot(open_follow_ups=facts), None).forecast

    assert len(forecast) == 12
    assert [w["week_of"] for w in forecast][:3] == ["2026-03-02", "2026-03-09", "2026-03-16"]
    assert forecast[-1]["week_of"] == "2026-05-18"
    imaging = {w["week_of"]: w["imaging"] for w in forecast if w["imaging"]}
    exams = {w["week_of"]: w["exams"] for w in forecast if w["exams"]}
    assert imaging == {"2026-03-02": 1, "2026-03-09": 1, "2026-03-23": 1, "2026-04-06": 1,
                       "2026-04-20": 1, "2026-04-27": 1, "2026-05-04": 1, "2026-05-18": 1}
    assert exams == {"2026-04-13": 1}
