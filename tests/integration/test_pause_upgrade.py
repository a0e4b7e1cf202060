"""Upgrading from the release that re-anchored paused windows on the resume date: the stored rows
of such a patient are recomputed by `pathway sweep --all` (refresh_all), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

from pathway.domain.followups import FollowUp
from pathway.domain.records import FollowUpChange, NewFollowUp
from pathway.domain.windows import compute_window
from pathway.ports import Deps
from pathway.services import alerting, patients
from pathway.services.sync import _values
from tests.fakes import FixedClock, utc


def t10_rows(deps: Deps) -> list[tuple[str, str, date, date]]:
    follow_ups, _ = alerting.follow_ups_of(deps, "MRN-1")
    return sorted(
        (
            f.anchor_label,
            f.status,
            f.opens_at.astimezone(deps.zone).date(),
            (f.closes_at - timedelta(microseconds=1)).astimezone(deps.zone).date(),
        )
        for f in follow_ups
        if f.rule == "T10"
    )


def test_sweep_all_moves_a_re_anchored_window_back_to_its_anchor_extended_by_the_pause(
    deps: Deps, clock: FixedClock
) -> None:
    patients.enroll(deps, "MRN-1", on=date(2026, 3, 2))
    clock.current = utc(2026, 3, 20, 10)
    patients.record_event(deps, "MRN-1", "care_paused", {"reason_code": "hospital_admission"}, actor="t")
    clock.current = utc(2026, 3, 29, 10)
    resumed = patients.record_event(deps, "MRN-1", "care_resumed", {}, actor="t")
    expected = t10_rows(deps)
    assert expected == [("enrolment", "upcoming", date(2026, 6, 11), date(2026, 7, 11))]

    # what the previous release stored: the enrolment window cancelled, a new one from the resume
    rules = deps.pathway.definition.rules.follow_ups
    with deps.uow() as uow:
        patient = uow.patients.by_mrn("MRN-1")
        assert patient is not None
        [row] = [f for f in uow.follow_ups.for_patient(patient.id) if f.rule == "T10"]
        uow.follow_ups.update(
            row.id,
            row.status,
            FollowUpChange(status="cancelled", cancel_reason="paused on 2026-03-20 (hospital_admission)"),
        )
        at = resumed.event.occurred_at
        old = FollowUp(
            "T10", "", at, f"care resumed (event {resumed.event.id})",
            compute_window(rules["T10"].window, at, deps.calendar),
        )  # fmt: skip
        values = _values(old, clock.current, deps.calendar, rules)
        uow.follow_ups.insert(
            [NewFollowUp(patient_id=patient.id, rule="T10", region="", anchor_at=at, **values)]
        )
        uow.commit()
    stale = t10_rows(deps)
    assert ("care resumed (event 2)", "upcoming", date(2026, 6, 29), date(2026, 7, 29)) in stale

    alerting.sweep(deps)  # the plain sweep moves time forward only: it does not recompute history
    assert t10_rows(deps) == stale

    alerting.refresh_all(deps)  # `pathway sweep --all`
    assert t10_rows(deps) == [
        ("care resumed (event 2)", "cancelled", date(2026, 6, 29), date(2026, 7, 29)),
        ("enrolment", "upcoming", date(2026, 6, 11), date(2026, 7, 11)),
    ]
    again = alerting.refresh_all(deps)
    assert again.follow_ups_changed == 0 and again.follow_ups_created == 0
