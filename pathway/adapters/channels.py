"""Notification channels: a structured log line, email over SMTP, and a signed webhook."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from pathway.domain.errors import DeliveryFailed
from pathway.domain.model import Notification
from pathway.domain.notify import subject, text_body

log = logging.getLogger("pathway.notify")
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"])
)


class LogSender:
    """One structured line per notification; internal patient id only, never names or MRNs."""

    def send(self, notification: Notification) -> None:
        p = notification.payload
        log.warning(
            "notification id=%s key=%s alert=%s rule=%s severity=%s patient=%s track=%s message=%s",
            notification.id,
            notification.idempotency_key,
            p["alert_id"],
            p["rule"],
            p["severity"],
            p["patient_id"],
            p.get("track"),
            json.dumps(p["message"]),
        )


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "pathway@localhost"
    timeout: float = 10.0


class EmailSender:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def send_mail(self, to: tuple[str, ...], subject: str, text: str, html: str | None) -> None:
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["To"] = subject, self.config.sender, ", ".join(to)
        msg.set_content(text)
        if html:
            msg.add_alternative(html, subtype="html")
        send_message(self.config, msg)

    def send(self, notification: Notification) -> None:
        msg = build_email(
            notification.payload, notification.recipient, self.config.sender, notification.idempotency_key
        )
        send_message(self.config, msg)


def build_email(payload: dict[str, object], to: str, sender: str, key: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject(payload)
    msg["From"] = sender
    msg["To"] = to
    msg["Message-ID"] = make_msgid(idstring=key.replace("@", "-"), domain="pathway.local")
    msg["X-Pathway-Idempotency-Key"] = key
    msg.set_content(text_body(payload))
    msg.add_alternative(_TEMPLATES.get_template("alert_email.html").render(p=payload), subtype="html")
    return msg


def send_message(config: SmtpConfig, msg: EmailMessage) -> None:
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryFailed(f"SMTP refused the recipient: {exc.recipients}", permanent=True) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryFailed(f"SMTP authentication failed ({exc.smtp_code})", permanent=True) from None
    except smtplib.SMTPResponseException as exc:
        permanent = 500 <= exc.smtp_code < 600
        raise DeliveryFailed(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"SMTP server unreachable: {exc}") from None


class WebhookSender:
    """JSON POST with an Idempotency-Key and an HMAC-SHA256 signature of the body."""

    def __init__(self, secret: str, timeout: float = 10.0) -> None:
        self.secret = secret.encode()
        self.timeout = timeout

    def signature(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    def send(self, notification: Notification) -> None:
        body = json.dumps(
            {"idempotency_key": notification.idempotency_key, **notification.payload}, sort_keys=True
        ).encode()
        request = urllib.request.Request(
            notification.recipient,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": notification.idempotency_key,
                "X-Pathway-Signature": self.signature(body),
                "User-Agent": "sacral-pathway",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            with exc:  # close the error response: no socket left waiting for the collector
                permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
                raise DeliveryFailed(f"webhook answered HTTP {exc.code}", permanent) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            raise DeliveryFailed(f"webhook unreachable: {exc}") from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"webhook answered HTTP {status}")
