"""Commands for the notification outbox: deliver once, and list what was sent or failed."""

from __future__ import annotations

import logging
import random
from typing import Annotated

import typer
from rich.table import Table

from pathway.cli import render
from pathway.cli.choices import NotificationStatus
from pathway.cli.common import JsonOpt, app, get_app, handles_errors
from pathway.domain.errors import InvalidInput
from pathway.services import outbox
from pathway.services.outbox import dispatch

STATUSES: tuple[str, ...] = tuple(NotificationStatus)


@app.command()
@handles_errors
def notify(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due now, then exit.")] = True,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also show the libraries' log lines (database, migrations).")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Deliver due notifications (retries with backoff; a down channel loses nothing).

    Example: pathway notify --once
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    if not verbose:  # the delivery lines only; libraries (Alembic's schema check) stay quiet
        for library in ("alembic", "sqlalchemy", "httpx", "aiosmtpd"):
            logging.getLogger(library).setLevel(logging.WARNING)
    application = get_app()
    result = dispatch(application.deps, application.senders(), application.retry_policy, random.random)
    if json_:
        render.dump_json(result.as_dict())
        return
    for line in result.lines:
        print(line)
    print(
        f"notify: {result.sent} sent, {result.retried} to retry, {result.dead} dead, "
        f"{result.cancelled} cancelled (alert no longer open), {result.deferred} held"
    )


notifications_app = typer.Typer(rich_markup_mode=None)
app.add_typer(notifications_app, name="notifications")


@notifications_app.command("requeue")
@handles_errors
def requeue(
    ids: Annotated[list[int] | None, typer.Argument(help="Dead notifications to send again.")] = None,
    dead: Annotated[bool, typer.Option("--dead", help="Every dead notification.")] = False,
) -> None:
    """Send dead notifications again (after fixing the channel): back to pending, attempts reset.

    Example: pathway notifications requeue --dead
    """
    if bool(ids) == dead:
        raise InvalidInput("give notification ids or --dead (not both, not neither)")
    application = get_app()
    done = outbox.requeue(application.deps, None if dead else list(ids or []))
    missing = sorted(set(ids or []) - set(done))
    if missing:
        print(f"not dead, or no such notification: {', '.join(map(str, missing))}")
    print(f"{len(done)} notification(s) requeued" + (f": {', '.join(map(str, done))}" if done else ""))


@notifications_app.callback(invoke_without_command=True)
@handles_errors
def notifications(
    ctx: typer.Context,
    status: Annotated[NotificationStatus | None, typer.Option(help="Only this status.")] = None,
    alert: Annotated[int | None, typer.Option(help="Only this alert's notifications.")] = None,
    json_: JsonOpt = False,
) -> None:
    """The outbox: every notification with its channel, status, attempts and last error.

    Example: pathway notifications --status dead
    """
    if ctx.invoked_subcommand is not None:
        return
    application = get_app()
    with application.deps.uow() as uow:
        rows = uow.notifications.listing((status.value,) if status else None, alert)
        attempts = {n.id: uow.notifications.attempts_of(n.id) for n in rows} if json_ else {}
    if json_:
        render.dump_json(
            [
                {
                    "id": n.id,
                    "alert_id": n.alert_id,
                    "channel": n.channel,
                    "recipient": n.recipient,
                    "status": n.status,
                    "attempts": n.attempts,
                    "idempotency_key": n.idempotency_key,
                    "last_error": n.last_error,
                    "sent_at": n.sent_at,
                    "history": [{"at": a, "outcome": o, "error": e} for a, o, e in attempts[n.id]],
                }
                for n in rows
            ]
        )
        return
    table = Table(show_header=True, header_style="bold")
    for col in ("id", "alert", "channel", "recipient", "status", "attempts", "last error"):
        table.add_column(col)
    for n in rows:
        table.add_row(
            str(n.id),
            str(n.alert_id),
            n.channel,
            n.recipient,
            n.status,
            str(n.attempts),
            n.last_error or "",
            style="red" if n.status == "dead" else None,
        )
    render.console.print(table)
    render.console.print(f"{len(rows)} notification(s)")
