"""The pathway diff (pure): each change classified loosening, tightening or neutral (rule book 4.2)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pathway.domain.definition import PathwayDefinition, parse_definition
from pathway.domain.pathway_diff import diff_definitions, summary


@pytest.fixture
def data(definition: PathwayDefinition) -> dict[str, Any]:
    return definition.model_dump(mode="json", exclude={"content_hash"}, exclude_none=True)


def changed(definition: PathwayDefinition, data: dict[str, Any]) -> list[tuple[str, str, str]]:
    new = parse_definition(data, origin="new.yaml")
    return [(c.item, c.path, c.effect) for c in diff_definitions(definition, new)]


def test_the_same_file_has_no_changes(definition: PathwayDefinition) -> None:
    assert diff_definitions(definition, definition) == []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d: d["rules"]["follow_ups"]["T09"]["window"].update(closes="14w"),
            ("T09", "window.closes", "loosening"),
        ),
        (
            lambda d: d["rules"]["follow_ups"]["T09"]["window"].update(closes="11w"),
            ("T09", "window.closes", "tightening"),
        ),
        (
            lambda d: d["rules"]["follow_ups"]["T09"]["window"].update(opens="5w"),
            ("T09", "window.opens", "neutral"),
        ),
        (lambda d: d["rules"]["follow_ups"]["T09"].update(step="Imaging"), ("T09", "step", "neutral")),
        (
            lambda d: d["rules"]["follow_ups"]["T09"]["alert"]["levels"][1].update(plus="35d"),
            ("T09", "alert.levels", "loosening"),
        ),
        (
            lambda d: d["rules"]["follow_ups"]["T09"]["alert"]["levels"][1].update(plus="14d"),
            ("T09", "alert.levels", "tightening"),
        ),
        (lambda d: d["rules"]["follow_ups"]["T10"].update(pausable=False), ("T10", "pausable", "tightening")),
        (lambda d: d["rules"]["checks"]["A12a"].update(severity="info"), ("A12a", "severity", "loosening")),
        (
            lambda d: d["rules"]["checks"]["A06"]["ranges"]["sts"].update(max=70),
            ("A06", "ranges.sts.max", "loosening"),
        ),
        (
            lambda d: d["rules"]["follow_ups"]["T10"]["done"].update(events=["exam_done", "neuro_exam"]),
            ("T10", "done.events", "loosening"),
        ),
        (lambda d: d["rules"]["follow_ups"].pop("T10"), ("T10", "", "loosening")),
        (
            lambda d: d["parameters"]["pain_detail_threshold"].update(value=4),
            ("pain_detail_threshold", "value", "loosening"),
        ),
        (
            lambda d: d["parameters"]["pain_detail_threshold"].update(value=2),
            ("pain_detail_threshold", "value", "tightening"),
        ),
        (
            lambda d: d["parameters"]["dex_mscc_dose_mg"].update(value=8),
            ("dex_mscc_dose_mg", "value", "loosening"),
        ),
        (
            lambda d: d["parameters"]["critical_renotify_hours"].update(value=8),
            ("critical_renotify_hours", "value", "loosening"),
        ),
    ],
)
def test_each_change_is_classified(
    definition: PathwayDefinition, data: dict[str, Any], edit: Any, expected: tuple[str, str, str]
) -> None:
    new = copy.deepcopy(data)
    edit(new)
    assert changed(definition, new) == [expected]


def test_the_summary_counts_each_effect(definition: PathwayDefinition, data: dict[str, Any]) -> None:
    data["rules"]["follow_ups"]["T09"]["window"]["closes"] = "14w"
    data["rules"]["follow_ups"]["T09"]["alert"]["source"] = "Local change"
    new = parse_definition(data, origin="new.yaml")
    assert summary(diff_definitions(definition, new)) == {"loosening": 1, "tightening": 0, "neutral": 1}
