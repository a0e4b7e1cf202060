"""The one table of alert-status moves: who may make which move, from where, on which severity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from config import DEFAULT_PATHWAY
from pathway.domain.alert_status import (
    LIVE,
    MOVES,
    AlertAction,
    AlertPolicy,
    AlertStatus,
    Severity,
    refusal,
    renotify_round,
    still_notified,
)
from pathway.domain.definition import parse_definition
from pathway.domain.roles import PERMISSIONS, ROLES

BY_HAND = (AlertAction.ACKNOWLEDGE, AlertAction.SNOOZE, AlertAction.OVERRIDE)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", list(AlertStatus))
def test_nobody_snoozes_a_critical_alert(role: str, status: AlertStatus) -> None:
    refused = refusal(AlertAction.SNOOZE, status, Severity.CRITICAL, role, 7)
    assert refused is not None and refused.reason == "critical"
    assert "alert 7 is critical: a critical alert cannot be snoozed" in refused.message


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", list(AlertStatus))
def test_only_a_clinician_or_admin_overrides_a_critical_alert(role: str, status: AlertStatus) -> None:
    refused = refusal(AlertAction.OVERRIDE, status, Severity.CRITICAL, role)
    if role not in ("clinician", "admin"):
        assert refused is not None and refused.reason == "role"
        assert "only a clinician or admin may override it" in refused.message
    elif status in LIVE:
        assert refused is None
    else:
        assert refused is not None and refused.reason == "status"


@pytest.mark.parametrize("action", BY_HAND)
@pytest.mark.parametrize("severity", [Severity.INFO, Severity.WARNING])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", list(AlertStatus))
def test_below_critical_the_role_table_and_the_source_statuses_decide(
    action: AlertAction, severity: Severity, role: str, status: AlertStatus
) -> None:
    move = MOVES[action]
    assert move.permission is not None
    allowed = role in PERMISSIONS[move.permission] and status in move.sources
    assert (refusal(action, status, severity, role) is None) == allowed


@pytest.mark.parametrize("role", ROLES)
def test_a_writer_may_acknowledge_a_critical_alert(role: str) -> None:
    refused = refusal(AlertAction.ACKNOWLEDGE, AlertStatus.OPEN, Severity.CRITICAL, role)
    assert (refused is None) == (role != "viewer")


@pytest.mark.parametrize("action", [AlertAction.RESOLVE, AlertAction.REOPEN])
def test_the_sweeps_moves_are_not_made_by_hand(action: AlertAction) -> None:
    for status in AlertStatus:
        refused = refusal(action, status, Severity.WARNING, "admin")
        assert refused is not None and refused.reason == "sweep"


def test_every_move_lands_on_a_status_and_leaves_from_statuses() -> None:
    for move in MOVES.values():
        assert move.target in AlertStatus and move.sources
        assert move.target not in move.sources or move.action == AlertAction.REOPEN


@pytest.mark.parametrize("status", list(AlertStatus))
@pytest.mark.parametrize("severity", list(Severity))
def test_acknowledging_silences_only_below_critical(status: AlertStatus, severity: Severity) -> None:
    expected = status == AlertStatus.OPEN or (
        status == AlertStatus.ACKNOWLEDGED and severity == Severity.CRITICAL
    )
    assert still_notified(status, severity) == expected


T0 = datetime(2026, 4, 20, 9, 0, tzinfo=UTC)


@given(
    st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)),
    st.integers(min_value=1, max_value=48),
)
def test_the_renotification_round_counts_whole_intervals(elapsed: timedelta, hours: int) -> None:
    every = timedelta(hours=hours)
    n = renotify_round(T0, T0 + elapsed, every)
    assert n * every <= elapsed < (n + 1) * every


def test_renotification_rounds_at_four_and_eight_hours() -> None:
    every = AlertPolicy().renotify_every
    at = [renotify_round(T0, T0 + timedelta(hours=h), every) for h in (0, 3.99, 4, 7.99, 8, 12)]
    assert at == [0, 0, 1, 1, 2, 3]


def test_the_policy_reads_the_pathway_parameters_and_refuses_nonsense() -> None:
    policy = AlertPolicy.from_parameters({"snooze_max_days": 7, "critical_renotify_hours": 2})
    assert (policy.snooze_max_days, policy.renotify_every) == (7, timedelta(hours=2))
    assert AlertPolicy.from_parameters({}) == AlertPolicy(14, 4.0)
    assert AlertPolicy.problems({"snooze_max_days": 0, "critical_renotify_hours": 0}) == [
        "parameters.snooze_max_days: must be a whole number of days, at least 1",
        "parameters.critical_renotify_hours: must be between 0.25 and 72 hours",
    ]


def test_the_shipped_pathway_declares_both_numbers_as_sourced_proposals() -> None:
    definition = parse_definition(yaml.safe_load(DEFAULT_PATHWAY.read_text(encoding="utf-8")), "shipped")
    for name, value in (("critical_renotify_hours", 4), ("snooze_max_days", 14)):
        parameter = definition.parameters[name]
        assert (parameter.value, parameter.kind) == (value, "proposal") and parameter.source
    assert definition.alert_policy == AlertPolicy(14, 4.0)
