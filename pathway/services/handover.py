"""Hand-over on exit: capture the summary with a transfer, withdrawal or loss to follow-up; read it.

(The lead will move this module into pathway/services/.)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pathway.domain.errors import NotFound
from pathway.domain.handover import HandoverInput, build_handover
from pathway.domain.model import EventRecord, Patient
from pathway.ports import Deps, UnitOfWork
from pathway.services.sync import find_patient


def capture(
    uow: UnitOfWork,
    deps: Deps,
    patient: Patient,
    states: dict[str, str],
    history: list[EventRecord],
    exit_event: EventRecord,
    now: datetime,
) -> dict[str, Any]:
    """Build and store the summary in the exit's unit of work, before the exit closes anything."""
    definition = deps.pathway.definition
    retractions = {n for n, s in definition.events.items() if s.retracts}
    retracted = {int(e.data["event_id"]) for e in history if e.type in retractions}
    live = [e for e in history if e.type not in retractions and e.id not in retracted]
    summary = build_handover(
        definition,
        HandoverInput(
            patient=patient,
            exit_event=exit_event,
            states=states,
            history=live,
            follow_ups=uow.follow_ups.for_patient(patient.id),
            alerts=uow.alerts.for_patient(patient.id),
        ),
        now,
        deps.zone,
    )
    uow.handovers.add(patient.id, exit_event.id, now, summary)
    return summary


def find(deps: Deps, mrn: str) -> dict[str, Any] | None:
    """The patient's stored hand-over summary, or None."""
    with deps.read() as uow:
        return uow.handovers.latest(find_patient(uow, mrn, deps.mrn).id)


def read(deps: Deps, mrn: str) -> dict[str, Any]:
    """The patient's stored hand-over summary; NotFound if they did not leave with a hand-over."""
    summary = find(deps, mrn)
    if summary is None:
        exits = ", ".join(deps.pathway.definition.handover_exits) or "none in this pathway"
        raise NotFound(f"patient {mrn} has no hand-over summary: one is made when recording {exits}")
    return summary
