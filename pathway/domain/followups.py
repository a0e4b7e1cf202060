"""Follow-ups derived deterministically from history and the timing rules.

For each rule (and each value of its `per` field, e.g. imaging region) the timeline is walked in
clinical order. An anchor opens an instance (superseding an open one); a done event completes it
(recurring rules re-anchor on the date it was actually done); leaving the states where the rule runs
cancels it; a pause suspends it and the resume re-anchors it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from pathway.domain.clinical_time import local_date
from pathway.domain.conditions import ParamLookup, all_hold
from pathway.domain.definition import PathwayDefinition
from pathway.domain.rules_spec import ENROLMENT, FollowUpRule
from pathway.domain.status import FollowUpStatus, follow_up_status
from pathway.domain.timeline import Moment
from pathway.domain.windows import Calendar, Window, compute_window

PAUSE, RESUME = "care_paused", "care_resumed"


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


@dataclass
class _Walk:
    rule_id: str
    rule: FollowUpRule
    region: str
    calendar: Calendar
    param: ParamLookup
    current: FollowUp | None = None
    out: list[FollowUp] = field(default_factory=list)
    paused: str | None = None
    resume_pending: bool = False

    def day(self, m: Moment) -> str:
        """The clinic-local date of a moment, for the texts coordinators read."""
        return local_date(m.at, self.calendar.zone).isoformat()

    def runs(self, states: dict[str, str], definition: PathwayDefinition) -> bool:
        state = states[self.rule.track]
        if self.rule.runs_in == "*":
            return state in definition.tracks[self.rule.track].states
        runs_in = (self.rule.runs_in,) if isinstance(self.rule.runs_in, str) else self.rule.runs_in
        return state in runs_in

    def close(self, outcome: str, **changes: object) -> None:
        if self.current is not None:
            self.out.append(replace(self.current, outcome=outcome, **changes))  # type: ignore[arg-type]
            self.current = None

    def open(self, m: Moment, label: str, notes: tuple[str, ...] = ()) -> None:
        if self.current is not None and self.current.anchor_at == m.at:
            return
        self.close("cancelled", cancel_reason=f"superseded: {label} on {self.day(m)}")
        window = compute_window(self.rule.window, m.at, self.calendar)
        notes = notes + ((window.shift,) if window.shift else ())
        self.current = FollowUp(self.rule_id, self.region, m.at, label, window, notes=notes)


@dataclass(frozen=True)
class Scope:
    """The rules and checks an event can change; None everywhere means all of them."""

    rules: frozenset[str]
    checks: frozenset[str]

    def alert_key_matches(self, instance_key: str) -> bool:
        head = instance_key.split(":", 1)[0]
        return head in self.rules or head in self.checks


def scope_of(definition: PathwayDefinition, event_types: set[str], changed_tracks: set[str]) -> Scope:
    """Rules whose follow-ups may differ after events of these types and these state changes.

    A rule depends on its anchor and done events, on pauses, and on its track's state (runs_in,
    on_entry); a check on its event and, for histology-dependent checks, on histology_confirmed.
    """
    pausing = bool(event_types & {PAUSE, RESUME})
    rules = frozenset(
        rid
        for rid, r in definition.rules.follow_ups.items()
        if event_types & {*r.anchor.events, *r.done.events}
        or r.track in changed_tracks
        or (pausing and r.pausable)
    )
    checks = frozenset(
        cid
        for cid, c in definition.rules.checks.items()
        if c.event in event_types
        or ("histology_confirmed" in event_types and (c.type == "dose_range" or c.histology_missing))
    )
    return Scope(rules, checks)


def derive_follow_ups(
    definition: PathwayDefinition,
    timeline: list[Moment],
    calendar: Calendar,
    only: frozenset[str] | None = None,
) -> list[FollowUp]:
    result: list[FollowUp] = []
    for rule_id, rule in definition.rules.follow_ups.items():
        if only is not None and rule_id not in only:
            continue
        for region in rule.per_values or ("",):
            walk = _Walk(rule_id, rule, region, calendar, definition.parameter)
            for m in timeline:
                _step(walk, m, definition)
            if walk.current is not None:
                walk.out.append(walk.current)
            result += walk.out
    unique = {fu.key: fu for fu in result}  # last word per instance (storage key is unique)
    return list(unique.values())


def _label(m: Moment) -> str:
    return "enrolment" if m.event is None else f"{m.type} (event {m.seq})"


def _step(w: _Walk, m: Moment, definition: PathwayDefinition) -> None:
    rule, data = w.rule, (m.event.data if m.event else {})
    if w.rule.pausable and m.type in (PAUSE, RESUME):
        _pause_or_resume(w, m, definition)
        return
    is_done = (
        m.type in rule.done.events
        and all_hold(rule.done.when, data, w.param)
        and (rule.per is None or data.get(rule.per) == w.region)
    )
    if is_done and rule.recurring and w.current is not None and w.current.anchor_at == m.at:
        is_done = False  # done at the anchor instant: it is the new baseline, the window stands
    if is_done and w.current is not None:
        w.close("done", done_at=m.at, done_event_id=m.seq)
        if rule.recurring and w.runs(m.after, definition) and not w.paused:
            w.open(m, f"{m.type} done (event {m.seq})")
    elif is_done and rule.recurring and w.paused:
        w.resume_pending = True
    anchor_types = rule.anchor.events
    if m.type in anchor_types or (m.event is None and ENROLMENT in anchor_types):
        if all_hold(rule.anchor.when, data, w.param):
            if w.paused:
                w.resume_pending = True
            elif w.runs(m.after, definition):
                w.open(m, _label(m))
        elif rule.anchor.reset_on_mismatch and w.current is not None:
            w.close("cancelled", cancel_reason=f"superseded: {_label(m)} on {w.day(m)}")
    if (
        rule.anchor.on_entry
        and rule.track in m.changes
        and not w.runs(m.before, definition)
        and w.runs(m.after, definition)
    ):
        if w.paused:
            w.resume_pending = True
        else:
            w.open(m, f"entered {m.after[rule.track]} ({m.type}, event {m.seq})")
    if w.current is not None and not w.runs(m.after, definition):
        w.close(
            "cancelled", cancel_reason=f"{rule.track} moved to {m.after[rule.track]} ({m.type} on {w.day(m)})"
        )


def _pause_or_resume(w: _Walk, m: Moment, definition: PathwayDefinition) -> None:
    reason = m.event.data.get("reason_code", "") if m.event else ""
    if m.type == PAUSE and not w.paused:
        w.paused = f"paused on {w.day(m)} ({reason})"
        if w.current is not None:
            w.resume_pending = True
            w.close("cancelled", cancel_reason=w.paused)
        return
    if m.type == RESUME and w.paused:
        note = f"{w.paused}, resumed on {w.day(m)}: window re-anchored on the resume date"
        w.paused = None
        if w.resume_pending and w.runs(m.after, definition):
            w.open(m, f"care resumed (event {m.seq})", notes=(note,))
        w.resume_pending = False
