"""The sweep on SQLite and PostgreSQL: it moves follow-ups and alerts forward, idempotently."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from datetime import UTC, date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text

from db.tables import AlertRow
from pathway.domain.model import Patient
from pathway.ports import Deps
from pathway.services import alerting, patients
from pathway.services.raising import Changes
from tests.conftest import PG_ADMIN_URL
from tests.fakes import FixedClock
from tests.integration.conftest import follow_to_surveillance, morning

ROOT = Path(__file__).resolve().parents[2]
COUNTERS = (
    "follow_ups_created",
    "follow_ups_changed",
    "alerts_opened",
    "alerts_escalated",
    "alerts_resolved",
    "alerts_reopened",
)


def statuses(deps: Deps, mrn: str = "MRN-1") -> dict[tuple[str, str], str]:
    """The status of the latest follow-up of each (rule, region)."""
    follow_ups, _ = alerting.follow_ups_of(deps, mrn)
    latest = {(f.rule, f.region): f for f in sorted(follow_ups, key=lambda f: f.anchor_at)}
    return {key: f.status for key, f in latest.items()}


def live_alerts(deps: Deps, mrn: str = "MRN-1") -> list[tuple[str, str, str]]:
    return sorted(
        (a.rule, a.instance_key.split(":")[1], a.severity) for a, _ in alerting.list_alerts(deps, "live", mrn)
    )


def row_counts(engine: Engine) -> tuple[int, ...]:
    """Rows in (follow_up, alert, alert_action)."""
    with engine.connect() as conn:
        return tuple(
            int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("follow_up", "alert", "alert_action")
        )


def duplicates(engine: Engine) -> list[Any]:
    """Rows that share an identity that must be unique; empty when all is well."""
    with engine.connect() as conn:
        alerts = conn.execute(
            text(
                "SELECT patient_id, rule, instance_key, severity, count(*) FROM alert "
                "GROUP BY patient_id, rule, instance_key, severity HAVING count(*) > 1"
            )
        ).all()
        follow_ups = conn.execute(
            text(
                "SELECT patient_id, rule, region, anchor_at, count(*) FROM follow_up "
                "GROUP BY patient_id, rule, region, anchor_at HAVING count(*) > 1"
            )
        ).all()
    return [*alerts, *follow_ups]


# The cohort's monthly reviews lapse a month after enrolment: the neuro exam (T11) and the
# palliative visit (T17, alert A22); after 120 days without any event, the contact watchdog (A32).
REVIEWS = [("A22", "", "info"), ("T11", "", "warning")]


def nothing_changed(changes: Changes) -> bool:
    return all(getattr(changes, name) == 0 for name in COUNTERS) and changes.lines == []


# --- one process --------------------------------------------------------------------------------


def test_the_sweep_moves_follow_ups_from_upcoming_to_due_to_overdue_and_opens_their_alerts(
    deps: Deps, clock: FixedClock, in_surveillance: Patient
) -> None:
    imaging, exam = ("T09", "pelvis_sacrum"), ("T10", "")
    assert statuses(deps)[imaging] == statuses(deps)[exam] == "upcoming"

    clock.current = morning(date(2026, 6, 15))
    changes = alerting.sweep(deps)
    assert (statuses(deps)[imaging], statuses(deps)[("T09", "chest")], statuses(deps)[exam]) == (
        "due",
        "due",
        "due",
    )
    # time alone rewrites no follow-up row: upcoming / due / overdue are derived when read
    assert changes.follow_ups_changed == 0 and changes.alerts_opened == len(REVIEWS)
    assert live_alerts(deps) == REVIEWS

    clock.current = morning(date(2026, 7, 25))
    changes = alerting.sweep(deps)
    assert statuses(deps)[imaging] == statuses(deps)[exam] == "overdue"
    assert changes.alerts_opened == 3
    assert live_alerts(deps) == [
        ("A10", "chest", "warning"),
        ("A10", "pelvis_sacrum", "warning"),
        ("A16", "", "warning"),
        *REVIEWS,
    ]


def test_a_second_sweep_at_the_same_instant_changes_nothing(
    deps: Deps, clock: FixedClock, engine: Engine, in_surveillance: Patient
) -> None:
    clock.current = morning(date(2026, 7, 25))
    first = alerting.sweep(deps)
    assert first.alerts_opened == 3 + len(REVIEWS)
    before = (row_counts(engine), statuses(deps), live_alerts(deps))

    second = alerting.sweep(deps)

    assert nothing_changed(second), second.as_dict()
    assert (row_counts(engine), statuses(deps), live_alerts(deps)) == before


def test_a_sweep_after_a_long_gap_opens_each_alert_once_at_its_highest_level(
    deps: Deps, clock: FixedClock, engine: Engine, in_surveillance: Patient
) -> None:
    clock.advance(days=200)

    changes = alerting.sweep(deps)

    assert changes.alerts_opened == 4 + len(REVIEWS) and changes.alerts_escalated == 0
    assert [a for a in live_alerts(deps) if a not in REVIEWS] == [
        ("A10", "chest", "critical"),
        ("A10", "pelvis_sacrum", "critical"),
        ("A16", "", "warning"),
        ("A32", "", "info"),
    ]
    _, alerts = alerting.follow_ups_of(deps, "MRN-1")
    assert not [a for a in alerts if a.rule == "A10" and a.severity == "warning"]
    assert nothing_changed(alerting.sweep(deps))
    clock.advance(days=1)
    later = alerting.sweep(deps)  # the two critical alerts are still open: notified again, once
    assert later.renotified == 2 and len(later.lines) == 2
    assert nothing_changed(replace(later, renotified=0, lines=[]))
    assert nothing_changed(alerting.sweep(deps))
    assert duplicates(engine) == []


def test_a_sweep_reads_only_the_critical_alerts_whose_renotification_round_is_due(
    deps: Deps, clock: FixedClock, engine: Engine, in_surveillance: Patient
) -> None:
    clock.advance(days=200)
    alerting.sweep(deps)
    every = deps.pathway.definition.alert_policy.renotify_every

    def due() -> dict[int, Any]:
        with engine.connect() as conn:
            t = AlertRow.__table__  # type: ignore[attr-defined]
            query = select(t.c.id, t.c.created_at, t.c.next_renotify_at).where(t.c.severity == "critical")
            rows = conn.execute(query).all()
        return {i: (c, n) for i, c, n in rows}

    rounds = due()
    assert len(rounds) == 2
    for created, next_at in rounds.values():  # raised and looked at by the same sweep: round 1 next
        assert _utc(next_at) == _utc(created) + every
    with deps.uow() as uow:
        assert uow.alerts.renotify_due(clock.current) == []
        assert len(uow.alerts.renotify_due(clock.current + every)) == 2
    clock.advance(hours=9)  # round 2: notified again once, the next round is the third
    assert alerting.sweep(deps).renotified == 2
    for created, next_at in due().values():
        assert _utc(next_at) == _utc(created) + 3 * every
    first = min(rounds)
    alerting.override(deps, first, "patient_preference", "declined scan", "dr b", "clinician")
    assert due()[first][1] is None  # overridden: no more rounds


def _utc(moment: Any) -> Any:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def test_a_warning_escalates_to_a_new_critical_row_and_the_warning_is_resolved(
    deps: Deps, clock: FixedClock, engine: Engine, in_surveillance: Patient
) -> None:
    clock.current = morning(date(2026, 7, 25))
    alerting.sweep(deps)
    warnings = {a.id for a, _ in alerting.list_alerts(deps) if a.rule == "A10"}
    assert len(warnings) == 2

    clock.advance(days=200)
    changes = alerting.sweep(deps)
    for _ in range(2):
        assert nothing_changed(alerting.sweep(deps))

    assert changes.alerts_escalated == 2 and changes.alerts_opened == 3  # and A32 (no contact)
    _, alerts = alerting.follow_ups_of(deps, "MRN-1")
    a10 = [a for a in alerts if a.rule == "A10"]
    assert sorted((a.severity, a.status) for a in a10) == [
        ("critical", "open"),
        ("critical", "open"),
        ("warning", "resolved"),
        ("warning", "resolved"),
    ]
    assert {a.resolution for a in a10 if a.id in warnings} == {"escalated to critical"}
    assert {a.id for a in a10 if a.severity == "critical"}.isdisjoint(warnings)
    assert duplicates(engine) == []


def test_a_sweep_leaves_patients_with_nothing_due_alone(
    deps: Deps, clock: FixedClock, engine: Engine, in_surveillance: Patient
) -> None:
    clock.current = morning(date(2026, 5, 19))  # the monthly reviews, seen the day before
    patients.record_event(deps, "MRN-1", "neuro_exam", {"finding": "stable"}, actor="t")
    patients.record_event(deps, "MRN-1", "palliative_visit", {}, actor="t")
    clock.current = morning(date(2026, 5, 20))
    before = row_counts(engine)

    changes = alerting.sweep(deps)

    assert nothing_changed(changes), changes.as_dict()
    assert row_counts(engine) == before


# --- two processes ------------------------------------------------------------------------------


def start_sweep(url: str) -> subprocess.Popen[str]:
    """`pathway sweep --json` in its own process, on the real wall clock."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATHWAY_")}
    env |= {"PATHWAY_DATABASE_URL": url, "PATHWAY_TIMEZONE": "Europe/London"}
    return subprocess.Popen(
        [sys.executable, "-c", "from pathway.cli.app import main; main()", "sweep", "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    try:
        out, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError("a sweep process did not finish within 120 s") from None
    assert process.returncode == 0, (process.returncode, out, err)
    result: dict[str, Any] = json.loads(out)
    return result


def per_item(result: dict[str, Any]) -> list[str]:
    """The reported changes that name one patient's follow-up or alert (not running totals)."""
    return [line for line in result["changes"] if line.startswith("patient ")]


@contextmanager
def copy_of(url: str, engine: Engine) -> Iterator[str]:
    """A copy of the database as it is now, for a reference sweep; removed afterwards."""
    engine.dispose()
    if url.startswith("sqlite"):
        source = url.removeprefix("sqlite:///")
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(source + ".copy")) as dst:
            src.backup(dst)
        yield f"sqlite:///{source}.copy"
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with closing(psycopg.connect(PG_ADMIN_URL, autocommit=True)) as admin:
        admin.execute(f'CREATE DATABASE "{name}_copy" TEMPLATE "{name}"')
        try:
            yield f"{base}/{name}_copy"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}_copy" WITH (FORCE)')


def test_two_sweeps_in_parallel_processes_do_one_sweeps_worth_of_work(
    deps: Deps, clock: FixedClock, engine: Engine, database_url: str
) -> None:
    for n in range(12):  # histories of 2026-03..05; the real "now" (late 2026) makes them overdue
        follow_to_surveillance(deps, clock, f"MRN-{n:02}")
    before = row_counts(engine)

    with copy_of(database_url, engine) as reference_url:
        reference = finish(start_sweep(reference_url))
        first, second = start_sweep(database_url), start_sweep(database_url)
        results = [finish(first), finish(second)]

    assert reference["alerts_opened"] >= 12 * 3
    for name in COUNTERS:
        assert sum(r[name] for r in results) == reference[name], (name, results, reference)
    assert sorted(per_item(results[0]) + per_item(results[1])) == sorted(per_item(reference))
    assert duplicates(engine) == []
    follow_ups, alerts, _ = row_counts(engine)
    assert (follow_ups - before[0], alerts - before[1]) == (
        reference["follow_ups_created"],
        reference["alerts_opened"],
    )
    again = finish(start_sweep(database_url))
    assert [again[name] for name in COUNTERS] == [0] * len(COUNTERS)
