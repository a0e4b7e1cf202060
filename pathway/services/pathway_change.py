"""Pathway change control: diff a new file against the applied one, apply it with an approver,
list the applied versions, and tell the sweep whether the file in effect has been applied.

The configured file (PATHWAY_PATHWAY_FILE or the shipped one) stays the source the engine loads;
applying records its content hash. The operator puts the new file in place, then applies it; a
sweep whose loaded file is not the last applied version refuses to run. A database with no
version yet adopts the file in effect as version 1 on `pathway init` (fresh or upgraded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from pathway.domain.alert_status import LIVE
from pathway.domain.definition import PathwayDefinition
from pathway.domain.errors import Conflict, InvalidInput, PathwayError, PermissionDenied
from pathway.domain.machine import Pathway
from pathway.domain.model import Patient
from pathway.domain.pathway_diff import LOOSENING, Change, diff_definitions, summary
from pathway.domain.records import AlertChange
from pathway.domain.roles import PERMISSIONS
from pathway.ports import Deps, PathwayVersion, UnitOfWork
from pathway.services.pathway_impact import Impact, derive, impact
from pathway.services.raising import SWEEP_ACTOR, Changes
from pathway.services.sync import refresh_patient

BATCH = 200
ADOPTED_NOTE = "adopted: the file in effect when change control began (pathway init)"


class NotApplied(PathwayError):
    """The loaded pathway file is not the last applied version (the sweep refuses to run)."""


@dataclass(frozen=True)
class Preview:
    base: PathwayVersion | None
    old_hash: str
    new_hash: str
    changes: list[Change]
    impact: Impact

    def as_json(self) -> dict[str, Any]:
        return {
            "from": {"version": self.base.number if self.base else None, "hash": self.old_hash},
            "to": {"hash": self.new_hash},
            "summary": summary(self.changes),
            "changes": [c.as_json() for c in self.changes],
            "impact": self.impact.as_json(),
        }


@dataclass(frozen=True)
class Applied:
    version: PathwayVersion
    changes: list[Change]
    totals: Changes
    texts_refreshed: int
    resumed: bool


def latest(deps: Deps) -> PathwayVersion | None:
    with deps.read() as uow:
        return uow.versions.latest(deps.pathway.definition.pathway.id)


def history(deps: Deps) -> list[PathwayVersion]:
    with deps.read() as uow:
        return uow.versions.listing(deps.pathway.definition.pathway.id)


def change_summary(v: PathwayVersion) -> str:
    if not v.changes:
        return "the file in effect when change control began" if v.number == 1 else "no rule changed"
    counts: dict[str, int] = {}
    for c in v.changes:
        counts[str(c["effect"])] = counts.get(str(c["effect"]), 0) + 1
    items = sorted({f"{c['item']}" for c in v.changes})
    shown = ", ".join(items[:6]) + (" ..." if len(items) > 6 else "")
    return (
        f"{len(v.changes)} change(s) ({', '.join(f'{n} {k}' for k, n in sorted(counts.items()))}) in {shown}"
    )


def version_json(v: PathwayVersion, zone: tzinfo) -> dict[str, Any]:
    return {
        "number": v.number,
        "pathway": v.pathway_id,
        "label": v.label,
        "hash": v.content_hash,
        "applied_at": v.applied_at.astimezone(zone).isoformat(),
        "applied_by": v.applied_by,
        "approved_by": v.approved_by,
        "note": v.note,
        "summary": change_summary(v),
        "changes": v.changes,
        "rederived": v.rederived_at is not None,
    }


def unapplied(deps: Deps, version: PathwayVersion | None = None) -> str | None:
    """Why the loaded file is not in effect (None: it is, or no version is recorded yet)."""
    version = version or latest(deps)
    loaded = deps.pathway.definition.content_hash
    if version is None:
        return None
    if version.content_hash != loaded:
        return (
            f"the pathway file loaded (hash {loaded}) is not the last applied version "
            f"{version.number} (hash {version.content_hash})"
        )
    if version.rederived_at is None:
        return f"applying pathway version {version.number} did not finish re-deriving every patient"
    return None


def hint(deps: Deps, path: str) -> str | None:
    """What is wrong with the loaded file, and what to run (None: it is in effect)."""
    problem = unapplied(deps)
    if problem is None:
        return None
    return (
        f"{problem}; review it with `pathway pathway-diff {path}`, then run "
        f"`pathway pathway-apply {path} --approved-by NAME --note TEXT`"
    )


def require_applied(deps: Deps, path: str) -> None:
    """Refuse (exit 2) when the loaded file has not been applied; say what to run."""
    message = hint(deps, path)
    if message:
        raise NotApplied(message)


def adopt(deps: Deps, text: str, by: str) -> PathwayVersion | None:
    """Record the loaded file as version 1 if none is recorded (init: fresh or upgraded database)."""
    d = deps.pathway.definition
    now = deps.clock.now()
    with deps.uow() as uow:
        if uow.versions.latest(d.pathway.id) is not None:
            return None
        version = PathwayVersion(
            number=1,
            pathway_id=d.pathway.id,
            content_hash=d.content_hash,
            label=d.pathway.version,
            applied_at=now,
            applied_by=by,
            approved_by=by,
            note=ADOPTED_NOTE,
            changes=[],
            text=text,
            rederived_at=now,
        )
        uow.versions.add(version)
        uow.commit()
    return version


def preview(deps: Deps, base: PathwayDefinition, new: PathwayDefinition) -> Preview:
    """What changes from `base` (the applied file) to `new`, and which live patients would move."""
    version = latest(deps)
    changes = diff_definitions(base, new)
    return Preview(version, base.content_hash, new.content_hash, changes, impact(deps, Pathway(new)))


def apply(
    deps: Deps,
    new: PathwayDefinition,
    base: PathwayDefinition,
    text: str,
    actor: str,
    approved_by: str,
    note: str,
) -> Applied:
    """Record `new` (which must be the loaded file) as the next version and re-derive everyone."""
    loaded = deps.pathway.definition
    if new.content_hash != loaded.content_hash:
        raise InvalidInput(
            f"this file (hash {new.content_hash}) is not the pathway file in effect (hash "
            f"{loaded.content_hash}): put it in place (PATHWAY_PATHWAY_FILE) first, then apply it"
        )
    note, approved_by = note.strip(), approved_by.strip()
    if not note:
        raise InvalidInput("--note: say why the pathway changes")
    if not approved_by:
        raise InvalidInput("--approved-by: name who approved the change")
    changes = diff_definitions(base, new)
    now = deps.clock.now()
    pid = loaded.pathway.id
    with deps.uow() as uow:
        last = uow.versions.latest(pid)
        resumed = last is not None and last.content_hash == new.content_hash
        if resumed and last is not None and last.rederived_at is not None:
            raise Conflict(f"this file is already applied as version {last.number}; nothing to do")
        if resumed and last is not None:
            version = last
        else:
            approver = _approver(uow, changes, approved_by)
            version = PathwayVersion(
                number=(last.number if last else 0) + 1,
                pathway_id=pid,
                content_hash=new.content_hash,
                label=new.pathway.version,
                applied_at=now,
                applied_by=actor,
                approved_by=approver,
                note=note,
                changes=[c.as_json() for c in changes],
                text=text,
            )
            uow.versions.add(version)
            uow.commit()
    totals, texts = rederive(deps, version, now)
    return Applied(version, changes, totals, texts, resumed)


def _approver(uow: UnitOfWork, changes: list[Change], name: str) -> str:
    """Rule book 4.2: loosening needs a clinician's approval; any change needs an admin or clinician."""
    users = uow.users.listing()
    if not users:
        return name  # no accounts: recorded as declared
    user = next((u for u in users if u.name == name and u.active), None)
    if user is None:
        raise InvalidInput(
            f"--approved-by {name}: no active user account of that name; see `pathway users list`"
        )
    loose = next((c for c in changes if c.effect == LOOSENING), None)
    if loose is not None and user.role != "clinician":
        raise PermissionDenied(
            f"this change loosens a safety rule ({loose.item} {loose.path or loose.why}: {loose.why}); "
            f"--approved-by must name a clinician (rule book 4.2), {user.name} is a {user.role}"
        )
    if user.role not in PERMISSIONS["apply_pathway"]:
        roles = " or ".join(PERMISSIONS["apply_pathway"])
        raise PermissionDenied(f"--approved-by must name a {roles}; {user.name} is a {user.role}")
    return user.name


def rederive(deps: Deps, version: PathwayVersion, now: datetime) -> tuple[Changes, int]:
    """Re-derive every live patient in batches and refresh their open alerts' texts."""
    pathway = deps.pathway
    totals, texts = Changes(), 0
    with deps.read() as uow:
        ids = [p.id for p, states in uow.patients.listing(None, None) if not pathway.is_closed(states)]
    for start in range(0, len(ids), BATCH):
        with deps.uow() as uow:
            for pid in ids[start : start + BATCH]:
                uow.patients.lock(pid)
                patient = uow.patients.by_id(pid)
                if patient is None:
                    continue
                totals.add(refresh_patient(uow, pathway, deps.calendar, patient, now, deps.routes))
                texts += _refresh_texts(uow, deps, patient, version, now)
            uow.commit()
    with deps.uow() as uow:
        uow.versions.mark_rederived(version.pathway_id, version.number, now)
        uow.commit()
    return totals, texts


def _refresh_texts(
    uow: UnitOfWork, deps: Deps, patient: Patient, version: PathwayVersion, now: datetime
) -> int:
    _, candidates = derive(uow, deps, deps.pathway, patient, now)
    n = 0
    for a in uow.alerts.for_patient(patient.id):
        c = candidates.get((a.rule, a.instance_key))
        if a.status not in LIVE or c is None or (c.message, c.source) == (a.message, a.source):
            continue
        change = AlertChange(
            message=c.message, source=c.source, pathway_hash=version.content_hash, updated_at=now
        )
        if uow.alerts.update(a.id, a.status, change):
            uow.alerts.add_action(
                a.id, "text_refreshed", SWEEP_ACTOR, now, f"pathway version {version.number}"
            )
            n += 1
    return n
