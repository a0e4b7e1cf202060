"""The daily report on SQLite and PostgreSQL, from a cohort recorded through the patients.

Today is Monday 2026-03-02 (the fixed clock, 09:00 UTC = 09:00 GMT in London):
- MRN-A completed RT on 2025-11-28: response imaging (T09, 12 weeks) closed 2026-02-20 for both
  regions and was never done: two overdue steps, 10 days late.
- MRN-B: unresectable / definitive-RT decision 2026-01-20, first fraction 2026-02-05 (16 days).
- MRN-C: decision 2026-01-22, first fraction 2026-02-21 (30 days); last pain score 2026-01-21
  (40 days ago).
- MRN-D: enrolled a week ago, on track; dies on 2026-03-03, after the first daily report.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from pathway.ports import Deps
from pathway.render import report as render_report
from pathway.services import patients, reports
from pathway.services.daily_report import ReportConfig, daily_report_job, report_missing
from tests.fakes import FixedClock
from tests.integration.conftest import ACTOR, MDT_RT

D = date
BASELINE = [
    ("neuro_exam", {"finding": "baseline"}),
    ("pain_score", {"nrs": "1"}),
    ("fracture_risk_assessed", {"sins": "4"}),
    ("palliative_referral", {}),
]
COHORT: list[tuple[str, date, list[tuple[date, str, dict[str, str]]]]] = [
    (
        "MRN-A",
        D(2025, 9, 15),
        [
            *[(D(2025, 9, 16), e, f) for e, f in BASELINE],
            (D(2025, 9, 18), "mdt_decision", MDT_RT),
            (D(2025, 10, 3), "rt_started", {}),
            (D(2025, 11, 28), "rt_completed", {}),
            (D(2026, 1, 5), "exam_done", {}),
            (D(2026, 2, 20), "pain_score", {"nrs": "1"}),
        ],
    ),
    (
        "MRN-B",
        D(2026, 1, 12),
        [
            *[(D(2026, 1, 13), e, f) for e, f in BASELINE],
            (D(2026, 1, 20), "mdt_decision", MDT_RT),
            (D(2026, 2, 5), "rt_started", {}),
            (D(2026, 2, 20), "pain_score", {"nrs": "1"}),
        ],
    ),
    (
        "MRN-C",
        D(2026, 1, 12),
        [
            *[(D(2026, 1, 13), e, f) for e, f in BASELINE if e != "pain_score"],
            (D(2026, 1, 21), "pain_score", {"nrs": "1"}),
            (D(2026, 1, 22), "mdt_decision", MDT_RT),
            (D(2026, 2, 21), "rt_started", {}),
        ],
    ),
    ("MRN-D", D(2026, 2, 23), [(D(2026, 2, 24), e, f) for e, f in BASELINE[:3]]),
]
TRACKS = ["main", "mscc", "pain", "palliative", "bone"]


@pytest.fixture
def cohort(deps: Deps) -> Deps:
    for mrn, enrolled_on, steps in COHORT:
        patients.enroll(deps, mrn, histology="sts", on=enrolled_on)
        for on, event, fields in steps:
            patients.record_event(deps, mrn, event, dict(fields), on=on, actor=ACTOR)
    return deps


def report_runs(engine: Engine) -> list[tuple[str, str, int]]:
    """(report date, status, rows) per date and status; a date is text on SQLite, so compare str."""
    with engine.connect() as conn:
        return [
            (str(day), status, count)
            for day, status, count in conn.execute(
                text(
                    "SELECT report_date, status, count(*) FROM report_run GROUP BY report_date, status "
                    "ORDER BY report_date"
                )
            )
        ]


def test_the_report_counts_overdue_steps_days_late_rt_delays_and_missing_pain_scores(cohort: Deps) -> None:
    report = reports.build(cohort)

    assert (report.date, report.cohort, report.active) == (D(2026, 3, 2), 4, 4)
    visit, neuro = "Palliative care visit (at least monthly once referred)", "Structured neurological exam"
    assert sorted((r["mrn"], r["step"], r["closes"], r["days_late"]) for r in report.overdue) == [
        ("MRN-A", visit, "2025-10-17", 136),  # the cohort records no monthly reviews (T17, T11)
        ("MRN-A", "Response imaging (chest)", "2026-02-20", 10),
        ("MRN-A", "Response imaging (pelvis_sacrum)", "2026-02-20", 10),
        ("MRN-A", neuro, "2025-10-17", 136),
        ("MRN-B", visit, "2026-02-13", 17),
        ("MRN-B", neuro, "2026-02-13", 17),
        ("MRN-C", visit, "2026-02-13", 17),
        ("MRN-C", neuro, "2026-02-13", 17),
    ]
    assert report.quality["median_days_decision_to_rt"] == 23.0  # median of 16 and 30 days
    # MRN-C's last pain score is 40 days old, but no rule asks for one every 30 days (T14 is per
    # encounter, and its miss is alert A18): not a gap, and not on the worklist either
    assert report.pain_steps_overdue == []
    assert report.palliative_referral_overdue == []
    warnings = report.alerts_by_severity["warning"]
    assert [(a["mrn"], a["rule"]) for a in warnings if a["rule"] != "T11"] == [
        ("MRN-A", "A10"),
        ("MRN-A", "A10"),
    ]
    assert ("MRN-D", "T01") in [(r["mrn"], r["rule"]) for r in report.due_today + report.due_next_7_days]
    assert report.quality["by_rule"]["T09"]["missed"] == 2
    assert sum(report.by_state["main"].values()) == 4


def test_a_patient_who_dies_after_a_report_is_news_in_the_next_days_report(
    cohort: Deps, clock: FixedClock, tmp_path: Path
) -> None:
    daily_report_job(cohort, ReportConfig(reports_dir=tmp_path / "reports"))
    first = json.loads((tmp_path / "reports" / "2026-03-02.json").read_text())
    assert first["news"]["left_pathway"] == []

    clock.advance(days=1)
    patients.record_event(cohort, "MRN-D", "death", {}, on=D(2026, 3, 3), actor=ACTOR)
    report = reports.build(cohort)

    assert report.news["left_pathway"] == ["MRN-D (death)"]
    assert first["has_previous"] is False and report.has_previous
    assert "No previous report" not in render_report.to_markdown(report)
    assert report.news["newly_overdue"] == []  # MRN-A's scans were overdue yesterday too
    assert (report.date, report.cohort, report.active) == (D(2026, 3, 3), 4, 3)
    assert all(r["mrn"] != "MRN-D" for r in report.due_next_7_days + report.overdue)
    assert report.by_state["main"]["deceased"] == 1


def test_the_daily_report_job_writes_html_and_json_once_per_clinic_date(
    cohort: Deps, clock: FixedClock, tmp_path: Path, engine: Engine
) -> None:
    config = ReportConfig(reports_dir=tmp_path / "reports")
    assert report_missing(cohort)

    path = daily_report_job(cohort, config)

    assert path == config.reports_dir / "2026-03-02.html"
    assert sorted(p.name for p in config.reports_dir.iterdir()) == ["2026-03-02.html", "2026-03-02.json"]
    assert {p.stat().st_mode & 0o777 for p in config.reports_dir.iterdir()} == {0o600}
    assert not report_missing(cohort)
    html = path.read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "MRN-A" in html
    data = json.loads((config.reports_dir / "2026-03-02.json").read_text())
    assert data["date"] == "2026-03-02" and len(data["overdue"]) == 8  # 2 scans, 6 monthly reviews
    written = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in config.reports_dir.iterdir()}

    clock.advance(hours=3)
    assert daily_report_job(cohort, config) is None
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in config.reports_dir.iterdir()} == written
    assert report_runs(engine) == [("2026-03-02", "done", 1)]


def test_two_report_jobs_at_the_same_time_write_one_report(
    cohort: Deps, clock: FixedClock, tmp_path: Path, engine: Engine
) -> None:
    config = ReportConfig(reports_dir=tmp_path / "reports")
    start = threading.Barrier(2, timeout=10)
    results: list[Path | None] = []
    errors: list[BaseException] = []

    def job() -> None:
        try:
            start.wait()
            results.append(daily_report_job(cohort, config))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors and not any(t.is_alive() for t in threads)
    assert sorted(results, key=lambda r: r is not None) == [None, config.reports_dir / "2026-03-02.html"]
    assert sorted(p.name for p in config.reports_dir.iterdir()) == ["2026-03-02.html", "2026-03-02.json"]
    assert {p.stat().st_mode & 0o777 for p in config.reports_dir.iterdir()} == {0o600}
    assert report_runs(engine) == [("2026-03-02", "done", 1)]
    assert not report_missing(cohort)
    clock.advance(days=1)
    assert report_missing(cohort)


def test_the_csv_has_one_row_per_patient_with_the_right_columns(cohort: Deps) -> None:
    text_ = render_report.to_csv(reports.patient_lines(cohort), TRACKS)

    rows = list(csv.DictReader(io.StringIO(text_)))
    assert list(rows[0]) == [
        "mrn",
        "enrolled_on",
        *TRACKS,
        "overdue_steps",
        "next_step",
        "next_due",
        "live_alerts",
        "highest_severity",
    ]
    assert [r["mrn"] for r in rows] == ["MRN-A", "MRN-B", "MRN-C", "MRN-D"]
    by_mrn = {r["mrn"]: r for r in rows}
    assert {
        k: by_mrn["MRN-A"][k]
        for k in ("enrolled_on", "main", "overdue_steps", "live_alerts", "highest_severity")
    } == {
        "enrolled_on": "2025-09-15",
        "main": "surveillance",
        "overdue_steps": "4",  # the two scans, the neuro exam and the palliative visit
        "live_alerts": "5",  # A10 twice, T11, A22 and A18 (an exam without a pain score)
        "highest_severity": "warning",
    }
    assert [by_mrn[m]["main"] for m in ("MRN-B", "MRN-C", "MRN-D")] == [
        "rt_active",
        "rt_active",
        "assessment",
    ]
    assert (by_mrn["MRN-D"]["next_step"], by_mrn["MRN-D"]["next_due"]) == (
        "MDT resectability decision",
        "2026-03-09",
    )
    assert all(  # B and C: only the lapsed monthly reviews (T11 neuro exam, T17 palliative visit)
        (by_mrn[m]["overdue_steps"], by_mrn[m]["live_alerts"], by_mrn[m]["highest_severity"]) == expected
        for m, expected in (
            ("MRN-B", ("2", "2", "warning")),
            ("MRN-C", ("2", "2", "warning")),
            ("MRN-D", ("0", "0", "")),
        )
    )
    assert len(text_.splitlines()) == 5
