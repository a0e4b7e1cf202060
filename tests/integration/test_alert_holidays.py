"""Each alert keeps the site's holiday calendar and the `holidays` version beside the pathway hash
(an update of the package can move a target date), and `why` and the alert JSON show them."""

from __future__ import annotations

import dataclasses
import importlib.metadata
from collections.abc import Iterator

import pytest

from db import migrate
from pathway.bootstrap import App, build
from pathway.domain.explanation import as_json
from pathway.services import alerting
from pathway.services.demo import load_demo
from pathway.web import present
from tests.fakes import FixedClock, utc

VERSION = importlib.metadata.version("holidays")


@pytest.fixture
def with_calendar(environ: dict[str, str]) -> Iterator[App]:
    application = build({**environ, "PATHWAY_HOLIDAYS": "GB-ENG"})
    migrate.upgrade(application.engine)
    yield application
    application.engine.dispose()


def test_raised_alerts_carry_the_calendar_and_the_holidays_version(with_calendar: App) -> None:
    deps = dataclasses.replace(with_calendar.deps, clock=FixedClock(utc(2026, 3, 2, 9)))
    load_demo(deps)

    rows = alerting.list_alerts(deps, "all")

    assert rows
    assert {(a.holiday_calendar, a.holidays_version) for a, _ in rows} == {("GB-ENG", VERSION)}
    shown = present.alert(*rows[0]).model_dump()
    assert shown["holiday_calendar"] == "GB-ENG" and shown["holidays_version"] == VERSION
    alert, mrn = next((a, m) for a, m in rows if a.follow_up_id is not None)
    follow_ups, _ = alerting.follow_ups_of(deps, mrn)
    rule = next(f.rule for f in follow_ups if f.id == alert.follow_up_id)
    explained = [as_json(e, deps.zone) for e in alerting.why(deps, mrn, rule)]
    refs = [r for e in explained for r in e["alerts"] if r["id"] == alert.id]
    assert refs and refs[0]["holiday_calendar"] == "GB-ENG" and refs[0]["holidays_version"] == VERSION


def test_without_a_calendar_the_version_is_still_kept(app: App) -> None:
    deps = dataclasses.replace(app.deps, clock=FixedClock(utc(2026, 3, 2, 9)))
    load_demo(deps)
    rows = alerting.list_alerts(deps, "all")
    assert {(a.holiday_calendar, a.holidays_version) for a, _ in rows} == {(None, VERSION)}
