"""History is the truth: replaying the event log rebuilds every track's state."""

from __future__ import annotations

from typing import Any

import pytest

from pathway.domain.definition import PathwayDefinition
from pathway.domain.errors import EventNotAllowed
from pathway.domain.history import replay
from pathway.domain.machine import Pathway
from pathway.domain.model import EventRecord
from tests.fakes import utc

Step = tuple[str, dict[str, Any]]
RT_PLAN = {"resectability": "unresectable", "plan": "definitive_rt"}


def walk(pathway: Pathway, states: dict[str, str], *steps: Step) -> dict[str, str]:
    for event, data in steps:
        states = pathway.fire(states, event, data).states
    return states


def records(*steps: Step) -> list[EventRecord]:
    return [
        EventRecord(
            id=i,
            patient_id=1,
            type=event,
            occurred_at=utc(2026, 3, i),
            recorded_at=utc(2026, 3, i),
            actor="tester",
            data=data,
            reason=None,
            changes={},
        )
        for i, (event, data) in enumerate(steps, start=1)
    ]


def test_replay_builds_the_same_states_as_firing_step_by_step(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    steps: list[Step] = [
        ("mdt_decision", RT_PLAN),
        ("pain_score", {"nrs": 6}),
        ("rt_started", {}),
        ("neuro_exam", {"finding": "worsening"}),
        ("palliative_referral", {}),
        ("rt_completed", {}),
        ("fracture_risk_assessed", {"sins": 5}),
    ]
    assert replay(pathway, records(*steps)) == walk(pathway, definition.initial_states(), *steps)


def test_replay_follows_the_ids_not_the_list_order(pathway: Pathway) -> None:
    history = records(("mdt_decision", RT_PLAN), ("rt_started", {}))
    assert replay(pathway, list(reversed(history)))["main"] == "rt_active"


def test_replay_skips_an_event_taken_back_by_a_retraction(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    history = records(("pain_score", {"nrs": 8}), ("pain_score", {"nrs": 1}), ("retraction", {"event_id": 2}))
    assert replay(pathway, history) == {**definition.initial_states(), "pain": "uncontrolled"}


def test_replay_of_an_empty_history_gives_the_initial_states(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    assert replay(pathway, []) == definition.initial_states()


def test_replay_refuses_a_history_stranded_by_a_retraction(pathway: Pathway) -> None:
    history = records(("mdt_decision", RT_PLAN), ("rt_started", {}), ("retraction", {"event_id": 1}))
    with pytest.raises(EventNotAllowed, match="'rt_started' is not allowed in main state 'assessment'"):
        replay(pathway, history)
