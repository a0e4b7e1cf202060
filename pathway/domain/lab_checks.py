"""Pre-dose laboratory checks (pure): the latest results before a dose against their limits
(A39, A40, A42) and the renal dose reduction of a dose (A43)."""

from __future__ import annotations

from datetime import datetime

from pathway.domain.definition import PathwayDefinition
from pathway.domain.dose_arithmetic import current_plan
from pathway.domain.durations import Duration
from pathway.domain.labs import LabResult, lab_results, latest_ecog, latest_result
from pathway.domain.model import EventRecord
from pathway.domain.rules_spec import CheckSpec


def _since(check: CheckSpec, at: datetime) -> datetime | None:
    if check.within is None:
        return None
    span = Duration.parse(check.within)
    return Duration(-span.amount, span.unit).add_to_instant(at)


def lab_findings(d: PathwayDefinition, check: CheckSpec, at: datetime, upto: list[EventRecord]) -> str | None:
    results, since = lab_results(d, upto), _since(check, at)
    out: list[str] = []
    for limit in check.labs:
        last = latest_result(results, limit.test, at)
        if last is not None and since is not None and last.at < since:
            last = None
        unit = d.labs.tests[limit.test].unit if limit.test in d.labs.tests else ""
        if last is None:
            if limit.missing:
                out.append(f"no {limit.test} in the {check.within or 'time'} before")
            continue
        if limit.below is not None and last.value < d.parameter(limit.below):
            out.append(f"{limit.test} {last.value:g} {unit} below {d.parameter(limit.below):g}")
        if limit.above is not None and last.value > d.parameter(limit.above):
            out.append(f"{limit.test} {last.value:g} {unit} above {d.parameter(limit.above):g}")
    if check.ecog_ge is not None:
        ecog = latest_ecog(d, upto, at)
        if ecog is not None and ecog >= d.parameter(check.ecog_ge):
            out.append(f"ECOG {ecog}")
    return "; ".join(out) or None


def latest_gfr(
    d: PathwayDefinition, tests: tuple[str, ...], at: datetime, upto: list[EventRecord]
) -> LabResult | None:
    found = [r for t in tests if (r := latest_result(lab_results(d, upto), t, at)) is not None]
    return max(found, key=lambda r: (r.at, r.event_id), default=None)


def renal_dose_finding(
    d: PathwayDefinition, check: CheckSpec, event: EventRecord, upto: list[EventRecord]
) -> str | None:
    gfr = latest_gfr(d, check.gfr_tests, event.occurred_at, upto)
    if gfr is None:
        return None
    applicable = [r for r in check.reductions if gfr.value < d.parameter(r.below)]
    if not applicable:
        return None
    factor = min(d.parameter(r.factor) for r in applicable)
    spec = d.events[event.type].dose
    given = float(event.data[spec.dose]) if spec and spec.dose in event.data else None
    drug = str(event.data.get(spec.drug)) if spec else ""
    full = event.data.get(check.reference_field or "")
    if full is None:
        plan = current_plan(d, [e for e in upto if e.id != event.id])
        full = plan.dose if plan is not None and plan.drug == drug else None
    where = f"{gfr.test} {gfr.value:g} (on {gfr.at.date()}) asks for at most {factor:.0%} of the full dose"
    if given is None:
        return None
    if full is None:
        return f"{where}; the full dose is unknown (record {check.reference_field}): reduction not checked"
    if given > float(full) * factor + 1e-9:
        top = float(full) * factor
        return f"{where}: {given:g} given, full dose {float(full):g}, at most {top:g}"
    return None
