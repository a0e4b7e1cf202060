"""The pathway file's drug catalogue: each drug's class, dose unit and doxorubicin equivalence.

A recorded dose (`drug_given`, `prior_treatment`) names a drug of the catalogue and must be in the
unit the drug declares; anthracyclines carry a doxorubicin-equivalence factor with its source.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

EvidenceKind = Literal["seed", "guideline", "label", "trial", "proposal"]
DoseUnit = Literal["mg/m2", "mg", "g/m2"]
SHOWN_UNIT = {"mg/m2": "mg/m²", "mg": "mg", "g/m2": "g/m²"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Equivalence(_Strict):
    """mg/m² of doxorubicin per mg/m² of this drug, with its provenance."""

    factor: Annotated[float, Field(gt=0)]
    source: Annotated[str, Field(min_length=3)]
    kind: EvidenceKind


class DrugSpec(_Strict):
    drug_class: Annotated[str, Field(min_length=2, alias="class")]
    unit: DoseUnit
    doxorubicin_equivalent: Equivalence | None = None  # anthracyclines: counted in the cumulative dose
    cardiotoxic: bool = False  # another cardiotoxic drug (lowers the A35 threshold), not an anthracycline
    # its doses are recorded with these events only (a bone agent's schedule and pre-dose checks
    # follow bma_started/bma_dose); a generic dose event naming it is refused with their names
    recorded_with: tuple[str, ...] = ()
    description: str = ""
    source: Annotated[str, Field(min_length=3)]
    kind: EvidenceKind

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DoseFields(_Strict):
    """Which fields of an event hold the drug, its dose and the dose's unit (`dose:` on an event)."""

    drug: str = "drug"
    dose: str = "dose"
    unit: str = "unit"
    prior: bool = False  # a cumulative dose given before the pathway (prior treatment)


def unit_problem(
    drugs: Mapping[str, DrugSpec], event: str, fields: DoseFields, data: Mapping[str, Any]
) -> str | None:
    """Why the recorded unit is not the unit the drug declares (or the drug is unknown), or None."""
    drug, unit = data.get(fields.drug), data.get(fields.unit)
    if drug is None:
        if data.get(fields.dose) is not None:
            return f"{event}.{fields.drug}: name the drug the {fields.dose} is of (--set {fields.drug}=...)"
        return None
    spec = drugs.get(str(drug))
    if spec is None:
        return f"{event}.{fields.drug}: '{drug}' is not in the pathway file's drug catalogue"
    if spec.recorded_with and event not in spec.recorded_with:
        return (
            f"{event}.{fields.drug}: {drug} ({spec.drug_class}) is recorded with "
            f"{' or '.join(spec.recorded_with)}, so that its schedule and pre-dose checks follow it"
        )
    if unit is None and data.get(fields.dose) is not None:
        return f"{event}.{fields.unit}: give the dose's unit; {drug} is dosed in {spec.unit}"
    if unit is not None and unit != spec.unit:
        return (
            f"{event}.{fields.unit}: {drug} is dosed in {spec.unit}, not {unit}; "
            f"give the dose in {spec.unit} (--set {fields.unit}={spec.unit})"
        )
    return None


def shown_dose(dose: float, unit: str) -> str:
    return f"{dose:g} {SHOWN_UNIT.get(unit, unit)}"


class BsaSpec(_Strict):
    """The named body-surface-area formula shown with each per-m² dose."""

    formula: Literal["mosteller"]
    source: Annotated[str, Field(min_length=3)]
    kind: EvidenceKind


class PlanFields(_Strict):
    """The line event's fields holding its plan (the next planned dose is derived from them)."""

    regimen: str = "regimen"
    dose: str = "planned_dose"
    cycles: str = "planned_cycles"
    interval_days: str = "cycle_interval_days"


class DosingSpec(_Strict):
    """How lines, doses and bodies are recorded: `line_event` starts a line with its plan (the
    regimen's first drug is the one the planned dose is for), `line_end_event` ends it,
    `body_event` gives height (cm) and weight (kg), `lvef_event` the ejection fraction (%)."""

    bsa: BsaSpec
    line_event: str
    line_end_event: str
    plan: PlanFields = PlanFields()
    regimens: dict[str, tuple[str, ...]]
    body_event: str
    height_field: str = "height_cm"
    weight_field: str = "weight_kg"
    lvef_event: str
    lvef_field: str = "lvef_percent"
    method_field: str = "method"
    # the field of a prior-treatment event saying RT reached the chest/mediastinum/heart region,
    # and the one saying other cardiotoxic drugs were given (either lowers the A35 threshold)
    cardiac_rt_field: str = "cardiac_region_rt"
    cardiotoxic_field: str = "other_cardiotoxic"
