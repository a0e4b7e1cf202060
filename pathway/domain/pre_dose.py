"""Pre-dose clocks (pure): the day of the next planned dose that a `before_dose` rule's window
counts back from (T19, T20, T23, T26), as the history stood at the anchor.

A bone-modifying agent's next dose comes from its course's schedule rule (T21a/b/c, T22); a drug
of the systemic line in force from the line's plan (cycle 1 on the line's start, then the cycle
interval). The window is re-derived at every dose, so it follows the doses actually given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, tzinfo

from pathway.domain import bone_agents
from pathway.domain.clinical_time import local_date
from pathway.domain.definition import PathwayDefinition
from pathway.domain.dose_arithmetic import next_line_dose
from pathway.domain.drug_checks import drug_finding
from pathway.domain.rules_spec import BeforeDoseSpec
from pathway.domain.timeline import Moment


def planned_dose_day(
    definition: PathwayDefinition, spec: BeforeDoseSpec, upto: Sequence[Moment], zone: tzinfo
) -> date | None:
    """The clinic day of the next planned dose, from the moments up to the anchor (None: none, or
    the rule's `when_check` finds nothing at the anchor)."""
    if spec.when_check is not None and upto:
        check = definition.rules.checks[spec.when_check]
        if (
            upto[-1].type != check.event
            or drug_finding(definition, check, upto[-1], list(upto), None, zone) is None
        ):
            return None
    if spec.agents:
        days: list[date | None] = [d for a in spec.agents for d in bone_agents.planned_first_doses(upto, a)]
        if not spec.first_only:
            days += [
                bone_agents.next_planned_dose(definition, course, zone)
                for course in bone_agents.courses(upto)
                if course.ended_at is None
                and course.agent in spec.agents
                and (not spec.schedules or course.schedule in spec.schedules)
            ]
        planned = [d for d in days if d is not None]
        return min(planned) if planned else None
    assert spec.drug is not None
    at = next_line_dose(definition, [m.event for m in upto if m.event is not None], spec.drug)
    return local_date(at, zone) if at is not None else None


def closing_reason(definition: PathwayDefinition, event: str) -> str:
    """Why a pre-dose clock closes at an event after which no dose is planned for it."""
    doses = {bone_agents.START, bone_agents.DOSE, bone_agents.LINE_DOSE}
    doses |= {e for e, s in definition.events.items() if s.dose is not None and not s.dose.prior}
    return "the dose came" if event in doses else "no further dose planned after"


def dose_events(definition: PathwayDefinition, spec: BeforeDoseSpec) -> frozenset[str]:
    """The events that can move the next planned dose (for the scope of a recorded event)."""
    if spec.agents:
        names = {
            bone_agents.PLAN,
            bone_agents.START,
            bone_agents.DOSE,
            bone_agents.HOLD,
            bone_agents.LINE_START,
            bone_agents.LINE_DOSE,
            bone_agents.LINE_END,
        }
    else:
        dosing = definition.dosing
        names = {e for e, s in definition.events.items() if s.dose is not None and not s.dose.prior}
        if dosing is not None:
            names |= {dosing.line_event, dosing.line_end_event}
    return frozenset(n for n in names if n in definition.events)
