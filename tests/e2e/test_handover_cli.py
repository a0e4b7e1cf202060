"""Exit hand-over and adults-only enrolment through the real CLI (SQLite and PostgreSQL, freezegun)."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok, refused


def test_a_transfer_with_an_open_critical_alert_hands_it_over_and_reads_the_same_later(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-03-02", "--histology", "chordoma"))
    ok(cli("record", "MRN-1", "imaging_done", "--set", "region=pelvis_sacrum", "--set", "modality=MRI"))
    ok(cli("record", "MRN-1", "fracture_risk_assessed", "--set", "sins=8"))
    ok(cli("record", "MRN-1", "dental_exam"))
    start = ("--set", "agent=denosumab", "--set", "schedule=q4w", "--set", "dose_mg=120")
    ok(cli("record", "MRN-1", "bma_started", *start))  # no calcium: A24 critical too
    frozen.move_to("2026-03-03 10:00+00:00")
    ok(cli("record", "MRN-1", "neuro_exam", "--set", "finding=new_deficit"))
    ok(cli("record", "MRN-1", "care_paused", "--set", "reason_code=hospital_admission"))
    frozen.move_to("2026-03-03 11:30+00:00")
    ok(cli("sweep"))
    [critical] = [
        a
        for a in as_json(cli("alerts", "--mrn", "MRN-1", "--json"))
        if a["severity"] == "critical" and a["rule"] == "A01"
    ]

    out = ok(cli("record", "MRN-1", "transfer", "--set", "to_org=Regional Spinal Unit")).stdout
    assert "pathway handover MRN-1" in out and "/api/v1/patients/MRN-1/handover" in out
    assert as_json(cli("alerts", "--mrn", "MRN-1", "--json")) == []  # the exit closed them

    summary = as_json(cli("handover", "MRN-1", "--format", "json"))
    assert summary["exit"]["event"] == "transfer"
    assert summary["exit"]["details"] == {"to_org": "Regional Spinal Unit"}
    assert summary["tracks"]["mscc"] == "suspected" and summary["tracks"]["main"] == "assessment"
    [handed] = [a for a in summary["open_alerts"] if a["severity"] == "critical" and a["rule"] == "A01"]
    assert (handed["id"], handed["rule"], handed["source"]) == (critical["id"], "A01", critical["source"])
    assert {(s["rule"], s["status"]) for s in summary["steps"]} >= {("T04", "due"), ("A01", "overdue")}
    assert [(i["region"], i["modality"]) for i in summary["last_imaging"]] == [("pelvis_sacrum", "MRI")]
    assert [d["name"] for d in summary["active_drugs"]] == ["bone-modifying agent"]
    assert summary["pauses"] == [
        {"from": "2026-03-03", "to": None, "details": {"reason_code": "hospital_admission"}}
    ]

    frozen.move_to("2026-09-01 09:00+01:00")
    ok(cli("sweep", "--all"))
    assert as_json(cli("handover", "MRN-1", "--format", "json")) == summary
    text = ok(cli("handover", "MRN-1")).stdout
    assert text.startswith("# Hand-over summary: MRN-1")
    assert "**critical** A01" in text and "Regional Spinal Unit" in text


def test_a_death_closes_everything_without_a_hand_over(cli: Cli) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-02-01"))
    out = ok(cli("record", "MRN-1", "death")).stdout
    assert "hand-over" not in out
    assert "no hand-over summary" in refused(cli("handover", "MRN-1"))


def test_enrolment_is_for_adults_only(cli: Cli) -> None:
    ok(cli("init"))
    line = refused(cli("enroll", "MRN-1", "--on", "2026-03-02", "--birth-date", "2008-03-03"))
    assert "17" in line and "aged 18 or over" in line
    assert as_json(cli("list", "--json")) == []
    ok(cli("enroll", "MRN-2", "--on", "2026-03-02", "--birth-date", "2008-03-02"))  # 18 that day
