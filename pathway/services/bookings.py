"""Booking an open follow-up (the scan or the clinic visit) for a date: recorded as an event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from pathway.domain.bookings import window_warning
from pathway.domain.clinical_time import local_date, plausible
from pathway.domain.errors import InvalidInput, NotFound
from pathway.domain.events import clean_text, validate_event_data
from pathway.domain.status import Outcome
from pathway.ports import Deps
from pathway.services.patients import Recorded, record_in
from pathway.services.sync import find_patient


@dataclass(frozen=True)
class Booked:
    recorded: Recorded
    rule: str
    step: str
    region: str
    on: date
    warning: str | None  # the date is outside the step's window (recorded anyway)


def book(
    deps: Deps,
    mrn: str,
    rule: str,
    on: date,
    *,
    region: str | None = None,
    note: str | None = None,
    actor: str,
    role: str | None = None,
) -> Booked:
    """Record a booking of the patient's open follow-up `rule` (and `region`) for `on`.

    Refused (nothing written) for an unknown rule, no open follow-up of it, an ambiguous region
    or a date before today; a date outside the window is recorded with a warning.
    """
    definition = deps.pathway.definition
    kind = definition.event_with_role("booking")
    if kind is None:
        raise InvalidInput("this pathway has no booking event (an event with role booking)")
    rule = rule.strip()
    spec = definition.rules.follow_ups.get(rule)
    if spec is None:
        raise NotFound(f"no follow-up rule {rule!r}; `pathway rules` lists them")
    plausible(on, "--on")
    note = clean_text(note, "--note") or None if note is not None else None
    now = deps.clock.now()
    if on < local_date(now, deps.zone):
        raise InvalidInput(f"--on {on.isoformat()} is in the past: a booking is for today or a later date")
    with deps.uow() as uow:
        patient = find_patient(uow, mrn, deps.mrn, lock=True)
        rows = [f for f in uow.follow_ups.for_patient(patient.id, [rule]) if f.status == Outcome.OPEN]
        if not rows:
            raise InvalidInput(
                f"patient {patient.mrn} has no open follow-up {rule} ({spec.step}) to book; "
                f"`pathway status {patient.mrn}` shows the open ones"
            )
        regions = sorted({f.region for f in rows})
        if region is not None:
            rows = [f for f in rows if f.region == region.strip()]
            if not rows:
                raise InvalidInput(f"{rule} is open for region {', '.join(regions)}, not {region.strip()!r}")
        elif len(regions) > 1:
            raise InvalidInput(f"{rule} is open for several regions: add --region ({', '.join(regions)})")
        fu = min(rows, key=lambda f: f.closes_at)
        first = local_date(fu.opens_at, deps.zone)
        last = local_date(fu.closes_at - timedelta(microseconds=1), deps.zone)
        fields = {"rule": rule, "region": fu.region or None, "booked_for": on.isoformat(), "note": note}
        data = validate_event_data(definition, kind, {k: v for k, v in fields.items() if v is not None})
        done = record_in(uow, deps, patient.mrn, kind, data, now, now, actor, role=role, undated=True)
        uow.commit()
    return Booked(done, rule, spec.step, fu.region, on, window_warning(on, first, last))
