"""Real local receivers for the notification tests: an SMTP sink (aiosmtpd) and a webhook endpoint.

Both listen on 127.0.0.1 only, on a free port, and are stopped by the fixtures in conftest.py.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from pathway.domain.model import Notification
from pathway.domain.notify import RetryPolicy
from pathway.ports import Deps
from pathway.services import alerting, patients
from tests.fakes import FixedClock

POLICY = RetryPolicy(base_seconds=60, cap_seconds=3600, max_attempts=4)
SECRET = "s3cret-for-tests"


def no_jitter() -> float:
    """0.5 in [0, 1) is the middle of the +/-20% jitter band: the delay is exactly the backoff."""
    return 0.5


def free_port() -> int:
    """A port nothing listens on right now (bound, read and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpSink:
    """An aiosmtpd server that keeps every envelope; start() and stop() may be called at will."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.envelopes: list[Any] = []
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """A threaded HTTP server answering POSTs with scripted status codes (then 200).

    A scripted 3xx redirects to /login, which answers a GET with 200 (a sign-in page); GETs are
    kept in `gets`.
    """

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.gets: list[str] = []
        self.script: list[int] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.requests.append(Received(dict(self.headers.items()), body))
                    status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/login")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                with receiver._lock:
                    receiver.gets.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/pathway"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class RecordingSender:
    """A channel that remembers what it delivered (optionally slowly, to overlap dispatchers)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.sent: list[Notification] = []
        self.threads: list[str] = []
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> None:
        if self.delay:
            threading.Event().wait(self.delay)
        with self._lock:
            self.sent.append(notification)
            self.threads.append(threading.current_thread().name)

    @property
    def rules(self) -> list[str]:
        return [str(n.payload["rule"]) for n in self.sent]


def outbox(deps: Deps) -> list[Notification]:
    with deps.uow() as uow:
        return uow.notifications.listing(None)


def only_notification(deps: Deps) -> Notification:
    [notification] = outbox(deps)
    return notification


def attempts(deps: Deps, notification_id: int) -> list[tuple[datetime, str, str | None]]:
    with deps.uow() as uow:
        return uow.notifications.attempts_of(notification_id)


def mdt_overdue(deps: Deps, clock: FixedClock, name: str | None = None) -> None:
    """MRN-1 enrolled today (2026-03-02) and swept 15 days later: the MDT decision is overdue.

    Four warnings open (A48 main, A47 mscc, A17 pain, A28 bone); A48 is the only main-track one.
    """
    patients.enroll(deps, "MRN-1", name=name, histology="sts", on=date(2026, 3, 2))
    clock.advance(days=15)
    alerting.sweep(deps)
