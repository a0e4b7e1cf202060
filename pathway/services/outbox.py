"""Deliver the outbox: claim, re-check the alert, send, record the attempt; retry or give up."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from pathway.domain.alert_status import still_notified
from pathway.domain.errors import DeliveryFailed
from pathway.domain.model import Notification
from pathway.domain.notify import RetryPolicy, text_body
from pathway.domain.records import DeliveryOutcome, NotificationStatus
from pathway.ports import Deps, Mailer, Sender

CLAIM_LEASE = timedelta(minutes=10)  # a claim older than this belongs to a dispatcher that died
HEARTBEAT = timedelta(minutes=1)  # renew the claims of a pass this often, well inside the lease
HELD_DELAY = timedelta(minutes=5)
_PENDING, _SENDING, _SENT = NotificationStatus.PENDING, NotificationStatus.SENDING, NotificationStatus.SENT
_DEAD, _CANCELLED, _DIGEST = NotificationStatus.DEAD, NotificationStatus.CANCELLED, NotificationStatus.DIGEST


@dataclass
class Dispatched:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    cancelled: int = 0
    deferred: int = 0
    released: int = 0
    lines: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def dispatch(
    deps: Deps,
    senders: Mapping[str, Sender],
    policy: RetryPolicy,
    jitter: Callable[[], float],
    limit: int = 100,
) -> Dispatched:
    """One pass over the due notifications; the clock is read once.

    A notification whose alert no longer asks for it (resolved because the step was recorded,
    overridden, or a warning or info alert acknowledged; see `still_notified`) is cancelled
    unsent; one whose alert is held behind an urgent alert waits. A crash between send and record
    leaves the row `sending`; after the lease it is sent again with the same idempotency key,
    which receivers use to drop the duplicate.
    """
    now = deps.clock.now()
    report = Dispatched()
    with deps.uow() as uow:
        report.released = uow.notifications.release_stale(now - CLAIM_LEASE)
        claimed = uow.notifications.claim_due(now, limit)
        uow.commit()
    renewed = now
    for i, n in enumerate(claimed):
        at = deps.clock.now()
        if at - renewed >= HEARTBEAT:  # a slow channel must not let the lease lapse on the rest
            with deps.uow() as uow:
                uow.notifications.renew_claims([c.id for c in claimed[i:]], at)
                uow.commit()
            renewed = at
        _deliver(deps, senders, policy, jitter, n, report)
    return report


def requeue(deps: Deps, notification_ids: list[int] | None) -> list[int]:
    """Dead notifications (these, or all with None) go back to pending with fresh attempts."""
    with deps.uow() as uow:
        ids = uow.notifications.requeue_dead(notification_ids, deps.clock.now())
        uow.commit()
    return ids


def _deliver(
    deps: Deps,
    senders: Mapping[str, Sender],
    policy: RetryPolicy,
    jitter: Callable[[], float],
    n: Notification,
    report: Dispatched,
) -> None:
    now = deps.clock.now()
    with deps.uow() as uow:
        alert = uow.alerts.get(n.alert_id)
        if alert is None or not still_notified(alert.status, alert.severity):
            why = f"alert is {alert.status if alert else 'gone'}; not sent"
            uow.notifications.finish(n.id, _SENDING, DeliveryOutcome(_CANCELLED, last_error=why))
            uow.notifications.attempt(n.id, now, _CANCELLED, why)
            uow.commit()
            report.cancelled += 1
            report.lines.append(f"notification {n.id}: cancelled ({why})")
            return
        if alert.held:
            uow.notifications.finish(
                n.id,
                _SENDING,
                DeliveryOutcome(_PENDING, claimed_at=None, next_attempt_at=now + HELD_DELAY),
            )
            uow.commit()
            report.deferred += 1
            return
    sender = senders.get(n.channel)
    error: DeliveryFailed | None = None
    try:
        if sender is None:
            raise DeliveryFailed(f"channel '{n.channel}' is not configured", permanent=True)
        sender.send(n)
    except DeliveryFailed as exc:
        error = exc
    except Exception as exc:  # a channel bug must not kill the dispatcher; retry it
        error = DeliveryFailed(f"{type(exc).__name__}: {exc}")
    _record(deps, policy, jitter, n, error, report)


def _record(
    deps: Deps,
    policy: RetryPolicy,
    jitter: Callable[[], float],
    n: Notification,
    error: DeliveryFailed | None,
    report: Dispatched,
) -> None:
    now = deps.clock.now()
    attempts = n.attempts + 1
    with deps.uow() as uow:
        if error is None:
            uow.notifications.finish(
                n.id, _SENDING, DeliveryOutcome(_SENT, sent_at=now, attempts=attempts, last_error=None)
            )
            uow.notifications.attempt(n.id, now, _SENT, None)
            report.sent += 1
            report.lines.append(f"notification {n.id}: sent by {n.channel} to {n.recipient}")
        elif error.permanent or attempts >= policy.max_attempts:
            uow.notifications.finish(
                n.id, _SENDING, DeliveryOutcome(_DEAD, attempts=attempts, last_error=str(error))
            )
            uow.notifications.attempt(n.id, now, _DEAD, str(error))
            report.dead += 1
            report.lines.append(f"notification {n.id}: dead after {attempts} attempt(s): {error}")
        else:
            retry_at = now + policy.next_delay(attempts, jitter())
            uow.notifications.finish(
                n.id,
                _SENDING,
                DeliveryOutcome(
                    _PENDING,
                    attempts=attempts,
                    last_error=str(error),
                    claimed_at=None,
                    next_attempt_at=retry_at,
                ),
            )
            uow.notifications.attempt(n.id, now, "retry", str(error))
            report.retried += 1
            report.lines.append(f"notification {n.id}: retry at {retry_at:%H:%M:%S} ({error})")
        uow.commit()


def send_digests(deps: Deps, mailer: Mailer | None, senders: Mapping[str, Sender]) -> int:
    """Bundle the digest notifications (info alerts) into one message per recipient; once a day."""
    now = deps.clock.now()
    with deps.read() as uow:
        waiting = uow.notifications.listing((_DIGEST,))
        open_ids = {
            n.alert_id
            for n in waiting
            if (a := uow.alerts.get(n.alert_id)) is not None and still_notified(a.status, a.severity)
        }
    by_recipient: dict[tuple[str, str], list[Notification]] = {}
    for n in waiting:
        by_recipient.setdefault((n.channel, n.recipient), []).append(n)
    sent = 0
    for (channel, recipient), items in by_recipient.items():
        live = [n for n in items if n.alert_id in open_ids]
        error = None
        if live:
            try:
                if channel == "email" and mailer is not None:
                    mailer.send_mail(
                        (recipient,),
                        f"[INFO] {len(live)} alert(s) in today's digest",
                        "\n\n".join(text_body(n.payload) for n in live),
                        None,
                    )
                else:
                    for n in live:
                        senders[channel].send(n)
            except DeliveryFailed as exc:
                error = str(exc)
        with deps.uow() as uow:
            for n in items:
                status = _CANCELLED if n.alert_id not in open_ids else (_DIGEST if error else _SENT)
                if status != _DIGEST:
                    uow.notifications.finish(
                        n.id, _DIGEST, DeliveryOutcome(status, sent_at=now, attempts=n.attempts + 1)
                    )
                uow.notifications.attempt(n.id, now, "digest-error" if error else status, error)
            uow.commit()
        sent += 0 if error else len(live)
    return sent
