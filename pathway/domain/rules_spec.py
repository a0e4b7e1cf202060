"""Timing rules (follow-ups) and alert checks as declared in the pathway file's `rules:` section."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from pathway.domain.alert_status import SEVERITY_RANK as SEVERITY_RANK  # defined with the severities
from pathway.domain.conditions import Comparison, Condition
from pathway.domain.durations import Duration

EvidenceKind = Literal["seed", "guideline", "label", "trial", "proposal"]
Severity = Literal["info", "warning", "critical"]
ReportSection = Literal["imaging", "exam", "palliative", "pain"]
ENROLMENT = "enrolment"
ANY_EVENT = "*"  # in anchor or done events: any recorded event but exits and retractions
_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
_REFERENCE = date(2000, 1, 1)  # two years, one of them leap: every month length is tried


def _ordered_from(parts: list[Duration], day: date) -> bool:
    opens, target, closes = (p.add_to_date(day) for p in parts)
    return opens <= target <= closes


def _duration(text: str) -> str:
    Duration.parse(text)
    return text


DurationText = Annotated[str, AfterValidator(_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(_Strict):
    source: Annotated[str, Field(min_length=3)]
    kind: EvidenceKind


class AlertLevel(_Strict):
    severity: Severity
    at: Literal["opens", "target", "closes"] = "closes"
    plus: DurationText = "0d"


class AlertSpec(Sourced):
    id: str
    title: str
    levels: tuple[AlertLevel, ...]


class AnchorSpec(_Strict):
    """What opens an instance: one of `events` (with `when`), entering the states where the rule
    runs (`on_entry`) or entering one of the states listed in `entering`.

    `supersedes_missed: false`: a new anchor re-arms the clock but never cancels an instance
    whose window had already closed (a missed step stays open until it is done).
    `moves_track`: an anchor event counts only when it brings the track into a state where the
    rule runs (progression recorded as an event or as a PD scan, not a later scan).
    `each`: every anchor event opens its own instance, followed on its own (its region is
    "event N"); no anchor supersedes another.
    With several events, each `when` condition binds only the events that declare its field.
    """

    events: tuple[str, ...] = ()
    when: dict[str, Condition] = {}
    on_entry: bool = False
    entering: tuple[str, ...] = ()
    reset_on_mismatch: bool = True
    supersedes_missed: bool = True
    moves_track: bool = False
    each: bool = False


class DoneSpec(_Strict):
    """What completes an instance: one of `events` (every one of them with `all_of`, in any order,
    after the anchor); `in_state` names track states in which the step is already satisfied
    when the instance opens (e.g. a drug already given at the required dose). `*` is any event;
    each `when` condition binds only the listed events that declare its field."""

    events: tuple[str, ...]
    when: dict[str, Condition] = {}
    all_of: bool = False
    in_state: dict[str, tuple[str, ...]] = {}
    # the done event's event_ref field that must name the anchor event (with anchor.each)
    refers_to_anchor: str | None = None
    # a done event on which this check (a same_as_first check) fires does not count
    unless_check: str | None = None
    # only done events from the day the window opens count (a pre-dose result must be recent);
    # one recorded before the anchor but already inside the window completes it when it opens
    in_window: bool = False
    # with all_of: every value this `when` field lists must be seen (e.g. each test of a panel)
    each_of: str | None = None


class WindowSpec(_Strict):
    opens: DurationText = "0d"
    target: DurationText | None = None
    closes: DurationText

    @model_validator(mode="after")
    def _ordered(self) -> WindowSpec:
        """opens <= target <= closes from every anchor day (months and days may be mixed)."""
        parts = [Duration.parse(p) for p in (self.opens, self.target or self.opens, self.closes)]
        if len({p.is_clock_time for p in parts}) > 1:
            raise ValueError("mix of clock-time (h, min) and calendar (d, w, mo) durations")
        if parts[0].is_clock_time:
            points = [p.add_to_instant(_EPOCH) for p in parts]
            ordered = points[0] <= points[1] <= points[2]
        elif len({p.unit == "mo" for p in parts}) == 1:  # all months, or all days/weeks: one day shows it
            ordered = _ordered_from(parts, _REFERENCE)
        else:  # months mixed with days: month lengths vary, so try every anchor day of two years
            ordered = all(_ordered_from(parts, _REFERENCE + timedelta(days=i)) for i in range(731))
        if not ordered:
            raise ValueError(
                f"must be opens <= target <= closes from any anchor day (got "
                f"{self.opens}, {self.target}, {self.closes})"
            )
        return self

    @property
    def clock_time(self) -> bool:
        return Duration.parse(self.closes).is_clock_time


# check types judged by `drug_checks.drug_finding`
DRUG_CHECKS = frozenset(
    {"cumulative_dose", "lvef_recheck", "drop_from_first", "population", "lab_limits", "renal_dose"}
)


class BeforeDoseSpec(_Strict):
    """The window counts back from the next planned dose as of the anchor: of the active course of
    a bone-modifying `agent` (its schedule rule), or of the systemic line in force whose regimen
    includes `drug` (cycle 1 on the line's start, then the plan's cycle interval). No planned dose,
    no instance."""

    agents: tuple[str, ...] = ()  # bone-modifying agents: the soonest planned dose of any of them
    schedules: tuple[str, ...] = ()  # with agents: only courses on these schedules (none: any)
    drug: str | None = None
    # only where this drug check finds something at the anchor (A37: the LVEF recheck threshold)
    when_check: str | None = None
    # with agents: only the planned FIRST dose of a course (a plan recorded, the course not started)
    first_only: bool = False

    @model_validator(mode="after")
    def _one(self) -> BeforeDoseSpec:
        if bool(self.agents) == (self.drug is not None):
            raise ValueError("give exactly one of agents (bone-modifying agents) or drug (of the line)")
        return self


class PerValuesFrom(_Strict):
    """The `per` values followed, derived from the latest `event` recorded: `always` plus the
    values `map` lists for each chosen value of each field (e.g. chest for lung metastases).
    Before any such event the rule follows its `per_values`."""

    event: str
    always: tuple[str, ...] = ()
    map: dict[str, dict[str, tuple[str, ...]]]

    def values_for(self, data: dict[str, object]) -> tuple[str, ...]:
        out = list(self.always)
        for field, by_value in self.map.items():
            chosen = data.get(field)
            for value in chosen if isinstance(chosen, list) else [chosen]:
                out += by_value.get(str(value), ())
        return tuple(dict.fromkeys(out))

    def all_values(self) -> tuple[str, ...]:
        mapped = (v for by_value in self.map.values() for vs in by_value.values() for v in vs)
        return tuple(dict.fromkeys((*self.always, *mapped)))


class FollowUpRule(Sourced):
    step: str
    track: str
    runs_in: str | tuple[str, ...] = "*"
    anchor: AnchorSpec
    recurring: bool = False
    per: str | None = None
    per_values: tuple[str, ...] = ()
    per_values_from: PerValuesFrom | None = None
    window: WindowSpec
    # recurring only: the first windows after the anchor, in turn (a loading schedule), then `window`
    loading: tuple[WindowSpec, ...] = ()
    # the window counts from the next planned dose, not from the anchor (pre-dose checks)
    before_dose: BeforeDoseSpec | None = None
    done: DoneSpec
    alert: AlertSpec | None = None
    early_alert: str | None = None
    pausable: bool  # declared by every rule: a pause extends a pausable window by its length
    urgent: bool = False
    needs_time: bool = False  # its anchor events must be recorded with a time, not a date alone
    held_behind_urgent: tuple[str, ...] = ()  # `per` values whose alerts wait behind urgent ones
    report_section: ReportSection | None = None
    note: str = ""

    def window_after(self, dones: int) -> WindowSpec:
        """The window that follows the anchor and `dones` steps done since it."""
        return self.loading[dones] if dones < len(self.loading) else self.window

    def all_per_values(self) -> tuple[str, ...]:
        return self._per_values

    @cached_property
    def _per_values(self) -> tuple[str, ...]:
        derived = self.per_values_from.all_values() if self.per_values_from else ()
        return tuple(dict.fromkeys((*self.per_values, *derived)))


class PriorSpec(_Strict):
    """For a `prior_event` check: one of `events` (per value of `per`) must lie in the `within`
    clinic days up to and including the day of the checked event (no `within`: any time before)."""

    events: tuple[str, ...]
    within: DurationText | None = None
    per: str | None = None
    per_values: tuple[str, ...] = ()


class RepeatSpec(_Strict):
    """A higher severity once `after` (a number or $parameter) occurrences in a row fire."""

    severity: Severity
    after: float | str


class LabBelow(_Strict):
    """A result of `test` under `value` (a number, a $parameter, or `lower_limit`: the catalogue's
    lower limit of normal) fires the check."""

    test: str
    value: float | str


class LabBeforeSpec(_Strict):
    """For a `lab_before` check: a result of one of `tests` in the `within` clinic days up to and
    including the dose day, and (with `below`) the latest of that test not under its limit."""

    tests: tuple[str, ...]
    within: DurationText
    below: LabBelow | None = None


class DoseRow(_Strict):
    min: float
    max: float
    dose: float


class DoseTableSpec(Sourced):
    """For a `dose_table` check: with the latest `test` result of the `within` days in a row's
    [min, max], the event's dose field must not exceed the row's dose."""

    test: str
    within: DurationText
    rows: tuple[DoseRow, ...]


class RecheckSpec(_Strict):
    """A37: LVEF again once the cumulative dose reaches `first`, then (if given) every `every` more."""

    first: float | str
    every: float | str | None = None


class LabLimit(_Strict):
    """A laboratory test of the catalogue and the limits it must keep (numbers or $parameters);
    `missing`: having no result is itself a finding."""

    test: str
    below: float | str | None = None
    above: float | str | None = None
    missing: bool = False


class DoseReduction(_Strict):
    """A43: GFR below `below` asks for at most `factor` of the full dose."""

    below: float | str
    factor: float | str


class CheckSpec(Sourced):
    id: str
    title: str
    type: Literal[
        "on_event",
        "dose_range",
        "same_as_first",
        "prior_event",
        "missing_same_day",
        "lab_before",
        "dose_table",
        "concurrent_agents",
        "cumulative_dose",
        "lvef_recheck",
        "drop_from_first",
        "population",
        "lab_limits",
        "renal_dose",
    ]
    event: str
    also_on: tuple[str, ...] = ()  # further events the check fires on
    severity: Severity
    when: dict[str, Condition] = {}
    in_state: dict[str, str | list[str]] = {}
    field: str | None = None
    per: str | None = None
    ranges: dict[str, dict[str, float | str]] = {}
    histology_missing: bool = False
    # same_as_first: an event matching this is deliberately the new first (baseline) value
    rebaseline: dict[str, Condition] = {}
    prior: PriorSpec | None = None
    # dose_range: the prescription's fractions and unit fields, and the alpha/beta (Gy) per
    # histology used to convert a physical dose to EQD2 (see pathway.domain.eqd2)
    fractions_field: str | None = None
    unit_field: str | None = None
    alpha_beta: dict[str, dict[str, float | str]] = {}
    # missing_same_day: events one of which must be recorded the same clinic day as `event`
    needs: tuple[str, ...] = ()
    repeat: RepeatSpec | None = None
    # lab_before / dose_table / concurrent_agents: only on a dose of this bone agent (see bone_agents)
    agent: str | None = None
    lab: LabBeforeSpec | None = None
    dose_table: DoseTableSpec | None = None
    # prior_event: only the first event matching `when` is checked (e.g. the first doxorubicin dose)
    first: bool = False
    # only for patients of these histologies (empty: any)
    histology: tuple[str, ...] = ()
    # cumulative_dose: fires when the projected doxorubicin-equivalent total after the next planned
    # dose first meets `projected` (or `projected_if_cardiac_risk` after cardiac-region RT or other
    # cardiotoxic drugs)
    projected: Comparison | None = None
    projected_if_cardiac_risk: Comparison | None = None
    recheck: RecheckSpec | None = None
    # drop_from_first: `field` fell by at least `drop` from the first value, to below `below`
    drop: float | str | None = None
    below: float | str | None = None
    # population: the patient is outside a trial population (older than `age_gt` years)
    age_gt: float | str | None = None
    # population / lab_limits: the latest ECOG performance status at or above this
    ecog_ge: float | str | None = None
    # lab_limits: the latest result of each test (within `within` before the event, if given)
    labs: tuple[LabLimit, ...] = ()
    within: DurationText | None = None
    # renal_dose: the GFR tests (the latest of any counts) and the reductions they ask for; the full
    # dose is the event's `reference_field`, else the line's planned dose when it is for this drug
    gfr_tests: tuple[str, ...] = ()
    reductions: tuple[DoseReduction, ...] = ()
    reference_field: str | None = None
    # only while the line in force includes this drug (e.g. ifosfamide)
    on_drug: str | None = None

    def fires_on(self, event: str) -> bool:
        return event == self.event or event in self.also_on


class RulesSpec(_Strict):
    follow_ups: dict[str, FollowUpRule] = {}
    checks: dict[str, CheckSpec] = {}
