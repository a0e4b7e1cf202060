"""Every timing and alert rule of a pathway file as plain data, for `pathway rules` (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from pathway.domain.definition import PathwayDefinition
from pathway.domain.rules_spec import ANY_EVENT, CheckSpec, FollowUpRule


@dataclass(frozen=True)
class RuleEntry:
    id: str
    kind_of_rule: str  # timing | alert (a timing rule's alert) | check (an alert on an event)
    what: str
    runs: str  # when it runs
    window: str | None  # window or clock, for timing rules and their alerts
    ladder: tuple[str, ...]  # severity ladder, e.g. "warning at closes", "critical at closes + 28d"
    pausable: bool | None  # None: checks fire on an event and have no clock to pause
    needs_time: bool  # an hour-level clock: its anchor must be recorded with the time it happened
    source: str
    kind: str
    of_rule: str | None = None  # the timing rule an alert belongs to


def catalogue(definition: PathwayDefinition) -> list[RuleEntry]:
    out: list[RuleEntry] = []
    for rid, rule in definition.rules.follow_ups.items():
        out += _timing(rid, rule)
    for cid, check in definition.rules.checks.items():
        out.append(_check(cid, check))
    return out


def _timing(rid: str, rule: FollowUpRule) -> list[RuleEntry]:
    w = rule.window
    base = "after the anchor"
    if rule.before_dose is not None:
        spec = rule.before_dose
        what = " or ".join(spec.agents) if spec.agents else spec.drug
        base = f"from the {'first' if spec.first_only else 'next'} planned {what} dose, as of the anchor"
        if spec.when_check:
            base += f" where {spec.when_check} finds it due"
        if rule.done.in_window:
            base += "; only results inside count"
    window = f"opens {w.opens}, target {w.target or w.closes}, closes {w.closes} {base}"
    if rule.recurring:
        window += ", again after each done"
    if rule.loading:
        first = "; ".join(
            f"opens {x.opens}, target {x.target or x.closes}, closes {x.closes}" for x in rule.loading
        )
        window = f"first {first} after the previous step, then {window}"
    anchor = [*rule.anchor.events] + (["entry into the states where it runs"] if rule.anchor.on_entry else [])
    runs_in = rule.runs_in if isinstance(rule.runs_in, str) else ", ".join(rule.runs_in)
    runs = (
        f"track {rule.track} in {'any active state' if runs_in == '*' else runs_in}; "
        f"from {' or '.join(anchor) or '-'}; done by {' or '.join(_events(rule.done.events))}"
        + (f"; per {rule.per}: {', '.join(rule.per_values)}" if rule.per else "")
        + (_derived(rule) if rule.per_values_from else "")
    )
    ladder = tuple(
        f"{lv.severity} at {lv.at}" + (f" + {lv.plus}" if lv.plus != "0d" else "")
        for lv in (rule.alert.levels if rule.alert else ())
    )
    same_id = rule.alert is not None and rule.alert.id == rid
    entries = [
        RuleEntry(
            rid,
            "timing",
            rule.step,
            runs,
            window,
            ladder if same_id else (),
            rule.pausable,
            w.clock_time,
            rule.source,
            rule.kind,
        )
    ]
    if rule.alert is not None and not same_id:
        entries.append(
            RuleEntry(
                rule.alert.id,
                "alert",
                rule.alert.title,
                f"while {rid} is open",
                window,
                ladder,
                rule.pausable,
                w.clock_time,
                rule.alert.source,
                rule.alert.kind,
                of_rule=rid,
            )
        )
    if rule.early_alert:
        entries.append(
            RuleEntry(
                rule.early_alert,
                "alert",
                f"{rule.step} done before its window opened",
                f"when {rid} is done early",
                window,
                ("info",),
                None,
                False,
                rule.source,
                rule.kind,
                of_rule=rid,
            )
        )
    return entries


def _check(cid: str, check: CheckSpec) -> RuleEntry:
    when = f"on {check.event}"
    if check.when:
        when += " when " + ", ".join(f"{k} {v}" for k, v in check.when.items())
    if check.type == "dose_range":
        when += f"; {check.field} outside the histology's range"
        if check.fractions_field:
            when += f" (in EQD2 from {check.fractions_field} and the histology's alpha/beta)"
    elif check.type == "missing_same_day":
        when += f"; no {' or '.join(check.needs)} the same day"
        if check.repeat:
            when += f" ({check.repeat.severity} after {check.repeat.after} in a row)"
    elif check.type == "same_as_first":
        when += f"; {check.field} differs from the first" + (f" per {check.per}" if check.per else "")
    elif check.type == "prior_event" and check.prior is not None:
        within = f"in the {check.prior.within} up to it" if check.prior.within else "any time before it"
        when += f"; no {' or '.join(check.prior.events)} {within}"
    elif check.type == "lab_before" and check.lab is not None:
        when += f"; no {' or '.join(check.lab.tests)} in the {check.lab.within} up to the dose"
        if check.lab.below:
            when += f", or {check.lab.below.test} below {check.lab.below.value}"
    elif check.type == "dose_table" and check.dose_table is not None:
        when += f"; {check.field} above the {check.dose_table.test} table ({check.dose_table.source})"
    elif check.type == "concurrent_agents":
        when += "; another bone-agent course it may not run with is active"
    if check.agent:
        when += f" (doses of {check.agent})"
    elif check.type == "cumulative_dose":
        when += "; projected doxorubicin-equivalent total after the next planned dose reaches the threshold"
    elif check.type == "lvef_recheck":
        when += "; cumulative dose crossed the LVEF recheck threshold and no LVEF since"
    elif check.type == "drop_from_first":
        when += f"; {check.field} fell from the first value by the configured definition"
    elif check.type == "population":
        when += "; patient outside the trial population (age or ECOG)"
    elif check.type == "lab_limits":
        tests = ", ".join(lim.test for lim in check.labs)
        when += (
            f"; latest {tests}"
            + (f" within {check.within} before" if check.within else "")
            + " out of limits"
        )
    elif check.type == "renal_dose":
        when += f"; {' or '.join(check.gfr_tests)} low and the dose not reduced"
    if check.first:
        when += " (first such event only)"
    if check.histology:
        when += f"; histology {', '.join(check.histology)}"
    if check.on_drug:
        when += f"; while the line includes {check.on_drug}"
    if check.histology_missing:
        when += "; histology not yet recorded"
    return RuleEntry(
        check.id,
        "check",
        check.title,
        when,
        None,
        (check.severity,) + ((f"{check.repeat.severity} when repeated",) if check.repeat else ()),
        None,
        False,
        check.source,
        check.kind,
    )


def _derived(rule: FollowUpRule) -> str:
    source = rule.per_values_from
    assert source is not None
    mapped = "; ".join(
        f"{field}={value} adds {', '.join(values)}"
        for field, by_value in source.map.items()
        for value, values in by_value.items()
    )
    return f" (once {source.event} is recorded: {', '.join(source.always)} always; {mapped})"


def _events(events: tuple[str, ...]) -> list[str]:
    return ["any event (not an exit)" if e == ANY_EVENT else e for e in events]
