"""Sign-in throttling: failed sign-ins per client address and per account.

The first two failures cost nothing; each further one makes the next attempt wait twice as long
(1 s, 2 s, 4 s, ...); at `max_failures` the key is locked for `lock`. While a key waits, every
attempt is answered 429 with Retry-After, even with the right token. A success clears the key.
Counts are kept in this process (a restart forgets them); they use the application's clock.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from starlette.exceptions import HTTPException

from pathway.ports import Clock

FREE_FAILURES = 2
MAX_KEYS = 100_000


@dataclass
class _Record:
    failures: int = 0
    until: datetime | None = None
    last: datetime | None = None


@dataclass
class Throttle:
    clock: Clock
    max_failures: int = 5
    lock: timedelta = timedelta(minutes=15)
    _keys: dict[str, _Record] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def check(self, *keys: str) -> None:
        """Raise 429 (with Retry-After in seconds) while any of the keys must wait."""
        now = self.clock.now()
        with self._guard:
            waits = [r.until - now for k in keys if (r := self._keys.get(k)) and r.until and r.until > now]
        if waits:
            seconds = max(1, math.ceil(max(waits).total_seconds()))
            raise HTTPException(
                429,
                f"too many failed sign-ins from here; try again in {_readable(seconds)}",
                headers={"Retry-After": str(seconds)},
            )

    def failed(self, *keys: str) -> None:
        now = self.clock.now()
        with self._guard:
            if len(self._keys) > MAX_KEYS:
                self._forget(now)
            for key in keys:
                record = self._keys.setdefault(key, _Record())
                if record.last is not None and now - record.last > self.lock:
                    record.failures = 0  # an old streak is forgiven
                record.failures += 1
                record.last = now
                if record.failures >= self.max_failures:
                    record.until = now + self.lock
                elif record.failures > FREE_FAILURES:
                    record.until = now + timedelta(seconds=2 ** (record.failures - FREE_FAILURES - 1))

    def succeeded(self, *keys: str) -> None:
        with self._guard:
            for key in keys:
                self._keys.pop(key, None)

    def _forget(self, now: datetime) -> None:
        for key in [k for k, r in self._keys.items() if r.last is None or now - r.last > self.lock]:
            del self._keys[key]


def _readable(seconds: int) -> str:
    return f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
