"""Which live patients a pathway change would move: open windows and live alerts, before/after."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from pathway.domain.alert_status import LIVE
from pathway.domain.alerts import AlertCandidate, alerts_for_checks, alerts_for_follow_ups, effective
from pathway.domain.clinical_time import local_date
from pathway.domain.followups import FollowUp, derive_follow_ups
from pathway.domain.machine import Pathway
from pathway.domain.model import Patient
from pathway.domain.timeline import build_timeline
from pathway.domain.windows import Window, closes_day, target_day
from pathway.ports import Deps, UnitOfWork

FIRST = 20


@dataclass(frozen=True)
class Move:
    mrn: str
    rule: str
    region: str
    before: str  # e.g. "2026-05-25" (closes), "none"
    after: str

    def as_json(self) -> dict[str, str]:
        return {
            "mrn": self.mrn,
            "rule": self.rule,
            "region": self.region,
            "before": self.before,
            "after": self.after,
        }


@dataclass
class Impact:
    patients: int = 0  # live patients checked
    patients_moved: int = 0  # with an open window or a live alert that would change
    windows: int = 0
    alerts: int = 0
    first: list[Move] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "live_patients": self.patients,
            "patients_affected": self.patients_moved,
            "open_windows_moving": self.windows,
            "open_alerts_changing": self.alerts,
            "first": [m.as_json() for m in self.first],
        }


def impact(deps: Deps, pathway: Pathway) -> Impact:
    now = deps.clock.now()
    out = Impact()
    with deps.read() as uow:
        live = [p for p, states in uow.patients.listing(None, None) if not pathway.is_closed(states)]
        out.patients = len(live)
        for patient in live:
            follow_ups, candidates = derive(uow, deps, pathway, patient, now)
            moves = _window_moves(uow, deps, patient, follow_ups)
            texts = _alert_changes(uow, patient, candidates)
            out.windows += len(moves)
            out.alerts += texts
            if moves or texts:
                out.patients_moved += 1
            out.first += moves[: max(0, FIRST - len(out.first))]
    return out


def derive(
    uow: UnitOfWork, deps: Deps, pathway: Pathway, patient: Patient, now: datetime
) -> tuple[list[FollowUp], dict[tuple[str, str], AlertCandidate]]:
    d = pathway.definition
    timeline = build_timeline(pathway, patient.enrolled_at, uow.events.for_patient(patient.id))
    follow_ups = derive_follow_ups(d, timeline, deps.calendar)
    candidates = effective(
        alerts_for_follow_ups(d, follow_ups, now, deps.zone)
        + alerts_for_checks(d, patient, timeline, deps.zone)
    )
    return follow_ups, {(c.rule, c.key): c for c in candidates}


def _window_moves(uow: UnitOfWork, deps: Deps, patient: Patient, follow_ups: list[FollowUp]) -> list[Move]:
    derived = {f.key: f for f in follow_ups}
    moves: list[Move] = []
    for s in uow.follow_ups.for_patient(patient.id):
        if s.status != "open":
            continue
        f = derived.get((s.rule, s.region, s.anchor_at))
        stored = Window(s.opens_at, s.target_at, s.closes_at, s.clock_time)
        if f is None or f.outcome != "open":
            moves.append(Move(patient.mrn, s.rule, s.region, _days(stored, deps.zone), "no longer open"))
        elif (f.window.opens_at, f.window.target_at, f.window.closes_at) != (
            s.opens_at,
            s.target_at,
            s.closes_at,
        ):
            moves.append(
                Move(patient.mrn, s.rule, s.region, _days(stored, deps.zone), _days(f.window, deps.zone))
            )
    return moves


def _days(w: Window, zone: tzinfo) -> str:
    """opens / target / closes as the clinic reads them (the last day of a calendar window)."""
    return f"{local_date(w.opens_at, zone)} / {target_day(w, zone)} / {closes_day(w, zone)}"


def _alert_changes(
    uow: UnitOfWork, patient: Patient, candidates: dict[tuple[str, str], AlertCandidate]
) -> int:
    n = 0
    for a in uow.alerts.for_patient(patient.id):
        if a.status not in LIVE:
            continue
        c = candidates.get((a.rule, a.instance_key))
        if c is None or c.severity != a.severity or c.message != a.message or c.source != a.source:
            n += 1
    return n
