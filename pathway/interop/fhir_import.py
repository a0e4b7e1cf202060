"""A FHIR Bundle -> pathway events, through the pathway file's `codes:` block read backwards.

Each mappable resource becomes one event (type, fields, effective time, the patient's MRN and a
source reference that makes a second import a no-op). Everything else is listed with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from pathway.domain.codes import CodesSpec
from pathway.domain.errors import InvalidInput
from pathway.interop.fhir_common import FIELD_EXTENSION, Site, validated

DERIVED = ("CarePlan", "Task", "Flag")  # what the pathway derives from events: never imported
IMPORTED = ("Observation", "Procedure", "MedicationAdministration", "ImagingStudy", "DiagnosticReport")
NOT_HAPPENED = {"entered-in-error", "not-done", "cancelled", "preliminary", "registered", "unknown"}
Key = tuple[str, str, str, str]  # resource type, system, code, status ("" = any)


@dataclass(frozen=True)
class Mapped:
    what: str  # "Observation/<id>" for messages
    ref: str  # kept with the event
    mrn: str
    event: str
    fields: dict[str, Any]
    at: datetime


@dataclass(frozen=True)
class Unmapped:
    what: str
    reason: str


def reverse_index(codes: CodesSpec) -> dict[Key, tuple[str, dict[str, str]]]:
    """(resource, system, code, status) -> (event, the field values the code implies)."""
    index: dict[Key, tuple[str, dict[str, str]]] = {}
    for event, spec in codes.events.items():
        status = spec.status or "" if spec.resource == "Procedure" else ""
        if spec.code is not None:
            index[(spec.resource, codes.system(spec.code.system), spec.code.code, status)] = (event, {})
        if spec.code_by is not None:
            for value, ref in spec.code_by.values.items():
                key = (spec.resource, codes.system(ref.system), ref.code, status)
                index[key] = (event, {spec.code_by.field: value})
        if spec.code_from is not None:
            for ref in spec.code_from.values.values():
                index[(spec.resource, codes.system(ref.system), ref.code, status)] = (event, {})
        for also in spec.also:
            index[(also.resource, codes.system(also.code.system), also.code.code, "")] = (event, also.fields)
    return index


def map_bundle(data: Any, codes: CodesSpec, site: Site, zone: tzinfo) -> tuple[list[Mapped], list[Unmapped]]:
    """Map every entry; raise InvalidInput only when the file is not a valid FHIR Bundle."""
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise InvalidInput("the file is not a FHIR Bundle (resourceType must be 'Bundle')")
    bundle = validated(data)
    entries = [(e.get("fullUrl"), e["resource"]) for e in bundle.get("entry", []) if "resource" in e]
    patients = _patients(entries, site)
    index = reverse_index(codes)
    mapped: list[Mapped] = []
    unmapped: list[Unmapped] = []
    for full_url, r in entries:
        kind = r["resourceType"]
        what = f"{kind}/{r.get('id', '?')}"
        if kind == "Patient":
            continue
        if kind in DERIVED:
            unmapped.append(Unmapped(what, f"{kind}s are derived by the pathway from events; not imported"))
            continue
        if kind not in IMPORTED:
            unmapped.append(Unmapped(what, f"{kind} is not imported (only {', '.join(IMPORTED)})"))
            continue
        try:
            mapped.append(_map(r, full_url, what, codes, index, patients, site, zone))
        except _Skip as skip:
            unmapped.append(Unmapped(what, str(skip)))
    return mapped, unmapped


class _Skip(Exception):
    pass


def _map(
    r: dict[str, Any],
    full_url: str | None,
    what: str,
    codes: CodesSpec,
    index: dict[Key, tuple[str, dict[str, str]]],
    patients: dict[str, str],
    site: Site,
    zone: tzinfo,
) -> Mapped:
    kind = r["resourceType"]
    status = str(r.get("status", ""))
    if status in NOT_HAPPENED:
        raise _Skip(f"status '{status}': not something that happened")
    ref = _source_ref(r, full_url)
    mrn = _subject(r, patients, site)
    found = None
    for system, code in _codings(r):
        found = index.get((kind, system, code, status if kind == "Procedure" else "")) or found
    if found is None:
        shown = ", ".join(f"{s}|{c}" for s, c in _codings(r)) or "no code"
        raise _Skip(f"no event in the pathway file's codes block for {shown}" + _status_note(kind, status))
    event, implied = found
    spec = codes.events[event]
    fields: dict[str, Any] = dict(implied)
    if spec.value is not None:
        value = _value(r)
        if value is not None:
            fields[spec.value] = value
    if spec.body_site_by is not None:
        by_code = {(codes.system(c.system), c.code): v for v, c in spec.body_site_by.values.items()}
        for site_code in _body_sites(r):
            if site_code in by_code:
                fields[spec.body_site_by.field] = by_code[site_code]
    fields |= _extension_fields(r)
    return Mapped(what=what, ref=ref, mrn=mrn, event=event, fields=fields, at=_effective(r, what, zone))


def _status_note(kind: str, status: str) -> str:
    return f" with status '{status}'" if kind == "Procedure" else ""


def _patients(entries: list[tuple[str | None, dict[str, Any]]], site: Site) -> dict[str, str]:
    """Patient references ("Patient/<id>" and full URLs) -> the MRN under the site's system."""
    out: dict[str, str] = {}
    for full_url, r in entries:
        if r["resourceType"] != "Patient":
            continue
        mrn = next((i["value"] for i in r.get("identifier", []) if i.get("system") == site.mrn_system), None)
        if mrn is None:
            continue
        if "id" in r:
            out[f"Patient/{r['id']}"] = mrn
        if full_url:
            out[full_url] = mrn
    return out


def _subject(r: dict[str, Any], patients: dict[str, str], site: Site) -> str:
    subject = r.get("subject") or {}
    reference = subject.get("reference")
    if reference in patients:
        return patients[reference]
    identifier = subject.get("identifier") or {}
    if identifier.get("system") == site.mrn_system and identifier.get("value"):
        return str(identifier["value"])
    raise _Skip(f"its subject has no MRN under {site.mrn_system} (no such Patient in the bundle)")


def _source_ref(r: dict[str, Any], full_url: str | None) -> str:
    for i in r.get("identifier", []):
        if i.get("system") and i.get("value"):
            return f"{i['system']}|{i['value']}"[:300]
    if full_url:
        return full_url[:300]
    if r.get("id"):
        return f"{r['resourceType']}/{r['id']}"
    raise _Skip("no identifier, fullUrl or id: it could not be recognised if imported again")


def _codings(r: dict[str, Any]) -> list[tuple[str, str]]:
    kind = r["resourceType"]
    if kind == "MedicationAdministration":
        concepts = [r.get("medicationCodeableConcept") or {}]
        codings = [c for concept in concepts for c in concept.get("coding", [])]
    elif kind == "ImagingStudy":
        codings = list(r.get("modality", [])) + [
            s["modality"] for s in r.get("series", []) if "modality" in s
        ]
    else:
        codings = (r.get("code") or {}).get("coding", [])
    return [(str(c.get("system", "")), str(c.get("code", ""))) for c in codings]


def _body_sites(r: dict[str, Any]) -> list[tuple[str, str]]:
    concepts = list(r.get("bodySite", []))
    codings = [c for concept in concepts for c in concept.get("coding", [])]
    codings += [s["bodySite"] for s in r.get("series", []) if "bodySite" in s]
    return [(str(c.get("system", "")), str(c.get("code", ""))) for c in codings]


def _value(r: dict[str, Any]) -> Any:
    if r["resourceType"] == "MedicationAdministration":
        return ((r.get("dosage") or {}).get("dose") or {}).get("value")
    for key in ("valueQuantity",):
        if key in r:
            return r[key].get("value")
    for key in ("valueInteger", "valueString", "valueBoolean"):
        if key in r:
            return r[key]
    return None


def _extension_fields(r: dict[str, Any]) -> dict[str, Any]:
    """Fields no standard element carries, as this exporter writes them."""
    out: dict[str, Any] = {}
    for ext in r.get("extension", []):
        if ext.get("url") != FIELD_EXTENSION:
            continue
        parts = {p.get("url"): p for p in ext.get("extension", [])}
        name, value = parts.get("name", {}).get("valueCode"), parts.get("value", {})
        for key in ("valueString", "valueDecimal", "valueBoolean", "valueInteger"):
            if name and key in value:
                out[name] = value[key]
    return out


def _effective(r: dict[str, Any], what: str, zone: tzinfo) -> datetime:
    candidates = [
        r.get("effectiveDateTime"),
        (r.get("effectivePeriod") or {}).get("start"),
        r.get("performedDateTime"),
        (r.get("performedPeriod") or {}).get("start"),
        r.get("started"),
    ]
    text = next((c for c in candidates if c), None)
    if text is None:
        raise _Skip("no effective or performed time")
    return parse_instant(str(text), what, zone)


def parse_instant(text: str, what: str, zone: tzinfo) -> datetime:
    """A FHIR dateTime: a bare date is the start of that clinic day; a time needs its offset."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.min, tzinfo=zone).astimezone(UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _Skip(f"'{text}' is not a date the pathway can record (use a full date)") from None
    return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
