"""Run the README's tour (the ```console blocks between the tour markers) and compare or rewrite it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from freezegun import freeze_time
from typer.testing import CliRunner

from pathway.cli.app import app

README = Path(__file__).resolve().parents[2] / "README.md"
TOUR_NOW = "2026-11-29 10:00:00"
BLOCK = re.compile(r"(```console\n)(.*?)(```)", re.S)


def _split(body: str) -> list[tuple[str, str]]:
    steps: list[tuple[str, str]] = []
    for line in body.splitlines(keepends=True):
        if line.startswith("$ "):
            steps.append((line[2:].strip(), ""))
        elif steps:
            steps[-1] = (steps[-1][0], steps[-1][1] + line)
    return steps


def run_tour() -> tuple[str, str]:
    """Return (readme as written, readme with fresh outputs); run it in an empty working directory.

    Every part between tour markers runs, in order, on the same database (the five-minute tour,
    then the shorter journeys further down). `export NAME=VALUE` sets a variable for the commands
    after it; a token printed by `users add NAME` is shown, and exported, as `<token of NAME>`.
    """
    text = README.read_text(encoding="utf-8")
    parts = re.split(r"(<!-- tour:start -->.*?<!-- tour:end -->)", text, flags=re.S)
    env = {"PATHWAY_DATABASE_URL": "sqlite:///pathway.db", "PATHWAY_TIMEZONE": "Europe/London"}
    runner = CliRunner()
    tokens: dict[str, str] = {}  # API tokens issued by `users add`, shown as "<token of NAME>"

    def rerun(match: re.Match[str]) -> str:
        out = ""
        for command, _ in _split(match.group(2)):
            args = shlex.split(command)
            if args[0] == "export":  # `export PATHWAY_TOKEN='<token of NAME>'`: for what follows
                name, _, value = args[1].partition("=")
                shown = re.fullmatch(r"<token of (.+)>", value)
                env[name] = tokens[shown.group(1)] if shown else value
                out += f"$ {command}\n"
                continue
            assert args[0] == "pathway", f"tour commands start with 'pathway': {command}"
            result = runner.invoke(app, args[1:], env=env)
            output = result.output
            if args[1:3] == ["users", "add"] and result.exit_code == 0:
                token = output.strip().splitlines()[-1]
                tokens[args[3]] = token
                output = output.replace(token, f"<token of {args[3]}>")
            out += f"$ {command}\n{output}"
        return match.group(1) + out + match.group(3)

    with freeze_time(TOUR_NOW):
        produced = "".join(BLOCK.sub(rerun, p) if p.startswith("<!-- tour:start") else p for p in parts)
    return text, produced
