"""`pathway handover MRN`: the hand-over summary stored when the patient left the pathway."""

from __future__ import annotations

from typing import Annotated

import typer

from pathway.cli import render
from pathway.cli.common import app, get_app, handles_errors
from pathway.cli.rules_cmd import Format
from pathway.domain.handover import handover_markdown
from pathway.services import handover


@app.command("handover")
@handles_errors
def handover_cmd(
    mrn: str,
    format_: Annotated[Format, typer.Option("--format", help="md (Markdown) or json.")] = Format.md,
) -> None:
    """Show the hand-over summary stored with a transfer, withdrawal or loss to follow-up.

    Example: pathway handover MRN-1001 --format json
    """
    summary = handover.read(get_app().deps, mrn)
    if format_ is Format.json:
        render.dump_json(summary)
    else:
        print(handover_markdown(summary), end="")
