"""What export and import share: local URIs, stable ids and validation against the R4B models."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.imagingstudy import ImagingStudy
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.task import Task
from pydantic import BaseModel, ValidationError

from pathway.domain.errors import InvalidInput

BASE = "urn:sacral-pathway"
RULE_SYSTEM = f"{BASE}:rule"
EVENT_SYSTEM = f"{BASE}:event"
FOLLOW_UP_SYSTEM = f"{BASE}:follow-up"
ALERT_SYSTEM = f"{BASE}:alert"
SEVERITY_SYSTEM = f"{BASE}:alert-severity"
TRACK_SYSTEM = f"{BASE}:track"
STATE_EXTENSION = f"{BASE}:track-state"
SOURCE_EXTENSION = f"{BASE}:source"
FIELD_EXTENSION = f"{BASE}:event-field"
UCUM = "http://unitsofmeasure.org"
FLAG_PRIORITY = "http://hl7.org/fhir/StructureDefinition/flag-priority"
FLAG_PRIORITY_CODES = "http://hl7.org/fhir/flag-priority-code"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"


# imported up front, not looked up lazily: model classes must exist before a test freezes time
MODELS: dict[str, type[BaseModel]] = {
    m.__name__: m
    for m in (
        Bundle,
        CarePlan,
        DiagnosticReport,
        Flag,
        ImagingStudy,
        MedicationAdministration,
        Observation,
        Patient,
        Procedure,
        Task,
    )
}


@dataclass(frozen=True)
class Site:
    """The site's identifier system for MRNs (a URI the hospital owns, from settings)."""

    mrn_system: str


def stable_id(site: Site, mrn: str, kind: str, local_id: int | str) -> str:
    """The same resource gets the same id in every export (a UUID: no MRN in ids or URLs)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{site.mrn_system}|{mrn}|{kind}|{local_id}"))


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource as the R4B model serialises it; InvalidInput naming the resource if invalid."""
    kind = str(resource.get("resourceType", ""))
    model = MODELS.get(kind)
    if model is None:
        try:
            model = get_fhir_model_class(kind)
        except KeyError:
            raise InvalidInput(f"'{kind}' is not a FHIR R4B resource type") from None
    try:
        parsed = model.model_validate(resource)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{kind}/{resource.get('id', '?')}: {where}: {first['msg']}") from None
    out: dict[str, Any] = parsed.model_dump(mode="json", exclude_none=True)
    return out
