"""The composition root: settings -> engine -> unit of work, clock and compiled pathway."""

from __future__ import annotations

import importlib.metadata
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from db import migrate
from db.accounts import is_demo
from db.engine import make_engine
from db.unit_of_work import SqlUnitOfWork
from pathway.adapters.channels import EmailSender, LogSender, SmtpConfig, WebhookSender
from pathway.adapters.pathway_file import load_pathway_file
from pathway.clock import SystemClock
from pathway.domain.errors import PathwayError
from pathway.domain.machine import Pathway
from pathway.domain.notify import RetryPolicy
from pathway.domain.windows import Calendar
from pathway.ports import Deps, Sender
from pathway.services import health as checks
from pathway.settings import Settings, load_settings, web_secret

log = logging.getLogger("pathway.notify")


class DatabaseNotReady(PathwayError):
    """The database has not been created or is behind the code's schema."""


@dataclass(frozen=True)
class App:
    settings: Settings
    engine: Engine
    deps: Deps

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.settings.notify_max_attempts)

    def senders(self) -> dict[str, Sender]:
        s = self.settings
        senders: dict[str, Sender] = {"log": LogSender()}
        if s.smtp_host:
            if not s.smtp_starttls:
                log.warning(
                    "PATHWAY_SMTP_STARTTLS=false: mail to %s:%s (alerts, reports, the SMTP password) "
                    "is sent in plain text",
                    s.smtp_host,
                    s.smtp_port,
                )
            senders["email"] = EmailSender(self.smtp())
        if s.webhook_secret:
            senders["webhook"] = WebhookSender(s.webhook_secret.get_secret_value(), clock=self.deps.clock)
        return senders

    def smtp(self) -> SmtpConfig:
        s = self.settings
        return SmtpConfig(
            host=s.smtp_host or "localhost",
            port=s.smtp_port,
            starttls=s.smtp_starttls,
            ca_file=str(s.smtp_ca_file) if s.smtp_ca_file else None,
            username=s.smtp_user,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            sender=s.smtp_from,
        )

    def session_secret(self) -> tuple[str, str | None]:
        """The web session signing secret and, when it is an ephemeral one, a warning to say so.

        From PATHWAY_SESSION_SECRET (or its former name PATHWAY_SECRET_KEY) or the file named by
        PATHWAY_SESSION_SECRET_FILE; never from the database it protects. Without one only a
        database initialised with `--demo` may run, with a secret that lives as long as the process.
        """
        return web_secret(self.settings, lambda: is_demo(self.engine))

    def check_schema(self) -> None:
        current, head = migrate.current(self.engine), migrate.head()
        if current != head:
            what = "has no tables" if current is None else f"is at schema {current}, not {head}"
            raise DatabaseNotReady(f"the database {what}; run `pathway init` first")

    def health(self) -> checks.Health:
        """/readyz and `pathway health`: the database checks here, the rest from stored facts."""
        return checks.readiness(
            self.deps, self.settings.sweep_minutes, self.settings.report_time, self.storage_checks()
        )

    def storage_checks(self) -> tuple[checks.Check, ...]:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            reason = type(getattr(exc, "orig", None) or exc).__name__
            return (
                checks.Check("database", False, f"the database is unreachable ({reason})"),
                checks.Check("schema", False, "not checked: the database is unreachable"),
            )
        try:
            self.check_schema()
        except DatabaseNotReady as exc:
            return (checks.Check("database", True, "reachable"), checks.Check("schema", False, str(exc)))
        return (
            checks.Check("database", True, "reachable"),
            checks.Check("schema", True, f"schema {migrate.head()} is current"),
        )


def clinic_calendar(settings: Settings) -> Calendar:
    """The clinic's calendar; with PATHWAY_HOLIDAYS, weekends and public holidays shift targets."""
    if not settings.holidays:
        return Calendar(settings.zone)
    import holidays as holiday_calendars

    country, _, subdiv = settings.holidays.partition("-")
    table = holiday_calendars.country_holidays(country, subdiv=subdiv or None)

    def holiday(day: date) -> str | None:
        name = table.get(day)
        return str(name) if name else None

    return Calendar(settings.zone, holiday, frozenset(table.weekend))


def alert_stamp(settings: Settings) -> dict[str, str | None]:
    """Stored with each alert beside the pathway hash: an update of `holidays` can move a target."""
    try:
        version: str | None = importlib.metadata.version("holidays")
    except importlib.metadata.PackageNotFoundError:
        version = None
    return {"holiday_calendar": settings.holidays, "holidays_version": version}


def build(environ: Mapping[str, str] | None = None) -> App:
    settings = load_settings(os.environ if environ is None else environ)
    definition = load_pathway_file(settings.pathway_file)
    engine = make_engine(
        settings.database_url,
        settings.db_busy_timeout_seconds,
        settings.db_statement_timeout_seconds,
        cache_mib=settings.sqlite_cache_mib,
    )
    uow = partial(SqlUnitOfWork, engine, definition.pathway.id, alert_stamp=alert_stamp(settings))
    deps = Deps(
        uow=uow,
        clock=SystemClock(),
        pathway=Pathway(definition),
        zone=settings.zone,
        holidays=clinic_calendar(settings),
        routes=settings.notify,
        mrn=settings.mrn_policy,
    )
    return App(settings=settings, engine=engine, deps=deps)
