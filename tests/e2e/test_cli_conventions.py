"""CLI conventions: fixed choices, --version, completion, env vars in --help, --json ids, exit codes."""

from __future__ import annotations

import json
from enum import StrEnum

import pytest
from sqlalchemy import create_engine, text

import pathway
from pathway.cli import choices
from pathway.cli.notify_cmds import STATUSES
from pathway.render import report as render_report
from pathway.services import accounts, alerting
from tests.e2e.conftest import Cli, as_json, ok, refused

CHOICES: list[tuple[type[StrEnum], tuple[str, ...]]] = [
    (choices.ReportFormat, render_report.FORMATS),
    (choices.Role, accounts.ROLES),
    (choices.OverrideReason, alerting.OVERRIDE_REASONS),
    (choices.NotificationStatus, STATUSES),
    (choices.AlertStatus, ("live", "all", *alerting.LIVE, "overridden", "resolved")),
    (choices.Severity, ("info", "warning", "critical")),
]
OPTIONS = [  # (command line up to the option, option, a valid value)
    (["report"], "--format", "json"),
    (["users", "add", "x.y"], "--role", "viewer"),
    (["override", "1", "--note", "n", "--by", "b"], "--reason", "data_error"),
    (["notifications"], "--status", "dead"),
    (["alerts"], "--status", "live"),
    (["due"], "--severity", "warning"),
]


@pytest.mark.parametrize(("enum", "values"), CHOICES, ids=lambda v: getattr(v, "__name__", ""))
def test_each_choice_lists_exactly_the_values_its_owner_accepts(
    enum: type[StrEnum], values: tuple[str, ...]
) -> None:
    assert [e.value for e in enum] == list(values)


@pytest.mark.parametrize(("args", "option", "good"), OPTIONS, ids=[o[1] + " " + o[0][0] for o in OPTIONS])
def test_a_value_outside_the_choices_is_one_line_exit_2_and_help_lists_them(
    cli: Cli, args: list[str], option: str, good: str
) -> None:
    line = refused(cli(*args, option, "nonsense"))
    assert option in line and "nonsense" in line and good in line
    assert good in ok(cli(*args[:2] if args[0] == "users" else args[:1], "--help")).stdout


def test_version_prints_the_package_version(cli: Cli) -> None:
    assert ok(cli("--version")).stdout.strip() == f"pathway {pathway.__version__}"


def test_help_offers_shell_completion_and_documents_exit_codes(cli: Cli) -> None:
    out = " ".join(ok(cli("--help")).stdout.split())
    assert "--install-completion" in out and "--show-completion" in out
    assert "0 done, 1 a check found problems, 2 input refused, 3 conflict" in out


@pytest.mark.parametrize(
    ("command", "variable"),
    [(["record"], "PATHWAY_ACTOR"), (["ack"], "PATHWAY_ACTOR"), (["scheduler"], "PATHWAY_SWEEP_MINUTES")],
)
def test_options_read_from_the_environment_say_so_in_help(
    cli: Cli, command: list[str], variable: str
) -> None:
    assert variable in ok(cli(*command, "--help")).stdout


def test_write_commands_print_the_new_ids_as_json_and_a_stale_version_is_a_conflict(cli: Cli) -> None:
    ok(cli("init"))
    patient = as_json(cli("enroll", "MRN-1", "--on", "2026-02-20", "--json"))
    assert patient["mrn"] == "MRN-1" and isinstance(patient["id"], int)

    recorded = as_json(
        cli("record", "MRN-1", "neuro_exam", "--on", "2026-02-21", "--set", "finding=baseline", "--json")
    )
    [event] = as_json(cli("history", "MRN-1", "--json"))["events"]
    assert recorded["event"]["id"] == event["id"]
    assert recorded["patient"]["version"] == patient["version"] + 1

    stale = cli("record", "MRN-1", "exam_done", "--expect-version", str(patient["version"]))
    assert stale.exit_code == 3, stale.stderr
    assert stale.stderr.startswith("error: ") and len(stale.stderr.strip().splitlines()) == 1
    assert cli("enroll", "MRN-1").exit_code == 3  # already enrolled: a conflict, not bad input


def test_verify_exits_1_when_a_check_finds_problems(cli: Cli, database_url: str) -> None:
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--on", "2026-02-20"))
    assert as_json(cli("verify", "--json")) == {"ok": True, "mismatches": []}

    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE track_state SET state = 'surveillance' WHERE track = 'main'"))
    engine.dispose()

    result = cli("verify", "--json")
    assert result.exit_code == 1
    assert len(json.loads(result.stdout)["mismatches"]) == 1
    assert cli("verify").exit_code == 1


def test_alert_actions_print_the_alert_its_status_who_and_when_as_json(cli: Cli) -> None:
    ok(cli("init", "--demo"))
    warnings = [a for a in as_json(cli("alerts", "--json")) if a["severity"] == "warning"]
    assert len(warnings) >= 3
    first, second, third = (a["id"] for a in warnings[:3])
    now = "2026-03-02T09:00:00+00:00"

    acked = as_json(cli("ack", str(first), "--by", "j.smith", "--note", "booked", "--json"))
    assert acked == {
        "alert_id": first,
        "status": "acknowledged",
        "severity": "warning",
        "by": "j.smith",
        "at": now,
        "note": "booked",
    }

    snoozed = as_json(
        cli("snooze", str(second), "--until", "2026-03-05", "--note", "abroad", "--by", "j.smith", "--json")
    )
    assert (snoozed["alert_id"], snoozed["status"], snoozed["by"], snoozed["at"]) == (
        second,
        "snoozed",
        "j.smith",
        now,
    )
    assert snoozed["snoozed_until"].startswith("2026-03-05")

    overridden = as_json(
        cli("override", str(third), "--reason", "data_error", "--note", "wrong", "--by", "dr.lee", "--json")
    )
    assert (overridden["alert_id"], overridden["status"], overridden["by"], overridden["reason"]) == (
        third,
        "overridden",
        "dr.lee",
        "data_error",
    )
    assert overridden["at"] == now
