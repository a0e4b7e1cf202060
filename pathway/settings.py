"""Typed settings: environment variables PATHWAY_* over an optional TOML file, validated once."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from config import DEFAULT_PATHWAY
from pathway.domain.errors import InvalidInput

PREFIX = "PATHWAY_"
DEFAULT_DATABASE_URL = "sqlite:///pathway.db"


def system_timezone() -> str:
    try:
        from tzlocal import get_localzone_name

        return get_localzone_name() or "UTC"
    except Exception:  # no zone configured on the machine
        return "UTC"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = ""
    pathway_file: Path = DEFAULT_PATHWAY
    holidays: str | None = None
    actor: str = "coordinator"
    sweep_minutes: int = 5

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
        except NotImplementedError:
            raise ValueError(f"'{value}' is not a known holiday calendar; use a country code "
                             "such as GB or FR, optionally with a subdivision: GB-SCT") from None
        return value.upper()

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        value = value or system_timezone()
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone name (e.g. Europe/London)"
                             ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(environ: Mapping[str, str]) -> Settings:
    values: dict[str, Any] = {}
    config_file = environ.get(PREFIX + "CONFIG")
    if config_file:
        try:
            values.update(tomllib.loads(Path(config_file).read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInput(f"PATHWAY_CONFIG={config_file}: cannot read settings ({exc})"
                               ) from None
    for name in Settings.model_fields:
        key = PREFIX + name.upper()
        if environ.get(key):
            values[name] = environ[key]
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = PREFIX + str(err["loc"][0]).upper() if err["loc"] else "settings"
        raise InvalidInput(f"{field}: {err['msg']}") from None
