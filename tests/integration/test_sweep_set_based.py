"""The set-based sweep writes exactly what the per-row sweep writes, on SQLite and PostgreSQL.

A generated cohort (the benchmark's generator: three years of histories, alert plans, open
critical alerts) is loaded twice; one copy is swept with the per-row path, the other set-based,
at the same instants (a tick, a day, 30 days of downtime, renotification rounds, instants with
microseconds), with routes that filter by severity and track and a digest route. Every row of the
follow-ups, alerts, audit trail and outbox must be the same, payloads and keys included.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bench import raw as bench_raw
from bench.cohort import bench_now, generate
from bench.load import load
from bench.run import raw_for, same_writes
from pathway.bootstrap import App, build
from pathway.domain.notify import Route
from pathway.ports import Deps
from pathway.services import alerting
from tests.conftest import PG_ADMIN_URL
from tests.fakes import FixedClock

PATIENTS = 150
ROUTES = (
    Route(channel="log"),
    Route(channel="email", to="oncall@example.org", min_severity="warning"),
    Route(channel="webhook", to="https://pager.example.org/hook", min_severity="critical", tracks=("main",)),
    Route(channel="email", to="team@example.org", max_severity="warning", digest=True),
)
JSON_COLUMNS = {"states_at_fire", "payload", "data", "notes"}


def _copy(url: str, tmp_path: Path) -> str:
    if url.startswith("sqlite"):
        target = tmp_path / "per-row.db"
        shutil.copy(url.removeprefix("sqlite:///"), target)
        return f"sqlite:///{target}"
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}_rows" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}_rows" TEMPLATE "{name}"')
    return f"{url}_rows"


@pytest.fixture
def twins(database_url: str, tmp_path: Path) -> Iterator[tuple[App, App]]:
    env = {"PATHWAY_TIMEZONE": "Europe/London"}
    base = build(env | {"PATHWAY_DATABASE_URL": database_url})
    load(base.engine, generate(base.deps.pathway, base.deps.calendar, bench_now(), PATIENTS), PATIENTS)
    base.engine.dispose()
    other = _copy(database_url, tmp_path)
    apps = build(env | {"PATHWAY_DATABASE_URL": database_url}), build(env | {"PATHWAY_DATABASE_URL": other})
    yield apps
    for app in apps:
        app.engine.dispose()
    if not other.startswith("sqlite"):
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{other.rsplit("/", 1)[1]}" WITH (FORCE)')


def _rows(app: App, table: str, order: str = "id", skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    with app.engine.connect() as conn:
        result = conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))
        out = []
        for row in result.mappings():
            values = {k: v for k, v in row.items() if k not in skip}
            for k in JSON_COLUMNS & values.keys():
                if isinstance(values[k], str):
                    values[k] = json.loads(values[k])
            out.append(values)
        return out


def _dump(app: App) -> dict[str, list[dict[str, Any]]]:
    return {
        "follow_up": _rows(app, "follow_up"),
        "alert": _rows(app, "alert"),
        # the per-row path orders an escalation's audit rows by severity, the set-based by id
        "alert_action": _rows(app, "alert_action", "alert_id, action, note", skip=("id",)),
        "notification": _rows(app, "notification"),
    }


@pytest.mark.parametrize("small", [False, True], ids=["batches", "small-batches"])
def test_set_based_sweep_writes_the_same_rows_as_the_per_row_sweep(
    twins: tuple[App, App], small: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also with tiny batches: every patient and alert in exactly one batch, whatever the cut."""
    if small:
        monkeypatch.setattr(alerting, "BATCH", 3)
        monkeypatch.setattr(alerting, "LEVELS_PER_BATCH", 4)
        monkeypatch.setattr(alerting, "RENOTIFY_BATCH", 2)
    set_app, row_app = twins
    clock = FixedClock(bench_now())
    set_deps: Deps = replace(set_app.deps, clock=clock, routes=ROUTES)
    row_deps: Deps = replace(row_app.deps, clock=clock, routes=ROUTES)
    assert _dump(set_app) == _dump(row_app)
    start, written = bench_now(), 0
    for offset in (
        timedelta(0),
        timedelta(minutes=15),
        timedelta(days=1, microseconds=123_457),
        timedelta(days=1, hours=4, microseconds=123_457),  # exactly one round later
        timedelta(days=1, hours=8, microseconds=123_456),  # a microsecond before the next round
        timedelta(days=31, seconds=7, microseconds=999_999),  # 30 days of downtime
        timedelta(days=31, hours=5),
    ):
        clock.current = start + offset
        by_rows = alerting.sweep(row_deps, set_based=False)
        by_sets = alerting.sweep(set_deps)
        assert by_sets.as_dict() == by_rows.as_dict(), offset
        dump = _dump(set_app)
        assert dump == _dump(row_app), offset
        written = len(dump["notification"])
    assert written > 0
    with set_app.engine.connect() as conn:  # the cohort exercised every branch
        kinds = dict(conn.execute(text("SELECT action, count(*) FROM alert_action GROUP BY action")).all())
        rounds = "SELECT count(*) FROM notification WHERE idempotency_key LIKE '%renotify%'"
        assert conn.execute(text(rounds)).scalar_one() > 0
        firsts = "SELECT count(*) FROM notification WHERE idempotency_key NOT LIKE '%renotify%'"
        assert conn.execute(text(firsts)).scalar_one() > 0
    assert kinds.get("opened", 0) > 0 and kinds.get("resolved", 0) > 0, kinds


def test_a_second_set_based_sweep_at_the_same_instant_writes_nothing(twins: tuple[App, App]) -> None:
    app, _ = twins
    deps: Deps = replace(app.deps, clock=FixedClock(bench_now() + timedelta(days=3)), routes=ROUTES)
    first = alerting.sweep(deps)
    assert first.alerts_opened > 0 and first.renotified > 0
    before = _dump(app)
    again = alerting.sweep(deps)
    assert (again.alerts_opened, again.alerts_escalated, again.renotified) == (0, 0, 0)
    assert _dump(app) == before


@pytest.mark.parametrize("batched", [False, True], ids=["one-transaction", "engine-batches"])
def test_the_bench_raw_sweep_writes_what_the_engine_writes(
    twins: tuple[App, App], batched: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The raw baseline of `bench.run` (an honest ratio needs the same rows), in one transaction
    and committed in the engine's batches (made tiny here: every cut is crossed)."""
    for module in (alerting, bench_raw):
        monkeypatch.setattr(module, "BATCH", 3)
        monkeypatch.setattr(module, "LEVELS_PER_BATCH", 4)
        monkeypatch.setattr(module, "RENOTIFY_BATCH", 2)
    engine_app, raw_app = twins
    for days in (1, 31):
        when = bench_now() + timedelta(days=days, seconds=7)
        alerting.sweep(replace(engine_app.deps, clock=FixedClock(when)))
        conn = raw_app.engine.raw_connection()
        try:
            raw_for(conn.driver_connection, raw_app.engine.dialect.name, raw_app).sweep(when, batched=batched)
        finally:
            conn.close()
        urls = [a.engine.url.render_as_string(hide_password=False) for a in twins]
        assert same_writes(*urls), days
