"""Clinical time at the edges: clinic-local dates in, aware UTC instants inside."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo

from pathway.domain.errors import InvalidInput


def local_date(instant: datetime, zone: tzinfo) -> date:
    return instant.astimezone(zone).date()


def start_of_day(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def occurred_instant(on: date | None, at: datetime | None, zone: tzinfo, now: datetime) -> datetime:
    """`--on DATE` means the start of that clinic day; `--at` is clinic-local unless it has an offset."""
    if on is not None and at is not None:
        raise InvalidInput("give either --on DATE or --at DATETIME, not both")
    if at is not None:
        aware = at if at.tzinfo is not None else at.replace(tzinfo=zone)
        instant = aware.astimezone(UTC)
    elif on is not None:
        instant = start_of_day(on, zone)
    else:
        instant = now
    if instant > now:
        raise InvalidInput(
            f"{_show(instant, zone)} is in the future (now {_show(now, zone)}); "
            "record what has happened, not what is planned"
        )
    return instant


def check_not_before_enrolment(instant: datetime, enrolled_on: date, zone: tzinfo) -> None:
    day = local_date(instant, zone)
    if day < enrolled_on:
        raise InvalidInput(
            f"{day.isoformat()} is before the patient's enrolment on "
            f"{enrolled_on.isoformat()}; check the date"
        )


def _show(instant: datetime, zone: tzinfo) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


FIRST_YEAR, LAST_YEAR = 1900, 2199


def plausible(day: date, what: str) -> date:
    """Dates far outside a clinical record's span are typing errors (and overflow arithmetic)."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput(f"{what}: {day} is outside {FIRST_YEAR}-{LAST_YEAR}; check the year")
    return day


def parse_date(text: str, what: str) -> date:
    try:
        return plausible(date.fromisoformat(text.strip()), what)
    except ValueError:
        raise InvalidInput(f"{what}: '{text}' is not a date (use YYYY-MM-DD)") from None


def parse_datetime(text: str, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
        plausible(value.date(), what)
        return value
    except ValueError:
        raise InvalidInput(f"{what}: '{text}' is not a date and time (use YYYY-MM-DDTHH:MM)") from None
