"""Typed settings (pydantic-settings): environment variables PATHWAY_* over secret files over an
optional TOML file, validated once.

Secrets (the SMTP password, the webhook signing secret, the session key) are `SecretStr`: their
`repr` and any log line show `**********`. They may come from files in `PATHWAY_SECRETS_DIR`, one per
setting, named as the variable (`PATHWAY_SMTP_PASSWORD`) or the setting (`smtp_password`), holding
the value alone (systemd's `LoadCredential=`, Docker or Kubernetes secrets).
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from config import DEFAULT_PATHWAY
from pathway.domain.errors import InvalidInput
from pathway.domain.mrn import MRN_CASES, MrnCase, MrnPolicy
from pathway.domain.notify import DEFAULT_ROUTES, Route

PREFIX = "PATHWAY_"
DEFAULT_DATABASE_URL = "sqlite:///pathway.db"


def system_timezone() -> str:
    try:
        from tzlocal import get_localzone_name

        return get_localzone_name() or "UTC"
    except Exception:  # no zone configured on the machine
        return "UTC"


class Settings(BaseSettings):
    """Built by `load_settings` from an explicit environment (never read behind its back)."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, extra="forbid", frozen=True, validate_default=True, case_sensitive=False
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # load_settings layers the sources itself, from the mapping it is given

    database_url: str = DEFAULT_DATABASE_URL
    db_busy_timeout_seconds: float = 10.0
    db_statement_timeout_seconds: float = 120.0
    sqlite_cache_mib: int = 64
    timezone: str = ""
    pathway_file: Path = DEFAULT_PATHWAY
    holidays: str | None = None
    actor: str = "coordinator"
    sweep_minutes: int = 5
    notify: tuple[Route, ...] = DEFAULT_ROUTES
    notify_max_attempts: int = 8
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = True  # false sends mail (and the SMTP password) in plain text: a warning at start
    smtp_ca_file: Path | None = None  # a private CA to trust for the SMTP server's certificate
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "pathway@localhost"
    webhook_secret: SecretStr | None = None
    report_time: str = "07:00"
    reports_dir: Path = Path("reports")
    report_recipients: tuple[str, ...] = ()
    secret_key: SecretStr | None = None  # the former name of session_secret, still accepted
    session_secret: SecretStr | None = None
    session_secret_file: Path | None = None
    session_idle_minutes: int = 30
    session_hours: int = 12
    signin_max_failures: int = 5
    signin_lock_minutes: int = 15
    max_body_bytes: int = 1_048_576
    trusted_proxies: tuple[str, ...] = ()
    secure_cookies: bool = False
    fhir_mrn_system: str = "urn:sacral-pathway:mrn"
    calendar_show_patient: bool = False
    calendar_days: int = 90
    mrn_case: str = "upper"
    mrn_pattern: str | None = None
    show_names: bool = True

    @field_validator("db_busy_timeout_seconds")
    @classmethod
    def _busy(cls, value: float) -> float:
        if not 0.1 <= value <= 600:
            raise ValueError("must be between 0.1 and 600 seconds")
        return value

    @field_validator("sqlite_cache_mib")
    @classmethod
    def _cache(cls, value: int) -> int:
        if not 2 <= value <= 4096:
            raise ValueError("must be between 2 and 4096 MiB")
        return value

    @field_validator("db_statement_timeout_seconds")
    @classmethod
    def _statement(cls, value: float) -> float:
        if not (value == 0 or 1 <= value <= 86_400):
            raise ValueError("must be 0 (no limit) or between 1 and 86400 seconds")
        return value

    @field_validator("mrn_case")
    @classmethod
    def _mrn_case(cls, value: str) -> str:
        if value not in MRN_CASES:
            raise ValueError(f"'{value}' is not an MRN case; use {', '.join(MRN_CASES)}")
        return value

    @field_validator("mrn_pattern")
    @classmethod
    def _mrn_pattern(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"'{value}' is not a regular expression ({exc})") from None
        return value

    @property
    def mrn_policy(self) -> MrnPolicy:
        return MrnPolicy(cast(MrnCase, self.mrn_case), self.mrn_pattern)

    idempotency_hours: int = 24

    @field_validator("fhir_mrn_system")
    @classmethod
    def _uri(cls, value: str) -> str:
        if ":" not in value or any(c.isspace() for c in value):
            raise ValueError(f"'{value}' is not a URI (e.g. urn:oid:1.2.3.4 or https://hospital.example/mrn)")
        return value

    @field_validator("session_idle_minutes", "session_hours", "signin_max_failures", "signin_lock_minutes")
    @classmethod
    def _positive(cls, value: int) -> int:
        if not 1 <= value <= 100_000:
            raise ValueError("must be a whole number between 1 and 100000")
        return value

    @field_validator("max_body_bytes")
    @classmethod
    def _body(cls, value: int) -> int:
        if not 1024 <= value <= 1_073_741_824:
            raise ValueError("must be between 1024 bytes and 1 GiB")
        return value

    @field_validator("idempotency_hours")
    @classmethod
    def _hours(cls, value: int) -> int:
        if not 1 <= value <= 24 * 30:
            raise ValueError("must be between 1 and 720 hours")
        return value

    @field_validator("calendar_days")
    @classmethod
    def _days(cls, value: int) -> int:
        if not 1 <= value <= 730:
            raise ValueError("must be between 1 and 730 days")
        return value

    metrics_allow: tuple[str, ...] = ()
    log_format: str = "text"

    @field_validator("metrics_allow", "trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for net in value:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ValueError(f"'{net}' is not an address range such as 10.0.0.0/8 or ::1/128") from None
        return tuple(str(ipaddress.ip_network(net, strict=False)) for net in value)

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value not in ("text", "json"):
            raise ValueError(f"'{value}' is not a log format; use text or json")
        return value

    @field_validator("report_time")
    @classmethod
    def _clock(cls, value: str) -> str:
        hour, _, minute = value.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError(f"'{value}' is not a clinic-local time HH:MM")
        return f"{int(hour):02d}:{int(minute):02d}"

    @field_validator("notify_max_attempts")
    @classmethod
    def _attempts(cls, value: int) -> int:
        if not 1 <= value <= 50:
            raise ValueError("must be between 1 and 50")
        return value

    @model_validator(mode="after")
    def _channels_configured(self) -> Settings:
        channels = {r.channel for r in self.notify}
        if ("email" in channels or self.report_recipients) and not self.smtp_host:
            raise ValueError("email notifications need PATHWAY_SMTP_HOST")
        if "webhook" in channels and not self.webhook_secret:
            raise ValueError("webhook notifications need PATHWAY_WEBHOOK_SECRET to sign them")
        return self

    @field_validator("sweep_minutes")
    @classmethod
    def _minutes(cls, value: int) -> int:
        if not 1 <= value <= 1440:
            raise ValueError("must be between 1 and 1440 minutes")
        return value

    @field_validator("holidays")
    @classmethod
    def _calendar(cls, value: str | None) -> str | None:
        if not value:
            return None
        import holidays as holiday_calendars

        country, _, subdiv = value.partition("-")
        try:
            holiday_calendars.country_holidays(country.upper(), subdiv=subdiv.upper() or None)
        except NotImplementedError:  # how `holidays` says it has no such calendar
            raise ValueError(
                f"'{value}' is not a known holiday calendar; use a country code "
                "such as GB or FR, optionally with a subdivision: GB-SCT"
            ) from None
        return value.upper()

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        value = value or system_timezone()
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone name (e.g. Europe/London)") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(environ: Mapping[str, str]) -> Settings:
    """PATHWAY_* variables of `environ` over files in PATHWAY_SECRETS_DIR over PATHWAY_CONFIG."""
    values: dict[str, Any] = {}
    config_file = environ.get(PREFIX + "CONFIG")
    if config_file:
        try:
            values.update(tomllib.loads(Path(config_file).read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInput(f"PATHWAY_CONFIG={config_file}: cannot read settings ({exc})") from None
    secrets_dir = environ.get(PREFIX + "SECRETS_DIR")
    if secrets_dir:
        values.update(read_secrets(Path(secrets_dir)))
    for name in Settings.model_fields:
        key = PREFIX + name.upper()
        if environ.get(key):
            values[name] = _parse_env(key, name, environ[key])
    try:
        return Settings(**values)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(part) for part in err["loc"])
        field = PREFIX + loc.upper() if loc else "settings"
        raise InvalidInput(f"{field}: {err['msg']}") from None


LIST_FIELDS = ("notify", "report_recipients", "metrics_allow", "trusted_proxies")


def _parse_env(key: str, name: str, raw: str) -> Any:
    """Lists come as JSON (PATHWAY_NOTIFY='[{"channel": "email", "to": "oncall@example.org"}]')."""
    if name not in LIST_FIELDS:
        return raw
    if name in ("report_recipients", "metrics_allow", "trusted_proxies") and not raw.lstrip().startswith("["):
        return [part.strip() for part in raw.split(",") if part.strip()]
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{key}: not valid JSON ({exc.msg} at character {exc.pos})") from None


MAKE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


def web_secret(settings: Settings, demo: Callable[[], bool]) -> tuple[str, str | None]:
    """The session signing secret from the environment or its file, or for a demo database an
    ephemeral one (with a warning); refuses in one line otherwise."""
    if settings.session_secret_file is not None:
        try:
            text = settings.session_secret_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(
                f"PATHWAY_SESSION_SECRET_FILE={settings.session_secret_file}: cannot read it ({exc})"
            ) from None
        if len(text) < 32:
            raise InvalidInput("PATHWAY_SESSION_SECRET_FILE: the secret must be at least 32 characters")
        return text, None
    given = next((s.get_secret_value() for s in (settings.session_secret, settings.secret_key) if s), None)
    if given:
        if len(given) < 16:
            raise InvalidInput("PATHWAY_SESSION_SECRET must be at least 16 characters")
        return given, None
    if demo():
        return secrets.token_urlsafe(32), (
            "demo database: web sessions are signed with an ephemeral secret and end when the server "
            "stops; set PATHWAY_SESSION_SECRET to keep them"
        )
    raise InvalidInput(
        "set PATHWAY_SESSION_SECRET (or PATHWAY_SESSION_SECRET_FILE) to a secret; "
        f"make one with: {MAKE_SECRET}"
    )


def read_secrets(directory: Path) -> dict[str, str]:
    """One file per setting, named `PATHWAY_SMTP_PASSWORD` or `smtp_password`; surrounding
    whitespace (the final newline) is dropped. A missing directory is refused."""
    if not directory.is_dir():
        raise InvalidInput(f"PATHWAY_SECRETS_DIR={directory}: not a directory")
    found: dict[str, str] = {}
    for name in Settings.model_fields:
        for file_name in (PREFIX + name.upper(), name):
            path = directory / file_name
            if path.is_file():
                try:
                    found[name] = _parse_env(file_name, name, path.read_text(encoding="utf-8").strip())
                except OSError as exc:
                    raise InvalidInput(f"{path}: cannot read the secret ({exc.strerror})") from None
                break
    return found
