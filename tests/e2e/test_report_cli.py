"""End to end: `pathway report` in every format on the demo cohort, and the HTML in a real browser."""

from __future__ import annotations

import csv
import io
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest
from freezegun import freeze_time
from typer.testing import CliRunner

from pathway.cli.app import app
from tests.e2e.conftest import START, Cli, as_json, ok, refused

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SECTIONS = {
    "date",
    "cohort",
    "by_state",
    "overdue",
    "due_today",
    "due_next_7_days",
    "alerts_by_severity",
    "news",
    "quality",
    "forecast",
}
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo cohort (12 patients) loaded once, relative to the frozen today, Monday 2026-03-02."""
    path = tmp_path_factory.mktemp("demo") / "pathway.db"
    env = {
        "PATHWAY_DATABASE_URL": f"sqlite:///{path}",
        "PATHWAY_TIMEZONE": "Europe/London",
        **dict.fromkeys(
            ("PATHWAY_CONFIG", "PATHWAY_ACTOR", "PATHWAY_PATHWAY_FILE", "PATHWAY_HOLIDAYS", "PATHWAY_DEBUG")
        ),
    }
    with freeze_time(START):
        result = CliRunner().invoke(app, ["init", "--demo"], env=env)
    assert "12 patient(s) added" in result.stdout, (result.output, result.exception)
    return path


@pytest.fixture
def demo(cli: Cli, cli_env: dict[str, str | None], demo_database: Path) -> Cli:
    """This test's own copy of the demo database (SQLite's backup API copies the WAL too);
    on PostgreSQL the demo cohort is loaded afresh."""
    url = str(cli_env["PATHWAY_DATABASE_URL"])
    if not url.startswith("sqlite:///"):
        assert cli("init", "--demo").exit_code == 0
        return cli
    target = url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(demo_database)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    return cli


def test_the_json_report_has_every_section_and_a_12_week_forecast(demo: Cli) -> None:
    report = as_json(demo("report", "--format", "json"))

    assert set(report) >= SECTIONS
    assert (report["date"], report["cohort"], report["active"]) == ("2026-03-02", 12, 11)
    assert sum(report["by_state"]["main"].values()) == 12
    assert report["by_state"]["main"]["deceased"] == 1
    assert len(report["forecast"]) == 12
    assert report["forecast"][0]["week_of"] == "2026-03-02"
    assert set(report["alerts_by_severity"]) >= {"critical", "warning", "info"}
    assert set(report["news"]) == {
        "newly_overdue",
        "newly_due",
        "escalated",
        "resolved",
        "acknowledged",
        "left_pathway",
    }
    assert report["overdue"] and all(r["days_late"] >= 0 for r in report["overdue"])
    assert report["quality"]["period_days"] == 90


def test_markdown_is_the_default_and_starts_with_the_date_and_the_news(demo: Cli) -> None:
    text = ok(demo("report")).stdout

    assert text == ok(demo("report", "--format", "md")).stdout
    assert text.startswith("# Daily status report — 2026-03-02\n")
    assert text.index("## What changed") < text.index("## Overdue steps") < text.index("## Forecast")
    assert "Cohort: 12 patients (11 on the pathway)" in text


def test_the_csv_has_a_header_and_one_row_per_demo_patient(demo: Cli) -> None:
    rows = list(csv.DictReader(io.StringIO(ok(demo("report", "--format", "csv")).stdout)))

    assert [r["mrn"] for r in rows] == [f"DEMO-{i:03d}" for i in range(1, 13)]
    assert list(rows[0])[:2] == ["mrn", "enrolled_on"]
    assert list(rows[0])[-5:] == ["overdue_steps", "next_step", "next_due", "live_alerts", "highest_severity"]
    assert {r["main"] for r in rows if r["mrn"] == "DEMO-012"} == {"deceased"}


def test_an_unknown_format_is_refused_with_exit_2(demo: Cli) -> None:
    assert "--format" in refused(demo("report", "--format", "x"))


@pytest.mark.parametrize("fmt", ["md", "html", "csv", "json"])
def test_out_writes_the_report_to_a_file_instead_of_stdout(demo: Cli, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"report.{fmt}"

    result = ok(demo("report", "--format", fmt, "--out", str(target)))

    assert result.stdout.strip() == f"report written to {target}"
    printed = ok(demo("report", "--format", fmt)).stdout
    assert target.read_text(encoding="utf-8").rstrip("\n") == printed.rstrip("\n")
    assert target.stat().st_mode & 0o777 == 0o600  # a report names patients: owner only
    target.chmod(0o644)
    ok(demo("report", "--format", fmt, "--out", str(target)))
    assert target.stat().st_mode & 0o777 == 0o600


def test_the_html_report_is_self_contained(demo: Cli) -> None:
    html = ok(demo("report", "--format", "html")).stdout

    assert html.lstrip().lower().startswith("<!doctype html")
    assert "<svg" in html and "</html>" in html.lower()
    assert not REMOTE.search(html), REMOTE.search(html)
    assert "<script src" not in html.lower() and "@import" not in html
    assert "DEMO-001" in html


@pytest.fixture
def html_report(demo: Cli, tmp_path: Path) -> Path:
    """The demo report as an HTML file, written under freezegun (the browser runs without it)."""
    target = tmp_path / "report.html"
    ok(demo("report", "--format", "html", "--out", str(target)))
    return target


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_a_real_browser_renders_the_html_report(html_report: Path, tmp_path: Path) -> None:
    screenshot = tmp_path / "report.png"

    browser = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={screenshot}",
            "--window-size=900,1800",
            html_report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert browser.returncode == 0, browser.stderr[-2000:]
    assert screenshot.exists(), browser.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000
    (ROOT / "test-output").mkdir(exist_ok=True)
    shutil.copyfile(screenshot, ROOT / "test-output" / "report.png")


def test_the_first_report_says_there_is_no_previous_one(demo: Cli) -> None:
    first = ok(demo("report")).stdout
    news = first.split("## What changed since the previous report")[1].split("##")[0]
    assert "No previous report: this is the first" in news and "Nothing new" not in news
    assert re.search(r"Worklist counts: \d+ overdue steps?, \d+ due steps?", first)


@pytest.mark.parametrize("day", ["2026-03-01", "2025-11-01", "2026-03-03"])
def test_a_report_as_of_another_day_is_refused_with_the_reason(demo: Cli, day: str) -> None:
    message = refused(demo("report", "--as-of", day))
    assert f"--as-of {day}" in message and "only be built for today (2026-03-02)" in message
    assert ok(demo("report", "--as-of", "2026-03-02")).stdout.startswith("# Daily status report — 2026-03-02")
