"""Notification channels: a structured log line, email over SMTP, and a signed webhook."""

from __future__ import annotations

import base64
import binascii
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
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from pathway.clock import SystemClock
from pathway.domain.errors import DeliveryFailed
from pathway.domain.model import Notification
from pathway.domain.notify import subject, text_body
from pathway.ports import Clock

log = logging.getLogger("pathway.notify")
STANDARD_PREFIX = "whsec_"
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
    starttls: bool = True
    ca_file: str | None = None
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
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise DeliveryFailed(
                        f"the SMTP server {config.host}:{config.port} does not offer STARTTLS; mail is "
                        "not sent in plain text unless PATHWAY_SMTP_STARTTLS=false"
                    )
                smtp.starttls(context=ssl.create_default_context(cafile=config.ca_file))
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
    except ssl.SSLError as exc:  # e.g. a certificate not signed by a trusted CA (PATHWAY_SMTP_CA_FILE)
        raise DeliveryFailed(f"SMTP STARTTLS failed: {exc.reason or exc}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"SMTP server unreachable: {exc}") from None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a new destination: a 302 to a login page is not a delivery."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx answer


_OPENER = urllib.request.build_opener(_NoRedirects)


def webhook_key(secret: str) -> bytes:
    """The signing key: a Standard Webhooks secret (`whsec_` + base64) decoded, else the raw bytes."""
    if secret.startswith(STANDARD_PREFIX):
        try:
            return base64.b64decode(secret[len(STANDARD_PREFIX) :] + "==", validate=False)
        except binascii.Error:
            raise DeliveryFailed("the webhook secret after whsec_ is not base64", permanent=True) from None
    return secret.encode()


class WebhookSender:
    """JSON POST signed with the Standard Webhooks scheme (webhook-id, -timestamp, -signature).

    The webhook-id is the notification's idempotency key, the same on every retry, so receivers can
    drop duplicates; the timestamp lets them refuse replays. X-Pathway-Signature (HMAC-SHA256 of the
    body alone) is kept for receivers built before the standard headers.
    """

    def __init__(self, secret: str, timeout: float = 10.0, clock: Clock | None = None) -> None:
        self.secret = secret.encode()
        self.key = webhook_key(secret)
        self.timeout = timeout
        self.clock = clock or SystemClock()

    def signature(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    def standard_signature(self, message_id: str, timestamp: int, body: bytes) -> str:
        signed = message_id.encode() + b"." + str(timestamp).encode() + b"." + body
        return "v1," + base64.b64encode(hmac.new(self.key, signed, hashlib.sha256).digest()).decode()

    def send(self, notification: Notification) -> None:
        body = json.dumps(
            {"idempotency_key": notification.idempotency_key, **notification.payload}, sort_keys=True
        ).encode()
        message_id = notification.idempotency_key
        timestamp = int(self.clock.now().timestamp())
        request = urllib.request.Request(
            notification.recipient,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": notification.idempotency_key,
                "X-Pathway-Signature": self.signature(body),
                "webhook-id": message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": self.standard_signature(message_id, timestamp, body),
                "User-Agent": "sacral-pathway",
            },
        )
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            with exc:  # close the error response: no socket left waiting for the collector
                if 300 <= exc.code < 400:
                    where = exc.headers.get("Location", "nowhere")
                    raise DeliveryFailed(
                        f"webhook answered HTTP {exc.code} redirecting to {where}; redirects are not "
                        "followed: configure the final URL",
                        permanent=True,
                    ) from None
                permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
                raise DeliveryFailed(f"webhook answered HTTP {exc.code}", permanent) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            raise DeliveryFailed(f"webhook unreachable: {exc}") from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"webhook answered HTTP {status}")
