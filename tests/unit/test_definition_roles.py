"""The pathway file's tags (event roles, hand-over exits, report sections, pausable, enrolment age):
read through PathwayDefinition, and every misuse refused with the path inside the file."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from config import DEFAULT_PATHWAY
from pathway.domain.definition import PathwayDefinition, parse_definition
from pathway.domain.errors import DefinitionError

Data = dict[str, Any]


@pytest.fixture
def data() -> Data:
    loaded: Data = yaml.safe_load(DEFAULT_PATHWAY.read_text(encoding="utf-8"))
    return copy.deepcopy(loaded)


def refusal(data: Data) -> str:
    with pytest.raises(DefinitionError) as info:
        parse_definition(data, origin="x.yaml")
    return str(info.value)


def test_the_shipped_file_declares_the_roles_the_engine_reads(definition: PathwayDefinition) -> None:
    assert definition.event_with_role("pause") == "care_paused"
    assert definition.event_with_role("resume") == "care_resumed"
    assert definition.event_with_role("histology") == "histology_confirmed"
    assert definition.handover_exits == ("transfer", "withdrawal", "lost_to_follow_up")
    assert definition.rules_in_section("imaging") == ("T09",)
    assert definition.rules_in_section("exam") == ("T10",)
    assert definition.rules_in_section("palliative") == ("T16",)
    assert "sts" in definition.histology_values()


def _set(path: str, value: Any) -> Callable[[Data], None]:
    def change(d: Data) -> None:
        *parents, last = path.split(".")
        for p in parents:
            d = d[p]
        if value is None:
            del d[last]
        else:
            d[last] = value

    return change


REFUSALS = [
    (
        _set("events.exam_done.role", "pause"),
        "events.care_paused.role: only one event may have role pause (also exam_done)",
    ),
    (
        _set("events.care_resumed.role", None),
        "events.care_paused.role: an event with role pause needs another",
    ),
    (
        _set("events.exam_done.role", "sleep"),
        "events.exam_done.role: Input should be 'pause', 'resume', 'histology', 'staging', "
        "'demographics', 'booking' or 'lab'",
    ),
    (_set("events.exam_done.handover", True), "events.exam_done.handover: only exit events"),
    (_set("events.death.role", "pause"), "events.death.role: an exit or retraction event cannot have a role"),
    (
        _set("events.histology_confirmed.fields.histology.required", False),
        "events.histology_confirmed.fields.histology: an event with role histology needs a required choice",
    ),
    (_set("rules.follow_ups.T10.pausable", None), "rules.follow_ups.T10.pausable: Field required"),
    (
        _set("rules.follow_ups.T10.report_section", "lab"),
        "rules.follow_ups.T10.report_section: Input should be",
    ),
    (
        _set("enrolment.min_age_years", -1),
        "enrolment.min_age_years: Input should be greater than or equal to 0",
    ),
    (_set("enrolment.source", None), "enrolment.source: Field required"),
    (
        _set("events.bma_held.medication", {"name": "x", "action": "pause"}),
        "events.bma_held.medication.action",
    ),
]


@pytest.mark.parametrize(("change", "message"), REFUSALS)
def test_a_misused_tag_is_refused_naming_its_path(
    data: Data, change: Callable[[Data], None], message: str
) -> None:
    change(data)
    assert message in refusal(data)


def test_a_pathway_without_pause_roles_or_enrolment_age_is_valid(data: Data) -> None:
    del data["events"]["care_paused"]["role"], data["events"]["care_resumed"]["role"], data["enrolment"]
    d = parse_definition(data, origin="x.yaml")
    assert d.event_with_role("pause") is None and d.enrolment is None
