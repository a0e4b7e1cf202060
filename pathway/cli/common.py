"""The Typer app and what every command shares: error translation and the composition root."""

from __future__ import annotations

import functools
import io
import os
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any, ParamSpec, TypeVar

import click
import typer
from typer.core import TyperGroup

import pathway
from db.busy import busy_error
from db.urls import connection_problem
from pathway.bootstrap import App, build
from pathway.domain.errors import Conflict, PathwayError
from pathway.services import accounts


class ChecksFailed(PathwayError):
    """A check ran and found problems (exit 1), as opposed to refused input (exit 2)."""


P = ParamSpec("P")
R = TypeVar("R")

EXIT_CODES = "Exit codes: 0 done, 1 a check found problems, 2 input refused, 3 conflict (reload and retry)."


# Click's base exception, whichever Click Typer uses (recent Typer versions carry their own copy).
_CLICK_ERROR: type[Any] = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


class OneLineErrors(TyperGroup):
    """Usage errors (a bad option value, a missing argument) as one `error:` line and exit 2."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except _CLICK_ERROR as exc:
            print(f"error: {exc.format_message().replace('Value error, ', '')}", file=sys.stderr)
            sys.exit(exc.exit_code)
        except typer.Abort:
            print("aborted", file=sys.stderr)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    cls=OneLineErrors,
    help="Care-pathway engine for sacral soft-tissue metastasis. Decision support "
    "for clinicians; not a substitute for clinical judgement. " + EXIT_CODES,
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _version(value: bool) -> None:
    if value:
        print(f"pathway {pathway.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Care-pathway engine for sacral soft-tissue metastasis."""


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):  # not a real file (a test runner)
        pass


def handles_errors(fn: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            result = fn(*args, **kwargs)
            sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
            return result
        except BrokenPipeError:
            # the reader (`| head`) stopped reading: the work is done; end quietly with success
            _silence_stdout()
            raise typer.Exit(0) from None
        except ChecksFailed as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(1) from None
        except Conflict as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(3) from None
        except PathwayError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort, _CLICK_ERROR, click.ClickException, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("PATHWAY_DEBUG"):
                raise
            busy = busy_error(exc)
            if busy is not None:
                print(f"error: {busy}", file=sys.stderr)
                raise typer.Exit(3) from None
            problem = next((p for a in _OPENED if (p := connection_problem(exc, a.engine.url))), None)
            if problem:
                print(f"error: {problem}", file=sys.stderr)
                raise typer.Exit(2) from None
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
