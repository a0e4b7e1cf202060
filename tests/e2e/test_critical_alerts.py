"""Critical alerts nobody can silence, through the real CLI under freezegun, on SQLite and PostgreSQL.

A07 (definitive RT not started) turns critical; coordinators act by their token, a clinician
overrides; the outbox shows the renotifications every 4 hours and no cancellation.
"""

from __future__ import annotations

from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory

from tests.e2e.conftest import Cli, as_json, ok, refused


@pytest.fixture
def critical(cli: Cli, frozen: FrozenDateTimeFactory) -> int:
    """MRN-1's A07 is critical from 2026-04-17; the sweep at 09:00 UTC on 2026-04-20 opens it."""
    ok(cli("init"))
    ok(cli("enroll", "MRN-1", "--histology", "sts", "--on", "2026-03-02"))
    frozen.move_to("2026-03-05 09:00+00:00")
    mdt = ("--set", "resectability=unresectable", "--set", "plan=definitive_rt", "--on", "2026-03-05")
    ok(cli("record", "MRN-1", "mdt_decision", *mdt))
    frozen.move_to("2026-04-20 09:00+00:00")
    ok(cli("sweep"))
    [a07] = [a for a in as_json(cli("alerts", "--json")) if a["rule"] == "A07"]
    assert a07["severity"] == "critical"
    return int(a07["id"])


def accounts(cli: Cli) -> dict[str, dict[str, str]]:
    """A coordinator and a clinician; each returns the env that makes the CLI act as them."""
    admin = {"PATHWAY_TOKEN": ok(cli("users", "add", "a.admin", "--role", "admin")).stdout.split()[-1]}
    envs = {}
    for name, role in (("c.one", "coordinator"), ("dr.one", "clinician")):
        token = ok(cli("users", "add", name, "--role", role, env=admin)).stdout.strip().splitlines()[-1]
        envs[role] = {"PATHWAY_TOKEN": token}
    return envs


def alert(cli: Cli, alert_id: int) -> dict[str, Any]:
    [found] = [a for a in as_json(cli("alerts", "--status", "all", "--json")) if a["id"] == alert_id]
    return found


def outbox(cli: Cli, alert_id: int) -> list[tuple[str, str]]:
    rows = as_json(cli("notifications", "--alert", str(alert_id), "--json"))
    return sorted((r["idempotency_key"].rsplit("-", 2)[-2:][-1], r["status"]) for r in rows)


def keys(cli: Cli, alert_id: int) -> list[str]:
    return sorted(
        r["idempotency_key"] for r in as_json(cli("notifications", "--alert", str(alert_id), "--json"))
    )


def test_a_coordinator_by_token_cannot_snooze_or_override_a_critical_alert(cli: Cli, critical: int) -> None:
    coordinator = accounts(cli)["coordinator"]

    snooze = refused(cli("snooze", str(critical), "--until", "2026-04-22", "--note", "busy", env=coordinator))
    assert "is critical: a critical alert cannot be snoozed" in snooze
    override = cli(
        "override", str(critical), "--reason", "clinical_judgement", "--note", "x", env=coordinator
    )
    assert "only a clinician or admin may override it, not a coordinator" in refused(override)
    assert alert(cli, critical)["status"] == "open"


def test_once_there_are_accounts_the_cli_needs_a_token_and_refuses_by_and_role(
    cli: Cli, critical: int
) -> None:
    coordinator = accounts(cli)["coordinator"]

    assert "set PATHWAY_TOKEN" in refused(cli("ack", str(critical), "--note", "seen"))
    by = refused(cli("ack", str(critical), "--by", "dr.house", env=coordinator))
    assert "--by cannot be used once the database has user accounts" in by
    role = cli(
        "override",
        str(critical),
        "--reason",
        "data_error",
        "--note",
        "x",
        "--role",
        "clinician",
        env=coordinator,
    )
    assert "--role cannot be used" in refused(role)
    wrong = refused(cli("ack", str(critical), env={"PATHWAY_TOKEN": "not-a-token"}))
    assert "not valid" in wrong
    assert "PATHWAY_TOKEN" in ok(cli("override", "--help")).stdout
    assert alert(cli, critical)["status"] == "open"


def test_every_command_line_write_needs_a_token_once_there_are_accounts(
    cli: Cli, critical: int, tmp_path: Any
) -> None:
    """Issue 11 item 5: no CLI write acts without an account once accounts exist."""
    accounts(cli)
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("mrn,enrolled_on,histology,event,on,fields\nMRN-9,2026-03-02,sts,,,\n")
    bundle = tmp_path / "bundle.json"
    bundle.write_text('{"resourceType": "Bundle", "type": "collection", "entry": []}')
    writes = [
        ("enroll", "MRN-2", "--histology", "sts", "--on", "2026-03-02"),
        ("record", "MRN-1", "pain_score", "--set", "nrs=2"),
        ("ack", str(critical), "--note", "seen"),
        ("snooze", str(critical), "--until", "2026-04-21", "--note", "n"),
        ("override", str(critical), "--reason", "data_error", "--note", "n"),
        ("import", str(cohort)),
        ("fhir", "import", str(bundle)),
        ("users", "add", "x.new", "--role", "admin"),
        ("users", "revoke", "c.one"),
    ]
    history = ok(cli("history", "MRN-1", "--json")).stdout
    for args in writes:
        assert "PATHWAY_TOKEN" in refused(cli(*args)), args
    assert ok(cli("history", "MRN-1", "--json")).stdout == history
    assert "MRN-2" not in ok(cli("list")).stdout and alert(cli, critical)["status"] == "open"


def test_a_coordinator_cannot_retract_a_clinicians_decision(cli: Cli, critical: int) -> None:
    """Issue 17 item 1: retracting an event needs the role that may record it (CLI side)."""
    envs = accounts(cli)
    [mdt] = [e for e in as_json(cli("history", "MRN-1", "--json"))["events"] if e["event"] == "mdt_decision"]
    retract = ("record", "MRN-1", "retraction", "--set", f"event_id={mdt['id']}", "--reason", "wrong patient")
    line = refused(cli(*retract, env=envs["coordinator"]))
    assert "retracting mdt_decision needs the role clinician or admin" in line
    assert as_json(cli("status", "MRN-1", "--json"))["tracks"]["main"] == "rt_planning"
    ok(cli(*retract, env=envs["clinician"]))
    assert as_json(cli("status", "MRN-1", "--json"))["tracks"]["main"] == "assessment"


def test_acknowledging_a_critical_alert_silences_nothing_and_it_is_renotified_every_four_hours(
    cli: Cli, critical: int, frozen: FrozenDateTimeFactory
) -> None:
    envs = accounts(cli)
    acked = ok(
        cli(
            "ack",
            str(critical),
            "--note",
            "RT slot requested",
            "--handling",
            "dr.one",
            env=envs["coordinator"],
        )
    )
    assert "acknowledged by c.one" in acked.stdout and "stays notified" in acked.stdout
    assert (alert(cli, critical)["status"], alert(cli, critical)["acted_by"]) == ("acknowledged", "c.one")
    ok(cli("notify", "--once"))
    assert [s for _, s in outbox(cli, critical)] == ["sent"]  # not cancelled by the acknowledgement

    frozen.move_to("2026-04-20 12:59+00:00")
    assert as_json(cli("sweep", "--json"))["renotified"] == 0
    frozen.move_to("2026-04-20 13:00+00:00")  # 4 h after it was first notified
    assert as_json(cli("sweep", "--json"))["renotified"] == 1
    assert as_json(cli("sweep", "--json"))["renotified"] == 0  # idempotent within the interval
    ok(cli("notify", "--once"))
    frozen.move_to("2026-04-20 17:00+00:00")  # 8 h
    assert as_json(cli("sweep", "--json"))["renotified"] == 1
    ok(cli("notify", "--once"))
    assert [k.rsplit("-", 2)[-2:] for k in keys(cli, critical) if "renotify" in k] == [
        ["renotify", "1"],
        ["renotify", "2"],
    ]
    statuses = [s for _, s in outbox(cli, critical)]
    assert statuses == ["sent", "sent", "sent"] and "cancelled" not in statuses

    override = ("--reason", "clinical_judgement", "--note", "RT deferred: infection", "--until", "2026-05-01")
    done = ok(cli("override", str(critical), *override, env=envs["clinician"]))
    assert "overridden (clinical_judgement) by dr.one" in done.stdout
    frozen.move_to("2026-04-21 09:00+00:00")  # an overridden alert is not notified again
    assert as_json(cli("sweep", "--json"))["renotified"] == 0
    assert alert(cli, critical)["status"] == "overridden"


def test_without_accounts_the_cli_acts_as_the_local_administrator(cli: Cli, critical: int) -> None:
    assert "cannot be snoozed" in refused(
        cli("snooze", str(critical), "--until", "2026-04-22", "--note", "x", "--by", "me")
    )
    refused(
        cli(
            "override",
            str(critical),
            "--reason",
            "data_error",
            "--note",
            "x",
            "--by",
            "me",
            "--role",
            "coordinator",
        )
    )
    done = ok(
        cli("override", str(critical), "--reason", "data_error", "--note", "entered twice", "--by", "me")
    )
    assert "overridden (data_error) by me" in done.stdout
