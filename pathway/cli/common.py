"""The Typer app and what every command shares: error translation and the composition root."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

import click
import typer

from pathway.bootstrap import App, build
from pathway.domain.errors import PathwayError
from pathway.services import accounts

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    help="Care-pathway engine for sacral soft-tissue metastasis. Decision support "
    "for clinicians; not a substitute for clinical judgement.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def handles_errors(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except PathwayError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort, typer.BadParameter, click.ClickException, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("PATHWAY_DEBUG"):
                raise
            print(
                f"internal error: {type(exc).__name__}: {exc} (nothing was saved; rerun with "
                "PATHWAY_DEBUG=1 for the traceback and report it)",
                file=sys.stderr,
            )
            raise typer.Exit(1) from None
        finally:
            while _OPENED:
                _OPENED.pop().engine.dispose()

    return wrapper


_OPENED: list[App] = []  # engines opened by the running command, closed when it returns


def get_app(check: bool = True) -> App:
    application = build()
    _OPENED.append(application)
    if check:
        application.check_schema()
    return application


ACTS_AS = (
    "While the database has no user accounts, the command acts as the person at the terminal "
    "(--by, default PATHWAY_ACTOR) with the local administrator's rights; once it has accounts, "
    "it acts as the account whose token is in PATHWAY_TOKEN, and --by and --role are refused."
)


def acting(application: App, action: str, by: str | None = None, role: str | None = None) -> accounts.Actor:
    """Who this write acts as (see `accounts.command_line_actor`)."""
    return accounts.command_line_actor(
        application.deps,
        os.environ.get(accounts.TOKEN_VARIABLE),
        by,
        role,
        action,
        application.settings.actor,
    )
