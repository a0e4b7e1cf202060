"""`pathway rules`: every timing and alert rule of the pathway file, as Markdown or JSON."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from typing import Annotated

import typer

from pathway.cli import render
from pathway.cli.common import app, get_app, handles_errors
from pathway.domain.rule_catalogue import RuleEntry, catalogue


class Format(StrEnum):
    md = "md"
    json = "json"


@app.command()
@handles_errors
def rules(
    format_: Annotated[Format, typer.Option("--format", help="md (a Markdown table) or json.")] = Format.md,
) -> None:
    """Every timing and alert rule: what, when, window, severities, pausable, source and kind.

    Example: pathway rules --format json
    """
    definition = get_app(check=False).deps.pathway.definition
    entries = catalogue(definition)
    if format_ is Format.json:
        render.dump_json([asdict(e) for e in entries])
        return
    p = definition.pathway
    print(f"# Rules of {p.title} ({p.id} {p.version})\n")
    columns = ["id", "type", "what", "when it runs", "window or clock", "severity", "pausable"]
    columns += ["needs a time", "source", "kind"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for e in entries:
        print("| " + " | ".join(_cells(e)) + " |")


def _cells(e: RuleEntry) -> list[str]:
    kind = e.kind_of_rule + (f" of {e.of_rule}" if e.of_rule else "")
    pausable = "-" if e.pausable is None else ("yes" if e.pausable else "no")
    cells = [
        e.id,
        kind,
        e.what,
        e.runs,
        e.window or "-",
        ", ".join(e.ladder) or "-",
        pausable,
        "yes" if e.needs_time else "no",
        e.source,
        e.kind,
    ]
    return [c.replace("|", "\\|") for c in cells]
