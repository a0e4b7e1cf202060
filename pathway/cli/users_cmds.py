"""`pathway users add|list|revoke`: accounts for the web app and the API (run on the server)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pathway.cli import render
from pathway.cli.choices import Role
from pathway.cli.common import ACTS_AS, JsonOpt, acting, app, get_app, handles_errors
from pathway.services import accounts

users_app = typer.Typer(
    help="Accounts for the web app and the JSON API.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(users_app, name="users")


@users_app.command("add", epilog=ACTS_AS)
@handles_errors
def add(
    name: str,
    role: Annotated[Role, typer.Option(help="What the user may do.")] = Role.VIEWER,
    expires_in_days: Annotated[
        int | None, typer.Option("--expires-in-days", help="The token stops working after N days.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Create a user and print their API token once (only its hash is stored).

    Example: pathway users add j.smith --role coordinator
    """
    application = get_app()
    actor = acting(application, "manage_users")
    issued = accounts.add_user(
        application.deps, name, role.value, by=actor.name, expires_in_days=expires_in_days
    )
    if json_:
        render.dump_json(
            {"id": issued.user.id, "name": issued.user.name, "role": issued.user.role, "token": issued.token}
        )
        return
    print(f"user {issued.user.name} ({issued.user.role}) created; their API token, shown only this once:")
    print(issued.token)


@users_app.command("list")
@handles_errors
def list_(json_: JsonOpt = False) -> None:
    """List users with their role and whether they are active.

    Example: pathway users list
    """
    users = accounts.list_users(get_app().deps)
    if json_:
        render.dump_json(
            [
                {
                    "name": u.name,
                    "role": u.role,
                    "created_at": u.created_at,
                    "revoked_at": u.revoked_at,
                    "expires_at": u.expires_at,
                }
                for u in users
            ]
        )
        return
    table = Table(show_header=True, header_style="bold")
    for col in ("name", "role", "created", "status"):
        table.add_column(col)
    for u in users:
        table.add_row(
            u.name,
            u.role,
            f"{u.created_at:%Y-%m-%d %H:%M} UTC",
            "active" if u.active else f"revoked {u.revoked_at:%Y-%m-%d %H:%M} UTC",
        )
    render.console.print(table)


@users_app.command("revoke", epilog=ACTS_AS)
@handles_errors
def revoke(name: str) -> None:
    """Revoke a user's token; their web sessions end at their next request.

    Example: pathway users revoke j.smith
    """
    application = get_app()
    actor = acting(application, "manage_users")
    user = accounts.revoke_user(application.deps, name, by=actor.name)
    print(f"user {user.name} revoked")


@users_app.command("reset-token", epilog=ACTS_AS)
@handles_errors
def reset_token(name: str, json_: JsonOpt = False) -> None:
    """Issue a new API token (shown once): the old one stops working, a revoked user is active again.

    Example: pathway users reset-token j.smith
    """
    application = get_app()
    actor = acting(application, "manage_users")
    issued = accounts.reset_token(application.deps, name, by=actor.name)
    if json_:
        render.dump_json({"name": issued.user.name, "role": issued.user.role, "token": issued.token})
        return
    print(f"user {issued.user.name} ({issued.user.role}) has a new API token, shown only this once:")
    print(issued.token)


@users_app.command("set-role", epilog=ACTS_AS)
@handles_errors
def set_role(name: str, role: Annotated[Role, typer.Argument(help="The new role.")]) -> None:
    """Change a user's role (not your own; the last admin stays admin).

    Example: pathway users set-role j.smith clinician
    """
    application = get_app()
    actor = acting(application, "manage_users")
    user = accounts.set_role(application.deps, name, role.value, by=actor.name)
    print(f"user {user.name} is now a {user.role}")


@users_app.command("calendar-link", epilog=ACTS_AS)
@handles_errors
def calendar_link(name: str) -> None:
    """Issue the user's secret iCalendar feed URL (a new link replaces the old one).

    Example: pathway users calendar-link j.smith
    """
    # only here: FHIR and iCalendar models take time to import
    from pathway.services import interop as interop_service

    application = get_app()
    acting(application, "manage_users")
    user, token = interop_service.calendar_link(application.deps, name)
    print(f"calendar feed for {user.name}, shown only this once (subscribe to it from a calendar app):")
    print(f"/calendar/{token}.ics")


@users_app.command("calendar-revoke", epilog=ACTS_AS)
@handles_errors
def calendar_revoke(name: str) -> None:
    """Revoke the user's calendar feed URL; it answers 404 from now on.

    Example: pathway users calendar-revoke j.smith
    """
    from pathway.services import interop as interop_service

    application = get_app()
    acting(application, "manage_users")
    user = interop_service.revoke_calendar(application.deps, name)
    print(f"calendar link of {user.name} revoked")
