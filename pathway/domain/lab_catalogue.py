"""The laboratory catalogue of the pathway file (`labs:`) and the check of one recorded result.

Each test has one unit (no silent conversion: a result in another unit is refused and the
message names the unit to use), a plausible range (a value outside it is a typing or unit error
and is refused) and, where a rule needs one, a lower or upper limit of normal. A value inside the
plausible range is never refused for being abnormal: it is recorded and the rules alert on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pathway.domain.errors import InvalidInput

EvidenceKind = Literal["seed", "guideline", "label", "trial", "proposal"]
LAB_TEST_FIELD, LAB_VALUE_FIELD, LAB_UNIT_FIELD = "test", "value", "unit"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limit(_Strict):
    value: float
    source: Annotated[str, Field(min_length=3)]
    kind: EvidenceKind


class LabTest(_Strict):
    """One test. `loinc` is left out where no checked source gave the code (`loinc_status` A:
    seen in an HL7 or national implementation guide, B: third-party only, as in the rule book)."""

    display: Annotated[str, Field(min_length=1)]
    loinc: str | None = None
    loinc_source: str | None = None
    loinc_status: Literal["A", "B"] | None = None
    unit: Annotated[str, Field(min_length=1)]
    min: float
    max: float
    source: Annotated[str, Field(min_length=3)]  # of the plausible range
    kind: EvidenceKind
    lower_limit: Limit | None = None
    upper_limit: Limit | None = None

    @model_validator(mode="after")
    def _coherent(self) -> LabTest:
        if self.max <= self.min:
            raise ValueError(f"max must be > min (min {self.min}, max {self.max})")
        if self.loinc is not None and (not self.loinc_source or not self.loinc_status):
            raise ValueError("a LOINC code needs 'loinc_source' and 'loinc_status' (A or B)")
        for name, limit in (("lower_limit", self.lower_limit), ("upper_limit", self.upper_limit)):
            if limit is not None and not self.min <= limit.value <= self.max:
                raise ValueError(f"{name} {limit.value:g} is outside the plausible range")
        return self


class LabCatalogue(_Strict):
    tests: dict[str, LabTest] = {}

    def test(self, name: str) -> LabTest:
        return self.tests[name]

    def check(self, event: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """The result with its unit as the catalogue spells it; InvalidInput when the unit is not
        the test's or the value is outside its plausible range."""
        name = str(data[LAB_TEST_FIELD])
        spec = self.tests[name]
        given = str(data[LAB_UNIT_FIELD])
        if normal_unit(given) != normal_unit(spec.unit):
            raise InvalidInput(
                f"{event}.{LAB_UNIT_FIELD}: {name} is recorded in {spec.unit}, not '{given}'; "
                f"convert the value to {spec.unit} (--set unit={spec.unit})"
            )
        value = float(data[LAB_VALUE_FIELD])
        if not spec.min <= value <= spec.max:
            raise InvalidInput(
                f"{event}.{LAB_VALUE_FIELD}: {value:g} {spec.unit} is not a plausible {spec.display} "
                f"(plausible {spec.min:g}–{spec.max:g} {spec.unit}; source: {spec.source}); check the "
                "value and its unit"
            )
        return {**data, LAB_UNIT_FIELD: spec.unit}


def normal_unit(unit: str) -> str:
    """A unit as compared: micro as 'u', no spaces, case-insensitive ('µmol/L' == 'umol/l')."""
    return unit.strip().replace("µ", "u").replace("μ", "u").replace(" ", "").lower()
