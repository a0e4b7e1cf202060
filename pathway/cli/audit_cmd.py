"""`pathway audit`: who did or viewed what, when, to which patient, from where (admins)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pathway.cli import render
from pathway.cli.common import ACTS_AS, JsonOpt, acting, app, get_app, handles_errors
from pathway.domain.clinical_time import parse_date, start_of_day
from pathway.services import audit


@app.command("audit", epilog=ACTS_AS)
@handles_errors
def audit_cmd(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's rows.")] = None,
    mrn: Annotated[str | None, typer.Option("--mrn", help="Only this patient's rows.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this clinic date on (YYYY-MM-DD).")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many rows, newest first.")] = 500,
    json_: JsonOpt = False,
) -> None:
    """Show the audit trail: every write and every view of a patient record, newest first.

    Example: pathway audit --mrn MRN-1001 --since 2026-11-01
    """
    application = get_app()
    acting(application, "manage_users")
    deps = application.deps
    start = start_of_day(parse_date(since, "--since"), deps.zone) if since else None
    entries = audit.find(deps, user or None, mrn.strip() if mrn else None, start, limit)
    if json_:
        render.dump_json([audit.as_json(e) for e in entries])
        return
    if not entries:
        print("no audit rows match")
        return
    table = Table(show_header=True, header_style="bold")
    for name in ("when (UTC)", "who", "what", "MRN", "from", "detail"):
        table.add_column(name)
    for e in entries:
        detail = " ".join(f"{k}={v}" for k, v in (e.detail or {}).items())
        table.add_row(f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.action, e.mrn or "", e.origin, detail)
    render.console.print(table)
