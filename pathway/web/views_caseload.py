"""The patient page's care team (assignment form) and each open follow-up's booking."""

from __future__ import annotations

from typing import Any

from pathway.domain.bookings import live_bookings
from pathway.domain.clinical_time import local_date
from pathway.domain.model import EventRecord, Patient, StoredFollowUp
from pathway.domain.status import PENDING
from pathway.ports import Deps, User
from pathway.services import accounts, caseload


def caseload_context(
    deps: Deps, user: User, patient: Patient, events: list[EventRecord], follow_ups: list[StoredFollowUp]
) -> dict[str, Any]:
    today = local_date(deps.clock.now(), deps.zone)
    booked = live_bookings(deps.pathway.definition, [(patient.mrn, e) for e in events])
    texts: dict[str, str] = {}
    for f in follow_ups:
        b = booked.get((patient.mrn, f.rule, f.region))
        if f.status in PENDING and b is not None and b.applies_to(f.anchor_at):
            texts[f"{f.rule}/{f.region}"] = b.text(today)
    teams = caseload.list_teams(deps)
    return {
        "assignment": caseload.assignment(deps, patient.mrn),
        "teams": teams,
        "coordinators": sorted({m for t in teams for m in t.members}),
        "can_assign": accounts.allows(user.role, "assign"),
        "bookings": texts,
        "can_book": deps.pathway.definition.event_with_role("booking") is not None
        and accounts.allows(user.role, "record"),
    }
