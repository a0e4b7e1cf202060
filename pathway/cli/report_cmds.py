"""`pathway report`: the daily status report in Markdown, HTML, CSV or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pathway.cli.choices import ReportFormat
from pathway.cli.common import app, get_app, handles_errors
from pathway.domain.clinical_time import parse_date
from pathway.domain.errors import InvalidInput
from pathway.render import report as render_report
from pathway.services import reports
from pathway.services.daily_report import write_private


@app.command()
@handles_errors
def report(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Clinic date YYYY-MM-DD.")] = None,
    format_: Annotated[ReportFormat, typer.Option("--format", help="Output format.")] = ReportFormat.md,
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
) -> None:
    """The daily status report: news first, overdue and due steps, alerts, quality, forecast.

    Example: pathway report --format html --out today.html
    """
    application = get_app()
    deps = application.deps
    if format_ == "csv":
        text = render_report.to_csv(reports.patient_lines(deps), list(deps.pathway.definition.tracks))
    else:
        built = reports.build(deps, parse_date(as_of, "--as-of") if as_of else None)
        text = {
            "md": render_report.to_markdown,
            "html": render_report.to_html,
            "json": render_report.to_json,
        }[format_.value](built)
    if out is None:
        print(text, end="" if text.endswith("\n") else "\n")
        return
    try:
        write_private(out, text)
    except OSError as exc:
        raise InvalidInput(f"--out {out}: cannot write ({exc.strerror})") from None
    print(f"report written to {out}")
