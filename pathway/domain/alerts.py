"""Alert rules as pure code: follow-ups, checks and now -> alert candidates (one per level reached)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from pathway.domain.baselines import Baselines, applies, baselines
from pathway.domain.bone_checks import BONE_CHECK_TYPES, bone_finding
from pathway.domain.clinical_time import local_date
from pathway.domain.definition import HISTOLOGY_FIELD, PathwayDefinition
from pathway.domain.dose_check import dose_finding, prescription
from pathway.domain.drug_checks import drug_finding, on_drug
from pathway.domain.durations import Duration
from pathway.domain.events import show_value
from pathway.domain.followups import FollowUp
from pathway.domain.model import Patient
from pathway.domain.rules_spec import DRUG_CHECKS, SEVERITY_RANK, CheckSpec
from pathway.domain.timeline import Moment
from pathway.domain.windows import window_days


@dataclass(frozen=True)
class AlertCandidate:
    rule: str
    key: str
    severity: str
    message: str
    source: str
    opened_at: datetime
    follow_up: tuple[str, str, datetime] | None = None
    urgent: bool = False
    title: str = ""
    track: str = ""
    closes_at: datetime | None = None

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self.severity]


def level_reached(
    fires_at: Mapping[int, datetime | None], now: datetime, raised: int = 0
) -> tuple[int, datetime | None]:
    """The highest alert level (severity rank) a follow-up has reached at `now`, and when the next
    higher level fires (None: no higher level left).

    `fires_at` maps each rank to the instant its level fires (None: the rule has no such level);
    a level fires at its instant, inclusive. `raised`, the level already raised, is never undone
    by time: the result is at least `raised`. Recording and the sweep both use this rule.
    """
    reached = max([rank for rank, when in fires_at.items() if when is not None and when <= now] + [raised])
    later = [when for rank, when in fires_at.items() if when is not None and rank > reached and when > now]
    return reached, min(later, default=None)


def follow_up_key(fu: FollowUp) -> str:
    return f"{fu.rule}:{fu.region}:{fu.anchor_at.isoformat()}"


def holdable_keys(d: PathwayDefinition) -> tuple[str, ...]:
    """Instance-key prefixes of the alerts that may wait behind a live urgent critical alert.

    Only what the pathway file declares (`held_behind_urgent`: imaging of the region an MSCC
    alert already covers); every other alert, urgent or not, notifies as usual.
    """
    return tuple(
        f"{rid}:{region}:" for rid, rule in d.rules.follow_ups.items() for region in rule.held_behind_urgent
    )


def alerts_for_follow_ups(
    d: PathwayDefinition, follow_ups: list[FollowUp], now: datetime, zone: tzinfo
) -> list[AlertCandidate]:
    out: list[AlertCandidate] = []
    for fu in follow_ups:
        rule = d.rules.follow_ups[fu.rule]
        if fu.early and rule.early_alert:
            out.append(
                AlertCandidate(
                    rule.early_alert,
                    follow_up_key(fu),
                    "info",
                    f"{rule.step}{_region(fu)} done early on {local_date(fu.done_at or now, zone)}, "
                    f"before its window opened on {local_date(fu.window.opens_at, zone)}",
                    rule.source,
                    fu.done_at or now,
                    fu.key,
                    rule.urgent,
                    f"{rule.step} done early",
                    rule.track,
                )
            )
        if fu.outcome != "open" or rule.alert is None:
            continue
        for level in rule.alert.levels:
            fires_at = fu.window.level_at(level, zone)
            if fires_at <= now:
                out.append(
                    AlertCandidate(
                        rule.alert.id,
                        follow_up_key(fu),
                        level.severity,
                        follow_up_message(rule.alert.title, rule.step, fu, zone),
                        rule.alert.source,
                        fires_at,
                        fu.key,
                        rule.urgent,
                        rule.alert.title,
                        rule.track,
                        fu.window.closes_at,
                    )
                )
    return out


def _region(fu: FollowUp) -> str:
    return f" ({fu.region})" if fu.region else ""


def follow_up_message(title: str, step: str, fu: FollowUp, zone: tzinfo) -> str:
    """'<title>: <step> (region), target …'; the step is left out where the title already names
    it ('Response imaging overdue (chest): target …', not '… overdue: Response imaging (chest)')."""
    named = step.casefold() in title.casefold()
    head = f"{title}{_region(fu)}:" if named else f"{title}: {step}{_region(fu)}"
    if fu.window.clock_time:
        return (
            f"{head} {'due' if named else 'was due'} by "
            f"{fu.window.closes_at.astimezone(zone):%Y-%m-%d %H:%M} ({fu.anchor_label})"
        )
    target, closes = window_days(fu.window, zone)
    return f"{head}{'' if named else ','} target {target}, window closes {closes} ({fu.anchor_label})"


def alerts_for_checks(
    d: PathwayDefinition,
    patient: Patient,
    timeline: list[Moment],
    zone: tzinfo,
    only: frozenset[str] | None = None,
) -> list[AlertCandidate]:
    """Checks fire on their event; a dose check recorded before the histology waits for it (an
    info says it could not be checked yet) and is checked when the histology is recorded."""
    out: list[AlertCandidate] = []
    walk = _CheckWalk(d, zone, patient.histology, timeline, only)
    walk.patient = patient
    checks = [(cid, c) for cid, c in d.rules.checks.items() if only is None or cid in only]
    firing: dict[str, list[tuple[str, CheckSpec]]] = {}  # per event type, in the file's order
    for m in timeline:
        event = m.event
        if event is None:
            continue
        kind = event.type
        if d.events[kind].role == "histology":
            walk.histology = event.data.get(HISTOLOGY_FIELD, walk.histology)
            out += walk.histology_arrived(m)
        fire = firing.get(kind)
        if fire is None:
            fire = firing[kind] = [(cid, c) for cid, c in checks if c.fires_on(kind)]
        for cid, check in fire:
            if check.type == "dose_range" and walk.histology is None and applies(check, m, d.parameter):
                walk.waiting.append((cid, m))
                continue
            fired = _check_fires(d, cid, check, m, walk)
            if fired:
                out.append(walk.candidate(cid, check, m, *fired))
    return out + walk.never_checked()


class _CheckWalk:
    def __init__(
        self,
        d: PathwayDefinition,
        zone: tzinfo,
        histology: str | None,
        timeline: list[Moment],
        only: frozenset[str] | None,
    ) -> None:
        self.d, self.zone, self.histology, self.timeline = d, zone, histology, timeline
        self.patient: Patient | None = None
        self.firsts = {
            cid: baselines(c, timeline, d.parameter)
            for cid, c in d.rules.checks.items()
            if c.type == "same_as_first" and (only is None or cid in only)
        }
        self.streaks: dict[str, int] = {}
        self.waiting: list[tuple[str, Moment]] = []
        self.days_with = {
            cid: {local_date(m.at, zone) for m in timeline if m.event is not None and m.type in c.needs}
            for cid, c in d.rules.checks.items()
            if c.needs and (only is None or cid in only)
        }

    def candidate(
        self, cid: str, check: CheckSpec, m: Moment, message: str, severity: str, at: Moment | None = None
    ) -> AlertCandidate:
        track = next(
            (t for t, spec in self.d.tracks.items() if any(tr.event == m.type for tr in spec.transitions)), ""
        )
        suffix = ":unchecked" if message.startswith(_UNCHECKED) else ""
        return AlertCandidate(
            check.id,
            f"{cid}:event:{m.seq}{suffix}",
            severity,
            f"{check.title}: {message} (event {m.seq} on {local_date(m.at, self.zone)})",
            check.source,
            (at or m).at,
            title=check.title,
            track=track,
        )

    def histology_arrived(self, h: Moment) -> list[AlertCandidate]:
        out = []
        for cid, m in self.waiting:
            check = self.d.rules.checks[cid]
            assert m.event is not None and self.histology is not None
            found = dose_finding(check, m.event.data, self.histology)
            if found:
                note = f"{found}; checked when histology was recorded (event {h.seq})"
                out.append(self.candidate(cid, check, m, note, check.severity, at=h))
        self.waiting = []
        return out

    def never_checked(self) -> list[AlertCandidate]:
        out = []
        for cid, m in self.waiting:
            check = self.d.rules.checks[cid]
            assert m.event is not None
            message = (
                f"{_UNCHECKED} {prescription(check, m.event.data)}: histology not recorded yet; "
                "it is checked when the histology is recorded"
            )
            out.append(self.candidate(cid, check, m, message, check.severity))
        return out


_UNCHECKED = "dose could not be checked:"


def _check_fires(
    d: PathwayDefinition, cid: str, check: CheckSpec, m: Moment, walk: _CheckWalk
) -> tuple[str, str] | None:
    """The message and severity of the alert this event raises, or None."""
    assert m.event is not None
    data = m.event.data
    if not applies(check, m, d.parameter):
        return None
    if check.histology and walk.histology not in check.histology:
        return None
    if check.first and _earlier_match(d, check, m, walk.timeline):
        return None
    if check.on_drug and not on_drug(d, check.on_drug, walk.timeline, m):
        return None
    if check.type in DRUG_CHECKS:
        found = drug_finding(d, check, m, walk.timeline, walk.patient, walk.zone)
        return (found, check.severity) if found else None
    if check.type == "prior_event":
        missing = _missing_prior(check, m, walk.timeline, walk.zone)
        return (missing, check.severity) if missing else None
    if check.type == "on_event":
        if check.histology_missing and walk.histology is not None:
            return None
        return ", ".join(f"{k}={show_value(v)}" for k, v in data.items()) or m.type, check.severity
    if check.type == "dose_range":
        found = dose_finding(check, data, walk.histology or "")
        return (found, check.severity) if found else None
    if check.type == "missing_same_day":
        return _missing_same_day(d, cid, check, m, walk)
    if check.type in BONE_CHECK_TYPES:
        found = bone_finding(d, check, m, walk.timeline, walk.zone)
        return (found, check.severity) if found else None
    mismatch = walk.firsts.get(cid, Baselines()).mismatch.get(m.seq)
    return (mismatch, check.severity) if mismatch else None


def _earlier_match(d: PathwayDefinition, check: CheckSpec, m: Moment, timeline: list[Moment]) -> bool:
    earlier = [
        x for x in timeline if x.event is not None and x.type == m.type and (x.at, x.seq) < (m.at, m.seq)
    ]
    return any(applies(check, x, d.parameter) for x in earlier)


def _missing_same_day(
    d: PathwayDefinition, cid: str, check: CheckSpec, m: Moment, walk: _CheckWalk
) -> tuple[str, str] | None:
    """A18-style: none of `needs` the same clinic day (before or after); `repeat` after N in a row."""
    day = local_date(m.at, walk.zone)
    key = f"{cid}:{m.type}"
    if day in walk.days_with.get(cid, set()):
        walk.streaks[key] = 0
        return None
    streak = walk.streaks[key] = walk.streaks.get(key, 0) + 1
    severity = check.severity
    if check.repeat is not None and streak >= d.parameter(check.repeat.after):
        severity = check.repeat.severity
    in_a_row = f" ({streak} {m.type} in a row)" if streak > 1 else ""
    return f"no {' or '.join(check.needs)} recorded on {day}{in_a_row}", severity


def _missing_prior(check: CheckSpec, m: Moment, timeline: list[Moment], zone: tzinfo) -> str | None:
    """Which `per` values have none of the prior events in the `within` days up to the event's day."""
    assert check.prior is not None
    prior, day = check.prior, local_date(m.at, zone)
    span = Duration.parse(prior.within) if prior.within else None
    earliest = Duration(-span.amount, span.unit).add_to_date(day) if span else date.min
    found = {
        str(x.event.data.get(prior.per, "")) if prior.per else ""
        for x in timeline
        if x.event is not None and x.type in prior.events and earliest <= local_date(x.at, zone) <= day
    }
    missing = [v for v in (prior.per_values or ("",)) if v not in found]
    if not missing:
        return None
    what = " or ".join(prior.events) + (f" of {', '.join(missing)}" if prior.per else "")
    return f"no {what} in the {span} up to {day}" if span else f"no {what} recorded by {day}"


def effective(candidates: list[AlertCandidate]) -> list[AlertCandidate]:
    """Keep the highest level reached per alert instance (a warning escalates to critical)."""
    best: dict[tuple[str, str], AlertCandidate] = {}
    for c in candidates:
        held = best.get((c.rule, c.key))
        if held is None or c.rank > held.rank:
            best[(c.rule, c.key)] = c
    return list(best.values())
