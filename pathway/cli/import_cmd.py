"""`pathway import FILE.csv`: enrol a cohort, or append to enrolled patients, after checking every row."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TimeRemainingColumn,
)
from rich.text import Text

from pathway.cli import render
from pathway.cli.common import ACTS_AS, JsonOpt, acting, app, get_app, handles_errors
from pathway.domain.errors import InvalidInput
from pathway.services.importing import BATCH, COLUMNS, import_cohort, iter_rows


class _RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "… rows/s", style="progress.data.speed")


@app.command("import", epilog=ACTS_AS)
@handles_errors
def import_(
    file: Annotated[Path, typer.Argument(help="CSV with columns " + ", ".join(COLUMNS))],
    by: Annotated[
        str | None, typer.Option("--by", help="Who records the events; refused once there are user accounts.")
    ] = None,
    batch: Annotated[
        int, typer.Option("--batch", min=1, help="Patients written per batch of statements.")
    ] = BATCH,
    per_batch: Annotated[
        bool,
        typer.Option(
            "--commit-each-batch", help="Commit each batch (a failure keeps the batches before it)."
        ),
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Import a cohort from CSV: every row is validated first and nothing is written on any error.

    Rows for patients already enrolled append to their history; a row whose row_id was imported
    before is skipped. Only alerts open as of now are raised.

    Example: pathway import cohort.csv --by j.smith
    """

    def rows() -> Iterator[dict[str, str]]:
        """The file, read afresh for each pass (checking, then importing)."""
        try:
            with file.open(encoding="utf-8-sig", newline="") as stream:
                yield from iter_rows(stream)
        except OSError as exc:
            raise InvalidInput(f"{file}: cannot read ({exc.strerror})") from None

    try:
        with file.open("rb") as counted:
            lines = sum(1 for _ in counted) - 1
    except OSError as exc:
        raise InvalidInput(f"{file}: cannot read ({exc.strerror})") from None
    application = get_app()
    actor = acting(application, "enrol", by)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        _RowsPerSecond(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=json_ or not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task("importing", total=max(lines, 0))
        done = import_cohort(
            application.deps,
            rows,
            actor.name,
            lambda n: bar.advance(task, n),
            batch=batch,
            atomic=not per_batch,
        )
    if json_:
        render.dump_json(asdict(done))
        return
    print(
        f"imported {done.patients} patient(s) and {done.events} event(s) from {file}; "
        f"{done.skipped} row(s) already imported; {done.alerts} alert(s) raised"
    )
