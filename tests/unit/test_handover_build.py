"""The hand-over summary builder (pure): what it lists, from the record at the moment of exit."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pathway.domain.definition import PathwayDefinition
from pathway.domain.handover import HandoverInput, build_handover, handover_markdown
from pathway.domain.model import EventRecord, Patient, StoredAlert
from tests.unit.test_followups import ENROLLED, LONDON, day

PATIENT = Patient(id=1, mrn="MRN-9", enrolled_on=date(2026, 3, 2), enrolled_at=ENROLLED, histology="sts")


def event(i: int, type: str, at: int, **data: Any) -> EventRecord:
    return EventRecord(i, 1, type, day(at), day(at), "t", data, None, {})


def alert(i: int, severity: str, status: str) -> StoredAlert:
    return StoredAlert(i, 1, f"R{i}", f"k{i}", severity, status, f"m{i}", f"s{i}", day(i), None, False, False)


def test_the_summary_lists_live_alerts_last_imaging_active_medicines_and_pauses(
    definition: PathwayDefinition,
) -> None:
    history = [
        event(1, "imaging_done", 1, region="pelvis_sacrum", modality="MRI"),
        event(2, "imaging_done", 40, region="pelvis_sacrum", modality="MRI", response="SD"),
        event(3, "imaging_done", 41, region="chest", modality="CT"),
        event(4, "bma_started", 5, agent="denosumab"),
        event(5, "bma_held", 30, reason_code="dental_procedure"),
        event(6, "dexamethasone_started", 31, dose_mg_per_day=16, indication="mscc_neuro"),
        event(7, "care_paused", 50, reason_code="treatment_hold"),
        event(8, "care_resumed", 60),
        event(9, "care_paused", 70, reason_code="other"),
    ]
    exit_event = event(10, "transfer", 80, to_org="Elsewhere")
    alerts = [alert(1, "warning", "open"), alert(2, "critical", "acknowledged"), alert(3, "info", "resolved")]
    given = HandoverInput(PATIENT, exit_event, {"main": "surveillance"}, history, [], alerts)

    s = build_handover(definition, given, day(80) + timedelta(hours=1), LONDON)

    assert [(a["id"], a["severity"]) for a in s["open_alerts"]] == [(2, "critical"), (1, "warning")]
    assert [(i["region"], i["modality"], i["event_id"]) for i in s["last_imaging"]] == [
        ("chest", "CT", 3),
        ("pelvis_sacrum", "MRI", 2),
    ]
    assert [d["name"] for d in s["active_drugs"]] == ["dexamethasone"]  # the BMA was held
    assert [(p["from"], p["to"]) for p in s["pauses"]] == [("2026-04-21", "2026-05-01"), ("2026-05-11", None)]
    assert s["exit"] == {
        "event": "transfer",
        "event_id": 10,
        "on": "2026-05-21",
        "details": {"to_org": "Elsewhere"},
        "reason": None,
        "recorded_by": "t",
    }
    text = handover_markdown(s)
    assert "**critical** R2 (acknowledged" in text and "R3" not in text
    assert "- 2026-05-11 to the exit (never resumed); reason_code: other" in text
