"""A patient's record as FHIR R4 resources (validated with the R4B models of `fhir.resources`).

Codes come from the pathway file's `codes:` block only; an event without an entry there is not
exported as a clinical resource. Retracted events and the retractions themselves are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pathway.domain.codes import CodeRef, CodesSpec, EventCode
from pathway.domain.definition import PathwayDefinition
from pathway.domain.model import EventRecord, Patient, StoredAlert, StoredFollowUp
from pathway.domain.status import FollowUpStatus, Outcome
from pathway.interop.fhir_common import EVENT_SYSTEM as EVENT_SYSTEM
from pathway.interop.fhir_common import (
    FIELD_EXTENSION,
    FLAG_PRIORITY,
    FLAG_PRIORITY_CODES,
    RULE_SYSTEM,
    SEVERITY_SYSTEM,
    SOURCE_EXTENSION,
    STATE_EXTENSION,
    TRACK_SYSTEM,
    UCUM,
    V2_IDENTIFIER_TYPE,
    Site,
    stable_id,
    validated,
)

TASK_STATUS: dict[str, str] = {
    FollowUpStatus.UPCOMING: "requested",
    FollowUpStatus.DUE: "ready",
    FollowUpStatus.OVERDUE: "ready",
    FollowUpStatus.DONE: "completed",
    FollowUpStatus.CANCELLED: "cancelled",
}
LIVE_ALERTS = ("open", "acknowledged", "snoozed")
PRIORITY = {"info": "PL", "warning": "PM", "critical": "PH"}
PLAN_STATUS = {"withdrawn": "revoked"}  # every other exit state ends the plan as completed


@dataclass(frozen=True)
class PatientRecord:
    """What the exporter needs about one patient, read in one snapshot."""

    patient: Patient
    states: dict[str, str]
    events: list[EventRecord]
    follow_ups: list[StoredFollowUp]  # status as of `now`
    alerts: list[StoredAlert]


def patient_resources(
    record: PatientRecord, definition: PathwayDefinition, site: Site
) -> list[dict[str, Any]]:
    """Patient, CarePlans, Tasks, Flags and the coded clinical events, each validated."""
    p = record.patient
    pid = stable_id(site, p.mrn, "patient", p.id)
    subject = {"reference": f"Patient/{pid}"}
    out = [_patient(p, pid, site)]
    plans: dict[str, str] = {}
    for track, state in record.states.items():
        plans[track] = stable_id(site, p.mrn, "careplan", track)
        out.append(_care_plan(definition, track, state, plans[track], subject, p.enrolled_at))
    for fu in record.follow_ups:
        out.append(_task(definition, fu, stable_id(site, p.mrn, "follow-up", fu.id), subject, plans))
    for alert in record.alerts:
        if alert.status in LIVE_ALERTS:
            out.append(_flag(alert, stable_id(site, p.mrn, "alert", alert.id), subject))
    retractions = {n for n, s in definition.events.items() if s.retracts}
    retracted = {int(e.data["event_id"]) for e in record.events if e.type in retractions}
    for e in record.events:
        spec = definition.codes.events.get(e.type)
        if spec is None or e.id in retracted:
            continue
        earlier = [x for x in record.events if x.id < e.id and x.id not in retracted]
        rid = stable_id(site, p.mrn, "event", e.id)
        out.append(event_resource(definition.codes, spec, e, rid, subject, earlier))
    return [validated(r) for r in out]


def bundle(resources: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """A collection Bundle of already validated resources (then validated as a whole)."""
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    return validated(
        {"resourceType": "Bundle", "type": "collection", "timestamp": _when(now), "entry": entries}
    )


def event_resource(
    codes: CodesSpec,
    spec: EventCode,
    e: EventRecord,
    rid: str,
    subject: dict[str, str],
    earlier: list[EventRecord],
) -> dict[str, Any]:
    code = _code(codes, spec, e, earlier)
    when = _when(e.occurred_at)
    carried = {spec.value, spec.code_by.field if spec.code_by else None}
    carried.add(spec.body_site_by.field if spec.body_site_by else None)
    resource: dict[str, Any] = {
        "id": rid,
        "identifier": [{"system": EVENT_SYSTEM, "value": rid}],
        "subject": subject,
        "extension": [_field(k, v) for k, v in sorted(e.data.items()) if k not in carried],
    }
    if not resource["extension"]:
        del resource["extension"]
    if spec.resource == "Observation":
        resource |= {"resourceType": "Observation", "status": "final", "code": code}
        resource |= {"effectiveDateTime": when}
        if spec.value is not None and spec.value in e.data:
            resource["valueQuantity"] = _quantity(e.data[spec.value], spec.unit)
    elif spec.resource == "Procedure":
        resource |= {"resourceType": "Procedure", "status": spec.status or "completed", "code": code}
        resource["performedDateTime"] = when
        if spec.body_site_by is not None and e.data.get(spec.body_site_by.field) in spec.body_site_by.values:
            site = spec.body_site_by.values[e.data[spec.body_site_by.field]]
            resource["bodySite"] = [_concept(codes, site)]
    else:
        resource |= {"resourceType": "MedicationAdministration", "status": spec.status or "completed"}
        resource |= {"medicationCodeableConcept": code, "effectiveDateTime": when}
        if spec.value is not None and spec.value in e.data:
            resource["dosage"] = {"dose": _quantity(e.data[spec.value], spec.unit)}
    return resource


def _code(codes: CodesSpec, spec: EventCode, e: EventRecord, earlier: list[EventRecord]) -> dict[str, Any]:
    if spec.code is not None:
        return _concept(codes, spec.code)
    if spec.code_by is not None:
        value = str(e.data.get(spec.code_by.field, ""))
        ref = spec.code_by.values.get(value)
        return _concept(codes, ref) if ref else {"text": f"{e.type} ({value or 'unknown'})"}
    assert spec.code_from is not None
    source = next((x for x in reversed(earlier) if x.type == spec.code_from.event), None)
    value = str(source.data.get(spec.code_from.field, "")) if source else ""
    ref = spec.code_from.values.get(value)
    return _concept(codes, ref) if ref else {"text": f"{e.type} (agent not recorded)"}


def _concept(codes: CodesSpec, ref: CodeRef) -> dict[str, Any]:
    coding = {"system": codes.system(ref.system), "code": ref.code}
    if ref.display:
        coding["display"] = ref.display
    return {"coding": [coding], **({"text": ref.display} if ref.display else {})}


def _quantity(value: Any, unit: str | None) -> dict[str, Any]:
    q: dict[str, Any] = {"value": value}
    if unit:
        q |= {"unit": unit, "system": UCUM, "code": unit}
    return q


def _field(name: str, value: Any) -> dict[str, Any]:
    typed: dict[str, Any] = {"valueString": str(value)}
    if isinstance(value, bool):
        typed = {"valueBoolean": value}
    elif isinstance(value, int | float):
        typed = {"valueDecimal": value}
    return {
        "url": FIELD_EXTENSION,
        "extension": [{"url": "name", "valueCode": name}, {"url": "value", **typed}],
    }


def _when(instant: datetime) -> str:
    return instant.isoformat()


def _patient(p: Patient, pid: str, site: Site) -> dict[str, Any]:
    mr = {"coding": [{"system": V2_IDENTIFIER_TYPE, "code": "MR"}]}
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": pid,
        "identifier": [{"use": "usual", "type": mr, "system": site.mrn_system, "value": p.mrn}],
    }
    if p.name:
        resource["name"] = [{"text": p.name}]
    if p.birth_date:
        resource["birthDate"] = p.birth_date.isoformat()
    return resource


def _care_plan(
    d: PathwayDefinition, track: str, state: str, rid: str, subject: dict[str, str], start: datetime
) -> dict[str, Any]:
    ended = state in d.exit_states
    return {
        "resourceType": "CarePlan",
        "id": rid,
        "status": PLAN_STATUS.get(state, "completed") if ended else "active",
        "intent": "plan",
        "category": [{"coding": [{"system": TRACK_SYSTEM, "code": track}]}],
        "title": f"{d.pathway.title}: {track} track",
        "description": d.tracks[track].description or track,
        "subject": subject,
        "period": {"start": _when(start)},
        "extension": [{"url": STATE_EXTENSION, "valueCode": state}],
        "instantiatesUri": [f"urn:sacral-pathway:pathway:{d.pathway.id}:{d.pathway.version}"],
    }


def _task(
    d: PathwayDefinition, fu: StoredFollowUp, rid: str, subject: dict[str, str], plans: dict[str, str]
) -> dict[str, Any]:
    rule = d.rules.follow_ups.get(fu.rule)
    step = rule.step if rule else fu.rule
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": rid,
        "status": TASK_STATUS.get(fu.status, "requested"),
        "businessStatus": {"text": fu.status},
        "intent": "plan",
        "description": f"{step} ({fu.region})" if fu.region else step,
        "for": subject,
        "restriction": {"period": {"start": _when(fu.opens_at), "end": _when(fu.closes_at)}},
        "reasonCode": {"coding": [{"system": RULE_SYSTEM, "code": fu.rule}], "text": step},
        "note": [{"text": f"target {_when(fu.target_at)}; anchored on {fu.anchor_label}"}],
    }
    if rule is not None:
        task["extension"] = [{"url": SOURCE_EXTENSION, "valueString": rule.source}]
        task["note"].append({"text": f"source: {rule.source}"})
    track = rule.track if rule else fu.track
    if track in plans:
        task["basedOn"] = [{"reference": f"CarePlan/{plans[track]}"}]
    if fu.status == Outcome.DONE and fu.done_at is not None:
        task["executionPeriod"] = {"end": _when(fu.done_at)}
    if fu.status == Outcome.CANCELLED and fu.cancel_reason:
        task["statusReason"] = {"text": fu.cancel_reason}
    return task


def _flag(a: StoredAlert, rid: str, subject: dict[str, str]) -> dict[str, Any]:
    priority = {"coding": [{"system": FLAG_PRIORITY_CODES, "code": PRIORITY.get(a.severity, "PM")}]}
    return {
        "resourceType": "Flag",
        "id": rid,
        "status": "active",
        "category": [{"coding": [{"system": SEVERITY_SYSTEM, "code": a.severity}], "text": a.severity}],
        "code": {"coding": [{"system": RULE_SYSTEM, "code": a.rule}], "text": a.message},
        "subject": subject,
        "period": {"start": _when(a.opened_at)},
        "extension": [
            {"url": FLAG_PRIORITY, "valueCodeableConcept": priority},
            {"url": SOURCE_EXTENSION, "valueString": a.source},
        ],
    }
