"""The notification outbox on SQLite and PostgreSQL: routing, SMTP delivery, cancel, hold, races."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy import Engine, text

from pathway.adapters.channels import EmailSender, SmtpConfig
from pathway.domain.notify import Route
from pathway.ports import Deps, NotificationRepository, UnitOfWork
from pathway.services import alerting, patients
from pathway.services.outbox import HELD_DELAY, dispatch
from tests.fakes import FixedClock
from tests.integration.conftest import ACTOR
from tests.integration.notify_fixtures import (
    POLICY,
    RecordingSender,
    SmtpSink,
    attempts,
    mdt_overdue,
    no_jitter,
    only_notification,
    outbox,
)

ONCALL = Route(channel="email", to="oncall@x.org", min_severity="warning")
PAGER = Route(channel="log", min_severity="critical")
PAIN_HOOK = Route(channel="webhook", to="https://pain.example.org/hook", tracks=("pain",))
DIGEST = Route(channel="email", to="digest@x.org", max_severity="info", digest=True)
MDT = Route(channel="email", to="mdt@x.org", max_severity="warning", tracks=("main", "mscc"))
ROUTES = (ONCALL, PAGER, PAIN_HOOK, DIGEST, MDT)
MAIN_EMAIL = Route(channel="email", to="oncall@x.org", tracks=("main",))


def table_count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def new_deficit_then_a_day(deps: Deps, clock: FixedClock) -> None:
    """A new neurological deficit with nothing done for 25 h: A01, A02, A04 (critical, urgent)."""
    patients.record_event(deps, "MRN-1", "neuro_exam", {"finding": "new_deficit"}, actor=ACTOR)
    clock.advance(hours=25)
    alerting.sweep(deps)


def test_each_alert_is_written_with_one_notification_per_matching_route(
    deps: Deps, clock: FixedClock
) -> None:
    deps = replace(deps, routes=ROUTES)
    patients.enroll(deps, "MRN-1", histology="sts", on=date(2026, 2, 1))  # 29 days ago
    new_deficit_then_a_day(deps, clock)

    with deps.uow() as uow:
        alerts = {a.id: a.rule for a in uow.alerts.for_patient(1)}
    routed: dict[str, set[tuple[str, str, str]]] = {}
    for n in outbox(deps):
        routed.setdefault(alerts[n.alert_id], set()).add((n.channel, n.recipient, n.status))
    pending = "pending"
    assert routed == {
        "A47": {("email", "oncall@x.org", pending), ("email", "mdt@x.org", pending)},  # mscc warning
        "A17": {("email", "oncall@x.org", pending), ("webhook", PAIN_HOOK.to, pending)},  # pain
        "A48": {("email", "oncall@x.org", pending), ("email", "mdt@x.org", pending)},  # main
        "A28": {("email", "oncall@x.org", pending)},  # bone warning
        "A21": {("email", "digest@x.org", "digest")},  # info: only the digest route
        **{
            rule: {("email", "oncall@x.org", pending), ("log", "log", pending)}
            for rule in ("A01", "A02", "A04")
        },  # critical: never the warning-only MDT route
    }
    assert len(outbox(deps)) == sum(len(v) for v in routed.values()) == 14
    assert len({n.idempotency_key for n in outbox(deps)}) == 14


class _BrokenOutbox:
    """Every write to the outbox (add, add_many, ...) fails; reads go to the real repository."""

    def __init__(self, inner: NotificationRepository) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        if name.startswith("add"):

            def fail(*args: Any, **kwargs: Any) -> None:
                raise RuntimeError("outbox write failed")

            return fail
        return getattr(self.inner, name)


class _BrokenSetOutbox:
    """The set-based sweep writes its outbox rows in the statements that insert the alerts: its
    outbox write fails after the alert rows are in (the transaction must take them back)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def raise_due(self, *args: Any) -> Any:
        self.inner.raise_due(*args)
        raise RuntimeError("outbox write failed")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _OutboxFails:
    """A unit of work whose notification writes fail (after the alert row is inserted)."""

    def __init__(self, deps: Deps, read_only: bool = False) -> None:
        self.real = deps.uow(read_only)

    def __enter__(self) -> UnitOfWork:
        uow = self.real.__enter__()
        uow.notifications = _BrokenOutbox(uow.notifications)  # type: ignore[assignment]
        if uow.sweep_writes is not None:
            uow.sweep_writes = _BrokenSetOutbox(uow.sweep_writes)
        return uow

    def __exit__(self, *exc: Any) -> None:
        self.real.__exit__(*exc)


def test_an_alert_is_not_written_when_its_notifications_cannot_be(
    deps: Deps, clock: FixedClock, engine: Engine
) -> None:
    deps = replace(deps, routes=(MAIN_EMAIL,))
    patients.enroll(deps, "MRN-1", histology="sts", on=date(2026, 3, 2))
    clock.advance(days=15)

    with pytest.raises(RuntimeError, match="outbox write failed"):
        alerting.sweep(replace(deps, uow=lambda read_only=False: _OutboxFails(deps, read_only)))
    assert (table_count(engine, "alert"), table_count(engine, "notification")) == (0, 0)

    alerting.sweep(deps)
    assert table_count(engine, "alert") == 4
    [notification] = outbox(deps)
    assert notification.payload["rule"] == "A48" and notification.status == "pending"


def parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


def test_an_email_raised_while_smtp_is_down_is_retried_then_delivered_exactly_once(
    deps: Deps, clock: FixedClock, smtp_sink: SmtpSink
) -> None:
    deps = replace(deps, routes=(MAIN_EMAIL,))
    senders = {
        "email": EmailSender(SmtpConfig(host="127.0.0.1", port=smtp_sink.port, starttls=False, timeout=5))
    }
    mdt_overdue(deps, clock, name="Jane Doe")

    down = dispatch(deps, senders, POLICY, no_jitter)
    waiting = only_notification(deps)
    [(_, outcome, error)] = attempts(deps, waiting.id)
    assert (down.retried, down.sent, waiting.status, waiting.attempts) == (1, 0, "pending", 1)
    assert outcome == "retry" and error is not None and "SMTP server unreachable" in error
    assert waiting.next_attempt_at == clock.now() + timedelta(seconds=60)

    smtp_sink.start()
    assert dispatch(deps, senders, POLICY, no_jitter).sent == 0  # not due yet
    clock.current = waiting.next_attempt_at + timedelta(seconds=1)
    assert dispatch(deps, senders, POLICY, no_jitter).sent == 1
    clock.advance(hours=2)
    again = dispatch(deps, senders, POLICY, no_jitter)

    assert (again.sent, again.retried, len(smtp_sink.envelopes)) == (0, 0, 1)
    delivered = only_notification(deps)
    assert (delivered.status, delivered.attempts) == ("sent", 2)
    assert [o for _, o, _ in attempts(deps, delivered.id)] == ["retry", "sent"]
    envelope = smtp_sink.envelopes[0]
    assert envelope.rcpt_tos == ["oncall@x.org"]
    raw = bytes(envelope.content)
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"].startswith("[WARNING] A48 MDT decision overdue")
    assert message["X-Pathway-Idempotency-Key"] == delivered.idempotency_key
    body = parts(message)
    assert set(body) == {"text/plain", "text/html"}
    assert "A48" in body["text/plain"] and "A48" in body["text/html"]
    for secret in (b"MRN-1", b"Jane Doe", b"Jane", b"Doe"):
        assert secret not in raw, secret


def test_an_alert_resolved_before_its_notification_went_out_is_cancelled_unsent(
    deps: Deps, clock: FixedClock
) -> None:
    deps = replace(deps, routes=(MAIN_EMAIL,))
    mdt_overdue(deps, clock)
    patients.record_event(
        deps, "MRN-1", "mdt_decision", {"resectability": "resectable", "plan": "surgery"}, actor=ACTOR
    )
    sender = RecordingSender()

    result = dispatch(deps, {"email": sender}, POLICY, no_jitter)

    cancelled = only_notification(deps)
    assert (result.sent, result.cancelled, sender.sent) == (0, 1, [])
    assert cancelled.status == "cancelled" and cancelled.sent_at is None
    assert [o for _, o, _ in attempts(deps, cancelled.id)] == ["cancelled"]
    assert dispatch(deps, {"email": sender}, POLICY, no_jitter).cancelled == 0


def test_a_pain_alert_is_not_held_behind_an_urgent_mscc_alert(deps: Deps, clock: FixedClock) -> None:
    deps = replace(deps, routes=(Route(channel="log"),))
    patients.enroll(deps, "MRN-1", histology="sts", on=date(2026, 2, 20))  # A47, A17 warnings
    new_deficit_then_a_day(deps, clock)  # A47 resolved by the exam; A01, A02, A04 critical
    sender = RecordingSender()

    result = dispatch(deps, {"log": sender}, POLICY, no_jitter)

    assert sorted(sender.rules) == ["A01", "A02", "A04", "A17"]
    assert (result.sent, result.cancelled, result.deferred) == (4, 1, 0)


def test_sacral_imaging_waits_while_an_urgent_mscc_alert_is_live(deps: Deps, clock: FixedClock) -> None:
    deps = replace(deps, routes=(Route(channel="log"),))
    patients.enroll(deps, "MRN-1", histology="sts", on=date(2025, 10, 1))
    for day, event, fields in [
        (date(2025, 10, 5), "mdt_decision", {"resectability": "unresectable", "plan": "definitive_rt"}),
        (date(2025, 10, 10), "rt_started", {}),
        (date(2025, 11, 20), "rt_completed", {}),  # response imaging overdue since February
        (date(2026, 2, 28), "imaging_done", {"region": "chest", "modality": "CT"}),
    ]:
        patients.record_event(deps, "MRN-1", event, fields, on=day, actor=ACTOR)
    new_deficit_then_a_day(deps, clock)
    sender = RecordingSender()

    result = dispatch(deps, {"log": sender}, POLICY, no_jitter)

    assert "A10" not in sender.rules and {"A01", "A02", "A04"} <= set(sender.rules)
    assert result.deferred == 1
    [a10] = [n for n in outbox(deps) if n.payload["rule"] == "A10" and n.status == "pending"]
    assert "pelvis_sacrum" in str(a10.payload["message"]) and a10.attempts == 0
    assert a10.next_attempt_at == clock.now() + HELD_DELAY

    for event, fields in [
        ("mscc_escalated", {"contact": "mscc_coordinator"}),
        ("mri_whole_spine_done", {"compression": "no"}),
        ("dexamethasone_started", {"dose_mg_per_day": "16", "indication": "mscc_neuro"}),
    ]:
        patients.record_event(deps, "MRN-1", event, fields, actor=ACTOR)
    clock.advance(minutes=6)
    dispatch(deps, {"log": sender}, POLICY, no_jitter)
    assert "A10" in sender.rules


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_dispatchers_at_once_send_each_notification_once(deps: Deps, clock: FixedClock) -> None:
    deps = replace(deps, routes=(Route(channel="log"),))
    for mrn in ("MRN-1", "MRN-2", "MRN-3"):
        patients.enroll(deps, mrn, histology="sts", on=date(2026, 3, 2))
    clock.advance(days=15)
    alerting.sweep(deps)  # four warnings each
    sender = RecordingSender(delay=0.2)
    start = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def dispatcher() -> None:
        try:
            start.wait()
            for _ in range(20):
                if not dispatch(deps, {"log": sender}, POLICY, no_jitter, limit=3).sent:
                    return
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher, name=f"dispatcher-{i}") for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors and not any(t.is_alive() for t in threads)
    ids = [n.id for n in outbox(deps)]
    assert len(ids) == 12
    assert Counter(n.id for n in sender.sent) == dict.fromkeys(ids, 1)
    assert {n.status for n in outbox(deps)} == {"sent"}
    assert set(sender.threads) == {"dispatcher-0", "dispatcher-1"}  # they really overlapped
