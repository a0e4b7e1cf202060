"""A06: an RT prescription against the histology's dose range, in the range's unit.

A physical prescription (Gy) is converted to EQD2 with the histology's alpha/beta from the pathway
file when the range is in EQD2 Gy; EQD2 Gy and Gy(RBE) prescriptions are compared as given. A
prescription in another unit than the range is reported as not checked, never compared silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pathway.domain.eqd2 import eqd2
from pathway.domain.rules_spec import CheckSpec

PHYSICAL, EQD2, RBE = "Gy", "EQD2_Gy", "Gy_RBE"
_SHOWN = {PHYSICAL: "Gy", EQD2: "Gy EQD2", RBE: "Gy(RBE)"}


def shown_unit(unit: str) -> str:
    return _SHOWN.get(unit, unit)


def prescription(check: CheckSpec, data: Mapping[str, Any]) -> str:
    """The prescription as recorded, e.g. '60 Gy in 5 fractions'."""
    unit = str(data.get(check.unit_field or "") or PHYSICAL)
    total = data.get(check.field or "")
    text = f"{float(total):g}" if isinstance(total, int | float) else str(total)
    text += f" {shown_unit(unit)}"
    n = data.get(check.fractions_field or "")
    return text + (f" in {n} fractions" if n is not None else "")


def dose_finding(check: CheckSpec, data: Mapping[str, Any], histology: str) -> str | None:
    """Why the prescription is outside (or could not be checked against) the range; None: fine."""
    rng = check.ranges.get(histology)
    total = data.get(check.field or "")
    if rng is None or total is None:
        return None
    low, high = float(rng["min"]), float(rng["max"])
    range_unit = str(rng.get("unit", PHYSICAL))
    unit = str(data.get(check.unit_field or "") or PHYSICAL) if check.unit_field else range_unit
    where = f"{low:g}–{high:g} {shown_unit(range_unit)} for {histology} ({rng['kind']}: {rng['source']})"
    value, shown = float(total), prescription(check, data)
    if unit == PHYSICAL and range_unit == EQD2:
        n, ab = data.get(check.fractions_field or ""), check.alpha_beta.get(histology)
        if n is None or ab is None:
            return f"{shown} not checked: no fractions or alpha/beta to convert to EQD2 ({where})"
        value = eqd2(value, int(n), float(ab["value"]))
        shown += f" = {value:.1f} Gy EQD2 (alpha/beta {float(ab['value']):g} Gy, {ab['kind']})"
    elif unit != range_unit:
        return (
            f"{shown} not checked: the range is in {shown_unit(range_unit)}, not {shown_unit(unit)} ({where})"
        )
    if low <= value <= high:
        return None
    return f"{shown} is outside {where}"
