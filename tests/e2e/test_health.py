"""`pathway health` and /readyz: named checks, degraded when the sweep stops (freezegun drives time)."""

from __future__ import annotations

import json

import pytest
from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok

LATE_REPORT = {"PATHWAY_REPORT_TIME": "23:59"}  # 09:00 London: today's report is not due yet


def checks_of(result: object) -> dict[str, dict[str, object]]:
    return json.loads(result.stdout)["checks"]  # type: ignore[attr-defined]


def test_health_goes_degraded_when_the_sweep_has_not_run_for_twice_its_interval(
    cli: Cli, frozen: FrozenDateTimeFactory
) -> None:
    ok(cli("init"))
    ok(cli("sweep"))
    healthy = as_json(cli("health", "--json", env=LATE_REPORT))
    assert healthy["status"] == "ok"
    assert set(healthy["checks"]) == {"database", "schema", "sweep", "report", "notifications"}

    frozen.tick(10 * 60)  # exactly twice the default 5-minute interval: still fresh
    assert ok(cli("health", "--json", env=LATE_REPORT))

    frozen.tick(1)
    late = cli("health", "--json", env=LATE_REPORT)
    assert late.exit_code == 1
    checks = checks_of(late)
    assert checks["sweep"]["ok"] is False
    assert "twice its 5-minute interval" in str(checks["sweep"]["detail"])
    assert all(c["ok"] for name, c in checks.items() if name != "sweep")

    ok(cli("sweep"))
    assert ok(cli("health", env=LATE_REPORT)).stdout.rstrip().endswith("status: ok")


def test_the_interval_comes_from_the_settings(cli: Cli, frozen: FrozenDateTimeFactory) -> None:
    ok(cli("init"))
    ok(cli("sweep"))
    frozen.tick(25 * 60)
    slow = {**LATE_REPORT, "PATHWAY_SWEEP_MINUTES": "15"}
    assert ok(cli("health", env=slow))
    assert cli("health", env=LATE_REPORT).exit_code == 1


def test_a_sweep_that_never_ran_and_a_missing_report_are_named(cli: Cli) -> None:
    ok(cli("init"))
    result = cli("health", "--json", env={"PATHWAY_REPORT_TIME": "08:00"})  # 09:00 London

    assert result.exit_code == 1
    checks = checks_of(result)
    assert "never run" in str(checks["sweep"]["detail"])
    assert checks["report"]["ok"] is False and "08:00" in str(checks["report"]["detail"])


def test_a_database_without_tables_is_degraded_not_a_crash(cli: Cli) -> None:
    result = cli("health", "--json")

    assert result.exit_code == 1
    checks = checks_of(result)
    assert checks["database"]["ok"] is True
    assert checks["schema"]["ok"] is False and "pathway init" in str(checks["schema"]["detail"])


@pytest.mark.parametrize("command", ["health"])
def test_health_has_help_with_an_example(cli: Cli, command: str) -> None:
    assert "Example:" in ok(cli(command, "--help")).stdout
