"""Laboratory results and performance status through the real CLI (SQLite and PostgreSQL,
freezegun): a wrong unit or an implausible value is refused with exit 2 and nothing written."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok, refused


def lab_events(cli: Cli, mrn: str) -> list[dict[str, object]]:
    return [e["data"] for e in as_json(cli("history", mrn, "--json"))["events"] if e["event"] == "lab_result"]


def test_a_lab_result_is_recorded_in_the_catalogue_unit_and_a_wrong_one_is_refused(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02"))
    line = refused(
        cli(
            "record",
            "MRN-1",
            "lab_result",
            "--set",
            "test=corrected_calcium",
            "--set",
            "value=8.9",
            "--set",
            "unit=mg/dL",
        )
    )
    assert "corrected_calcium is recorded in mmol/L, not 'mg/dL'" in line
    line = refused(
        cli(
            "record",
            "MRN-1",
            "lab_result",
            "--set",
            "test=crcl",
            "--set",
            "value=2500",
            "--set",
            "unit=mL/min",
        )
    )
    assert "not a plausible creatinine clearance" in line
    assert lab_events(cli, "MRN-1") == []
    ok(
        cli(
            "record",
            "MRN-1",
            "lab_result",
            "--set",
            "test=corrected_calcium",
            "--set",
            "value=1.9",
            "--set",
            "unit=mmol/l",
        )
    )
    assert lab_events(cli, "MRN-1") == [{"test": "corrected_calcium", "value": 1.9, "unit": "mmol/L"}]
    assert "outside the validated range" in refused(
        cli("record", "MRN-1", "performance_status", "--set", "ecog=5")
    )
    ok(cli("record", "MRN-1", "performance_status", "--set", "ecog=2"))
