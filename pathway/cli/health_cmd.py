"""`pathway health`: the readiness checks for monitoring systems that run commands (exit 1 degraded)."""

from __future__ import annotations

import typer

from pathway.cli import render
from pathway.cli.common import JsonOpt, app, get_app, handles_errors


@app.command()
@handles_errors
def health(json_: JsonOpt = False) -> None:
    """Check the database, the schema, the sweep, today's report and the outbox; exit 1 if degraded.

    Example: pathway health --json
    """
    result = get_app(check=False).health()
    if json_:
        render.dump_json(result.as_json())
    else:
        for check in result.checks:
            print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
        print(f"status: {result.status}")
    if not result.healthy:
        raise typer.Exit(1)
