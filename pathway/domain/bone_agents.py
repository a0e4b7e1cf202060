"""Bone-modifying agent courses from the history, and their schedule arithmetic (pure).

A course starts with its first dose: `bma_started` (agent and schedule: denosumab q4w for SRE
prevention, zoledronic acid q4w or q12w) or a systemic line with the GCTB denosumab regimen
(`systemic_started regimen=denosumab_gctb`, loading days 1, 8, 15, 29 then every 28 days). Later
doses are `bma_dose` (of the agent) and `systemic_dose` (of the GCTB line). `bma_held` ends every
SRE course; a new line or `systemic_completed` ends the GCTB course; starting the same agent again
replaces its course. The schedule itself is the recurring timing rule anchored on the start event
(T21a/b/c, T22): the next planned dose is the last dose plus the target of the window that follows
the doses given so far, so the file's loading windows drive the arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo

from pathway.domain.clinical_time import local_date
from pathway.domain.conditions import all_hold
from pathway.domain.definition import PathwayDefinition
from pathway.domain.durations import Duration
from pathway.domain.errors import InvalidInput
from pathway.domain.rules_spec import FollowUpRule
from pathway.domain.timeline import Moment

START, DOSE, HOLD, PLAN = "bma_started", "bma_dose", "bma_held", "bma_planned"
FIRST_DOSE_ON = "first_dose_on"
LINE_START, LINE_DOSE, LINE_END = "systemic_started", "systemic_dose", "systemic_completed"
GCTB_REGIMEN, DENOSUMAB, GCTB_SCHEDULE = "denosumab_gctb", "denosumab", "gctb_loading"
AGENT, SCHEDULE, DOSE_MG, REGIMEN = "agent", "schedule", "dose_mg", "regimen"


@dataclass(frozen=True)
class Course:
    agent: str
    schedule: str  # q4w | q12w | gctb_loading
    start: Moment
    doses: tuple[Moment, ...]  # the first is the start
    ended_at: datetime | None = None

    @property
    def purpose(self) -> str:
        return "GCTB" if self.schedule == GCTB_SCHEDULE else "SRE prevention"

    @property
    def label(self) -> str:
        return f"{self.agent.replace('_', ' ')} {self.schedule.replace('_', ' ')} ({self.purpose})"

    def active_at(self, at: datetime) -> bool:
        return self.start.at <= at and (self.ended_at is None or at < self.ended_at)


def courses(timeline: Iterable[Moment]) -> list[Course]:
    """Every course in the (live, clinically ordered) timeline, oldest first."""
    done: list[Course] = []
    open_: dict[str, Course] = {}  # by agent, and "gctb" for the GCTB line

    def end(key: str, at: datetime) -> None:
        course = open_.pop(key, None)
        if course is not None:
            done.append(replace(course, ended_at=at))

    for m in timeline:
        if m.event is None:
            continue
        data = m.event.data
        if m.type == START:
            agent = str(data[AGENT])
            end(agent, m.at)
            open_[agent] = Course(agent, str(data.get(SCHEDULE, "q4w")), m, (m,))
        elif m.type == DOSE and str(data.get(AGENT)) in open_:
            key = str(data[AGENT])
            open_[key] = replace(open_[key], doses=(*open_[key].doses, m))
        elif m.type == HOLD:
            for key in [k for k in open_ if k != "gctb"]:
                end(key, m.at)
        elif m.type == LINE_START:
            end("gctb", m.at)
            if data.get(REGIMEN) == GCTB_REGIMEN:
                open_["gctb"] = Course(DENOSUMAB, GCTB_SCHEDULE, m, (m,))
        elif m.type == LINE_DOSE and "gctb" in open_:
            open_["gctb"] = replace(open_["gctb"], doses=(*open_["gctb"].doses, m))
        elif m.type == LINE_END:
            end("gctb", m.at)
    return sorted([*done, *open_.values()], key=lambda c: (c.start.at, c.start.seq))


def planned_first_doses(timeline: Iterable[Moment], agent: str) -> list[date]:
    """The first doses planned for `agent` (`bma_planned`) whose course has not started since."""
    pending: list[date] = []
    for m in timeline:
        if m.event is None or m.event.data.get(AGENT) != agent:
            continue
        if m.type == PLAN:
            pending = [date.fromisoformat(str(m.event.data[FIRST_DOSE_ON]))]
        elif m.type == START:
            pending = []
    return pending


def course_dosed_by(all_courses: Iterable[Course], seq: int) -> Course | None:
    """The course of which the event `seq` is a dose (its start included)."""
    return next((c for c in all_courses if any(d.seq == seq for d in c.doses)), None)


def conflicting(all_courses: Sequence[Course], new: Course) -> list[Course]:
    """Courses active when `new` starts that may not run with it: another agent (denosumab with
    a bisphosphonate), or denosumab for GCTB with denosumab for SRE prevention."""
    return [
        c
        for c in all_courses
        if c.start.seq != new.start.seq
        and c.active_at(new.start.at)
        and (c.agent != new.agent or c.purpose != new.purpose)
    ]


def schedule_rule(definition: PathwayDefinition, course: Course) -> tuple[str, FollowUpRule] | None:
    """The recurring timing rule anchored on this course's start event (its schedule)."""
    assert course.start.event is not None
    data = course.start.event.data
    later = LINE_DOSE if course.schedule == GCTB_SCHEDULE else DOSE
    for rid, rule in definition.rules.follow_ups.items():
        if (
            rule.recurring
            and course.start.type in rule.anchor.events
            and later in rule.done.events
            and all_hold(rule.anchor.when, data, definition.parameter)
        ):
            return rid, rule
    return None


def planned_day(rule: FollowUpRule, doses_given: int, last_dose: date) -> date:
    """The day the next dose is planned: the last dose plus the target of the window that follows
    `doses_given` doses (the first is the anchor; loading windows first, then the recurring one)."""
    if doses_given < 1:
        raise ValueError("a course has at least its first dose")
    window = rule.window_after(doses_given - 1)
    return Duration.parse(window.target or window.closes).add_to_date(last_dose)


def next_planned_dose(definition: PathwayDefinition, course: Course, zone: tzinfo) -> date | None:
    """The day of the course's next planned dose (None: ended, or no schedule rule)."""
    found = schedule_rule(definition, course)
    if found is None or course.ended_at is not None:
        return None
    return planned_day(found[1], len(course.doses), local_date(course.doses[-1].at, zone))


def dose_problem(
    definition: PathwayDefinition,
    event: str,
    data: Mapping[str, object],
    timeline: Callable[[], list[Moment]],
) -> None:
    """Refuse a `bma_dose` of an agent that has no active course (nothing started, or held)."""
    if event != DOSE or DOSE not in definition.events:
        return
    active = [c for c in courses(timeline()) if c.ended_at is None and c.schedule != GCTB_SCHEDULE]
    agent = str(data.get(AGENT))
    if not any(c.agent == agent for c in active):
        now_on = ", ".join(c.agent for c in active) or "no bone-modifying agent"
        raise InvalidInput(
            f"{DOSE}.{AGENT}: {agent} has not been started (active: {now_on}); record "
            f"{START} with --set {AGENT}={agent} for its first dose"
        )
