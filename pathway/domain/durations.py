"""Durations in the pathway file: '14d', '6w', '3mo', '24h', '60min'. Months are calendar months."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

_PATTERN = re.compile(r"^\s*(-?\d+)\s*(min|mo|h|d|w)\s*$")
_WORDS = {"min": "minute", "mo": "month", "h": "hour", "d": "day", "w": "week"}
_PARSED: dict[tuple[type, str | int], Duration] = {}  # text -> its duration (pure memo)


@dataclass(frozen=True, order=True)
class Duration:
    amount: int
    unit: str  # min | h | d | w | mo

    @classmethod
    def parse(cls, text: str | int) -> Duration:
        """Parsed once per text (durations are immutable; a pathway file has few of them)."""
        key = (cls, text)
        found = _PARSED.get(key)
        if found is not None:
            return found
        match = _PATTERN.match(str(text))
        if not match:
            raise ValueError(f"'{text}' is not a duration; use e.g. 14d, 6w, 3mo, 24h or 60min")
        if len(_PARSED) > 4096:
            _PARSED.clear()
        found = _PARSED[key] = cls(int(match.group(1)), match.group(2))
        return found

    @property
    def is_clock_time(self) -> bool:
        """Hour- and minute-level durations count elapsed time; the others count calendar days."""
        return self.unit in ("h", "min")

    def add_to_date(self, day: date) -> date:
        if self.unit == "mo":
            return day + relativedelta(months=self.amount)  # 31 Jan + 1 month = 28/29 Feb
        if self.unit == "w":
            return day + timedelta(weeks=self.amount)
        if self.unit == "d":
            return day + timedelta(days=self.amount)
        raise ValueError(f"{self} counts clock time, not calendar days")

    def add_to_instant(self, instant: datetime) -> datetime:
        if self.unit == "h":
            return instant + timedelta(hours=self.amount)
        if self.unit == "min":
            return instant + timedelta(minutes=self.amount)
        raise ValueError(f"{self} counts calendar days; use add_to_date")

    def __str__(self) -> str:
        word = _WORDS[self.unit]
        return f"{self.amount} {word}{'' if abs(self.amount) == 1 else 's'}"

    def code(self) -> str:
        return f"{self.amount}{self.unit}"
