"""Signed webhook delivery against a real local HTTP receiver: retries, dead letters, crash recovery."""

from __future__ import annotations

import base64
import gc
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest
from freezegun import freeze_time
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from typer.testing import CliRunner

from pathway import bootstrap
from pathway.adapters.channels import WebhookSender
from pathway.bootstrap import App
from pathway.cli import common
from pathway.cli.app import app as cli_app
from pathway.domain.notify import Route
from pathway.ports import Deps
from pathway.services.outbox import dispatch
from tests.fakes import FixedClock
from tests.integration.notify_fixtures import (
    POLICY,
    SECRET,
    Received,
    WebhookReceiver,
    attempts,
    free_port,
    mdt_overdue,
    no_jitter,
    only_notification,
)

# WebhookSender.send does not close the HTTPError response of a non-2xx answer (see the test
# test_a_webhook_error_answer_leaves_no_connection_open, which fails until it does): the socket
# lingers until the garbage collector finds it and then warns. Tests that get error answers
# collect it themselves, inside their own teardown, and ignore that warning, so that it cannot
# turn up in whatever test happens to run when the collector does.
LEAKS_ERROR_RESPONSES = pytest.mark.filterwarnings("ignore:unclosed <socket:ResourceWarning")

CLI_ENV_UNSET = (
    "PATHWAY_CONFIG",
    "PATHWAY_NOTIFY",
    "PATHWAY_ACTOR",
    "PATHWAY_PATHWAY_FILE",
    "PATHWAY_HOLIDAYS",
    "PATHWAY_DEBUG",
    "PATHWAY_WEBHOOK_SECRET",
    "PATHWAY_SMTP_HOST",
)


def webhook_deps(deps: Deps, url: str) -> Deps:
    return replace(deps, routes=(Route(channel="webhook", to=url, tracks=("main",)),))


def senders() -> dict[str, WebhookSender]:
    return {"webhook": WebhookSender(SECRET, timeout=5)}


class Pathway(Protocol):
    def __call__(self, *args: str) -> str: ...


@pytest.fixture
def pathway(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pathway]:
    """The `pathway` command in-process on the test database; returns stdout of a clean exit."""
    env: dict[str, str | None] = {
        "PATHWAY_DATABASE_URL": database_url,
        "PATHWAY_TIMEZONE": "Europe/London",
        **dict.fromkeys(CLI_ENV_UNSET),
    }
    built: list[App] = []

    def build_and_keep(*args: Any, **kwargs: Any) -> App:
        built.append(bootstrap.build(*args, **kwargs))
        return built[-1]

    monkeypatch.setattr(common, "build", build_and_keep)  # so its engine can be disposed after
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(cli_app, list(args), env=env)
        assert result.exit_code == 0, (result.output, result.exception)
        return result.stdout

    yield run
    for app in built:
        app.engine.dispose()


def signed_correctly(request: Received) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.headers["X-Pathway-Signature"], expected)


@LEAKS_ERROR_RESPONSES
def test_a_webhook_answering_500_twice_then_200_gets_three_signed_posts_with_one_key(
    deps: Deps, clock: FixedClock, receiver: WebhookReceiver
) -> None:
    deps = webhook_deps(deps, receiver.url)
    mdt_overdue(deps, clock)
    receiver.script = [500, 500, 200]

    outcomes = []
    for _ in range(3):
        result = dispatch(deps, senders(), POLICY, no_jitter)
        outcomes.append((result.sent, result.retried))
        clock.current = only_notification(deps).next_attempt_at + timedelta(seconds=1)

    assert outcomes == [(0, 1), (0, 1), (1, 0)]
    notification = only_notification(deps)
    assert (notification.status, notification.attempts) == ("sent", 3)
    assert [o for _, o, _ in attempts(deps, notification.id)] == ["retry", "retry", "sent"]
    assert len(receiver.requests) == 3
    assert {r.headers["Idempotency-Key"] for r in receiver.requests} == {notification.idempotency_key}
    assert all(signed_correctly(r) for r in receiver.requests)
    body = json.loads(receiver.requests[0].body)
    assert body["idempotency_key"] == notification.idempotency_key
    assert (body["rule"], body["severity"]) == ("A48", "warning")
    assert receiver.requests[0].headers["Content-Type"] == "application/json"


def test_a_tampered_body_does_not_match_the_signature(
    deps: Deps, clock: FixedClock, receiver: WebhookReceiver
) -> None:
    deps = webhook_deps(deps, receiver.url)
    mdt_overdue(deps, clock)
    dispatch(deps, senders(), POLICY, no_jitter)

    [request] = receiver.requests
    tampered = Received(request.headers, request.body.replace(b"A48", b"A49"))
    assert signed_correctly(request) and not signed_correctly(tampered)


@LEAKS_ERROR_RESPONSES
def test_a_webhook_answering_400_is_dead_after_one_attempt_and_listed_as_dead(
    deps: Deps, clock: FixedClock, receiver: WebhookReceiver, pathway: Pathway
) -> None:
    deps = webhook_deps(deps, receiver.url)
    mdt_overdue(deps, clock)
    receiver.script = [400]

    result = dispatch(deps, senders(), POLICY, no_jitter)
    clock.advance(days=1)
    later = dispatch(deps, senders(), POLICY, no_jitter)

    dead = only_notification(deps)
    assert (result.dead, later.sent + later.retried + later.dead) == (1, 0)
    assert (dead.status, dead.attempts, dead.last_error) == ("dead", 1, "webhook answered HTTP 400")
    assert [o for _, o, _ in attempts(deps, dead.id)] == ["dead"]
    assert len(receiver.requests) == 1

    listed = json.loads(pathway("notifications", "--status", "dead", "--json"))
    assert [(r["id"], r["status"], r["channel"], r["attempts"]) for r in listed] == [
        (dead.id, "dead", "webhook", 1)
    ]
    assert [h["outcome"] for h in listed[0]["history"]] == ["dead"]
    assert json.loads(pathway("notifications", "--status", "sent", "--json")) == []
    table = pathway("notifications", "--status", "dead")
    assert "dead" in table and "1 notification(s)" in table


def test_an_unreachable_webhook_backs_off_and_is_dead_after_max_attempts(
    deps: Deps, clock: FixedClock
) -> None:
    deps = webhook_deps(deps, f"http://127.0.0.1:{free_port()}/hooks/pathway")  # nobody listens
    mdt_overdue(deps, clock)

    delays = []
    for attempt in range(1, POLICY.max_attempts):
        result = dispatch(deps, senders(), POLICY, no_jitter)
        waiting = only_notification(deps)
        assert (result.retried, waiting.status, waiting.attempts) == (1, "pending", attempt)
        assert waiting.last_error is not None and "unreachable" in waiting.last_error
        delays.append(waiting.next_attempt_at - clock.now())
        clock.advance(seconds=delays[-1].total_seconds() - 1)
        assert dispatch(deps, senders(), POLICY, no_jitter).retried == 0  # one second early
        clock.advance(seconds=1)

    final = dispatch(deps, senders(), POLICY, no_jitter)

    assert delays == [timedelta(seconds=s) for s in (60, 120, 240)]  # base 60 s, doubling
    dead = only_notification(deps)
    assert (final.dead, dead.status, dead.attempts) == (1, "dead", POLICY.max_attempts)
    assert [o for _, o, _ in attempts(deps, dead.id)] == ["retry"] * 3 + ["dead"]


@pytest.mark.parametrize("jitter", [0.0, 0.999])
def test_the_backoff_jitter_stays_within_twenty_percent(deps: Deps, clock: FixedClock, jitter: float) -> None:
    deps = webhook_deps(deps, f"http://127.0.0.1:{free_port()}/hooks/pathway")
    mdt_overdue(deps, clock)

    dispatch(deps, senders(), POLICY, lambda: jitter)

    delay = (only_notification(deps).next_attempt_at - clock.now()).total_seconds()
    assert 48 <= delay <= 72 and delay == pytest.approx(60 * (0.8 + 0.4 * jitter))


def test_a_dispatcher_that_died_after_sending_is_relieved_and_the_resend_keeps_the_key(
    deps: Deps, clock: FixedClock, receiver: WebhookReceiver
) -> None:
    deps = webhook_deps(deps, receiver.url)
    mdt_overdue(deps, clock)
    with deps.uow() as uow:  # the dying dispatcher: claims, sends, then never records
        [claimed] = uow.notifications.claim_due(clock.now(), 10)
        uow.commit()
    senders()["webhook"].send(claimed)
    assert only_notification(deps).status == "sending"

    clock.advance(minutes=5)
    within_lease = dispatch(deps, senders(), POLICY, no_jitter)
    clock.advance(minutes=6)  # 11 minutes after the claim: past CLAIM_LEASE
    after_lease = dispatch(deps, senders(), POLICY, no_jitter)

    assert (within_lease.released, within_lease.sent) == (0, 0)
    assert (after_lease.released, after_lease.sent) == (1, 1)
    notification = only_notification(deps)
    assert notification.status == "sent"
    keys = [r.headers["Idempotency-Key"] for r in receiver.requests]
    assert keys == [claimed.idempotency_key] * 2  # the receiver drops the second by its key
    assert receiver.requests[0].body == receiver.requests[1].body


def open_connections_to(port: int) -> int:
    """This host's client sockets to `port` that are not closed yet (ESTABLISHED or CLOSE_WAIT)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[2].split(":")[1], 16) == port and fields[3] in ("01", "08"):
            count += 1
    return count


@contextmanager
def garbage_collector_paused() -> Iterator[None]:
    """Without the collector, a leaked socket stays open where the test can see it."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@LEAKS_ERROR_RESPONSES
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_webhook_error_answer_leaves_no_connection_open(
    deps: Deps, clock: FixedClock, receiver: WebhookReceiver
) -> None:
    deps = webhook_deps(deps, receiver.url)
    mdt_overdue(deps, clock)
    receiver.script = [500]
    port = int(receiver.server.server_address[1])

    with garbage_collector_paused():
        assert dispatch(deps, senders(), POLICY, no_jitter).retried == 1
        deadline = time.monotonic() + 2
        while open_connections_to(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        still_open = open_connections_to(port)

    assert still_open == 0, "the HTTP 500 response (HTTPError) was never closed"


STANDARD_SECRET = "whsec_" + base64.b64encode(b"a receiver's shared secret, 32 b").decode()


@pytest.mark.parametrize("secret", [STANDARD_SECRET, SECRET])
def test_every_post_verifies_with_the_standard_webhooks_library_and_a_tampered_one_does_not(
    deps: Deps, clock: FixedClock, receiver: WebhookReceiver, secret: str
) -> None:
    deps = webhook_deps(deps, receiver.url)
    mdt_overdue(deps, clock)
    receiver.script = [500, 200]

    with freeze_time(clock.current) as frozen:
        for _ in range(2):
            dispatch(deps, {"webhook": WebhookSender(secret, timeout=5, clock=clock)}, POLICY, no_jitter)
            clock.current = only_notification(deps).next_attempt_at + timedelta(seconds=1)
            frozen.move_to(clock.current)

    notification = only_notification(deps)
    assert notification.status == "sent"
    first, second = receiver.requests
    verifier = Webhook(secret) if secret.startswith("whsec_") else Webhook(secret.encode())
    first_headers, second_headers = ({k.lower(): v for k, v in r.headers.items()} for r in (first, second))
    for request, headers in ((first, first_headers), (second, second_headers)):
        stamp = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
        with freeze_time(stamp):
            payload = verifier.verify(request.body, request.headers)
            assert payload["idempotency_key"] == notification.idempotency_key
            with pytest.raises(WebhookVerificationError):
                verifier.verify(request.body.replace(b"A48", b"A49"), request.headers)
        with freeze_time(stamp + timedelta(minutes=6)), pytest.raises(WebhookVerificationError):
            verifier.verify(request.body, request.headers)  # a replay after the tolerance
    assert first_headers["webhook-id"] == second_headers["webhook-id"] == notification.idempotency_key
    assert int(first_headers["webhook-timestamp"]) < int(second_headers["webhook-timestamp"])


@LEAKS_ERROR_RESPONSES
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failure_with_its_reason_and_is_never_followed(
    deps: Deps, clock: FixedClock, receiver: WebhookReceiver, status: int
) -> None:
    deps = webhook_deps(deps, receiver.url)
    mdt_overdue(deps, clock)
    receiver.script = [status]

    result = dispatch(deps, senders(), POLICY, no_jitter)

    assert (result.sent, result.dead) == (0, 1)
    notification = only_notification(deps)
    assert notification.status == "dead"
    assert f"HTTP {status}" in str(notification.last_error)
    assert "redirect" in str(notification.last_error) and "/login" in str(notification.last_error)
    assert receiver.gets == [] and len(receiver.requests) == 1
    gc.collect()
