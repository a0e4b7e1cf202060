"""`pathway teams`, `users join|leave`, `assign`, `book`: care teams, caseloads and bookings."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from pathway.cli import render
from pathway.cli.common import ACTS_AS, JsonOpt, acting, app, get_app, handles_errors
from pathway.cli.users_cmds import users_app
from pathway.domain.alert_status import Severity
from pathway.domain.clinical_time import parse_date
from pathway.services import bookings, caseload

teams_app = typer.Typer(
    help="Care teams (admin only to change).", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(teams_app, name="teams")


@teams_app.command("add", epilog=ACTS_AS)
@handles_errors
def add_team(
    name: str,
    notify_email: Annotated[
        str | None, typer.Option("--notify-email", help="The team's own address for its patients' alerts.")
    ] = None,
    notify_webhook: Annotated[
        str | None,
        typer.Option("--notify-webhook", help="The team's own webhook URL."),
    ] = None,
    notify_from: Annotated[
        Severity, typer.Option("--notify-from", help="Lowest severity sent to the team's target.")
    ] = Severity.WARNING,
) -> None:
    """Add a care team, optionally with its own notification target (sent besides the site's routes).

    Example: pathway teams add sarcoma-a --notify-email sarcoma-a@hospital.example
    """
    if notify_email and notify_webhook:
        raise typer.BadParameter("give --notify-email or --notify-webhook, not both")
    application = get_app()
    actor = acting(application, "manage_users")
    channel = "email" if notify_email else "webhook" if notify_webhook else None
    team = caseload.add_team(
        application.deps, name, channel, notify_email or notify_webhook, notify_from.value, by=actor.name
    )
    target = (
        f"; its alerts from {team.notify_min_severity} also go to {team.notify_to}" if team.notify_to else ""
    )
    print(f"team {team.name} added{target}")


@teams_app.command("list")
@handles_errors
def list_teams(json_: JsonOpt = False) -> None:
    """List care teams with their members and notification target.

    Example: pathway teams list
    """
    teams = caseload.list_teams(get_app().deps)
    if json_:
        render.dump_json(
            [
                {
                    "name": t.name,
                    "members": list(t.members),
                    "notify": {"channel": t.notify_channel, "to": t.notify_to, "from": t.notify_min_severity}
                    if t.notify_to
                    else None,
                }
                for t in teams
            ]
        )
        return
    if not teams:
        print("No care teams yet; an admin adds one with `pathway teams add NAME`.")
        return
    table = Table(show_header=True, header_style="bold")
    for col in ("team", "members", "notified"):
        table.add_column(col)
    for t in teams:
        notified = f"{t.notify_to} ({t.notify_min_severity}+)" if t.notify_to else "site routes only"
        table.add_row(t.name, ", ".join(t.members) or "-", notified)
    render.console.print(table)


@users_app.command("join", epilog=ACTS_AS)
@handles_errors
def join(name: str, team: str) -> None:
    """Add a user to a care team.

    Example: pathway users join j.smith sarcoma-a
    """
    application = get_app()
    actor = acting(application, "manage_users")
    joined = caseload.join(application.deps, name, team, by=actor.name)
    print(f"{name} is now in team {joined.name} ({', '.join(joined.members)})")


@users_app.command("leave", epilog=ACTS_AS)
@handles_errors
def leave(name: str, team: str) -> None:
    """Take a user out of a care team (hand over the patients they coordinate there first).

    Example: pathway users leave j.smith sarcoma-a
    """
    application = get_app()
    actor = acting(application, "manage_users")
    left = caseload.leave(application.deps, name, team, by=actor.name)
    print(f"{name} has left team {left.name}")


@app.command(epilog=ACTS_AS)
@handles_errors
def assign(
    mrn: str,
    team: Annotated[str, typer.Option(help="The care team responsible for the patient.")],
    coordinator: Annotated[
        str | None, typer.Option(help="The named coordinator (a member of the team); none: the whole team.")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who is acting (no accounts only).")] = None,
) -> None:
    """Put a patient in a care team's caseload, optionally named to one coordinator (audited).

    Example: pathway assign MRN-1001 --team sarcoma-a --coordinator j.smith
    """
    application = get_app()
    actor = acting(application, "assign", by)
    done = caseload.assign(application.deps, mrn, team, coordinator, by=actor.name)
    who = f", coordinator {done.coordinator}" if done.coordinator else " (no named coordinator)"
    print(f"{mrn.strip()}: team {done.team}{who}")


@app.command(epilog=ACTS_AS)
@handles_errors
def book(
    mrn: str,
    rule: Annotated[str, typer.Argument(help="The open follow-up's rule (see `pathway status MRN`).")],
    on: Annotated[str, typer.Option("--on", help="The booked clinic date YYYY-MM-DD.")],
    region: Annotated[str | None, typer.Option(help="The follow-up's region, if it has several.")] = None,
    note: Annotated[str | None, typer.Option(help="E.g. where, or the booking reference.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who is acting (no accounts only).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Book an open follow-up (the scan or visit) for a date: the worklist shows it as booked
    until then, and as a missed appointment from the next day if the step is still not done.

    Example: pathway book MRN-1001 T09 --region pelvis_sacrum --on 2026-12-12
    """
    application = get_app()
    actor = acting(application, "record", by)
    done = bookings.book(
        application.deps,
        mrn,
        rule,
        parse_date(on, "--on"),
        region=region,
        note=note,
        actor=actor.name,
        role=actor.role,
    )
    if json_:
        render.dump_json(
            {
                "event": render.event_json(done.recorded.event, application.deps.zone, False),
                "rule": done.rule,
                "region": done.region or None,
                "on": done.on.isoformat(),
                "warning": done.warning,
            }
        )
        return
    where = f" ({done.region})" if done.region else ""
    print(
        f"{done.recorded.patient.mrn}: {done.rule} {done.step}{where} booked for {done.on.isoformat()} "
        f"(event {done.recorded.event.id})"
    )
    if done.warning:
        print(f"warning: {done.warning}", file=sys.stderr)
