"""A second, test-only pathway (tests/pathways/second.yaml) runs through enrol, record, pause,
sweep, report and exit with no code change: pause, hand-over, report sections, histology and the
age limit all come from its file, under other names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory

from pathway.bootstrap import build
from pathway.services.daily_report import ReportConfig, daily_report_job
from tests.e2e.conftest import Cli, as_json, ok, refused

SECOND = Path(__file__).parents[1] / "pathways" / "second.yaml"


@pytest.fixture
def second(cli: Cli) -> Cli:
    def run(*args: str, env: dict[str, str] | None = None) -> Any:
        return cli(*args, env={"PATHWAY_PATHWAY_FILE": str(SECOND), **(env or {})})

    return run


def fu(cli: Cli, mrn: str, rule: str, region: str | None = None) -> dict[str, Any]:
    [found] = [
        f
        for f in as_json(cli("status", mrn, "--json"))["follow_ups"]
        if f["rule"] == rule and f["region"] == region
    ]
    return found


def alerts(cli: Cli, mrn: str) -> set[tuple[str, str]]:
    return {(a["rule"], a["severity"]) for a in as_json(cli("alerts", "--mrn", mrn, "--json"))}


def test_the_second_pathway_runs_end_to_end_without_a_code_change(
    second: Cli, frozen: FrozenDateTimeFactory, cli_env: dict[str, str | None], tmp_path: Path
) -> None:
    ok(second("init"))
    assert "aged 16 or over" in refused(
        second("enroll", "K-0", "--on", "2026-03-02", "--birth-date", "2010-03-03")
    )
    ok(
        second(
            "enroll", "K-1", "--on", "2026-03-02", "--birth-date", "2010-03-02", "--histology", "papillary"
        )
    )
    ok(second("enroll", "K-2", "--on", "2026-03-02"))
    assert "histology" in refused(second("enroll", "K-3", "--histology", "chordoma"))

    # histology by role: a TKI before the subtype is known alerts; the subtype event sets it
    ok(second("record", "K-2", "tki_started", "--set", "drug=sunitinib"))
    assert ("K-NO-SUBTYPE", "warning") in alerts(second, "K-2")
    ok(second("record", "K-2", "subtype_known", "--set", "histology=clear_cell"))
    assert as_json(second("status", "K-2", "--json"))["patient"]["histology"] == "clear_cell"
    ok(second("record", "K-1", "tki_started", "--set", "drug=cabozantinib"))
    assert alerts(second, "K-1") == set()  # subtype known at enrolment

    # a pause by role: the visit and scan windows move 10 days, the hospice clock does not
    ok(second("record", "K-1", "scan", "--set", "site=abdomen", "--set", "modality=CT"))
    frozen.move_to("2026-03-10 10:00+00:00")
    ok(second("record", "K-1", "hold_started", "--set", "why=admitted"))
    listed = {f["rule"] for f in as_json(second("status", "K-1", "--json"))["follow_ups"]}
    assert "K-VISIT" not in listed and "K-HOSPICE" in listed  # held while on hold; hospice runs on
    assert "held until care resumes" in ok(second("why", "K-1", "K-VISIT")).stdout
    frozen.move_to("2026-03-20 10:00+00:00")
    ok(second("record", "K-1", "hold_ended"))
    assert (fu(second, "K-2", "K-VISIT")["opens"], fu(second, "K-2", "K-VISIT")["closes"]) == (
        "2026-04-13",
        "2026-04-27",
    )
    assert (fu(second, "K-1", "K-VISIT")["opens"], fu(second, "K-1", "K-VISIT")["closes"]) == (
        "2026-04-23",
        "2026-05-07",
    )
    assert fu(second, "K-1", "K-SCAN", "thorax")["opens"] == "2026-05-21"  # 10 weeks + 10 days
    assert (
        fu(second, "K-1", "K-HOSPICE")["closes"] == fu(second, "K-2", "K-HOSPICE")["closes"] == "2026-04-01"
    )
    assert "window extended by 10 day(s)" in ok(second("why", "K-1", "K-VISIT")).stdout

    # the sweep raises the non-pausable hospice alert; the report's sections come from the file
    frozen.move_to("2026-04-02 09:00+01:00")
    ok(second("sweep"))
    assert ("K-HOSPICE-LATE", "warning") in alerts(second, "K-1")
    environ = {k: v for k, v in cli_env.items() if v is not None} | {"PATHWAY_PATHWAY_FILE": str(SECOND)}
    app = build(environ)
    try:
        assert daily_report_job(app.deps, ReportConfig(reports_dir=tmp_path)) is not None
    finally:
        app.engine.dispose()
    report = as_json(second("report", "--format", "json"))
    assert report["palliative_referral_overdue"] == ["K-1", "K-2"]
    weeks = report["forecast"]
    assert sum(w["imaging"] for w in weeks) > 0 and sum(w["exams"] for w in weeks) > 0

    # an exit with hand-over by the file's flag; the next report lists who left
    frozen.move_to("2026-04-03 09:00+01:00")
    out = ok(second("record", "K-1", "moved_away", "--set", "destination=Northern Renal Unit")).stdout
    assert "pathway handover K-1" in out
    summary = as_json(second("handover", "K-1", "--format", "json"))
    assert summary["tracks"] == {"care": "on_tki", "comfort": "not_linked"}
    assert [a["rule"] for a in summary["open_alerts"]] == ["K-HOSPICE-LATE"]
    assert [(i["region"], i["modality"]) for i in summary["last_imaging"]] == [("abdomen", "CT")]
    assert [d["name"] for d in summary["active_drugs"]] == ["TKI"]
    assert summary["pauses"] == [{"from": "2026-03-10", "to": "2026-03-20", "details": {"why": "admitted"}}]
    ok(second("record", "K-2", "passed_away"))
    assert "no hand-over summary" in refused(second("handover", "K-2"))
    ok(second("sweep"))
    report = as_json(second("report", "--format", "json"))
    assert set(report["news"]["left_pathway"]) == {"K-1 (moved_away)", "K-2 (passed_away)"}
    assert report["palliative_referral_overdue"] == []
