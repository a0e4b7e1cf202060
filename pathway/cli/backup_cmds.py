"""`pathway backup FILE` and `pathway restore FILE` (run on the server by its operator)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from db import backup as backups
from pathway.cli.common import app, get_app, handles_errors
from pathway.services import patients


@app.command()
@handles_errors
def backup(
    file: Annotated[Path, typer.Argument(help="A new file for the backup (never overwritten).")],
) -> None:
    """Back up the whole database, consistent while the engine keeps working (owner-only file).

    SQLite uses its online backup API; PostgreSQL runs pg_dump in its custom format.
    Example: pathway backup /var/backups/pathway-2026-11-30.db
    """
    application = get_app()
    backups.backup(application.engine, file)
    print(f"backup written to {file} (it holds patient data: keep it as safe as the database)")


@app.command()
@handles_errors
def restore(file: Annotated[Path, typer.Argument(help="A file written by `pathway backup`.")]) -> None:
    """Restore a backup into an empty database, then check every patient against their history.

    Example: PATHWAY_DATABASE_URL=sqlite:///restored.db pathway restore pathway-2026-11-30.db
    """
    backups.restore(get_app(check=False).engine, file)
    mismatches = patients.verify_replay(get_app().deps)
    for line in mismatches:
        print(line)
    if mismatches:
        print(f"restored from {file}, but {len(mismatches)} patient(s) differ from their history")
        raise typer.Exit(1)
    print(f"restored from {file}; verify: every patient's stored state matches its history")
