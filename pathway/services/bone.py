"""The active bone-modifying agents of a patient, their next planned dose and outstanding checks."""

from __future__ import annotations

from pathway.domain.bone_checks import AgentSummary, active_agents
from pathway.domain.timeline import build_timeline
from pathway.ports import Deps
from pathway.services.sync import find_patient


def agents_of(deps: Deps, mrn: str) -> list[AgentSummary]:
    with deps.read() as uow:
        patient = find_patient(uow, mrn, deps.mrn)
        events = uow.events.for_patient(patient.id)
    timeline = build_timeline(deps.pathway, patient.enrolled_at, events)
    return active_agents(deps.pathway.definition, timeline, deps.zone)
