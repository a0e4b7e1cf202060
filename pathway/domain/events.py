"""Event field validation: raw user input (strings) -> typed, canonical event data."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pathway.domain.definition import HISTOLOGY_FIELD, EventSpec, FieldSpec, PathwayDefinition
from pathway.domain.drugs import unit_problem
from pathway.domain.errors import InvalidInput, NotFound

EventData = dict[str, Any]
MRN_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")


def check_encoding(value: str, where: str) -> None:
    """Refuse text that is not valid UTF-8 (a bad byte on the command line arrives as a lone
    surrogate): stored, it would break every later page of the patient."""
    if any("\ud800" <= c <= "\udfff" for c in value):
        raise InvalidInput(f"{where}: not valid UTF-8 text; check the terminal's encoding and type it again")


def clean_text(value: str, where: str, limit: int = 2000) -> str:
    """Free text as people type it: valid UTF-8, no control characters (PostgreSQL refuses NUL),
    bounded."""
    check_encoding(value, where)
    text = value.strip()
    if any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        raise InvalidInput(f"{where}: contains a control character; type plain text")
    if len(text) > limit:
        raise InvalidInput(f"{where}: longer than {limit} characters")
    return text


def event_spec(definition: PathwayDefinition, event: str) -> EventSpec:
    spec = definition.events.get(event)
    if spec is None:
        known = ", ".join(sorted(definition.events))
        raise NotFound(f"unknown event '{event}'; known events: {known} (see `pathway events`)")
    return spec


def histology_value(definition: PathwayDefinition, where: str, value: str) -> str:
    """A histology given at enrolment or import, checked against the pathway's histology event."""
    event = definition.event_with_role("histology")
    if event is None:
        raise InvalidInput(f"{where}: this pathway records no histology (no event has role histology)")
    result: str = coerce(where, HISTOLOGY_FIELD, definition.events[event].fields[HISTOLOGY_FIELD], value)
    return result


def validate_event_data(definition: PathwayDefinition, event: str, raw: dict[str, Any]) -> EventData:
    """Check every field against the event's schema; return canonical values (choices as declared)."""
    spec = event_spec(definition, event)
    unknown = sorted(set(raw) - set(spec.fields))
    if unknown:
        allowed = ", ".join(sorted(spec.fields)) or "none"
        raise InvalidInput(f"event '{event}' has no field {', '.join(unknown)}; its fields: {allowed}")
    data: EventData = {}
    for name, field in spec.fields.items():
        value = raw.get(name)
        if value is None or value == "":
            if field.required:
                raise InvalidInput(
                    f"event '{event}' needs field '{name}' ({_describe(field)}); add --set {name}=VALUE"
                )
            continue
        data[name] = coerce(event, name, field, value)
    for name, field in spec.fields.items():
        for other, values in field.required_if.items():
            wanted = [values] if isinstance(values, str) else values
            if data.get(other) in wanted and name not in data:
                raise InvalidInput(
                    f"event '{event}' with {other}={data[other]} needs field '{name}' "
                    f"({_describe(field)}); add --set {name}=VALUE"
                )
    if spec.dose is not None:
        problem = unit_problem(definition.drugs, event, spec.dose, data)
        if problem:
            raise InvalidInput(problem)
    if spec.role == "lab":
        data = definition.labs.check(event, data)
    return data


def reference_problem(
    definition: PathwayDefinition, event: str, data: EventData, live: dict[int, str]
) -> str | None:
    """Why an event_ref field with `refers_to` does not name a live event of those types, or None.

    `live` maps the ids of the patient's events still in force to their types.
    """
    for name, field in event_spec(definition, event).fields.items():
        if not field.refers_to or name not in data:
            continue
        target = live.get(int(data[name]))
        if target not in field.refers_to:
            found = f"is {target}" if target else "is not a live event of this patient"
            return (
                f"{event}.{name}: event {data[name]} {found}; it must name one of "
                f"{', '.join(field.refers_to)} (see `pathway history`)"
            )
    return None


# date fields (a planned dose, a booking) lie in a clinical lifetime; windows count months back from them
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)


def coerce(event: str, name: str, field: FieldSpec, value: Any) -> Any:
    where = f"{event}.{name}"
    if isinstance(value, str):
        check_encoding(value, where)
    if field.type == "choice":
        return _choice(where, field, value)
    if field.type == "choices":
        return _choices(where, field, value)
    if field.type in ("int", "number", "event_ref"):
        return _number(where, field, value)
    if field.type == "bool":
        return _bool(where, value)
    if field.type == "date":
        try:
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            raise InvalidInput(f"{where}: '{value}' is not a date (use YYYY-MM-DD)") from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidInput(
                f"{where}: {day} is not a plausible date ({FIRST_DAY} to {LAST_DAY}); check the year"
            )
        return day.isoformat()
    text = clean_text(str(value), where)
    if not text:
        raise InvalidInput(f"{where}: empty text")
    return text


def _choice(where: str, field: FieldSpec, value: Any) -> str:
    by_lower = {v.lower(): v for v in field.values or ()}
    canonical = by_lower.get(str(value).strip().lower())
    if canonical is None:
        raise InvalidInput(
            f"{where}: '{value}' is not allowed; choose one of {', '.join(field.values or ())}"
        )
    return canonical


def _choices(where: str, field: FieldSpec, value: Any) -> list[str]:
    """A list of allowed values: a list, or text separated by commas (`--set sites=ilium,si_joint`)."""
    parts = value if isinstance(value, list | tuple) else str(value).split(",")
    chosen = [_choice(where, field, p) for p in parts if str(p).strip()]
    if not chosen:
        raise InvalidInput(f"{where}: choose at least one of {', '.join(field.values or ())}")
    return list(dict.fromkeys(chosen))


def show_value(value: Any) -> str:
    """An event field's value as people read it (a list of choices comma-separated)."""
    return ",".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)


def _number(where: str, field: FieldSpec, value: Any) -> int | float:
    integral = field.type in ("int", "event_ref")
    kind = "a whole number" if integral else "a number"
    if isinstance(value, bool):
        raise InvalidInput(f"{where}: '{value}' is not {kind}")
    if isinstance(value, int) or (isinstance(value, float) and not integral):
        number: int | float = value
    else:
        # plain ASCII decimals only: Python's int() would take "1_2" as 12 and Arabic-Indic digits
        text = str(value).strip()
        if not (_INTEGER if integral else _DECIMAL).match(text):
            raise InvalidInput(f"{where}: '{value}' is not {kind} (use the digits 0-9, e.g. 12 or 2.5)")
        number = int(text) if integral else float(text)
    if number != number or number in (float("inf"), float("-inf")):
        raise InvalidInput(f"{where}: '{value}' is not a finite number")
    low, high = field.min, field.max
    if (low is not None and number < low) or (high is not None and number > high):
        unit = f" {field.unit}" if field.unit else ""
        raise InvalidInput(
            f"{where}: {value}{unit} is outside the validated range "
            f"{_fmt(low)}–{_fmt(high)}{unit} (source: {field.source})"
        )
    return number


def _bool(where: str, value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "y"):
        return True
    if text in ("false", "no", "0", "n"):
        return False
    raise InvalidInput(f"{where}: '{value}' is not yes/no")


def _fmt(x: float | None) -> str:
    if x is None:
        return "…"
    return str(int(x)) if float(x).is_integer() else str(x)


def _describe(field: FieldSpec) -> str:
    if field.type == "choice":
        return "one of " + ", ".join(field.values or ())
    if field.type == "choices":
        return "one or more of " + ", ".join(field.values or ()) + ", comma-separated"
    if field.min is not None or field.max is not None:
        return f"{field.type} {_fmt(field.min)}–{_fmt(field.max)}"
    return field.type
