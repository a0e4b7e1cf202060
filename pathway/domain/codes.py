"""The pathway file's `codes:` block: which FHIR resource and which standard codes stand for an event.

The exporter and the importer read only this block, so a site changes codes in the pathway file,
never in the code. Systems are written by alias (`loinc|72514-3` style aliases under `systems`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Resource = Literal["Observation", "Procedure", "MedicationAdministration"]
ImportResource = Literal[
    "Observation", "Procedure", "MedicationAdministration", "ImagingStudy", "DiagnosticReport"
]
EvidenceKind = Literal["seed", "guideline", "label", "trial", "proposal"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeRef(_Strict):
    system: str = Field(min_length=1)
    code: str = Field(min_length=1)
    display: str = ""


class ByField(_Strict):
    """A code chosen by the value of one of the event's choice fields (e.g. imaging modality)."""

    field: str
    values: dict[str, CodeRef]


class FromEvent(_Strict):
    """A code taken from the last earlier event of another type (the agent of `bma_started`)."""

    event: str
    field: str
    values: dict[str, CodeRef]


class AlsoFrom(_Strict):
    """Another resource that the importer also maps to this event (an ImagingStudy's modality,
    a DiagnosticReport's code), with field values it implies."""

    resource: ImportResource
    code: CodeRef
    fields: dict[str, str] = {}


class EventCode(_Strict):
    resource: Resource
    code: CodeRef | None = None
    code_by: ByField | None = None
    code_from: FromEvent | None = None
    status: str | None = None
    value: str | None = None
    unit: str | None = None
    body_site_by: ByField | None = None
    also: tuple[AlsoFrom, ...] = ()
    source: str = Field(min_length=3)
    kind: EvidenceKind


class CodesSpec(_Strict):
    source: str = ""
    kind: EvidenceKind | None = None
    systems: dict[str, str] = {}
    events: dict[str, EventCode] = {}

    def system(self, alias: str) -> str:
        return self.systems.get(alias, alias)


def check_codes(codes: CodesSpec, fields: dict[str, dict[str, tuple[str, ...] | None]]) -> list[str]:
    """Problems of the codes block, given each event's fields and their choice values."""
    problems: list[str] = []
    seen: dict[tuple[str, str, str, str], str] = {}
    for event, spec in codes.events.items():
        at = f"codes.events.{event}"
        if event not in fields:
            problems.append(f"{at}: unknown event")
            continue
        sources = [spec.code, spec.code_by, spec.code_from]
        if sum(s is not None for s in sources) != 1:
            problems.append(f"{at}: give exactly one of code, code_by, code_from")
        for name in (spec.value,):
            if name is not None and name not in fields[event]:
                problems.append(f"{at}.value: event '{event}' has no field '{name}'")
        for key, by in (("code_by", spec.code_by), ("body_site_by", spec.body_site_by)):
            if by is None:
                continue
            values = fields[event].get(by.field, ())
            if by.field not in fields[event] or values is None:
                problems.append(f"{at}.{key}.field: '{by.field}' is not a choice field of '{event}'")
            else:
                problems += [
                    f"{at}.{key}.values.{v}: not a value of {by.field}" for v in by.values if v not in values
                ]
        if spec.code_from is not None:
            source_fields = fields.get(spec.code_from.event, {})
            if spec.code_from.field not in source_fields:
                problems.append(
                    f"{at}.code_from: event '{spec.code_from.event}' has no field '{spec.code_from.field}'"
                )
        codings = [spec.code] if spec.code else []
        for chosen in (spec.code_by, spec.code_from):
            codings += list(chosen.values.values()) if chosen is not None else []
        status = spec.status or "" if spec.resource == "Procedure" else ""
        keys: list[tuple[str, str, str, str]] = [
            (spec.resource, codes.system(c.system), c.code, status) for c in codings
        ]
        keys += [(a.resource, codes.system(a.code.system), a.code.code, "") for a in spec.also]
        for k in keys:
            other = seen.setdefault(k, event)
            if other != event:
                problems.append(f"{at}: {k[0]} {k[1]}|{k[2]} also stands for '{other}' (import is ambiguous)")
        for a in spec.also:
            unknown = sorted(set(a.fields) - set(fields[event]))
            if unknown:
                problems.append(f"{at}.also: event '{event}' has no field {', '.join(unknown)}")
    return problems
