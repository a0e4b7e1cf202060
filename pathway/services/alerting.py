"""Use cases of follow-ups and alerts: the sweep, the worklist, alert actions and `why`."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from functools import cache, partial

from pathway.domain.alert_status import (
    ALL_STATUSES,
    LIVE,
    MOVES,
    OVERRIDE_REASONS,
    SEVERITY_RANK,
    AlertAction,
    Severity,
    refusal,
    still_notified,
)
from pathway.domain.alerts import holdable_keys
from pathway.domain.batching import batches
from pathway.domain.bookings import Booking, BookingKey, live_bookings
from pathway.domain.clinical_time import local_date, plausible, start_of_day
from pathway.domain.counts import COUNTED_ALERTS, Count, soon_until, tally
from pathway.domain.definition import PathwayDefinition
from pathway.domain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from pathway.domain.events import clean_text
from pathway.domain.explanation import AlertRef, Explanation, Interval, LevelAt
from pathway.domain.history import retraction_types
from pathway.domain.model import AlertLine, StoredAlert, StoredFollowUp
from pathway.domain.records import AlertChange, NotificationStatus
from pathway.domain.roles import ROLES
from pathway.domain.status import FollowUpStatus, Outcome, follow_up_status
from pathway.domain.urgency import Urgency, UrgencyKey, late_text, urgency_key
from pathway.domain.windows import Window
from pathway.ports import Deps, UnitOfWork
from pathway.services import audit
from pathway.services.heap import bulk_work
from pathway.services.raising import (
    Changes,
    hold_behind_urgent,
    raise_levels,
    raise_levels_set,
    renotify,
    renotify_set,
    with_team_routes,
)
from pathway.services.retrying import rerun_on_deadlock
from pathway.services.sync import find_patient, refresh_patient

# Patients per level-raising transaction and alerts per renotification transaction: each is one
# short write transaction so that other writers (SQLite holds one database-wide write lock) wait
# little. Measured at 100,000 patients with 200 / 2,000: median 125 ms CPU per transaction, above
# the ~100 ms aimed at (bench/README.md), hence halved. A level-raising batch also stops at
# LEVELS_PER_BATCH follow-ups due, so that a few patients carrying many levels at once (after
# downtime) cannot make one long transaction; the bench cohort's batches of 100 carry 142-222.
# A renotification batch of 1,000 took 80-90 ms CPU at 100,000 patients, hence 500.
BATCH = 100
LEVELS_PER_BATCH = 300
RENOTIFY_BATCH = 500


@bulk_work()
def sweep(deps: Deps, set_based: bool = True) -> Changes:
    """Move every follow-up and alert forward to now (read once); idempotent and safe in parallel.

    Time alone raises alert levels (a follow-up's upcoming / due / overdue is derived from its
    window when read, never stored), so this is set-based over the stored alert plans; history is
    re-derived only for patients whose snooze or override ran out (their alerts may reopen).
    Recording an event re-derives that patient at once. Each batch is its own short transaction
    (readers and recorders wait at most one batch), rerun if it loses a deadlock.

    `set_based` (the default) writes with set-based SQL where the unit of work offers it; False
    takes the per-row path, which writes the same rows (kept as the reference the set-based
    writes are tested against, and for the in-memory unit of work).
    """
    now = deps.clock.now()
    total = Changes()
    _raise_levels(deps, now, total, set_based)
    seen: set[int] = set()

    def refresh_batch() -> tuple[list[int], Changes]:
        done = Changes()
        with deps.uow() as uow:
            batch = [p for p in uow.follow_ups.patients_to_check(now, BATCH) if p not in seen]
            if batch:
                _refresh(uow, deps, sorted(batch), now, done)
                uow.commit()
        return batch, done

    while True:
        batch, done = rerun_on_deadlock(refresh_batch)
        if not batch:
            break
        total.add(done)
        seen.update(batch)

    _renotify(deps, now, total, set_based)
    return total


def _renotify(deps: Deps, now: datetime, total: Changes, set_based: bool) -> None:
    """Live critical alerts whose next round has come, notified again: listed once, then in
    batches of RENOTIFY_BATCH alerts, each its own transaction (the per-row path, for the
    in-memory unit of work or when a care team has its own target, in one)."""
    every = deps.pathway.definition.alert_policy.renotify_every
    titles = _titles(deps)
    with deps.read() as uow:
        listing = uow.sweep_writes if set_based else None
        if listing is not None and _team_targets(uow):
            listing = None
        due = listing.renotify_ids(now) if listing is not None else None

    def per_row() -> Changes:
        done = Changes()
        with deps.uow() as uow:
            renotify(uow, now, every, deps.routes, titles, done)
            uow.commit()
        return done

    def batch(alert_ids: list[int]) -> Changes:
        done = Changes()
        with deps.uow() as uow:
            assert uow.sweep_writes is not None  # a read unit of work of the same kind had them
            renotify_set(uow.sweep_writes, now, every, deps.routes, titles, done, alert_ids)
            uow.commit()
        return done

    if due is None:
        total.add(rerun_on_deadlock(per_row))
        return
    for start in range(0, len(due), RENOTIFY_BATCH):
        total.add(rerun_on_deadlock(partial(batch, due[start : start + RENOTIFY_BATCH])))


def _refresh(uow: UnitOfWork, deps: Deps, patient_ids: list[int], now: datetime, total: Changes) -> None:
    """Lock the patients in id order (two sweeps never wait on each other in a cycle), then
    re-derive each from history as it stands under the lock."""
    uow.patients.lock_many(patient_ids)
    for pid in patient_ids:
        patient = uow.patients.by_id(pid)
        if patient is not None:
            total.add(refresh_patient(uow, deps.pathway, deps.calendar, patient, now, deps.routes))


def _team_targets(uow: UnitOfWork) -> bool:
    """Whether a care team has its own notification target: the set-based writes know only the
    site's routes, so the sweep then takes the per-row path, which adds the team's."""
    return any(t.notify_channel and t.notify_to for t in uow.teams.listing())


def _titles(deps: Deps) -> dict[str, str]:
    rules = deps.pathway.definition.rules
    titles = {c.id: c.title for c in rules.checks.values()}
    titles |= {r.alert.id: r.alert.title for r in rules.follow_ups.values() if r.alert}
    return titles


def _raise_levels(deps: Deps, now: datetime, total: Changes, set_based: bool = True) -> None:
    """Raise due alert levels in batches of patients: lock them, re-read their rows, raise.

    The due follow-ups are listed once along the next_alert_at index; each batch re-reads its rows
    under the lock (by id: SQLite reaches them by primary key instead of walking every follow-up
    of its patients), so rows another process raised meanwhile are no longer due and are skipped.
    A row falling due after the listing waits for the next sweep.
    """
    pathway_hash = deps.pathway.definition.content_hash
    holdable = holdable_keys(deps.pathway.definition)
    with deps.read() as uow:
        due = uow.follow_ups.alert_levels_due(now)

    def raise_batch(patients: list[int]) -> Changes:
        done = Changes()
        with deps.uow() as uow:
            uow.patients.lock_many(patients)
            if (
                set_based
                and uow.sweep_writes is not None
                and not with_team_routes(uow, deps.routes, patients)
            ):
                ids = [fid for pid in patients for fid in due[pid]]
                raise_levels_set(uow, uow.sweep_writes, ids, pathway_hash, now, deps.routes, done, holdable)
                uow.commit()
                return done
            rows = uow.follow_ups.alerts_due_for(patients, now)
            raise_levels(uow, rows, pathway_hash, now, deps.routes, done, holdable)
            done.patients += len({r.patient_id for r in rows})
            uow.commit()
        return done

    for patients in batches({pid: len(ids) for pid, ids in due.items()}, BATCH, LEVELS_PER_BATCH):
        total.add(rerun_on_deadlock(partial(raise_batch, patients)))


REFRESH_BATCH = 25  # about a second of work per transaction (~40 ms per patient)


@bulk_work()
def refresh_all(deps: Deps) -> Changes:
    """Recompute every patient from history (after a pathway file change, or to repair).

    In batches of REFRESH_BATCH patients, each its own short write transaction, so recording and
    reading never wait behind the whole cohort. Every patient is recomputed from history at the
    same `now`, so the result is the one a single transaction would give; a batch is all or
    nothing, and a run killed between batches is completed by running it again.
    """
    now = deps.clock.now()
    total = Changes()
    with deps.read() as uow:
        ids = sorted(patient.id for patient, _ in uow.patients.listing(None, None))

    def refresh_batch(batch: list[int]) -> Changes:
        done = Changes()
        with deps.uow() as uow:
            _refresh(uow, deps, batch, now, done)
            uow.commit()
        return done

    for start in range(0, len(ids), REFRESH_BATCH):
        total.add(rerun_on_deadlock(partial(refresh_batch, ids[start : start + REFRESH_BATCH])))
    return total


@dataclass(frozen=True)
class WorkItem:
    mrn: str
    kind: str  # overdue | due | soon | alert (an alert not tied to a follow-up)
    rule: str
    step: str
    severity: str | None
    detail: str
    opens: datetime | None
    closes: datetime | None
    days_late: int
    alert_id: int | None = None
    alert_rule: str | None = None
    held: bool = False
    clock_time: bool = False
    late: str = ""  # "14 h late" / "3 d late" (domain/urgency.late_text)
    episode: str | None = None  # the patient's open emergency episode ("mscc: suspected")
    booking: str = ""  # "booked for 12 Dec" / "missed appointment (booked for 12 Dec)"
    alerts: tuple[tuple[int, str], ...] = ()  # (id, severity) of every open alert the line stands for
    status: str = ""  # a step's own status (overdue | due | soon), also when the line shows "booked"

    def urgency(self) -> Urgency:
        return Urgency(self.severity, self.clock_time, self.opens, self.closes, self.held)


def worklist(
    deps: Deps,
    as_of: date | None = None,
    within: int | None = None,
    severity: str | None = None,
    limit: int | None = None,
    caseload: frozenset[str] | None = None,
) -> list[WorkItem]:
    """Every patient's actionable items, one line each, most urgent first.

    A step with an open alert carries the alert's severity on its line; alerts raised by checks
    (not by a follow-up) get lines of their own. Held alerts (behind an urgent MSCC alert) are
    listed and marked. A booked step (domain/bookings.py) is listed as "booked", after the
    actions, until its day has passed, then as a missed appointment; a critical alert on it keeps
    its place. `caseload`: only these MRNs.
    """
    if severity is not None and severity not in SEVERITY_RANK:
        raise InvalidInput(f"--severity must be one of {', '.join(SEVERITY_RANK)}")
    if as_of is not None:
        plausible(as_of, "--as-of")
    if within is not None and not 0 <= within <= 366:
        raise InvalidInput("--within must be between 0 and 366 days")
    now = deps.clock.now()
    today = local_date(now, deps.zone)
    at = _list_instant(now, today, as_of, deps.zone)
    horizon = soon_until(at, within)
    rules = deps.pathway.definition.rules.follow_ups
    read_limit = limit if caseload is None else None
    with deps.read() as uow:
        rows = uow.worklist.steps(horizon, read_limit)
        alerts = uow.worklist.open_alerts(read_limit or None)
        undelivered = _undelivered(uow)
        bookings = _bookings(uow, deps.pathway.definition, at)
    if caseload is not None:
        rows = [r for r in rows if r.mrn in caseload]
        alerts = [a for a in alerts if a.mrn in caseload]
        undelivered = [u for u in undelivered if u.mrn in caseload]
    by_follow_up: dict[int, AlertLine] = {}
    of_step: dict[int, list[AlertLine]] = {}
    for alert in alerts:
        if alert.follow_up_id is not None:
            of_step.setdefault(alert.follow_up_id, []).append(alert)
            held = by_follow_up.get(alert.follow_up_id)
            if held is None or SEVERITY_RANK[alert.severity] > SEVERITY_RANK[held.severity]:
                by_follow_up[alert.follow_up_id] = alert
    items: list[WorkItem] = []
    late = _days_late(at, as_of or today, deps.zone)
    for fu in rows:
        status = follow_up_status(Outcome.OPEN, fu.opens_at, fu.closes_at, at)
        kind = status_kind = "soon" if status is FollowUpStatus.UPCOMING else status.value
        step = (rules[fu.rule].step if fu.rule in rules else fu.rule) + (
            f" ({fu.region})" if fu.region else ""
        )
        a = by_follow_up.pop(fu.id, None)
        booked = bookings.get((fu.mrn, fu.rule, fu.region))
        booking = booked.text(as_of or today) if booked and booked.applies_to(fu.anchor_at) else ""
        if booking.startswith("booked") and not (a and a.severity == Severity.CRITICAL):
            kind = "booked"
        items.append(
            WorkItem(
                fu.mrn,
                kind,
                fu.rule,
                step,
                a.severity if a else None,
                fu.anchor_label,
                fu.opens_at,
                fu.closes_at,
                late(fu.closes_at),
                a.id if a else None,
                a.rule if a else None,
                a.held if a else False,
                fu.clock_time,
                booking=booking,
                status=status_kind,
                alerts=tuple((x.id, x.severity) for x in of_step.get(fu.id, ())) if a else (),
            )
        )
    unlisted = {a.id for a in by_follow_up.values()}
    for alert in alerts:
        if alert.follow_up_id is None or alert.id in unlisted:
            items.append(
                WorkItem(
                    alert.mrn,
                    "alert",
                    alert.rule,
                    alert.message,
                    alert.severity,
                    alert.source,
                    None,
                    None,
                    0,
                    alert.id,
                    alert.rule,
                    alert.held,
                    alerts=tuple((x.id, x.severity) for x in of_step.get(alert.follow_up_id or 0, [alert])),
                )
            )
    items += undelivered
    if severity:
        floor = SEVERITY_RANK[severity]
        items = [i for i in items if SEVERITY_RANK.get(i.severity or "", 0) >= floor]
    items.sort(key=lambda i: (i.kind == "booked", urgency_key(i.urgency(), at)))
    items = items[:limit] if limit else items
    with deps.read() as uow:  # the episodes of the patients listed only (not the cohort's)
        episodes = open_episodes(uow, deps.pathway.definition, {i.mrn for i in items} if limit else None)
    return [replace(i, late=late_text(i.closes, at, i.days_late), episode=episodes.get(i.mrn)) for i in items]


def _bookings(uow: UnitOfWork, definition: PathwayDefinition, at: datetime) -> dict[BookingKey, Booking]:
    """The bookings in force at `at` (recorded by then, not retracted)."""
    booked = uow.events.of_types(definition.events_with_role("booking"))
    if not booked:
        return {}
    patients = {e.patient_id for _, e in booked}  # only their retractions can take a booking back
    taken_back = uow.events.of_types(retraction_types(definition), patients)
    events = sorted(booked + taken_back, key=lambda me: me[1].id)
    return live_bookings(definition, [(m, e) for m, e in events if e.recorded_at <= at])


def open_episodes(
    uow: UnitOfWork, definition: PathwayDefinition, mrns: Collection[str] | None = None
) -> dict[str, str]:
    """MRN -> the open emergency episode ("mscc: suspected") of each patient who has one: the
    track in one of its own states other than the initial one (an exit state is no episode)."""
    out: dict[str, str] = {}
    for track, initial in definition.emergency_initials().items():
        active = tuple(s for s in definition.tracks[track].states if s != initial)
        for mrn, state in uow.worklist.in_states(track, active, mrns):
            out.setdefault(mrn, f"{track}: {state}")
    return out


def worklist_counts(deps: Deps, as_of: date | None = None, within: int | None = None) -> dict[Count, int]:
    """Every count of the worklist (pathway/domain/counts.py): steps overdue, due and due soon,
    open alerts by severity. The web cards and the daily report show these same numbers."""
    now = deps.clock.now()
    at = _list_instant(now, local_date(now, deps.zone), as_of, deps.zone)
    with deps.read() as uow:
        return counts_at(uow, at, within)


def counts_at(uow: UnitOfWork, at: datetime, within: int | None = None) -> dict[Count, int]:
    return tally(
        uow.worklist.step_counts(at, soon_until(at, within)), uow.worklist.alert_counts(COUNTED_ALERTS)
    )


def line_counts(items: list[WorkItem]) -> dict[Count, int]:
    """The same counts, from the lines of a whole worklist (every open alert stands on a line).

    A booked step still counts by its window (a booking does not make an overdue step less so)."""
    steps: dict[FollowUpStatus, int] = {}
    alerts: dict[str, int] = {}
    for i in items:
        kind = i.status if i.kind == "booked" else i.kind
        if kind in ("overdue", "due", "soon"):
            status = FollowUpStatus.UPCOMING if kind == "soon" else FollowUpStatus(kind)
            steps[status] = steps.get(status, 0) + 1
        if i.kind != "undelivered":
            for _, severity in i.alerts:
                alerts[severity] = alerts.get(severity, 0) + 1
    return tally(steps, alerts)


def _list_instant(now: datetime, today: date, as_of: date | None, zone: tzinfo) -> datetime:
    """The instant a worklist is for: now, or the end of the clinic day asked for."""
    return now if as_of is None or as_of == today else start_of_day(as_of + timedelta(days=1), zone)


def _undelivered(uow: UnitOfWork) -> list[WorkItem]:
    """Notifications that could not be delivered: someone must pass the message on by hand."""
    items = []
    for n in uow.notifications.listing((NotificationStatus.DEAD,)):
        alert = uow.alerts.get(n.alert_id)
        patient = uow.patients.by_id(n.patient_id)
        if alert is None or patient is None or alert.status not in LIVE:
            continue
        items.append(
            WorkItem(
                patient.mrn,
                "undelivered",
                alert.rule,
                f"notification {n.id} by {n.channel} to {n.recipient} failed: {n.last_error}",
                alert.severity,
                alert.message,
                None,
                None,
                0,
                alert.id,
                alert.rule,
            )
        )
    return items


def _days_late(at: datetime, day: date, zone: tzinfo) -> Callable[[datetime], int]:
    """Days past a window's last clinic day, counted on the clinic date the list is for (windows
    share their closing instants, so each is converted to a clinic date once)."""

    @cache
    def late(closes_at: datetime) -> int:
        if at < closes_at:
            return 0
        return (day - local_date(closes_at - timedelta(microseconds=1), zone)).days

    return late


def list_alerts(
    deps: Deps,
    status: str | None = None,
    mrn: str | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> list[tuple[StoredAlert, str]]:
    """Alerts in id order with their MRN; `after`/`limit` page through them by id (keyset)."""
    if status not in (None, "live", "all") and status not in ALL_STATUSES:
        raise InvalidInput(f"--status must be one of live, all, {', '.join(ALL_STATUSES)}")
    statuses: tuple[str, ...] | None = (
        LIVE if status in (None, "live") else (None if status == "all" else (str(status),))
    )
    now = deps.clock.now()
    with deps.read() as uow:
        if mrn is not None:
            mrn = find_patient(uow, mrn, deps.mrn).mrn  # an unknown patient is an error, not an empty list
        rows = uow.alerts.listing(statuses, mrn, after=after, limit=limit)
    if limit is not None:  # a page of the API: id order, so its cursor holds (`by_urgency` after)
        return rows
    return by_urgency(deps, rows, now)


def by_urgency(
    deps: Deps, rows: list[tuple[StoredAlert, str]], now: datetime | None = None
) -> list[tuple[StoredAlert, str]]:
    """Alerts most urgent first (`alert_urgency`)."""
    now = now or deps.clock.now()
    with deps.read() as uow:
        windows = uow.follow_ups.windows({a.follow_up_id for a, _ in rows if a.follow_up_id is not None})
    return sorted(rows, key=lambda r: alert_urgency(r[0], windows, now))


def alert_urgency(
    a: StoredAlert, windows: dict[int, tuple[datetime, datetime, bool]], now: datetime
) -> UrgencyKey:
    """An alert's place in a list: its severity and the window of the step it is about."""
    opens, closes, clock = windows.get(a.follow_up_id or 0, (None, None, False))
    return urgency_key(Urgency(a.severity, clock, opens, closes, a.held), now)


def undelivered_alert_ids(deps: Deps) -> set[int]:
    with deps.read() as uow:
        return {n.alert_id for n in uow.notifications.listing((NotificationStatus.DEAD,))}


def acknowledge(
    deps: Deps,
    alert_id: int,
    by: str,
    note: str | None = None,
    role: str = "coordinator",
    handling: str | None = None,
) -> StoredAlert:
    """Record who saw the alert and who is handling it.

    On a warning or info alert this stops its pending notifications; on a critical alert it
    silences nothing: notifications, renotifications and escalation go on until the step is done
    or a clinician overrides it.
    """
    handler = clean_text(handling, "--handling", 100) if handling is not None else None
    return _act(
        deps,
        alert_id,
        by,
        role,
        AlertAction.ACKNOWLEDGE,
        AlertChange(acted_by=by, note=note),
        note=note,
        data={"handling": handler or by.strip()},
    )


def snooze(
    deps: Deps, alert_id: int, until: date, by: str, note: str, role: str = "coordinator"
) -> StoredAlert:
    """Put a warning or info alert aside until a date (at most `snooze_max_days` ahead); never a
    critical one."""
    now = deps.clock.now()
    today = local_date(now, deps.zone)
    if until <= today:
        raise InvalidInput(f"--until {until} must be a future date")
    longest = deps.pathway.definition.alert_policy.snooze_max_days
    if until > today + timedelta(days=longest):
        raise InvalidInput(
            f"--until {until} is too far: a snooze lasts at most {longest} days (until "
            f"{today + timedelta(days=longest)}); override the alert with a reason instead"
        )
    if not note.strip():
        raise InvalidInput("a snooze needs --note saying why")
    return _act(
        deps,
        alert_id,
        by,
        role,
        AlertAction.SNOOZE,
        AlertChange(snoozed_until=start_of_day(until, deps.zone), acted_by=by, note=note),
        note=note,
    )


def override(
    deps: Deps,
    alert_id: int,
    reason: str,
    note: str,
    by: str,
    role: str = "coordinator",
    until: date | None = None,
) -> StoredAlert:
    """Suppress one alert instance with a reason code (critical alerts need the clinician role)."""
    if reason not in OVERRIDE_REASONS:
        raise InvalidInput(f"--reason must be one of {', '.join(OVERRIDE_REASONS)}")
    if not note.strip():
        raise InvalidInput("an override needs --note with the clinical reasoning")
    now = deps.clock.now()
    if until is not None and until <= local_date(now, deps.zone):
        raise InvalidInput(f"--until {until} must be a future date")
    expiry = start_of_day(until, deps.zone) if until else None
    return _act(
        deps,
        alert_id,
        by,
        role,
        AlertAction.OVERRIDE,
        AlertChange(override_reason=reason, override_until=expiry, acted_by=by, note=note),
        note=note,
        data={"reason": reason, "role": role},
    )


_REFUSED = {"critical": InvalidInput, "role": PermissionDenied, "status": Conflict, "sweep": InvalidInput}


def _act(
    deps: Deps,
    alert_id: int,
    by: str,
    role: str,
    action: AlertAction,
    change: AlertChange,
    note: str | None,
    data: dict[str, object] | None = None,
) -> StoredAlert:
    """Make one move of the alert-status table, compare-and-set, with its audit row."""
    by = clean_text(by, "--by", 100)
    if not by:
        raise InvalidInput("--by needs the name of the person acting")
    if role not in ROLES:
        raise InvalidInput(f"--role must be one of {', '.join(ROLES)}")
    note = clean_text(note, "--note") if note is not None else None
    target = MOVES[action].target
    now = deps.clock.now()
    with deps.uow() as uow:
        alert = uow.alerts.get(alert_id)
        if alert is None:
            raise NotFound(f"no alert {alert_id}; see `pathway alerts`")
        refused = refusal(action, alert.status, alert.severity, role, alert_id)
        if refused is not None:
            raise _REFUSED[refused.reason](refused.message)
        change = replace(change, status=target, updated_at=now)
        if not still_notified(target, alert.severity):  # overridden: no more renotification rounds
            change = replace(change, next_renotify_at=None)
        if not uow.alerts.update(alert_id, alert.status, change):
            raise Conflict(f"alert {alert_id} changed meanwhile; reload and try again")
        uow.alerts.add_action(alert_id, target, by.strip(), now, note, dict(data or {}))
        patient = uow.patients.by_id(alert.patient_id)
        audit.note(
            uow, now, by.strip(), f"alert_{action}", patient.mrn if patient else None, alert_id=alert_id
        )
        hold_behind_urgent(uow, alert.patient_id, now, holdable_keys(deps.pathway.definition))
        updated = uow.alerts.get(alert_id)
        uow.commit()
    assert updated is not None
    return updated


def follow_ups_of(deps: Deps, mrn: str) -> tuple[list[StoredFollowUp], list[StoredAlert]]:
    """A patient's follow-ups, their `status` derived as of now (upcoming / due / overdue, or the
    outcome), and alerts."""
    now = deps.clock.now()
    with deps.read() as uow:
        patient = find_patient(uow, mrn, deps.mrn)
        rows, alerts = uow.follow_ups.for_patient(patient.id), uow.alerts.for_patient(patient.id)
    return [replace(f, status=f.status_at(now)) for f in rows], alerts


def why(deps: Deps, mrn: str, rule_id: str) -> list[Explanation]:
    """Explain a patient's follow-ups of one rule: rule, source, anchor, interval, shifts, pauses."""
    rules = deps.pathway.definition.rules.follow_ups
    rule_id = next((r for r in rules if r.lower() == rule_id.strip().lower()), rule_id)
    rule = rules.get(rule_id)
    if rule is None:
        raise NotFound(f"unknown rule '{rule_id}'; timing rules: {', '.join(rules)}")
    follow_ups, alerts = follow_ups_of(deps, mrn)
    mine = [f for f in follow_ups if f.rule == rule_id]
    if not mine:
        raise NotFound(
            f"patient {mrn} has no {rule_id} follow-up yet: it starts at "
            f"{_anchor_text(rule.anchor.events, rule.anchor.on_entry)} while "
            f"{rule.track} is in {rule.runs_in}"
        )
    latest: dict[str, StoredFollowUp] = {}
    for f in mine:
        latest[f.region] = (
            f if f.region not in latest or f.anchor_at >= latest[f.region].anchor_at else latest[f.region]
        )
    out: list[Explanation] = []
    for fu in latest.values():
        window = Window(fu.opens_at, fu.target_at, fu.closes_at, fu.clock_time)
        levels: list[LevelAt] = []
        if rule.alert is not None:
            for lv in rule.alert.levels:
                levels.append(LevelAt(rule.alert.id, lv.severity, window.level_at(lv, deps.zone)))
        out.append(
            Explanation(
                rule=rule_id,
                step=rule.step,
                region=fu.region or None,
                source=rule.source,
                kind=rule.kind,
                track=rule.track,
                runs_in=definition_states(deps, rule.track, rule.runs_in),
                anchor=fu.anchor_label,
                anchor_at=fu.anchor_at,
                interval=Interval(rule.window.opens, rule.window.target, rule.window.closes, rule.recurring),
                opens_at=fu.opens_at,
                target_at=fu.target_at,
                closes_at=fu.closes_at,
                clock_time=fu.clock_time,
                status=fu.status,
                done_by=(f"all of {' and '.join(rule.done.events)}",)
                if rule.done.all_of
                else tuple(rule.done.events),
                done_at=fu.done_at,
                late_days=fu.late_days,
                early=fu.early,
                cancel_reason=fu.cancel_reason,
                adjustments=tuple(fu.notes or ["none: no calendar shift and no pause"]),
                alert_levels=tuple(levels),
                alerts=tuple(
                    AlertRef(a.id, a.severity, a.status, a.holiday_calendar, a.holidays_version)
                    for a in alerts
                    if a.follow_up_id == fu.id
                ),
            )
        )
    return out


def definition_states(deps: Deps, track: str, runs_in: str | tuple[str, ...]) -> tuple[str, ...]:
    if runs_in == "*":
        return deps.pathway.definition.tracks[track].states
    return (runs_in,) if isinstance(runs_in, str) else runs_in


def _anchor_text(events: tuple[str, ...], on_entry: bool) -> str:
    parts = list(events) + (["entry into the states where it runs"] if on_entry else [])
    return " or ".join(parts)
