"""What the patient page and `pathway status` show of the anthracycline and heart work (pure):
the cumulative doxorubicin-equivalent dose (prior included), the last LVEF with its method, the
body surface area, and the next planned dose with the checks still outstanding before it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from pathway.domain.clinical_time import local_date
from pathway.domain.definition import PathwayDefinition
from pathway.domain.dose_arithmetic import Dose, Projection, body_surface_area, cumulative, doses, projection
from pathway.domain.drug_checks import cardiac_risk, meets, recheck_threshold
from pathway.domain.drugs import SHOWN_UNIT
from pathway.domain.durations import Duration
from pathway.domain.followups import derive_follow_ups
from pathway.domain.history import live_events
from pathway.domain.model import EventRecord
from pathway.domain.rules_spec import CheckSpec
from pathway.domain.timeline import Moment
from pathway.domain.windows import Calendar, closes_day


@dataclass(frozen=True)
class Lvef:
    percent: float
    method: str
    at: datetime


@dataclass(frozen=True)
class DoseSummary:
    cumulative: float  # doxorubicin-equivalent mg/m², prior included
    prior: float  # of which before this pathway
    projection: Projection
    last_lvef: Lvef | None
    bsa: float | None
    bsa_formula: str
    outstanding: list[str] = field(default_factory=list)  # checks before the next planned dose


def dose_summary(
    d: PathwayDefinition, events: list[EventRecord], now: datetime, zone: tzinfo
) -> DoseSummary | None:
    """None when the pathway has no dosing block, or nothing about doses or the heart is recorded."""
    dosing = d.dosing
    if dosing is None:
        return None
    live = [e for e in live_events(d, events) if e.occurred_at <= now]
    given = doses(d, live)
    lvefs = sorted((e for e in live if e.type == dosing.lvef_event), key=lambda e: (e.occurred_at, e.id))
    proj = projection(d, live)
    if not given and not lvefs and proj.next_dose is None:
        return None
    last = lvefs[-1] if lvefs else None
    lvef = (
        Lvef(float(last.data[dosing.lvef_field]), str(last.data[dosing.method_field]), last.occurred_at)
        if last
        else None
    )
    bsa = body_surface_area(d, live)
    return DoseSummary(
        cumulative(given),
        cumulative([x for x in given if x.prior]),
        proj,
        lvef,
        bsa[0] if bsa else None,
        dosing.bsa.formula,
        _outstanding(d, live, proj, zone),
    )


def _outstanding(d: PathwayDefinition, live: list[EventRecord], proj: Projection, zone: tzinfo) -> list[str]:
    nxt, dosing = proj.next_dose, d.dosing
    if nxt is None or dosing is None:
        return []
    out: list[str] = []
    given = doses(d, live)
    lvefs = [e for e in live if e.type == dosing.lvef_event]
    dose_events = {e for e, s in d.events.items() if s.dose is not None and not s.dose.prior}
    for check in d.rules.checks.values():
        if check.event not in dose_events:
            continue
        wanted = check.when.get("drug")
        drug_ok = wanted is None or wanted == nxt.drug or (isinstance(wanted, list) and nxt.drug in wanted)
        first_dose = not any(x.drug == nxt.drug and not x.prior for x in given)
        if (
            check.type == "prior_event"
            and check.first
            and check.prior
            and check.prior.within
            and drug_ok
            and first_dose
        ):
            span = Duration.parse(check.prior.within)
            earliest = Duration(-span.amount, span.unit).add_to_date(local_date(nxt.due_at, zone))
            if not any(local_date(e.occurred_at, zone) >= earliest for e in lvefs):
                out.append(f"{' or '.join(check.prior.events)} on or after {earliest} ({check.id})")
        if check.type == "lvef_recheck" and check.recheck and nxt.equivalent > 0:
            out += _recheck_due(d, check, given, lvefs)
        if check.type == "cumulative_dose" and nxt.equivalent > 0:
            risk = cardiac_risk(d, live) and check.projected_if_cardiac_risk is not None
            cond = check.projected_if_cardiac_risk if risk else check.projected
            if meets(d, cond, proj.after_next):
                out.append(
                    f"{check.severity}: {check.title} ({check.id}, {proj.after_next:g} mg/m² after it)"
                )
    return out


def _recheck_due(
    d: PathwayDefinition, check: CheckSpec, given: list[Dose], lvefs: list[EventRecord]
) -> list[str]:
    assert d.dosing is not None
    threshold = recheck_threshold(d, check, cumulative(given))
    if threshold is None:
        return []
    running, crossed = 0.0, None
    for x in given:
        running += x.equivalent
        if running >= threshold:
            crossed = x.at
            break
    if crossed is None or any(e.occurred_at > crossed for e in lvefs):
        return []
    method = str(lvefs[0].data.get(d.dosing.method_field)) if lvefs else "the baseline's method"
    return [f"LVEF by {method}: the cumulative dose reached {threshold:g} mg/m² ({check.id})"]


def open_line_clocks(
    d: PathwayDefinition, timeline: list[Moment], calendar: Calendar, now: datetime
) -> list[str]:
    """The pre-dose clocks of the line's drugs still open (T23, T24, T26), each with its last day."""
    rules = frozenset(
        rid for rid, r in d.rules.follow_ups.items() if r.before_dose is not None and r.before_dose.drug
    )
    live = [m for m in timeline if m.at <= now]
    out = []
    for fu in derive_follow_ups(d, live, calendar, only=rules):
        if fu.outcome == "open":
            step = d.rules.follow_ups[fu.rule].step
            out.append(f"{step}: by {closes_day(fu.window, calendar.zone)} ({fu.rule}, {fu.status(now)})")
    return out


def shown_next(summary: DoseSummary, zone: tzinfo) -> str:
    nxt = summary.projection.next_dose
    if nxt is None:
        return "no planned dose"
    text = f"{nxt.drug} cycle {nxt.cycle} on {local_date(nxt.due_at, zone)}"
    if nxt.dose is not None:
        text += f", {nxt.dose:g} {SHOWN_UNIT.get(nxt.unit, nxt.unit)}"
        if nxt.unit == "mg/m2" and summary.bsa is not None:
            text += f" = {nxt.dose * summary.bsa:.0f} mg at BSA {summary.bsa:.2f} m² ({summary.bsa_formula})"
    return text
