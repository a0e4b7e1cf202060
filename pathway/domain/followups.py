"""Follow-ups derived deterministically from history and the timing rules.

For each rule (and each value of its `per` field, e.g. imaging region) the timeline is walked in
clinical order. An anchor opens an instance (superseding an open one, unless the rule keeps a
missed one open: `supersedes_missed: false`); a done event completes it (recurring rules re-anchor
on the date it was actually done); leaving the states where the rule runs cancels it.

A pause (the event with role `pause`, until the one with role `resume`) stops the clock of every
pausable rule: the open window is held and, on resume, EXTENDED by the pause's length (opens, target
and closes move as many clinic days later; clock-time windows by the elapsed time), never
re-anchored. A window that opens during the pause is extended by the part of the pause after its
anchor. A step already overdue, or whose alert already fired, when the pause begins is not held: it
stays overdue and its alert stays open (a pause never hides a missed step). While the pause lasts
the held window is stored as cancelled with the reason; non-pausable rules never notice a pause.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo

from pathway.domain.baselines import Baselines, baselines
from pathway.domain.bone_checks import BONE_CHECK_TYPES, bone_check_events
from pathway.domain.clinical_time import local_date, start_of_day
from pathway.domain.conditions import ParamLookup, all_hold, event_holds
from pathway.domain.definition import PathwayDefinition
from pathway.domain.memo import PerDefinition
from pathway.domain.pre_dose import closing_reason, dose_events, planned_dose_day
from pathway.domain.rules_spec import ANY_EVENT, ENROLMENT, BeforeDoseSpec, FollowUpRule
from pathway.domain.status import FollowUpStatus, follow_up_status
from pathway.domain.timeline import Moment
from pathway.domain.walk_plan import plans_of
from pathway.domain.windows import Calendar, Window, compute_window


@dataclass(frozen=True)
class FollowUp:
    rule: str
    region: str
    anchor_at: datetime
    anchor_label: str
    window: Window
    outcome: str = "open"  # an Outcome: open | done | cancelled
    done_at: datetime | None = None
    done_event_id: int | None = None
    cancel_reason: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str, datetime]:
        return (self.rule, self.region, self.anchor_at)

    @property
    def early(self) -> bool:
        return self.done_at is not None and self.done_at < self.window.opens_at

    @property
    def late_days(self) -> int:
        """Days after the window's last day (closes_at is the first instant past the window)."""
        if self.done_at is None or self.done_at < self.window.closes_at:
            return 0
        return (self.done_at - self.window.closes_at) // timedelta(days=1) + 1

    def status(self, now: datetime) -> FollowUpStatus:
        return follow_up_status(self.outcome, self.window.opens_at, self.window.closes_at, now)


@dataclass(slots=True)
class _Walk:
    rule_id: str
    rule: FollowUpRule
    region: str
    calendar: Calendar
    param: ParamLookup
    current: FollowUp | None = None
    out: list[FollowUp] = field(default_factory=list)
    paused_at: datetime | None = None
    pause_text: str = ""
    not_held: tuple[str, str, datetime] | None = None  # the key of a step missed before the pause
    missed: list[FollowUp] = field(default_factory=list)
    seen: dict[datetime, set[str]] = field(default_factory=dict)
    baseline: Baselines = field(default_factory=Baselines)  # done events that do not count, or rebase
    only_anchor: int | None = None  # anchor.each: the one anchor event this walk follows
    dones: int = 0  # steps done since the anchor (which window of a loading schedule comes next)
    tracked: bool = True  # whether this `per` value is followed (see `per_values_from`)
    planned: Callable[[int], date | None] | None = None  # before_dose: next dose day, by position
    position: int = 0  # where in the timeline the walk is
    dose_moves: frozenset[str] = frozenset()  # before_dose: events that can move the next dose
    recent: list[Moment] = field(default_factory=list)  # done.in_window: done events seen so far
    done_types: frozenset[str] = frozenset()  # the moment types its done events match
    anchor_types: frozenset[str] = frozenset()  # the moment types its anchor events match
    runs_in: frozenset[str] = frozenset()  # the states of its track where it runs

    def day(self, m: Moment) -> str:
        """The clinic-local date of a moment, for the texts coordinators read."""
        return local_date(m.at, self.calendar.zone).isoformat()

    def runs(self, states: dict[str, str]) -> bool:
        return states[self.rule.track] in self.runs_in

    def close(self, outcome: str, **changes: object) -> None:
        if self.current is not None:
            self.out.append(replace(self.current, outcome=outcome, **changes))  # type: ignore[arg-type]
            self.current = None

    def close_all(self, outcome: str, **changes: object) -> None:
        """Close the current instance and every missed one kept open."""
        self.out += [replace(fu, outcome=outcome, **changes) for fu in self.missed]  # type: ignore[arg-type]
        self.missed = []
        self.close(outcome, **changes)

    def open(self, m: Moment, label: str, notes: tuple[str, ...] = (), after_done: bool = False) -> None:
        if self.current is not None and self.current.anchor_at == m.at and self.rule.before_dose is None:
            return
        spec = self.rule.window_after(self.dones + 1 if after_done else 0)
        base = m.at
        if self.rule.before_dose is not None and self.planned is not None:
            dose_day = self.planned(self.position)
            if dose_day is None:
                reason = f"no further dose planned after {label} on {self.day(m)}"
                self.close("cancelled", cancel_reason=reason)
                return
            base = start_of_day(dose_day, self.calendar.zone)
            notes = (*notes, f"before the dose planned for {dose_day}")
        self.dones = self.dones + 1 if after_done else 0
        if (
            self.current is not None
            and not self.rule.anchor.supersedes_missed
            and m.at >= self.current.window.closes_at
        ):
            self.missed.append(self.current)  # already missed: a new anchor never hides it
            self.current = None
        if self.current is not None and self.current.anchor_at == m.at:
            self.current = None  # a second dose at the same instant: the plan as it stands now
        reason = "the dose came" if self.rule.before_dose is not None else "superseded"
        self.close("cancelled", cancel_reason=f"{reason}: {label} on {self.day(m)}")
        window = compute_window(spec, base, self.calendar)
        notes = notes + ((window.shift,) if window.shift else ())
        self.current = FollowUp(self.rule_id, self.region, m.at, label, window, notes=notes)
        already = _satisfied_by_state(self.rule, m.after)
        if already:
            self.close("done", done_at=m.at, notes=(*notes, already))
        elif self.rule.done.in_window:
            self.done_already(m, window)

    def done_already(self, m: Moment, window: Window) -> None:
        """A done event recorded before the anchor but inside the window completes it at once."""
        for r in self.recent:
            inside = window.opens_at <= r.at <= m.at
            if self.current is not None and inside and self.completes(self.current, r):
                note = f"already done: {r.type} (event {r.seq}) on {self.day(r)}"
                self.close("done", done_at=r.at, done_event_id=r.seq, notes=(*self.current.notes, note))

    def completes(self, fu: FollowUp, m: Moment) -> bool:
        """Whether this done event completes the instance (with `all_of`, the last one missing)."""
        if not self.rule.done.all_of:
            return True
        seen = self.seen.setdefault(fu.anchor_at, set())
        seen.add(_done_key(self.rule, m))
        return seen >= _required(self.rule)

    def finish_missed(self, m: Moment) -> None:
        still = []
        for fu in self.missed:
            if self.completes(fu, m):
                self.out.append(replace(fu, outcome="done", done_at=m.at, done_event_id=m.seq))
            else:
                still.append(fu)
        self.missed = still


def _done_key(rule: FollowUpRule, m: Moment) -> str:
    each = rule.done.each_of
    return f"{m.type}:{m.event.data.get(each)}" if each and m.event else m.type


def _required(rule: FollowUpRule) -> set[str]:
    """What an `all_of` instance needs: every done event, or (each_of) every listed value of each."""
    each = rule.done.each_of
    values = rule.done.when.get(each) if each else None
    if isinstance(values, list):
        return {f"{e}:{v}" for e in rule.done.events for v in values}
    return set(rule.done.events) - {ANY_EVENT}


def _satisfied_by_state(rule: FollowUpRule, states: dict[str, str]) -> str | None:
    for track, wanted in rule.done.in_state.items():
        if states.get(track) in wanted:
            return f"already satisfied when it opened: {track} was {states[track]}"
    return None


@dataclass(frozen=True)
class Scope:
    """The rules and checks an event can change; None everywhere means all of them."""

    rules: frozenset[str]
    checks: frozenset[str]

    def alert_key_matches(self, instance_key: str) -> bool:
        head = instance_key.split(":", 1)[0]
        return head in self.rules or head in self.checks


_SCOPES: PerDefinition[Scope] = PerDefinition(limit=4096)


def scope_of(definition: PathwayDefinition, event_types: set[str], changed_tracks: set[str]) -> Scope:
    """Remembered per definition, event types and changed tracks (see `_scope_of`)."""
    key = (frozenset(event_types), frozenset(changed_tracks))
    return _SCOPES.get(definition, key, lambda: _scope_of(definition, event_types, changed_tracks))


def _scope_of(definition: PathwayDefinition, event_types: set[str], changed_tracks: set[str]) -> Scope:
    """Rules whose follow-ups may differ after events of these types and these state changes.

    A rule depends on its anchor and done events, on pauses, and on its track's state (runs_in,
    on_entry); a check on its event and, for histology-dependent checks, on the histology event.
    """
    pausing = any(definition.events[e].role in ("pause", "resume") for e in event_types)
    histology = any(definition.events[e].role == "histology" for e in event_types)
    rules = frozenset(
        rid
        for rid, r in definition.rules.follow_ups.items()
        if event_types & {*r.anchor.events, *r.done.events}
        or (event_types and ANY_EVENT in {*r.anchor.events, *r.done.events})
        or (r.per_values_from is not None and r.per_values_from.event in event_types)
        or r.track in changed_tracks
        or changed_tracks & set(r.done.in_state)
        or (pausing and r.pausable)
        or (r.before_dose is not None and bool(event_types & dose_events(definition, r.before_dose)))
    )
    checks = frozenset(
        cid
        for cid, c in definition.rules.checks.items()
        if c.event in event_types
        or event_types & set(c.needs)
        or (histology and (c.type == "dose_range" or c.histology_missing))
        or (c.prior is not None and event_types & set(c.prior.events))
        or (c.type in BONE_CHECK_TYPES and event_types & bone_check_events(definition, c))
    )
    return Scope(rules, checks)


def derive_follow_ups(
    definition: PathwayDefinition,
    timeline: list[Moment],
    calendar: Calendar,
    only: frozenset[str] | None = None,
) -> list[FollowUp]:
    return _derive(definition, timeline, calendar, only, None)[0]


def derive_follow_ups_and_before(
    definition: PathwayDefinition, timeline: list[Moment], calendar: Calendar, position: int
) -> tuple[list[FollowUp], list[FollowUp]]:
    """The follow-ups of the whole timeline, and those of `timeline[:position]` (what
    `derive_follow_ups` gives for that prefix), in one walk."""
    return _derive(definition, timeline, calendar, None, position)


def _derive(
    definition: PathwayDefinition,
    timeline: list[Moment],
    calendar: Calendar,
    only: frozenset[str] | None,
    before: int | None,
) -> tuple[list[FollowUp], list[FollowUp]]:
    result: list[FollowUp] = []
    earlier: list[FollowUp] = []
    kinds = [m.type if m.event is not None else None for m in timeline]
    for plan in plans_of(definition):
        rule_id, rule, relevant, dose_moves = plan.rule_id, plan.rule, plan.relevant, plan.dose_moves
        if only is not None and rule_id not in only:
            continue
        check = definition.rules.checks.get(rule.done.unless_check or "")
        base = baselines(check, timeline, definition.parameter) if check else Baselines()
        # the moments that can open, complete, move or close the rule (the same for every walk)
        track = rule.track
        visits = [
            (position, m)
            for position, m in enumerate(timeline)
            if relevant is None
            or kinds[position] is None
            or kinds[position] in relevant
            or track in m.changes
        ]
        done_types, anchor_types = plan.done_types, plan.anchor_types
        where = {m.seq: i for i, (_, m) in enumerate(visits)} if plan.from_anchor else {}
        for region, anchor in _walks(rule, timeline, definition):
            walk = _Walk(rule_id, rule, region, calendar, definition.parameter, baseline=base)
            walk.only_anchor = anchor
            walk.tracked = not rule.per or anchor is not None or region in rule.per_values
            walk.done_types, walk.anchor_types, walk.runs_in = done_types, anchor_types, plan.runs_in
            if rule.before_dose is not None:
                walk.planned = _planner(definition, rule.before_dose, timeline, calendar.zone)
                walk.dose_moves = dose_moves
            snapshot = before is None
            one_instance = plan.from_anchor and anchor is not None
            start = where[anchor] if plan.from_anchor and anchor is not None else 0
            for position, m in visits[start:]:
                if not snapshot and position >= before:  # type: ignore[operator]
                    earlier += _finished(walk)
                    snapshot = True
                if one_instance and walk.current is None and not walk.missed and position > visits[start][0]:
                    break  # its one instance is closed: nothing later can open another (`_from_anchor`)
                walk.position = position
                _step(walk, m, definition)
            if not snapshot:
                earlier += _finished(walk)
            result += _finished(walk)
    # last word per instance (storage key is unique)
    return list({fu.key: fu for fu in result}.values()), list({fu.key: fu for fu in earlier}.values())


def _finished(w: _Walk) -> list[FollowUp]:
    """The walk's instances as they stand: a window held by a pause is stored as cancelled."""
    out, current = list(w.out), w.current
    if current is not None and w.paused_at is not None and current.key != w.not_held:
        current = replace(
            current, outcome="cancelled", cancel_reason=f"{w.pause_text}: held until care resumes"
        )
    return out + ([current] if current is not None else []) + w.missed


def _planner(
    definition: PathwayDefinition, spec: BeforeDoseSpec, timeline: list[Moment], zone: tzinfo
) -> Callable[[int], date | None]:
    return lambda position: planned_dose_day(definition, spec, timeline[: position + 1], zone)


def _walks(
    rule: FollowUpRule, timeline: list[Moment], definition: PathwayDefinition
) -> list[tuple[str, int | None]]:
    """One walk per `per` value, or (anchor.each) one per anchoring event, named "event N"."""
    if not rule.anchor.each:
        return [(region, None) for region in rule.all_per_values() or ("",)]
    return [
        (f"event {m.seq}", m.seq)
        for m in timeline
        if m.event is not None
        and m.type in rule.anchor.events
        and all_hold(rule.anchor.when, m.event.data, definition.parameter)
    ]


def _label(m: Moment) -> str:
    return "enrolment" if m.event is None else f"{m.type} (event {m.seq})"


def _track_per_value(w: _Walk, m: Moment, definition: PathwayDefinition) -> None:
    """Start or stop following this `per` value when the event it derives from is recorded."""
    source = w.rule.per_values_from
    if source is None or m.type != source.event or m.event is None:
        return
    tracked = w.region in source.values_for(m.event.data)
    if w.tracked and not tracked:
        w.close_all("cancelled", cancel_reason=f"{w.region} no longer followed ({m.type} on {w.day(m)})")
    elif tracked and not w.tracked and w.runs(m.after):
        w.tracked = True
        w.open(m, f"{w.region} followed from {m.type} (event {m.seq})")
    w.tracked = tracked


def _step(w: _Walk, m: Moment, definition: PathwayDefinition) -> None:
    rule, event = w.rule, m.event
    kind = event.type if event is not None else "enrolment"
    data = event.data if event is not None else {}
    if rule.pausable and event is not None:
        role = definition.events[kind].role
        if role in ("pause", "resume"):
            _pause_or_resume(w, m, role == "pause")
            return
    if rule.per_values_from is not None:
        _track_per_value(w, m, definition)
    if not w.tracked:
        return
    declared = definition.events[kind].fields if event is not None else {*rule.anchor.when, *rule.done.when}
    is_done = (
        kind in w.done_types
        and event_holds(rule.done.when, data, declared, w.param)
        and (rule.per is None or data.get(rule.per) == w.region)
        and (rule.done.refers_to_anchor is None or data.get(rule.done.refers_to_anchor) == w.only_anchor)
    )
    if is_done and rule.done.in_window:
        w.recent.append(m)
        is_done = w.current is not None and m.at >= w.current.window.opens_at  # too early: not for this dose
    if is_done and rule.recurring and w.current is not None and w.current.anchor_at == m.at:
        is_done = False  # done at the anchor instant: it is the new baseline, the window stands
    if is_done and m.seq in w.baseline.mismatch:
        is_done = False
        if w.current is not None:
            note = f"{m.type} (event {m.seq}) on {w.day(m)} does not count: {w.baseline.mismatch[m.seq]}"
            w.current = replace(w.current, notes=(*w.current.notes, note))
    rebased = (
        (f"{m.type} (event {m.seq}): {w.baseline.rebaselined[m.seq]}",)
        if m.seq in w.baseline.rebaselined
        else ()
    )
    if is_done:
        w.finish_missed(m)
    if is_done and w.current is not None and w.completes(w.current, m):
        w.close("done", done_at=m.at, done_event_id=m.seq, notes=(*w.current.notes, *rebased))
        if rule.recurring and w.runs(m.after):
            w.open(m, f"{m.type} done (event {m.seq})", rebased, after_done=True)
    anchor_types = rule.anchor.events
    counts = w.only_anchor is None or m.seq == w.only_anchor
    if rule.anchor.moves_track:
        counts = counts and rule.track in m.changes and not w.runs(m.before)
    if counts and (kind in w.anchor_types or (event is None and ENROLMENT in anchor_types)):
        if event_holds(rule.anchor.when, data, declared, w.param):
            if w.runs(m.after):
                w.open(m, _label(m))
        elif rule.anchor.reset_on_mismatch and w.current is not None:
            w.close("cancelled", cancel_reason=f"superseded: {_label(m)} on {w.day(m)}")
    if rule.anchor.on_entry and rule.track in m.changes and not w.runs(m.before) and w.runs(m.after):
        w.open(m, f"entered {m.after[rule.track]} ({m.type}, event {m.seq})")
    if rule.track in m.changes and m.after[rule.track] in rule.anchor.entering and w.runs(m.after):
        w.open(m, f"entered {m.after[rule.track]} ({m.type}, event {m.seq})")
    if w.current is not None and m.type in w.dose_moves and w.planned and w.planned(w.position) is None:
        reason = closing_reason(definition, m.type)
        w.close("cancelled", cancel_reason=f"{reason}: {_label(m)} on {w.day(m)}")
    if (w.current is not None or w.missed) and not w.runs(m.after):
        w.close_all(
            "cancelled", cancel_reason=f"{rule.track} moved to {m.after[rule.track]} ({m.type} on {w.day(m)})"
        )


def _pause_or_resume(w: _Walk, m: Moment, pausing: bool) -> None:
    if pausing and w.paused_at is None:
        reason = ", ".join(str(v) for v in m.event.data.values()) if m.event else ""
        w.paused_at = m.at
        w.pause_text = f"paused on {w.day(m)}" + (f" ({reason})" if reason else "")
        fu = w.current
        if fu is not None and _missed_by(fu, w, m.at):
            w.not_held = fu.key
            w.current = replace(
                fu, notes=(*fu.notes, f"{w.pause_text}: already overdue or alerting, so not paused")
            )
        return
    if not pausing and w.paused_at is not None:
        fu = w.current
        if fu is not None and fu.key != w.not_held:
            w.current = _extended(fu, w, max(w.paused_at, fu.anchor_at), m)
        w.paused_at, w.not_held = None, None


def _missed_by(fu: FollowUp, w: _Walk, at: datetime) -> bool:
    """Overdue at `at`, or one of its alert levels has already fired."""
    if at >= fu.window.closes_at:
        return True
    levels = w.rule.alert.levels if w.rule.alert else ()
    return any(fu.window.level_at(level, w.calendar.zone) <= at for level in levels)


def _extended(fu: FollowUp, w: _Walk, since: datetime, resume: Moment) -> FollowUp:
    """The window moved later by the pause's length from `since` (clinic days, or elapsed time)."""
    zone, win = w.calendar.zone, fu.window
    if win.clock_time:
        delta = resume.at - since
        moved = replace(
            win,
            opens_at=win.opens_at + delta,
            target_at=win.target_at + delta,
            closes_at=win.closes_at + delta,
        )
        length = _elapsed(delta)
    else:
        days = (local_date(resume.at, zone) - local_date(since, zone)).days
        moved = replace(
            win,
            opens_at=_plus_days(win.opens_at, days, zone),
            target_at=_plus_days(win.target_at, days, zone),
            closes_at=_plus_days(win.closes_at, days, zone),
        )
        length = f"{days} day(s)"
    note = f"{w.pause_text}, resumed on {w.day(resume)}: window extended by {length}"
    return replace(fu, window=moved, notes=(*fu.notes, note))


def _plus_days(instant: datetime, days: int, zone: tzinfo) -> datetime:
    return start_of_day(local_date(instant, zone) + timedelta(days=days), zone)


def _elapsed(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min"
