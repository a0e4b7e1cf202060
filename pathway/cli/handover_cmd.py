"""`pathway handover MRN`: the hand-over summary stored when the patient left the pathway;
`pathway handover --from A --to B`: a coordinator's caseload moved to another."""

from __future__ import annotations

from typing import Annotated

import typer

from pathway.cli import render
from pathway.cli.common import ACTS_AS, acting, app, get_app, handles_errors
from pathway.cli.rules_cmd import Format
from pathway.domain.handover import handover_markdown
from pathway.services import caseload, handover


@app.command("handover", epilog=ACTS_AS)
@handles_errors
def handover_cmd(
    mrn: Annotated[str | None, typer.Argument(help="Show this patient's exit hand-over summary.")] = None,
    format_: Annotated[Format, typer.Option("--format", help="md (Markdown) or json.")] = Format.md,
    from_: Annotated[
        str | None, typer.Option("--from", help="Move this coordinator's caseload (with --to).")
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="The coordinator who takes it over.")] = None,
    team: Annotated[str | None, typer.Option(help="Only the patients of this team.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who is acting (no accounts only).")] = None,
) -> None:
    """Show the hand-over summary stored with a transfer, withdrawal or loss to follow-up; or,
    with --from and --to, move a coordinator's whole caseload to another in one recorded act.

    Examples: pathway handover MRN-1001 --format json;
    pathway handover --from j.smith --to a.jones
    """
    if from_ is not None or to is not None or team is not None:
        if mrn is not None or from_ is None or to is None:
            raise typer.BadParameter("a caseload hand-over needs --from and --to, and no MRN")
        application = get_app()
        actor = acting(application, "assign", by)
        moved = caseload.hand_over(application.deps, from_, to, team, by=actor.name)
        print(
            f"{len(moved.mrns)} patient(s) handed over from {moved.from_user} to {moved.to_user}: "
            + ", ".join(moved.mrns)
        )
        return
    if mrn is None:
        raise typer.BadParameter("give an MRN (exit summary) or --from and --to (caseload)")
    summary = handover.read(get_app().deps, mrn)
    if format_ is Format.json:
        render.dump_json(summary)
    else:
        print(handover_markdown(summary), end="")
