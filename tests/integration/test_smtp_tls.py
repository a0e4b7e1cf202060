"""Mail goes over STARTTLS by default (issue 17 item 16): against a real local SMTP server (aiosmtpd)
with a certificate from a test CA (trustme), a message is delivered encrypted; a server that does
not offer STARTTLS, or whose certificate is not trusted, gets nothing unless plain text is set
explicitly (PATHWAY_SMTP_STARTTLS=false), which logs a warning at start."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller

from pathway.adapters.channels import SmtpConfig, send_message
from pathway.bootstrap import build
from pathway.domain.errors import DeliveryFailed
from pathway.settings import load_settings
from tests.integration.notify_fixtures import free_port


class Server:
    """An aiosmtpd server on 127.0.0.1 that records each message and whether it came over TLS."""

    def __init__(self, tls: ssl.SSLContext | None) -> None:
        self.port = free_port()
        self.received: list[tuple[bytes, bool]] = []
        kwargs: dict[str, Any] = {"tls_context": tls, "require_starttls": True} if tls else {}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=10, **kwargs)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((envelope.content, session.ssl is not None))
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def serve(tls: ssl.SSLContext | None) -> Iterator[Server]:
    server = Server(tls)
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[Server]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    yield from serve(context)


@pytest.fixture
def plain_server() -> Iterator[Server]:
    yield from serve(None)


def message() -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = "test", "pathway@localhost", "oncall@example.org"
    msg.set_content("an alert")
    return msg


def test_starttls_is_on_by_default() -> None:
    assert load_settings({}).smtp_starttls is True
    assert SmtpConfig(host="x").starttls is True


def test_mail_is_delivered_over_starttls(tls_server: Server, ca_file: str) -> None:
    send_message(SmtpConfig(host="127.0.0.1", port=tls_server.port, ca_file=ca_file, timeout=5), message())
    assert [encrypted for _, encrypted in tls_server.received] == [True]


def test_a_certificate_from_an_untrusted_ca_is_refused(tls_server: Server) -> None:
    with pytest.raises(DeliveryFailed, match="STARTTLS failed"):
        send_message(SmtpConfig(host="127.0.0.1", port=tls_server.port, timeout=5), message())
    assert tls_server.received == []


def test_a_server_without_starttls_is_refused(plain_server: Server) -> None:
    with pytest.raises(DeliveryFailed, match="does not offer STARTTLS") as refused:
        send_message(SmtpConfig(host="127.0.0.1", port=plain_server.port, timeout=5), message())
    assert "PATHWAY_SMTP_STARTTLS=false" in str(refused.value)
    assert plain_server.received == []


def test_plain_text_only_when_set_explicitly(plain_server: Server) -> None:
    send_message(SmtpConfig(host="127.0.0.1", port=plain_server.port, starttls=False, timeout=5), message())
    assert [encrypted for _, encrypted in plain_server.received] == [False]


def test_plain_text_is_warned_about_at_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    env = {
        "PATHWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
        "PATHWAY_TIMEZONE": "Europe/London",
        "PATHWAY_SMTP_HOST": "127.0.0.1",
    }
    with caplog.at_level(logging.WARNING, logger="pathway.notify"):
        build(env).senders()
        assert not [r for r in caplog.records if "plain text" in r.getMessage()]
        build({**env, "PATHWAY_SMTP_STARTTLS": "false"}).senders()
    assert [r for r in caplog.records if "PATHWAY_SMTP_STARTTLS=false" in r.getMessage()]
