"""Alert checks on doses (pure): projected cumulative anthracycline dose (A34-A36), the LVEF
recheck threshold (A37), an LVEF drop meeting the cardiotoxicity definition (A38) and the trial
population of a regimen (A44). Each is judged on the history up to the event that fires it."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, tzinfo

from pathway.domain.clinical_time import local_date
from pathway.domain.conditions import Comparison
from pathway.domain.definition import PathwayDefinition
from pathway.domain.dose_arithmetic import Projection, cumulative, current_plan, doses, projection
from pathway.domain.lab_checks import lab_findings, renal_dose_finding
from pathway.domain.model import EventRecord, Patient
from pathway.domain.rules_spec import CheckSpec
from pathway.domain.timeline import Moment

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def drug_finding(
    d: PathwayDefinition,
    check: CheckSpec,
    m: Moment,
    timeline: list[Moment],
    patient: Patient | None,
    zone: tzinfo,
) -> str | None:
    """What the check finds at this event (the message of its alert), or None."""
    upto = [x.event for x in timeline if x.event is not None and (x.at, x.seq) <= (m.at, m.seq)]
    before = [e for e in upto if e.id != m.seq]
    if check.type == "cumulative_dose":
        return _cumulative(d, check, upto, before, zone)
    if check.type == "lvef_recheck":
        return _recheck(d, check, m, upto, zone)
    if check.type == "drop_from_first":
        return _drop(d, check, m, upto)
    if check.type == "population":
        found = [_population(d, check, patient, local_date(m.at, zone))]
        found.append(lab_findings(d, check.model_copy(update={"labs": ()}), m.at, upto))
        return "; ".join(f for f in found if f) or None
    if check.type == "lab_limits":
        return lab_findings(d, check, m.at, upto)
    if check.type == "renal_dose" and m.event is not None:
        return renal_dose_finding(d, check, m.event, upto)
    return None


def on_drug(d: PathwayDefinition, drug: str, timeline: list[Moment], m: Moment) -> bool:
    """The line in force at this moment includes the drug (its regimen, per the dosing block)."""
    upto = [x.event for x in timeline if x.event is not None and (x.at, x.seq) <= (m.at, m.seq)]
    plan = current_plan(d, upto)
    return plan is not None and d.dosing is not None and drug in d.dosing.regimens.get(plan.regimen, ())


def cardiac_risk(d: PathwayDefinition, events: list[EventRecord]) -> bool:
    """RT to the chest/mediastinum/heart region, or other cardiotoxic drugs, recorded (A35)."""
    if d.dosing is None:
        return False
    flags = (d.dosing.cardiac_rt_field, d.dosing.cardiotoxic_field)
    if any(e.data.get(f) is True for e in events for f in flags):
        return True
    return any(d.drugs[x.drug].cardiotoxic for x in doses(d, events))


def meets(d: PathwayDefinition, cond: Comparison | None, value: float) -> bool:
    return cond is not None and all(_OPS[op](value, d.parameter(ref)) for op, ref in cond.bounds())


def _condition(check: CheckSpec, risk: bool) -> Comparison | None:
    return check.projected_if_cardiac_risk if risk and check.projected_if_cardiac_risk else check.projected


def _cumulative(
    d: PathwayDefinition, check: CheckSpec, upto: list[EventRecord], before: list[EventRecord], zone: tzinfo
) -> str | None:
    now, then = projection(d, upto), projection(d, before)
    risk = cardiac_risk(d, upto)
    cond = _condition(check, risk)
    if not meets(d, cond, now.after_next):
        return None
    if before and meets(d, _condition(check, cardiac_risk(d, before)), then.after_next):
        return None  # already reached before this event: one alert when it is first reached
    assert cond is not None
    limit = " and ".join(f"{op} {d.parameter(ref):g}" for op, ref in cond.bounds())
    why = " (cardiac-region RT or other cardiotoxic drugs recorded)" if risk else ""
    return f"{describe(now, zone)}; threshold {limit} mg/m²{why}"


def describe(p: Projection, zone: tzinfo) -> str:
    """The projection as people read it (doxorubicin-equivalent mg/m²)."""
    text = f"projected {p.after_next:g} mg/m² doxorubicin-equivalent after the next planned dose"
    if p.next_dose is not None:
        nxt = p.next_dose
        text += f" (cycle {nxt.cycle} on {local_date(nxt.due_at, zone)})"
    text += f"; given so far {p.cumulative:g} mg/m² (prior treatment included)"
    if p.plan_total != p.after_next:
        text += f"; {p.plan_total:g} mg/m² once every planned cycle is given"
    return text


def recheck_threshold(d: PathwayDefinition, check: CheckSpec, total: float) -> float | None:
    """The highest recheck threshold the cumulative dose has reached, or None."""
    assert check.recheck is not None
    first = d.parameter(check.recheck.first)
    if total < first:
        return None
    if check.recheck.every is None:
        return first
    step = d.parameter(check.recheck.every)
    return first + math.floor((total - first) / step) * step


def _recheck(
    d: PathwayDefinition, check: CheckSpec, m: Moment, upto: list[EventRecord], zone: tzinfo
) -> str | None:
    given = doses(d, upto)
    this = next((x for x in given if x.event_id == m.seq), None)
    if this is None or this.equivalent == 0 or check.recheck is None or d.dosing is None:
        return None
    threshold = recheck_threshold(d, check, cumulative(given))
    if threshold is None:
        return None
    running, crossing = 0.0, this
    for x in given:
        running += x.equivalent
        if running >= threshold:
            crossing = x
            break
    if crossing.event_id == this.event_id:
        nxt = projection(d, upto).next_dose
        when = f" (planned on {local_date(nxt.due_at, zone)})" if nxt else ""
        return (
            f"cumulative {cumulative(given):g} mg/m² doxorubicin-equivalent reached the LVEF recheck "
            f"threshold {threshold:g} mg/m²: measure LVEF, by the baseline's method, "
            f"before the next dose{when}"
        )
    lvef = d.dosing.lvef_event
    if any(e.type == lvef and crossing.at < e.occurred_at and e.id != m.seq for e in upto):
        return None
    return (
        f"dose given with no LVEF since the cumulative dose reached the recheck threshold "
        f"{threshold:g} mg/m² on {local_date(crossing.at, zone)}"
    )


def _drop(d: PathwayDefinition, check: CheckSpec, m: Moment, upto: list[EventRecord]) -> str | None:
    field = check.field or ""
    values = [e for e in upto if e.type == check.event and e.data.get(field) is not None]
    if (
        len(values) < 2
        or values[0].id == m.seq
        or m.event is None
        or check.drop is None
        or check.below is None
    ):
        return None
    first, value = float(values[0].data[field]), float(m.event.data[field])
    drop, below = d.parameter(check.drop), d.parameter(check.below)
    if first - value >= drop and value < below:
        return (
            f"{field} {value:g} is {first - value:g} points below the baseline {first:g} "
            f"(definition: a drop of at least {drop:g} points to below {below:g})"
        )
    return None


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _population(d: PathwayDefinition, check: CheckSpec, patient: Patient | None, day: date) -> str | None:
    if check.age_gt is None or patient is None or patient.birth_date is None:
        return None
    age, limit = age_on(patient.birth_date, day), d.parameter(check.age_gt)
    return f"age {age} on {day}, above {limit:g}" if age > limit else None
