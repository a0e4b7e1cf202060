"""`pathway import FILE.csv`: enrol a cohort after checking every row."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from pathway.cli.common import ACTS_AS, acting, app, get_app, handles_errors
from pathway.domain.errors import InvalidInput
from pathway.services.importing import COLUMNS, import_cohort, read_rows


@app.command("import", epilog=ACTS_AS)
@handles_errors
def import_(
    file: Annotated[Path, typer.Argument(help="CSV with columns " + ", ".join(COLUMNS))],
    by: Annotated[
        str | None, typer.Option("--by", help="Who records the events; refused once there are user accounts.")
    ] = None,
) -> None:
    """Enrol a cohort from CSV; every row is validated first and nothing is written on any error.

    Example: pathway import cohort.csv --by j.smith
    """
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(f"{file}: cannot read ({exc.strerror})") from None
    rows = read_rows(text)
    application = get_app()
    actor = acting(application, "enrol", by)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as bar:
        task = bar.add_task("importing", total=len(rows))
        patients, events = import_cohort(application.deps, rows, actor.name, lambda n: bar.advance(task, n))
    print(f"imported {patients} patient(s) and {events} event(s) from {file}")
