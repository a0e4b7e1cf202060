"""Pre-dose checks of a bone-modifying agent (A24, A25, A25b, A27), evaluated at a dose (pure).

`lab_before`: a result of the listed tests in the window of clinic days up to and including the
dose day, and the latest result of the `below` test not under its limit. `dose_table`: the dose
given against the row of the latest result. `concurrent_agents`: a course starting while a course
it may not run with is active. With `agent`, a check applies only to a dose of a course of that
agent. `pre_dose_findings` evaluates the same checks at the next planned dose, so the page and
`status` show what is still outstanding before it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any

from pathway.domain.bone_agents import Course, conflicting, course_dosed_by, courses, next_planned_dose
from pathway.domain.clinical_time import local_date
from pathway.domain.definition import PathwayDefinition
from pathway.domain.durations import Duration
from pathway.domain.lab_catalogue import LabTest
from pathway.domain.labs import LabResult, lab_results
from pathway.domain.rules_spec import CheckSpec
from pathway.domain.timeline import Moment

BONE_CHECK_TYPES = ("lab_before", "dose_table", "concurrent_agents")


def bone_finding(
    d: PathwayDefinition, check: CheckSpec, m: Moment, timeline: Sequence[Moment], zone: tzinfo
) -> str | None:
    """Why the check fires on this event, or None."""
    assert m.event is not None
    all_courses = courses(timeline)
    course = course_dosed_by(all_courses, m.seq)
    if check.agent is not None and (course is None or course.agent != check.agent):
        return None
    if check.type == "concurrent_agents":
        if course is None or course.start.seq != m.seq:
            return None
        clash = conflicting(all_courses, course)
        if not clash:
            return None
        return f"{course.label} started while {', '.join(c.label for c in clash)} is active"
    results = lab_results(d, [x.event for x in timeline if x.event is not None])
    return dose_day_finding(d, check, local_date(m.at, zone), results, m.event.data, zone)


def dose_day_finding(
    d: PathwayDefinition,
    check: CheckSpec,
    day: date,
    results: Sequence[LabResult],
    data: Mapping[str, Any],
    zone: tzinfo,
) -> str | None:
    """A `lab_before` or `dose_table` check for a dose on `day` (given, or planned)."""
    if check.type == "lab_before" and check.lab is not None:
        spec = check.lab
        found = _in_window(results, spec.tests, spec.within, day, zone)
        if not found:
            return f"no {' or '.join(spec.tests)} result in the {spec.within} up to {day}"
        if spec.below is None:
            return None
        latest = [r for r in found if r.test == spec.below.test]
        if not latest:
            return None
        last, test = latest[-1], d.labs.tests[spec.below.test]
        limit, what = _limit(d, test, spec.below.value)
        if last.value < limit:
            return (
                f"{test.display} {last.value:g} {last.unit} on {local_date(last.at, zone)} is below "
                f"{what} {limit:g} {test.unit}"
            )
        return None
    if check.type == "dose_table" and check.dose_table is not None:
        table = check.dose_table
        found = _in_window(results, (table.test,), table.within, day, zone)
        dose = data.get(check.field or "")
        if not found or dose is None:
            return None
        last = found[-1]
        row = next((r for r in table.rows if r.min <= last.value <= r.max), None)
        if row is None or float(dose) <= row.dose:
            return None
        return (
            f"{check.field} {float(dose):g} with {table.test} {last.value:g} {last.unit} on "
            f"{local_date(last.at, zone)}: the table gives {row.dose:g} for {row.min:g}–{row.max:g} "
            f"({table.kind}: {table.source})"
        )
    return None


def _limit(d: PathwayDefinition, test: LabTest, value: float | str) -> tuple[float, str]:
    if value == "lower_limit":
        assert test.lower_limit is not None
        return test.lower_limit.value, f"the lower limit of normal ({test.lower_limit.kind})"
    return d.parameter(value), "the limit"


def _in_window(
    results: Sequence[LabResult], tests: Sequence[str], within: str, day: date, zone: tzinfo
) -> list[LabResult]:
    span = Duration.parse(within)
    earliest = Duration(-span.amount, span.unit).add_to_date(day)
    return [r for r in results if r.test in tests and earliest <= local_date(r.at, zone) <= day]


def pre_dose_findings(
    d: PathwayDefinition, course: Course, day: date, timeline: Sequence[Moment], zone: tzinfo
) -> list[str]:
    """What the lab checks of a later dose of this course would find if it were given on `day`
    (the next planned dose): the outstanding pre-dose checks, each with its rule id."""
    results = lab_results(d, [x.event for x in timeline if x.event is not None])
    dose_event = course.doses[-1].type if len(course.doses) > 1 else _later_dose_event(course)
    last = course.doses[-1].event
    data = dict(last.data) if last is not None else {}
    out: list[str] = []
    for check in d.rules.checks.values():
        if check.event != dose_event or check.type != "lab_before":
            continue
        if check.agent is not None and check.agent != course.agent:
            continue
        found = dose_day_finding(d, check, day, results, data, zone)
        if found and f"{check.id}: {found}" not in out:
            out.append(f"{check.id}: {found}")
    return out


def _later_dose_event(course: Course) -> str:
    return "systemic_dose" if course.start.type == "systemic_started" else "bma_dose"


def bone_check_events(d: PathwayDefinition, check: CheckSpec) -> set[str]:
    """Events whose recording may change what a bone check finds (for the recompute scope)."""
    lab = d.event_with_role("lab")
    course_events = {
        "bma_started",
        "bma_dose",
        "bma_held",
        "systemic_started",
        "systemic_dose",
        "systemic_completed",
    }
    return course_events | ({lab} if lab and (check.lab or check.dose_table) else set())


@dataclass(frozen=True)
class AgentSummary:
    """An active bone-agent course as `status` and the patient page show it."""

    label: str
    agent: str
    schedule: str
    started_on: date
    doses: int
    last_dose_on: date
    next_planned_dose: date | None
    outstanding: tuple[str, ...]  # pre-dose checks not yet met for the next planned dose


def active_agents(d: PathwayDefinition, timeline: Sequence[Moment], zone: tzinfo) -> list[AgentSummary]:
    """Each active course with its next planned dose and what its pre-dose checks still miss."""
    out = []
    for course in courses(timeline):
        if course.ended_at is not None:
            continue
        planned = next_planned_dose(d, course, zone)
        outstanding = pre_dose_findings(d, course, planned, timeline, zone) if planned else []
        out.append(
            AgentSummary(
                course.label,
                course.agent,
                course.schedule,
                local_date(course.start.at, zone),
                len(course.doses),
                local_date(course.doses[-1].at, zone),
                planned,
                tuple(outstanding),
            )
        )
    return out
