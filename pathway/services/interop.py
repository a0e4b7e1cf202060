"""Use cases of interoperability: FHIR export and import, the iCalendar feed and its links."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pathway.domain.errors import Conflict, EventNotAllowed, InvalidInput, NotFound, PathwayError
from pathway.domain.events import validate_event_data
from pathway.domain.model import Patient
from pathway.interop import calendar
from pathway.interop.fhir_common import Site
from pathway.interop.fhir_export import PatientRecord, bundle, patient_resources
from pathway.interop.fhir_import import Mapped, Unmapped, map_bundle
from pathway.ports import Deps, UnitOfWork, User
from pathway.services.accounts import hash_token
from pathway.services.patients import _valid_actor, record_in
from pathway.services.sync import find_patient


@dataclass(frozen=True)
class Imported:
    what: str
    mrn: str
    event: str
    event_id: int | None  # None in a dry run


@dataclass(frozen=True)
class ImportResult:
    recorded: list[Imported]
    already: list[str]  # resources imported before (recorded nothing)
    unmapped: list[Unmapped]
    dry_run: bool


def export_patient(deps: Deps, site: Site, mrn: str) -> dict[str, Any]:
    """One patient as a FHIR collection Bundle, every resource validated."""
    now = deps.clock.now()
    with deps.read() as uow:
        record = _record(uow, find_patient(uow, mrn, deps.mrn), deps, now)
    return bundle(patient_resources(record, deps.pathway.definition, site), now)


def export_all(deps: Deps, site: Site) -> Iterator[dict[str, Any]]:
    """Every patient's resources, one snapshot, for the Bulk Data NDJSON layout (one file per type)."""
    now = deps.clock.now()
    with deps.read() as uow:
        for patient, _ in uow.patients.listing(None, None):
            yield from patient_resources(_record(uow, patient, deps, now), deps.pathway.definition, site)


def _record(uow: UnitOfWork, patient: Patient, deps: Deps, now: datetime) -> PatientRecord:
    stored = uow.patients.states(patient.id)
    return PatientRecord(
        patient=patient,
        states={t: stored[t] for t in deps.pathway.definition.tracks if t in stored},
        events=uow.events.for_patient(patient.id),
        follow_ups=[replace(f, status=f.status_at(now)) for f in uow.follow_ups.for_patient(patient.id)],
        alerts=uow.alerts.for_patient(patient.id),
    )


def import_bundle(deps: Deps, site: Site, data: Any, actor: str, dry_run: bool = False) -> ImportResult:
    """Apply every mappable resource as one event, all in one transaction or none.

    A resource already imported (same source reference) records nothing; a resource that cannot be
    mapped (unknown code, unknown patient, no time) is listed, never silently dropped. A mapped
    resource the pathway refuses (a value out of range, an event the patient's state does not
    allow) refuses the whole bundle, naming the resource.
    """
    actor = _valid_actor(actor)
    mapped, unmapped = map_bundle(data, deps.pathway.definition.codes, site, deps.zone)
    now = deps.clock.now()
    recorded: list[Imported] = []
    with deps.uow() as uow:
        known = uow.events.known_sources([m.ref for m in mapped])
        todo: dict[str, Mapped] = {}
        for m in mapped:
            if m.ref not in known:
                todo.setdefault(m.ref, m)
        for m in sorted(todo.values(), key=lambda m: (m.at, m.what)):
            if uow.patients.by_mrn(deps.mrn.lookup(m.mrn) or "") is None:
                unmapped.append(Unmapped(m.what, f"patient {m.mrn} is not enrolled; enrol and import again"))
                continue
            spec = deps.pathway.definition.events[m.event]
            missing = [f for f, fs in spec.fields.items() if fs.required and m.fields.get(f) in (None, "")]
            if missing:
                unmapped.append(
                    Unmapped(m.what, f"{m.event} needs {', '.join(missing)}; the resource lacks it")
                )
                continue
            try:
                fields = validate_event_data(deps.pathway.definition, m.event, m.fields)
                if m.at > now:
                    raise InvalidInput(f"{m.at.isoformat()} is in the future")
                done = record_in(uow, deps, m.mrn, m.event, fields, m.at, now, actor, source_ref=m.ref)
            except (InvalidInput, EventNotAllowed, NotFound) as exc:
                raise type(exc)(f"{m.what} ({m.event}): {exc}; nothing was imported") from None
            except PathwayError:
                raise
            recorded.append(Imported(m.what, m.mrn, m.event, None if dry_run else done.event.id))
        if dry_run:
            uow.rollback()
        else:
            uow.commit()
    already = [m.what for m in mapped if m.ref in known]
    return ImportResult(recorded=recorded, already=already, unmapped=unmapped, dry_run=dry_run)


FEED_LIMIT = 5000  # entries in one feed; a calendar client is no place for a whole registry
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,100}")


def valid_token(token: str) -> bool:
    return TOKEN_PATTERN.fullmatch(token) is not None


def calendar_link(deps: Deps, name: str) -> tuple[User, str]:
    """A new secret feed token for the user (earlier ones stop working); shown once, stored hashed."""
    token = secrets.token_urlsafe(32)
    now = deps.clock.now()
    with deps.uow() as uow:
        user = _active_user(uow, name)
        uow.interop.revoke_calendar_tokens(user.id, now)
        uow.interop.add_calendar_token(user.id, hash_token(token), now)
        uow.commit()
    return user, token


def revoke_calendar(deps: Deps, name: str) -> User:
    """Revoke the user's feed link(s); the URL answers 404 from now on."""
    now = deps.clock.now()
    with deps.uow() as uow:
        user = uow.users.by_name(name.strip())
        if user is None:
            raise NotFound(f"no user {name.strip()!r}; see `pathway users list`")
        if not uow.interop.revoke_calendar_tokens(user.id, now):
            raise InvalidInput(f"user {user.name} has no calendar link to revoke")
        uow.commit()
    return user


def calendar_feed(deps: Deps, token: str, show_patient: bool = False, days: int = 90) -> bytes:
    """The caseload's open windows opening within `days`, as iCalendar; NotFound for a bad token."""
    now = deps.clock.now()
    with deps.read() as uow:
        user = uow.interop.calendar_user(hash_token(token))
        if user is None or not user.active:
            raise NotFound("no such calendar")
        windows = uow.interop.open_windows(now + timedelta(days=days), FEED_LIMIT)
    entries = calendar.window_entries(windows, deps.pathway.definition, deps.zone, now, show_patient)
    return calendar.feed(entries, f"{deps.pathway.definition.pathway.title}: follow-up windows")


def _active_user(uow: UnitOfWork, name: str) -> User:
    user = uow.users.by_name(name.strip())
    if user is None:
        raise NotFound(f"no user {name.strip()!r}; see `pathway users list`")
    if not user.active:
        raise Conflict(f"user {user.name} is revoked; a revoked user gets no calendar")
    return user
