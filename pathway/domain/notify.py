"""Notification routing, retry schedule and message text (pure; channels deliver elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from pathway.domain.rules_spec import SEVERITY_RANK, Severity

Channel = Literal["log", "email", "webhook"]


class Route(BaseModel):
    """Where alerts go: by severity floor and track; `digest` holds them for the daily report mail."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel
    to: str = ""
    min_severity: Severity = "info"
    max_severity: Severity = "critical"
    tracks: tuple[str, ...] = ()
    digest: bool = False

    @model_validator(mode="after")
    def _recipient(self) -> Route:
        if self.channel == "email" and "@" not in self.to:
            raise ValueError(f"an email route needs 'to' with an address (got {self.to!r})")
        if self.channel == "webhook" and not self.to.startswith(("http://", "https://")):
            raise ValueError(f"a webhook route needs 'to' with an http(s) URL (got {self.to!r})")
        if SEVERITY_RANK[self.min_severity] > SEVERITY_RANK[self.max_severity]:
            raise ValueError("min_severity is above max_severity")
        return self

    def matches(self, severity: str, track: str) -> bool:
        rank = SEVERITY_RANK[severity]
        in_range = SEVERITY_RANK[self.min_severity] <= rank <= SEVERITY_RANK[self.max_severity]
        return in_range and (not self.tracks or track in self.tracks)

    @property
    def recipient(self) -> str:
        return self.to or self.channel


DEFAULT_ROUTES = (Route(channel="log"),)


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 60
    cap_seconds: float = 3600
    max_attempts: int = 8

    def next_delay(self, attempts: int, jitter: float) -> timedelta:
        """Exponential backoff (base * 2^(n-1), capped) with +/-20% jitter; `jitter` is in [0, 1)."""
        delay = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return timedelta(seconds=delay * (0.8 + 0.4 * jitter))


def idempotency_key(alert_id: int, severity: str, channel: str, recipient: str) -> str:
    return f"alert-{alert_id}-{severity}-{channel}-{recipient}"[:200]


def subject(payload: dict[str, object]) -> str:
    """Severity, step and lateness; never the patient's name or MRN."""
    late = payload.get("late")
    return (
        f"[{str(payload['severity']).upper()}] {payload['rule']} {payload['title']}"
        + (f" ({late})" if late else "")
        + f" - patient {payload['patient_id']}"
    )


def text_body(payload: dict[str, object]) -> str:
    return "\n".join(
        [
            f"{str(payload['severity']).upper()} alert {payload['alert_id']} ({payload['rule']}) "
            f"for patient {payload['patient_id']}",
            "",
            str(payload["message"]),
            "",
            f"Source: {payload['source']}",
            f"Opened: {payload['opened_at']}",
            "",
            "Decision support for clinicians; not a substitute for clinical judgement.",
            f"Act on it: pathway status <MRN of patient {payload['patient_id']}>; "
            f"pathway ack {payload['alert_id']} --by YOU",
        ]
    )


def lateness(closes_at: datetime | None, now: datetime) -> str | None:
    if closes_at is None or now <= closes_at:
        return None
    late = now - closes_at
    if late < timedelta(days=2):
        return f"{int(late.total_seconds() // 3600)} h late"
    return f"{late.days} days late"
