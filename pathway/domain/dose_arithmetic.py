"""Dose arithmetic (pure): body surface area, cumulative doxorubicin-equivalent dose, the line's
next planned dose and the projected cumulative dose.

Only live events count: a retracted dose or plan is gone (`history.live_events`, the one rule).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pathway.domain.definition import PathwayDefinition
from pathway.domain.drugs import DosingSpec
from pathway.domain.history import live_events
from pathway.domain.model import EventRecord

Instant = datetime | None


def bsa_mosteller(height_cm: float, weight_kg: float) -> float:
    """Body surface area in m²: sqrt(height cm × weight kg / 3600) (Mosteller 1987)."""
    if height_cm <= 0 or weight_kg <= 0:
        raise ValueError("height and weight must be positive")
    return math.sqrt(height_cm * weight_kg / 3600.0)


@dataclass(frozen=True)
class Dose:
    event_id: int
    at: datetime
    drug: str
    dose: float
    unit: str
    equivalent: float  # doxorubicin-equivalent mg/m² (0: not an anthracycline)
    prior: bool  # a cumulative dose given before this pathway (prior treatment)
    cycle: int | None = None


@dataclass(frozen=True)
class Plan:
    event_id: int
    started_at: datetime
    regimen: str
    drug: str | None  # the drug the planned dose is for (the regimen's first)
    dose: float | None
    cycles: int | None
    interval_days: int | None


@dataclass(frozen=True)
class NextDose:
    drug: str
    cycle: int
    due_at: datetime
    dose: float | None
    unit: str
    equivalent: float  # of the planned dose, doxorubicin-equivalent mg/m²


def _live(d: PathwayDefinition, events: Iterable[EventRecord], now: datetime | None) -> list[EventRecord]:
    kept = [e for e in live_events(d, list(events)) if now is None or e.occurred_at <= now]
    return sorted(kept, key=lambda e: (e.occurred_at, e.id))


def doses(d: PathwayDefinition, events: Iterable[EventRecord], now: Instant = None) -> list[Dose]:
    """Every live dose recorded by then, in clinical order, with its doxorubicin equivalent."""
    out: list[Dose] = []
    for e in _live(d, events, now):
        spec = d.events.get(e.type)
        if spec is None or spec.dose is None or spec.dose.dose not in e.data:
            continue
        drug = str(e.data.get(spec.dose.drug))
        drug_spec = d.drugs.get(drug)
        if drug_spec is None:
            continue
        amount = float(e.data[spec.dose.dose])
        factor = drug_spec.doxorubicin_equivalent.factor if drug_spec.doxorubicin_equivalent else 0.0
        cycle = e.data.get("cycle")
        out.append(
            Dose(
                e.id,
                e.occurred_at,
                drug,
                amount,
                drug_spec.unit,
                amount * factor,
                spec.dose.prior,
                int(cycle) if cycle is not None else None,
            )
        )
    return out


def cumulative(given: Sequence[Dose]) -> float:
    """Cumulative doxorubicin-equivalent mg/m², prior treatment included."""
    return sum(x.equivalent for x in given)


def current_plan(d: PathwayDefinition, events: Iterable[EventRecord], now: Instant = None) -> Plan | None:
    """The plan of the line in force (the latest line started and not ended since), or None."""
    dosing = d.dosing
    if dosing is None:
        return None
    plan: Plan | None = None
    for e in _live(d, events, now):
        if e.type == dosing.line_end_event:
            plan = None
        elif e.type == dosing.line_event:
            plan = _plan(dosing, e)
    return plan


def _plan(dosing: DosingSpec, e: EventRecord) -> Plan:
    f = dosing.plan
    regimen = str(e.data.get(f.regimen, ""))
    drugs = dosing.regimens.get(regimen, ())

    def number(name: str) -> float | None:
        value = e.data.get(name)
        return float(value) if value is not None else None

    cycles, interval = number(f.cycles), number(f.interval_days)
    return Plan(
        e.id,
        e.occurred_at,
        regimen,
        drugs[0] if drugs else None,
        number(f.dose),
        int(cycles) if cycles is not None else None,
        int(interval) if interval is not None else None,
    )


def next_planned_dose(
    d: PathwayDefinition, events: Iterable[EventRecord], now: Instant = None
) -> NextDose | None:
    """The next dose the line's plan calls for: cycle 1 on the line's start, then one cycle interval
    after the first dose of the last cycle given; None without a planned dose or once every cycle
    is given."""
    events = list(events)
    plan = current_plan(d, events, now)
    if plan is None or plan.drug is None or plan.drug not in d.drugs or plan.dose is None:
        return None  # no plan, or a line recorded without its planned dose
    found = _next_cycle(plan, doses(d, events, now))
    if found is None:
        return None
    cycle, due = found
    spec = d.drugs[plan.drug]
    factor = spec.doxorubicin_equivalent.factor if spec.doxorubicin_equivalent else 0.0
    return NextDose(plan.drug, cycle, due, plan.dose, spec.unit, (plan.dose or 0.0) * factor)


def next_line_dose(
    d: PathwayDefinition, events: Iterable[EventRecord], drug: str, now: Instant = None
) -> datetime | None:
    """When the line in force next gives `drug` (its regimen includes it): the day 1 of its next
    cycle, planned dose or not; None without such a line, a cycle interval, or cycles left."""
    events = list(events)
    plan = current_plan(d, events, now)
    if plan is None or plan.drug is None or d.dosing is None:
        return None
    if drug not in d.dosing.regimens.get(plan.regimen, ()):
        return None
    found = _next_cycle(plan, doses(d, events, now))
    return found[1] if found else None


def _next_cycle(plan: Plan, given: Sequence[Dose]) -> tuple[int, datetime] | None:
    """The number and day-1 instant of the plan's next cycle. Doses numbered by cycle count once per
    cycle (days 2, 3 ... of a cycle are not new cycles); an unnumbered dose is a cycle of its own."""
    starts: list[Dose] = []
    numbered: set[int] = set()
    for x in given:
        if x.prior or x.drug != plan.drug or x.at < plan.started_at:
            continue
        if x.cycle is None or x.cycle not in numbered:
            starts.append(x)
        if x.cycle is not None:
            numbered.add(x.cycle)
    if plan.cycles is not None and len(starts) >= plan.cycles:
        return None
    if starts and plan.interval_days is None:
        return None
    due = starts[-1].at + timedelta(days=plan.interval_days or 0) if starts else plan.started_at
    return len(starts) + 1, due


def remaining_cycles(d: PathwayDefinition, events: Iterable[EventRecord], now: Instant = None) -> int:
    events = list(events)
    plan, nxt = current_plan(d, events, now), next_planned_dose(d, events, now)
    if plan is None or nxt is None or plan.cycles is None:
        return 0
    return plan.cycles - nxt.cycle + 1


@dataclass(frozen=True)
class Projection:
    cumulative: float  # given so far, prior included
    after_next: float  # after the next planned dose (A34-A36 use this)
    plan_total: float  # after every remaining planned cycle
    next_dose: NextDose | None


def projection(d: PathwayDefinition, events: Iterable[EventRecord], now: Instant = None) -> Projection:
    events = list(events)
    given = cumulative(doses(d, events, now))
    nxt = next_planned_dose(d, events, now)
    step = nxt.equivalent if nxt is not None else 0.0
    left = remaining_cycles(d, events, now)
    return Projection(given, given + step, given + step * left, nxt)


def body_surface_area(
    d: PathwayDefinition, events: Iterable[EventRecord], now: Instant = None
) -> tuple[float, EventRecord] | None:
    """The BSA (m², by the pathway's named formula) from the latest body measurement, or None."""
    dosing = d.dosing
    if dosing is None:
        return None
    latest = [e for e in _live(d, events, now) if e.type == dosing.body_event]
    if not latest:
        return None
    e = latest[-1]
    return bsa_mosteller(float(e.data[dosing.height_field]), float(e.data[dosing.weight_field])), e
