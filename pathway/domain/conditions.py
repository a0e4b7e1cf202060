"""Conditions on event fields, shared by transition guards, rule anchors and alert checks."""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

ParamLookup = Callable[[float | str], float]


class Comparison(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lt: float | str | None = None
    le: float | str | None = None
    gt: float | str | None = None
    ge: float | str | None = None

    @model_validator(mode="after")
    def _one_at_least(self) -> Comparison:
        if all(v is None for v in (self.lt, self.le, self.gt, self.ge)):
            raise ValueError("a comparison needs at least one of lt, le, gt, ge")
        return self

    def bounds(self) -> list[tuple[str, float | str]]:
        pairs = (("<", self.lt), ("<=", self.le), (">", self.gt), (">=", self.ge))
        return [(op, v) for op, v in pairs if v is not None]


class Absent(BaseModel):
    """`{absent: true}`: the field was left empty (e.g. imaging recorded without a response)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    absent: bool = True


Condition = str | int | float | bool | list[str] | Comparison | Absent


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def holds(cond: Condition, value: Any, param: ParamLookup) -> bool:
    if isinstance(cond, Absent):
        return (value is None or value == "") == cond.absent
    if value is None:
        return False
    if isinstance(value, list):  # a list of choices holds when any wanted value was chosen
        wanted = cond if isinstance(cond, list) else [cond]
        return not isinstance(cond, Comparison) and any(v in value for v in wanted)
    if isinstance(cond, Comparison):
        return all(_COMPARE[op](value, param(ref)) for op, ref in cond.bounds())
    if isinstance(cond, list):
        return value in cond
    return bool(value == cond)


def all_hold(when: Mapping[str, Condition], data: Mapping[str, Any], param: ParamLookup) -> bool:
    if not when:
        return True
    return all(holds(c, data.get(f), param) for f, c in when.items())


def event_holds(
    when: Mapping[str, Condition], data: Mapping[str, Any], declared: Collection[str], param: ParamLookup
) -> bool:
    """`when` for a rule listing several events: each condition binds the events declaring its field
    (e.g. `specialty` on one event, `ortho_review` on another); the others ignore it."""
    if not when:
        return True
    return all(holds(c, data.get(f), param) for f, c in when.items() if f in declared)


def explain(name: str, cond: Condition, param: ParamLookup) -> str:
    if isinstance(cond, Absent):
        return f"{name} {'not ' if cond.absent else ''}given"
    if isinstance(cond, Comparison):
        return " and ".join(f"{name} {op} {param(v):g}" for op, v in cond.bounds())
    if isinstance(cond, list):
        return f"{name} in ({', '.join(cond)})"
    return f"{name}={cond}"
