"""Cross-checks of the `rules:` section against the tracks, states, events and fields it names."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pathway.domain.conditions import Absent, Comparison, Condition
from pathway.domain.durations import Duration
from pathway.domain.rules_spec import ANY_EVENT, DRUG_CHECKS, ENROLMENT, CheckSpec, FollowUpRule

if TYPE_CHECKING:
    from pathway.domain.definition import PathwayDefinition


def check_rules(d: PathwayDefinition) -> list[str]:
    problems: list[str] = []
    for rid, rule in d.rules.follow_ups.items():
        problems += _follow_up(d, f"rules.follow_ups.{rid}", rule)
    for cid, check in d.rules.checks.items():
        problems += _check(d, f"rules.checks.{cid}", check)
    return problems


def _follow_up(d: PathwayDefinition, at: str, rule: FollowUpRule) -> list[str]:
    problems: list[str] = []
    if rule.track not in d.tracks:
        return [f"{at}.track: unknown track '{rule.track}'"]
    states = d.tracks[rule.track].states
    if rule.runs_in != "*":
        for s in (rule.runs_in,) if isinstance(rule.runs_in, str) else rule.runs_in:
            if s not in states:
                problems.append(f"{at}.runs_in: '{s}' is not an active state of track {rule.track}")
    for i, event in enumerate(rule.anchor.events):
        if event not in (ENROLMENT, ANY_EVENT) and event not in d.events:
            problems.append(f"{at}.anchor.events[{i}]: unknown event '{event}'")
    if not rule.anchor.events and not rule.anchor.on_entry and not rule.anchor.entering:
        problems.append(f"{at}.anchor: give events, entering states, or on_entry: true")
    for i, event in enumerate(rule.done.events):
        if event != ANY_EVENT and event not in d.events:
            problems.append(f"{at}.done.events[{i}]: unknown event '{event}'")
    anchors = [e for e in rule.anchor.events if e != ENROLMENT and e in d.events]
    problems += _when(d, f"{at}.anchor.when", anchors, rule.anchor.when)
    problems += _when(d, f"{at}.done.when", [e for e in rule.done.events if e in d.events], rule.done.when)
    if rule.per is not None:
        if not rule.per_values:
            problems.append(f"{at}.per_values: list the values of '{rule.per}' to follow")
        problems += _per_values_from(d, at, rule)
        for event in rule.done.events:
            if event in d.events and rule.per not in d.events[event].fields:
                problems.append(f"{at}.per: done event '{event}' has no field '{rule.per}'")
    if rule.alert and not rule.alert.levels:
        problems.append(f"{at}.alert.levels: give at least one level")
    return (
        problems
        + _anchor_and_done_states(d, at, rule)
        + _each_and_baseline(d, at, rule)
        + _before_dose(d, at, rule)
    )


def _before_dose(d: PathwayDefinition, at: str, rule: FollowUpRule) -> list[str]:
    problems: list[str] = []
    spec, done = rule.before_dose, rule.done
    if spec is not None and spec.drug is not None:
        if d.dosing is None:
            problems.append(f"{at}.before_dose.drug: the pathway has no dosing block (no line plan)")
        elif spec.drug not in d.drugs:
            problems.append(f"{at}.before_dose.drug: '{spec.drug}' is not in the drugs catalogue")
    for agent in spec.agents if spec is not None else ():
        if agent not in d.drugs:
            problems.append(f"{at}.before_dose.agents: '{agent}' is not in the drugs catalogue")
    if spec is not None and spec.when_check is not None:
        check = d.rules.checks.get(spec.when_check)
        if check is None or check.type not in DRUG_CHECKS:
            problems.append(f"{at}.before_dose.when_check: '{spec.when_check}' is not a drug check")
    if spec is not None and (rule.anchor.each or rule.per):
        problems.append(f"{at}.before_dose: one instance per planned dose; no anchor.each or per")
    if done.each_of is not None and (not done.all_of or not isinstance(done.when.get(done.each_of), list)):
        problems.append(f"{at}.done.each_of: needs all_of and a list of values for '{done.each_of}' in when")
    return problems


def _each_and_baseline(d: PathwayDefinition, at: str, rule: FollowUpRule) -> list[str]:
    problems: list[str] = []
    anchor, done = rule.anchor, rule.done
    if anchor.each and (anchor.on_entry or anchor.entering or rule.per or rule.recurring):
        problems.append(
            f"{at}.anchor.each: follows each anchor event; no on_entry, entering, per or recurring"
        )
    if anchor.each and ENROLMENT in anchor.events:
        problems.append(f"{at}.anchor.each: enrolment is not an event with an id")
    if done.refers_to_anchor is not None:
        if not anchor.each:
            problems.append(f"{at}.done.refers_to_anchor: needs anchor.each")
        for event in done.events:
            spec = d.events[event].fields.get(done.refers_to_anchor) if event in d.events else None
            if spec is None or spec.type != "event_ref":
                problems.append(
                    f"{at}.done.refers_to_anchor: '{done.refers_to_anchor}' is not an event_ref "
                    f"field of {event}"
                )
    if rule.loading and not rule.recurring:
        problems.append(f"{at}.loading: only a recurring rule has a loading schedule")
    if done.unless_check is not None:
        check = d.rules.checks.get(done.unless_check)
        if check is None or check.type != "same_as_first":
            problems.append(f"{at}.done.unless_check: '{done.unless_check}' is not a same_as_first check")
    return problems


def _anchor_and_done_states(d: PathwayDefinition, at: str, rule: FollowUpRule) -> list[str]:
    problems: list[str] = []
    states = d.tracks[rule.track].states
    for s in rule.anchor.entering:
        if s not in states:
            problems.append(f"{at}.anchor.entering: '{s}' is not an active state of track {rule.track}")
    for track, wanted in rule.done.in_state.items():
        if track not in d.tracks:
            problems.append(f"{at}.done.in_state: unknown track '{track}'")
        elif any(s not in d.tracks[track].states for s in wanted):
            problems.append(f"{at}.done.in_state.{track}: unknown state in {list(wanted)}")
    if rule.needs_time and not rule.window.clock_time:
        problems.append(f"{at}.needs_time: only a clock-time window (h, min) needs a time of day")
    if rule.needs_time and not (rule.anchor.events or rule.anchor.entering):
        problems.append(f"{at}.needs_time: give anchor events or anchor.entering states")
    for value in rule.held_behind_urgent:
        if value not in rule.all_per_values():
            problems.append(
                f"{at}.held_behind_urgent: '{value}' is not one of per_values {list(rule.per_values)}"
            )
    return problems


def _per_values_from(d: PathwayDefinition, at: str, rule: FollowUpRule) -> list[str]:
    source = rule.per_values_from
    if source is None:
        return []
    where = f"{at}.per_values_from"
    if source.event not in d.events:
        return [f"{where}.event: unknown event '{source.event}'"]
    problems: list[str] = []
    fields = d.events[source.event].fields
    for field, by_value in source.map.items():
        spec = fields.get(field)
        if spec is None:
            problems.append(f"{where}.map.{field}: event '{source.event}' has no such field")
            continue
        for value in by_value:
            if value not in (spec.values or ()):
                problems.append(f"{where}.map.{field}: '{value}' is not one of {list(spec.values or ())}")
    allowed = {
        v
        for e in rule.done.events
        if e in d.events and rule.per in d.events[e].fields
        for v in (d.events[e].fields[rule.per or ""].values or ())
    }
    for value in source.all_values():
        if allowed and value not in allowed:
            problems.append(f"{where}: '{value}' is not a value of {rule.per} ({sorted(allowed)})")
    return problems


def _when(d: PathwayDefinition, at: str, events: list[str], when: dict[str, Condition]) -> list[str]:
    """Each condition must name a field that at least one of the events declares."""
    problems: list[str] = []
    for field, cond in when.items():
        specs = [d.events[e].fields.get(field) for e in events if e in d.events]
        if not events or all(s is None for s in specs):
            problems.append(f"{at}.{field}: not a field of {', '.join(events) or 'any event'}")
            continue
        if isinstance(cond, Comparison):
            for _, ref in cond.bounds():
                if not isinstance(ref, str) or ref.removeprefix("$") not in d.parameters:
                    problems.append(f"{at}.{field}: use a declared $parameter, not {ref!r}")
        for spec in specs:
            if isinstance(cond, Absent):
                break
            wanted = cond if isinstance(cond, list) else [cond]
            if spec is not None and spec.type in ("choice", "choices"):
                bad = [w for w in wanted if w not in (spec.values or ())]
                if bad:
                    problems.append(f"{at}.{field}: {bad} not in {list(spec.values or ())}")
    return problems


def _check(d: PathwayDefinition, at: str, check: CheckSpec) -> list[str]:
    if check.event not in d.events:
        return [f"{at}.event: unknown event '{check.event}'"]
    problems = _when(d, f"{at}.when", [check.event], check.when)
    fields = d.events[check.event].fields
    if check.type in ("dose_range", "same_as_first") and check.field not in fields:
        problems.append(f"{at}.field: event '{check.event}' has no field '{check.field}'")
    if check.type == "same_as_first" and check.per is not None and check.per not in fields:
        problems.append(f"{at}.per: event '{check.event}' has no field '{check.per}'")
    if check.type == "dose_range":
        problems += _dose_range(d, at, check)
    problems += _drug_check(d, at, check)
    if check.type == "prior_event":
        problems += _prior(d, at, check)
    problems += _bone(d, at, check)
    problems += _when(d, f"{at}.rebaseline", [check.event], check.rebaseline)
    if check.type == "missing_same_day":
        if not check.needs:
            problems.append(f"{at}.needs: list the events expected the same day")
        problems += [f"{at}.needs: unknown event '{e}'" for e in check.needs if e not in d.events]
        after = check.repeat.after if check.repeat else None
        if isinstance(after, str) and after.removeprefix("$") not in d.parameters:
            problems.append(f"{at}.repeat.after: unknown parameter '{after}'")
    for track, state in check.in_state.items():
        if track not in d.tracks:
            problems.append(f"{at}.in_state: unknown track '{track}'")
        elif any(s not in d.track_states(track) for s in ([state] if isinstance(state, str) else state)):
            problems.append(f"{at}.in_state.{track}: unknown state {state!r}")
    return problems


_NEEDS = {
    "cumulative_dose": ("projected",),
    "lvef_recheck": ("recheck",),
    "drop_from_first": ("field", "drop", "below"),
    "lab_limits": ("labs",),
    "renal_dose": ("gfr_tests", "reductions"),
}


def _drug_check(d: PathwayDefinition, at: str, check: CheckSpec) -> list[str]:
    problems = [f"{at}.also_on: unknown event '{e}'" for e in check.also_on if e not in d.events]
    problems += [
        f"{at}.{k}: a {check.type} check needs '{k}'"
        for k in _NEEDS.get(check.type, ())
        if getattr(check, k) is None
    ]
    if check.type in _NEEDS and d.dosing is None:
        problems.append(f"{at}.type: a {check.type} check needs the pathway file's 'dosing' block")
    if check.type == "drop_from_first" and check.field not in d.events[check.event].fields:
        problems.append(f"{at}.field: event '{check.event}' has no field '{check.field}'")
    refs: list[float | str | None] = [check.drop, check.below, check.age_gt, check.ecog_ge]
    refs += [x for lim in check.labs for x in (lim.below, lim.above)]
    refs += [x for r in check.reductions for x in (r.below, r.factor)]
    if check.recheck is not None:
        refs += [check.recheck.first, check.recheck.every]
    for cond in (check.projected, check.projected_if_cardiac_risk):
        refs += [ref for _, ref in cond.bounds()] if cond is not None else []
    for ref in refs:
        if ref is None:
            continue
        if not isinstance(ref, str) or ref.removeprefix("$") not in d.parameters:
            problems.append(f"{at}: use a declared $parameter (with source and kind), not {ref!r}")
    histologies = d.histology_values()
    problems += [
        f"{at}.histology: '{h}' is not a histology of the pathway"
        for h in check.histology
        if h not in histologies
    ]
    return problems


def _prior(d: PathwayDefinition, at: str, check: CheckSpec) -> list[str]:
    prior = check.prior
    if prior is None:
        return [f"{at}.prior: a prior_event check needs 'prior' (events, within)"]
    problems = [f"{at}.prior.events: unknown event '{e}'" for e in prior.events if e not in d.events]
    if prior.per is not None:
        if not prior.per_values:
            problems.append(f"{at}.prior.per_values: list the values of '{prior.per}' to look for")
        problems += [
            f"{at}.prior.per: event '{e}' has no field '{prior.per}'"
            for e in prior.events
            if e in d.events and prior.per not in d.events[e].fields
        ]
    if prior.within and Duration.parse(prior.within).is_clock_time:
        problems.append(f"{at}.prior.within: give clinic days (d, w, mo)")
    return problems


def _dose_range(d: PathwayDefinition, at: str, check: CheckSpec) -> list[str]:
    """Every histology of the pathway has a range (with its unit) and an alpha/beta."""
    problems: list[str] = []
    fields = d.events[check.event].fields
    for name in (check.fractions_field, check.unit_field):
        if name is not None and name not in fields:
            problems.append(f"{at}: event '{check.event}' has no field '{name}'")
    units = fields[check.unit_field].values if check.unit_field in fields else None
    for name, rng in check.ranges.items():
        for key in ("min", "max", "unit", "source", "kind"):
            if key not in rng:
                problems.append(f"{at}.ranges.{name}: needs '{key}'")
        if units and "unit" in rng and rng["unit"] not in units:
            problems.append(f"{at}.ranges.{name}.unit: '{rng['unit']}' is not one of {list(units)}")
    for name, ab in check.alpha_beta.items():
        for key in ("value", "source", "kind"):
            if key not in ab:
                problems.append(f"{at}.alpha_beta.{name}: needs '{key}'")
    for histology in d.histology_values():
        if histology not in check.ranges:
            problems.append(f"{at}.ranges: no range for histology '{histology}'")
        if check.fractions_field and histology not in check.alpha_beta:
            problems.append(f"{at}.alpha_beta: no alpha/beta for histology '{histology}'")
    return problems


def _bone(d: PathwayDefinition, at: str, check: CheckSpec) -> list[str]:
    """lab_before / dose_table name catalogue tests; dose_table names the event's dose field."""
    problems: list[str] = []
    if check.type == "lab_before" and check.lab is None:
        problems.append(f"{at}.lab: a lab_before check needs 'lab' (tests, within)")
    if check.type == "dose_table" and (
        check.dose_table is None or check.field not in d.events[check.event].fields
    ):
        problems.append(f"{at}: a dose_table check needs 'dose_table' and the event's dose 'field'")
    tests = [
        *(check.lab.tests if check.lab else ()),
        *((check.lab.below.test,) if check.lab and check.lab.below else ()),
    ]
    tests += [check.dose_table.test] if check.dose_table else []
    problems += [
        f"{at}: unknown laboratory test '{t}' (see labs.tests)" for t in tests if t not in d.labs.tests
    ]
    below = check.lab.below if check.lab else None
    if below is not None and below.test in d.labs.tests:
        if below.value == "lower_limit" and d.labs.tests[below.test].lower_limit is None:
            problems.append(f"{at}.lab.below: test '{below.test}' has no lower_limit in the catalogue")
        elif isinstance(below.value, str) and below.value != "lower_limit":
            if below.value.removeprefix("$") not in d.parameters:
                problems.append(f"{at}.lab.below.value: unknown parameter '{below.value}'")
        elif not isinstance(below.value, str):
            problems.append(f"{at}.lab.below.value: declare it under 'parameters' and refer to it as $name")
    return problems
