"""Outbox order and leases (issue 17 item 11) on SQLite and PostgreSQL: critical notifications go
first, a slow channel keeps its claims alive, dead notifications can be sent again."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from pathway.domain.model import Notification
from pathway.domain.notify import Route
from pathway.ports import Deps
from pathway.services import alerting, outbox, patients
from pathway.services.outbox import CLAIM_LEASE, dispatch
from tests.fakes import FixedClock
from tests.integration.conftest import ACTOR
from tests.integration.notify_fixtures import POLICY, RecordingSender, no_jitter
from tests.integration.notify_fixtures import outbox as listing

LOG = (Route(channel="log"),)


def warnings_then_criticals(deps: Deps, clock: FixedClock) -> None:
    """Twelve warnings queued first (three overdue MDT decisions), then MSCC criticals a day later."""
    for mrn in ("MRN-1", "MRN-2", "MRN-3"):
        patients.enroll(deps, mrn, histology="sts", on=date(2026, 3, 2))
    clock.advance(days=15)
    alerting.sweep(deps)
    patients.enroll(deps, "MRN-9", histology="sts", on=date(2026, 3, 17))
    patients.record_event(deps, "MRN-9", "neuro_exam", {"finding": "new_deficit"}, actor=ACTOR)
    clock.advance(hours=25)
    alerting.sweep(deps)


def severities(sent: list[Notification]) -> list[str]:
    return [str(n.payload["severity"]) for n in sent]


def test_critical_notifications_are_delivered_before_older_warnings(deps: Deps, clock: FixedClock) -> None:
    deps = replace(deps, routes=LOG)
    warnings_then_criticals(deps, clock)
    queued = severities(listing(deps))
    assert queued.count("critical") >= 3 and queued.index("critical") >= 12  # queued last
    sender = RecordingSender()
    dispatch(deps, {"log": sender}, POLICY, no_jitter, limit=queued.count("critical"))
    assert set(severities(sender.sent)) == {"critical"}
    dispatch(deps, {"log": sender}, POLICY, no_jitter, limit=100)
    assert severities(sender.sent) == sorted(
        severities(sender.sent), key=["critical", "warning", "info"].index
    )


def test_a_slow_channel_renews_its_claims_so_no_second_dispatcher_resends(
    deps: Deps, clock: FixedClock
) -> None:
    deps = replace(deps, routes=LOG)
    warnings_then_criticals(deps, clock)
    second = RecordingSender()

    class Slow(RecordingSender):
        def send(self, notification: Notification) -> None:
            super().send(notification)
            clock.advance(minutes=6)  # each call outlasts half the lease
            dispatch(deps, {"log": second}, POLICY, no_jitter, limit=100)  # another dispatcher's pass

    first = Slow()
    dispatch(deps, {"log": first}, POLICY, no_jitter, limit=5)
    assert len(first.sent) == 5 and 5 * timedelta(minutes=6) > CLAIM_LEASE
    assert not {n.id for n in first.sent} & {n.id for n in second.sent}


def test_dead_notifications_are_requeued_and_sent(deps: Deps, clock: FixedClock) -> None:
    deps = replace(deps, routes=(Route(channel="webhook", to="https://example.org/hook"),))
    patients.enroll(deps, "MRN-1", histology="sts", on=date(2026, 3, 2))
    clock.advance(days=15)
    alerting.sweep(deps)
    dispatch(deps, {}, POLICY, no_jitter)  # the webhook channel is not configured: dead at once
    dead = [n.id for n in listing(deps) if n.status == "dead"]
    assert len(dead) == 4
    assert outbox.requeue(deps, [dead[0], 999999]) == [dead[0]]
    assert sorted(outbox.requeue(deps, None)) == sorted(dead[1:])
    assert outbox.requeue(deps, None) == []
    assert {(n.status, n.attempts) for n in listing(deps)} == {("pending", 0)}
    sender = RecordingSender()
    dispatch(deps, {"webhook": sender}, POLICY, no_jitter)
    assert sorted(n.id for n in sender.sent) == sorted(dead)
