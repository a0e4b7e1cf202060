"""Issue 12 items 1-6 at the domain level: new condition kinds, the file checks that guard them,
and the follow-ups they derive (kept-open imaging, baselines, per-scan A13, T22's loading doses)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from config import DEFAULT_PATHWAY
from pathway.domain.conditions import Absent, holds
from pathway.domain.definition import parse_definition
from pathway.domain.errors import DefinitionError, InvalidInput
from pathway.domain.events import reference_problem, validate_event_data
from pathway.domain.machine import Pathway
from pathway.domain.windows import target_day
from tests.unit.test_followups import LONDON, History, day, of, only_open


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEFAULT_PATHWAY.read_text(encoding="utf-8"))
    return data


def refusal(data: dict[str, Any]) -> str:
    with pytest.raises(DefinitionError) as info:
        parse_definition(data, origin="x.yaml")
    return str(info.value)


@pytest.mark.parametrize(
    ("value", "absent", "expected"),
    [(None, True, True), ("", True, True), ("SD", True, False), ("SD", False, True), (None, False, False)],
)
def test_an_absent_condition_holds_for_an_empty_field_only(value: Any, absent: bool, expected: bool) -> None:
    assert holds(Absent(absent=absent), value, lambda r: 0.0) is expected


def test_other_regimen_needs_its_text_and_an_unknown_regimen_is_refused(pathway: Pathway) -> None:
    d = pathway.definition
    with pytest.raises(InvalidInput, match="regimen=other needs field 'regimen_other'"):
        validate_event_data(d, "systemic_started", {"regimen": "other"})
    with pytest.raises(InvalidInput, match="choose one of doxorubicin"):
        validate_event_data(d, "systemic_started", {"regimen": "doxorubicin+ifosfamide"})
    assert validate_event_data(d, "systemic_started", {"regimen": "Imatinib"}) == {"regimen": "imatinib"}


def test_a_report_must_name_a_live_imaging_event(pathway: Pathway) -> None:
    d, data = pathway.definition, {"imaging_event_id": 4, "response": "SD"}
    assert reference_problem(d, "imaging_reported", data, {4: "imaging_done"}) is None
    assert "is exam_done" in str(reference_problem(d, "imaging_reported", data, {4: "exam_done"}))
    assert "not a live event" in str(reference_problem(d, "imaging_reported", data, {}))


@pytest.mark.parametrize(
    ("where", "change", "message"),
    [
        (
            ("rules", "follow_ups", "A13", "anchor"),
            {"on_entry": True},
            "A13.anchor.each: follows each anchor event",
        ),
        (
            ("rules", "follow_ups", "A15", "done"),
            {"refers_to_anchor": "note"},
            "A15.done.refers_to_anchor: needs anchor.each",
        ),
        (
            ("rules", "follow_ups", "T09", "done"),
            {"unless_check": "A12b"},
            "'A12b' is not a same_as_first check",
        ),
        (
            ("rules", "follow_ups", "T01"),
            {"loading": [{"opens": "1d", "closes": "2d"}]},
            "T01.loading: only a recurring",
        ),
        (
            ("rules", "checks", "T08", "prior"),
            {"per": "modality", "within": "24h"},
            "T08.prior.within: give clinic days",
        ),
        (
            ("events", "systemic_started", "fields", "regimen_other"),
            {"required_if": {"regimen": "cisplatin"}},
            "['cisplatin'] not in",
        ),
        (
            ("events", "imaging_reported", "fields", "imaging_event_id"),
            {"refers_to": ["scan"]},
            "unknown event 'scan'",
        ),
    ],
)
def test_the_new_rule_options_are_checked_when_the_file_loads(
    shipped: dict[str, Any], where: tuple[str, ...], change: dict[str, Any], message: str
) -> None:
    data = copy.deepcopy(shipped)
    node = data
    for key in where:
        node = node[key]
    node.update(change)
    assert message in refusal(data)


def test_an_overdue_scan_stays_open_when_a_line_starts_and_one_scan_closes_both(pathway: Pathway) -> None:
    history = History().rt_completed(day(40)).add("systemic_started", day(130))
    fus = history.follow_ups(pathway)
    old, new = sorted(of(fus, "T09", "chest"), key=lambda f: f.anchor_at)
    assert old.outcome == "open" and old.window.closes_at < day(130) and new.anchor_at == day(130)
    fus = history.add("imaging_done", day(135), region="chest", modality="CT").follow_ups(pathway)
    assert [f.outcome for f in of(fus, "T09", "chest")][:2] == ["done", "done"]


def test_a_scan_of_another_modality_does_not_count_unless_it_is_the_new_baseline(pathway: Pathway) -> None:
    history = History().add("imaging_done", day(1)).rt_completed(day(40))
    fus = history.add("imaging_done", day(90), modality="CT").follow_ups(pathway)
    still = only_open(fus, "T09", "pelvis_sacrum")
    assert still.anchor_at == day(40) and "does not count: modality CT" in still.notes[-1]
    fus = history.add("imaging_done", day(91), modality="CT", new_baseline=True).follow_ups(pathway)
    now = only_open(fus, "T09", "pelvis_sacrum")
    assert (
        now.anchor_at == day(91)
        and "modality CT is the new baseline for pelvis_sacrum (was MRI)" in now.notes[0]
    )


def test_each_unreported_scan_has_its_own_a13_closed_only_by_its_own_report(pathway: Pathway) -> None:
    history = History().rt_completed(day(40))
    history.add("imaging_done", day(90)).add("imaging_done", day(90), region="chest", modality="CT")
    history.add("imaging_done", day(90), region="chest", modality="CT", response="SD")
    fus = history.add("imaging_reported", day(92), imaging_event_id=5, response="SD").follow_ups(pathway)
    a13 = {f.region: f.outcome for f in fus if f.rule == "A13"}
    assert a13 == {"event 4": "open", "event 5": "done"}


def test_t22_follows_days_8_15_29_then_every_28_days_from_each_dose(pathway: Pathway) -> None:
    history = History().add("mdt_decision", day(1), plan="systemic")
    history.add("systemic_started", day(2), regimen="denosumab_gctb")
    for n in (9, 16, 30, 58):  # days 8, 15, 29 and 57 of the line
        assert target_day(only_open(history.follow_ups(pathway), "T22").window, LONDON) == day(n).date()
        history.add("systemic_dose", day(n))
    assert target_day(only_open(history.follow_ups(pathway), "T22").window, LONDON) == day(58 + 28).date()
    other = History().add("mdt_decision", day(1), plan="systemic").add("systemic_started", day(2))
    assert of(other.follow_ups(pathway), "T22") == []
