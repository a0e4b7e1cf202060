"""Care teams and caseloads: who is responsible for each patient.

A patient belongs to one care team and optionally to a named coordinator (an account that is a
member of that team). Accounts belong to teams. Every assignment, membership change and caseload
hand-over is written to the audit trail (who, when, from where) in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import ValidationError

from pathway.domain.errors import Conflict, InvalidInput, NotFound
from pathway.domain.notify import Route
from pathway.domain.rules_spec import SEVERITY_RANK
from pathway.ports import Assignment, Deps, Team, UnitOfWork, User
from pathway.services import audit
from pathway.services.sync import find_patient

TEAM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def add_team(
    deps: Deps, name: str, channel: str | None, to: str | None, floor: str = "warning", *, by: str
) -> Team:
    """A new team; `channel`/`to` (email or webhook) is its own notification target, if any."""
    name = name.strip()
    if not TEAM_NAME.match(name):
        raise InvalidInput(
            f"team name {name!r} is not valid: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if floor not in SEVERITY_RANK:
        raise InvalidInput(f"--notify-from must be one of {', '.join(SEVERITY_RANK)}")
    if (channel is None) != (to is None):
        raise InvalidInput("a team's notification target needs both a channel and an address")
    if channel is not None:
        if channel not in ("email", "webhook"):
            raise InvalidInput("a team is notified by email or webhook")
        try:
            Route(channel=channel, to=to or "")  # type: ignore[arg-type]
        except ValidationError as exc:
            raise InvalidInput(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
    with deps.uow() as uow:
        if uow.teams.by_name(name) is not None:
            raise Conflict(f"team {name} already exists; see `pathway teams list`")
        now = deps.clock.now()
        team = uow.teams.add(name, channel, to, floor, now)
        audit.note(uow, now, by, "team_add", None, team=name, notify=to)
        uow.commit()
    return team


def list_teams(deps: Deps) -> list[Team]:
    with deps.read() as uow:
        return uow.teams.listing()


def join(deps: Deps, user_name: str, team_name: str, *, by: str) -> Team:
    """Make the account a member of the team."""
    with deps.uow() as uow:
        user, team = _user(uow, user_name), _team(uow, team_name)
        now = deps.clock.now()
        if not uow.teams.add_member(team.id, user.id, now):
            raise Conflict(f"{user.name} is already in team {team.name}")
        audit.note(uow, now, by, "team_join", None, team=team.name, user=user.name)
        updated = uow.teams.by_name(team.name)
        uow.commit()
    assert updated is not None
    return updated


def leave(deps: Deps, user_name: str, team_name: str, *, by: str) -> Team:
    """Take the account out of the team; refused while they coordinate patients of that team."""
    with deps.uow() as uow:
        user, team = _user(uow, user_name), _team(uow, team_name)
        held = uow.teams.caseload(user.id, team.id)
        if held:
            raise Conflict(
                f"{user.name} coordinates {len(held)} patient(s) of team {team.name}: hand them over "
                f"first (`pathway handover --from {user.name} --to OTHER`)"
            )
        if not uow.teams.remove_member(team.id, user.id):
            raise Conflict(f"{user.name} is not in team {team.name}")
        now = deps.clock.now()
        audit.note(uow, now, by, "team_leave", None, team=team.name, user=user.name)
        updated = uow.teams.by_name(team.name)
        uow.commit()
    assert updated is not None
    return updated


def assign(deps: Deps, mrn: str, team_name: str, coordinator: str | None, *, by: str) -> Assignment:
    """Put the patient in the team's care, named to `coordinator` (a member of it) if given."""
    with deps.uow() as uow:
        patient = find_patient(uow, mrn, deps.mrn, lock=True)
        team = _team(uow, team_name)
        user = _member(uow, coordinator, team) if coordinator is not None else None
        before = uow.teams.assignment(patient.id)
        now = deps.clock.now()
        uow.teams.assign(patient.id, team.id, user.id if user else None, now, by)
        audit.note(
            uow,
            now,
            by,
            "assign",
            patient.mrn,
            team=team.name,
            coordinator=user.name if user else None,
            was_team=before.team if before else None,
            was_coordinator=before.coordinator if before else None,
        )
        after = uow.teams.assignment(patient.id)
        uow.commit()
    assert after is not None
    return after


def assignment(deps: Deps, mrn: str) -> Assignment | None:
    with deps.read() as uow:
        return uow.teams.assignment(find_patient(uow, mrn, deps.mrn).id)


@dataclass(frozen=True)
class HandedOver:
    from_user: str
    to_user: str
    mrns: list[str]


def hand_over(deps: Deps, from_user: str, to_user: str, team: str | None = None, *, by: str) -> HandedOver:
    """Move every patient named to `from_user` (in `team`, if given) to `to_user`, in one
    transaction, each move in the audit trail. `to_user` must be in each patient's team."""
    with deps.uow() as uow:
        giver, taker = _user(uow, from_user), _user(uow, to_user)
        if giver.id == taker.id:
            raise InvalidInput("--from and --to name the same person")
        if not taker.active:
            raise InvalidInput(f"{taker.name} is revoked and cannot take over a caseload")
        only = _team(uow, team) if team is not None else None
        ids = uow.teams.caseload(giver.id, only.id if only else None)
        if not ids:
            where = f" in team {only.name}" if only else ""
            raise NotFound(f"{giver.name} coordinates no patients{where}: nothing to hand over")
        now = deps.clock.now()
        mrns: list[str] = []
        for pid in ids:
            uow.patients.lock(pid)
            current = uow.teams.assignment(pid)
            patient = uow.patients.by_id(pid)
            assert current is not None and patient is not None
            team_of = _team(uow, current.team)
            if taker.name not in team_of.members:
                raise InvalidInput(
                    f"{taker.name} is not in team {team_of.name} (patient {patient.mrn}): add them "
                    f"with `pathway users join {taker.name} {team_of.name}` first; nothing was moved"
                )
            uow.teams.assign(pid, team_of.id, taker.id, now, by)
            moved_one = {"team": team_of.name, "coordinator": taker.name, "was_coordinator": giver.name}
            audit.note(uow, now, by, "assign", patient.mrn, handover=True, **moved_one)
            mrns.append(patient.mrn)
        audit.note(
            uow, now, by, "caseload_handover", None, **{"from": giver.name, "to": taker.name, "mrns": mrns}
        )
        uow.commit()
    return HandedOver(giver.name, taker.name, sorted(mrns))


@dataclass(frozen=True)
class Caseload:
    """A worklist filter: the MRNs in it, and how to say it ("j.smith's caseload")."""

    mrns: frozenset[str]
    label: str


def caseload(deps: Deps, mine: str | None = None, team: str | None = None) -> Caseload:
    """`mine`: the account's caseload, the patients named to it and the unnamed patients of its
    teams (a team shares those); `team` alone: every patient of the team; both: the intersection."""
    with deps.read() as uow:
        only = _team(uow, team) if team is not None else None
        if mine is None:
            assert only is not None
            return Caseload(frozenset(uow.teams.mrns([only.id], None)), f"team {only.name}")
        user = _user(uow, mine)
        teams = [t.id for t in uow.teams.listing() if user.name in t.members]
        mrns = uow.teams.mrns(None, user.id) | uow.teams.shared(teams)
        if only is not None:
            mrns &= uow.teams.mrns([only.id], None)
        label = f"{user.name}'s caseload" + (f" in team {only.name}" if only else "")
        return Caseload(frozenset(mrns), label)


def _user(uow: UnitOfWork, name: str) -> User:
    user = uow.users.by_name(name.strip())
    if user is None:
        raise NotFound(f"no user {name.strip()!r}; see `pathway users list`")
    return user


def _team(uow: UnitOfWork, name: str) -> Team:
    team = uow.teams.by_name(name.strip())
    if team is None:
        known = (
            ", ".join(t.name for t in uow.teams.listing())
            or "none yet; an admin adds one with `pathway teams add`"
        )
        raise NotFound(f"no team {name.strip()!r} (teams: {known})")
    return team


def _member(uow: UnitOfWork, name: str, team: Team) -> User:
    user = _user(uow, name)
    if not user.active:
        raise InvalidInput(f"{user.name} is revoked and cannot coordinate patients")
    if user.name not in team.members:
        raise InvalidInput(
            f"{user.name} is not in team {team.name}: an admin adds them with "
            f"`pathway users join {user.name} {team.name}`"
        )
    return user
