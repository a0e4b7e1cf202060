"""An alert's life on SQLite and PostgreSQL: open, acknowledged, snoozed, overridden, resolved."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from pathway.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from pathway.domain.model import Patient, StoredAlert, StoredFollowUp
from pathway.domain.records import AlertChange
from pathway.ports import Deps
from pathway.services import alerting, patients
from tests.fakes import FixedClock
from tests.integration.conftest import ACTOR, morning

OVERDUE_DAY = date(2026, 7, 25)  # T09 (both regions) and T10 overdue; A10 x2 and A16 warnings
CRITICAL_DAY = date(2026, 8, 22)  # A10 escalates to critical


def record(deps: Deps, event: str, fields: dict[str, Any] | None = None, **kwargs: Any) -> patients.Recorded:
    return patients.record_event(deps, "MRN-1", event, fields or {}, actor=ACTOR, **kwargs)


def sweep_on(deps: Deps, clock: FixedClock, day: date) -> None:
    clock.current = morning(day)
    alerting.sweep(deps)


def alerts(deps: Deps) -> list[StoredAlert]:
    return alerting.follow_ups_of(deps, "MRN-1")[1]


def alert(deps: Deps, rule: str, region: str = "", severity: str = "warning") -> StoredAlert:
    [found] = [
        a
        for a in alerts(deps)
        if a.rule == rule and a.severity == severity and a.instance_key.split(":")[1] == region
    ]
    return found


def follow_up(deps: Deps, rule: str, region: str = "") -> StoredFollowUp:
    mine = [f for f in alerting.follow_ups_of(deps, "MRN-1")[0] if (f.rule, f.region) == (rule, region)]
    return min(mine, key=lambda f: f.anchor_at)


@pytest.fixture
def overdue(deps: Deps, clock: FixedClock, in_surveillance: Patient) -> Patient:
    sweep_on(deps, clock, OVERDUE_DAY)
    return in_surveillance


def test_recording_the_overdue_scan_resolves_its_alert_as_done(deps: Deps, overdue: Patient) -> None:
    record(deps, "imaging_done", {"region": "pelvis_sacrum", "modality": "MRI"})

    pelvis = alert(deps, "A10", "pelvis_sacrum")
    assert pelvis.status == "resolved"
    assert pelvis.resolution is not None and pelvis.resolution.startswith("done on")
    assert follow_up(deps, "T09", "pelvis_sacrum").status == "done"
    assert alert(deps, "A10", "chest").status == "open"


def test_the_resolution_names_the_clinic_date_the_step_was_done_on(
    deps: Deps, clock: FixedClock, overdue: Patient
) -> None:
    clock.current = morning(date(2026, 7, 28))
    record(
        deps, "imaging_done", {"region": "pelvis_sacrum", "modality": "MRI"}, on=date(2026, 7, 28)
    )  # British Summer Time: the clinic day starts at 23:00 UTC

    assert alert(deps, "A10", "pelvis_sacrum").resolution == "done on 2026-07-28"


def test_an_acknowledged_alert_records_who_and_still_resolves_when_done(deps: Deps, overdue: Patient) -> None:
    a10 = alert(deps, "A10", "pelvis_sacrum")

    acked = alerting.acknowledge(deps, a10.id, "j.smith", "MRI booked for Friday")
    assert (acked.status, acked.acted_by, acked.note) == ("acknowledged", "j.smith", "MRI booked for Friday")
    assert acked.id in {a.id for a, _ in alerting.list_alerts(deps)}

    record(deps, "imaging_done", {"region": "pelvis_sacrum", "modality": "MRI"})
    assert alert(deps, "A10", "pelvis_sacrum").status == "resolved"


def test_a_snoozed_alert_reopens_at_the_first_sweep_after_its_date(
    deps: Deps, clock: FixedClock, overdue: Patient
) -> None:
    a16 = alert(deps, "A16")

    snoozed = alerting.snooze(deps, a16.id, date(2026, 8, 1), "j.smith", "patient abroad")
    assert snoozed.status == "snoozed" and snoozed.acted_by == "j.smith"
    sweep_on(deps, clock, date(2026, 7, 31))
    assert alert(deps, "A16").status == "snoozed"

    sweep_on(deps, clock, date(2026, 8, 1))
    assert alert(deps, "A16").status == "open"
    assert len([a for a in alerts(deps) if a.rule == "A16"]) == 1


@pytest.mark.parametrize("days", [0, -1, -30], ids=["today", "yesterday", "last month"])
def test_snoozing_until_today_or_earlier_is_invalid_input(deps: Deps, overdue: Patient, days: int) -> None:
    a16 = alert(deps, "A16")
    with pytest.raises(InvalidInput):
        alerting.snooze(deps, a16.id, OVERDUE_DAY + timedelta(days=days), "j.smith", "later")
    assert alert(deps, "A16").status == "open"


@pytest.mark.parametrize("reason", alerting.OVERRIDE_REASONS)
def test_a_warning_can_be_overridden_with_each_reason_code(deps: Deps, overdue: Patient, reason: str) -> None:
    a16 = alert(deps, "A16")

    overridden = alerting.override(deps, a16.id, reason, "discussed at MDT", "dr.lee")

    assert (overridden.status, overridden.acted_by) == ("overridden", "dr.lee")
    assert a16.id not in {a.id for a, _ in alerting.list_alerts(deps)}
    assert a16.id in {a.id for a, _ in alerting.list_alerts(deps, "overridden")}


@pytest.mark.parametrize("reason", ["", "because", "Contraindication", "clinical judgement"])
def test_an_override_with_an_unknown_reason_code_is_invalid_input(
    deps: Deps, overdue: Patient, reason: str
) -> None:
    a16 = alert(deps, "A16")
    with pytest.raises(InvalidInput):
        alerting.override(deps, a16.id, reason, "discussed at MDT", "dr.lee")
    assert alert(deps, "A16").status == "open"


def test_a_critical_alert_can_be_overridden_by_a_clinician_but_not_a_coordinator(
    deps: Deps, clock: FixedClock, overdue: Patient
) -> None:
    sweep_on(deps, clock, CRITICAL_DAY)
    critical = alert(deps, "A10", "chest", "critical")

    with pytest.raises(PermissionDenied):
        alerting.override(
            deps, critical.id, "clinical_judgement", "CT not needed", "j.smith", role="coordinator"
        )
    assert alert(deps, "A10", "chest", "critical").status == "open"

    done = alerting.override(
        deps, critical.id, "clinical_judgement", "CT not needed", "dr.lee", role="clinician"
    )
    assert done.status == "overridden"


def test_an_override_until_a_date_expires_and_the_sweep_reopens_the_alert(
    deps: Deps, clock: FixedClock, overdue: Patient
) -> None:
    a16 = alert(deps, "A16")
    alerting.override(
        deps, a16.id, "patient_preference", "exam at next visit", "dr.lee", until=date(2026, 8, 10)
    )

    sweep_on(deps, clock, date(2026, 8, 9))
    assert alert(deps, "A16").status == "overridden"
    sweep_on(deps, clock, date(2026, 8, 10))
    assert alert(deps, "A16").status == "open"


def test_acting_on_a_resolved_alert_is_a_conflict(deps: Deps, overdue: Patient) -> None:
    record(deps, "exam_done")
    a16 = alert(deps, "A16")
    assert a16.status == "resolved"

    with pytest.raises(Conflict):
        alerting.acknowledge(deps, a16.id, "j.smith")
    with pytest.raises(Conflict):
        alerting.snooze(deps, a16.id, date(2026, 8, 1), "j.smith", "later")
    assert alert(deps, "A16").status == "resolved"


def test_acting_on_an_unknown_alert_is_not_found(deps: Deps, overdue: Patient) -> None:
    with pytest.raises(NotFound):
        alerting.acknowledge(deps, 9999, "j.smith")
    with pytest.raises(NotFound):
        alerting.snooze(deps, 9999, date(2026, 8, 1), "j.smith", "later")
    with pytest.raises(NotFound):
        alerting.override(deps, 9999, "data_error", "duplicate", "dr.lee")


def test_death_resolves_every_live_alert_and_cancels_every_open_follow_up(
    deps: Deps, overdue: Patient
) -> None:
    assert len(alerting.list_alerts(deps, "live", "MRN-1")) == 5  # with T11 and A22 (monthly reviews)

    record(deps, "death")

    assert alerting.list_alerts(deps, "live", "MRN-1") == []
    assert {a.status for a in alerts(deps)} == {"resolved"}
    follow_ups = alerting.follow_ups_of(deps, "MRN-1")[0]
    assert {f.status for f in follow_ups} <= {"done", "cancelled"}
    assert {f.rule for f in follow_ups if f.status == "cancelled"} == {"T09", "T10", "T11", "T17", "A32"}
    assert alerting.worklist(deps) == []


def held(deps: Deps) -> dict[str, bool]:
    return {
        f"{a.rule}:{a.instance_key.split(':')[1]}": a.held
        for a, _ in alerting.list_alerts(deps, "live", "MRN-1")
        if not a.urgent
    }


@pytest.fixture
def deficit(deps: Deps, clock: FixedClock, overdue: Patient) -> Patient:
    """A new deficit on 2026-07-26 10:00 UTC; 25 hours later, still no whole-spine MRI."""
    clock.current = morning(date(2026, 7, 26), hour=10)
    record(deps, "neuro_exam", {"finding": "new_deficit"})
    clock.advance(hours=25)
    alerting.sweep(deps)
    return overdue


def test_an_urgent_mscc_alert_holds_the_lower_alerts_until_the_mri_is_recorded(
    deps: Deps, deficit: Patient
) -> None:
    assert {(a.rule, a.severity) for a in alerts(deps) if a.urgent} == {
        ("A01", "critical"),
        ("A02", "critical"),
        ("A04", "critical"),
    }
    # only sacral imaging may wait behind the MSCC alert (held_behind_urgent in the pathway file)
    assert held(deps) == {"A10:pelvis_sacrum": True, "A10:chest": False, "A16:": False, "A22:": False}
    first = alerting.worklist(deps)[0]
    assert (first.severity, first.held) == ("critical", False)

    record(deps, "mri_whole_spine_done", {"compression": "no"})

    assert alert(deps, "A02", severity="critical").status == "resolved"
    assert held(deps) == {"A10:pelvis_sacrum": False, "A10:chest": False, "A16:": False, "A22:": False}


def test_sweep_all_releases_an_alert_held_under_the_old_hold_everything_rule(
    deps: Deps, deficit: Patient
) -> None:
    """Upgrading: an exam alert a former version held behind the MSCC alert is released."""
    [a16] = [a for a in alerts(deps) if a.rule == "A16"]
    with deps.uow() as uow:  # as the previous version left it
        assert uow.alerts.update(a16.id, a16.status, AlertChange(held=True))
        uow.commit()
    assert held(deps)["A16:"] is True

    alerting.refresh_all(deps)

    assert held(deps) == {"A10:pelvis_sacrum": True, "A10:chest": False, "A16:": False, "A22:": False}


def test_overriding_the_urgent_alerts_releases_the_hold_by_the_next_sweep(
    deps: Deps, clock: FixedClock, deficit: Patient
) -> None:
    for a in [a for a in alerts(deps) if a.urgent]:
        alerting.override(
            deps, a.id, "clinical_judgement", "known stable deficit", "dr.lee", role="clinician"
        )
    clock.advance(hours=1)
    alerting.sweep(deps)

    assert held(deps) == {"A10:pelvis_sacrum": False, "A10:chest": False, "A16:": False, "A22:": False}


def test_retracting_the_done_scan_reopens_its_follow_up_and_alert(deps: Deps, overdue: Patient) -> None:
    scan = record(deps, "imaging_done", {"region": "pelvis_sacrum", "modality": "MRI"})
    assert alert(deps, "A10", "pelvis_sacrum").status == "resolved"

    record(deps, "retraction", {"event_id": scan.event.id}, reason="scan of another patient")

    assert follow_up(deps, "T09", "pelvis_sacrum").status == "overdue"
    reopened = alert(deps, "A10", "pelvis_sacrum")
    assert (reopened.status, reopened.resolution) == ("open", None)
    re_anchored = [
        f
        for f in alerting.follow_ups_of(deps, "MRN-1")[0]
        if f.rule == "T09" and f.region == "pelvis_sacrum" and "imaging_done" in f.anchor_label
    ]
    assert [(f.status, f.cancel_reason) for f in re_anchored] == [
        ("cancelled", "no longer applies (history corrected)")
    ]
