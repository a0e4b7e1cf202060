"""Laboratory results: the catalogue's unit and plausible range, and the pure accessors (latest at
or before an instant, results in a window), retracted results excluded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import DEFAULT_PATHWAY
from pathway.adapters.pathway_file import load_pathway_file
from pathway.domain.definition import PathwayDefinition, parse_definition
from pathway.domain.errors import DefinitionError, InvalidInput
from pathway.domain.events import validate_event_data
from pathway.domain.lab_catalogue import normal_unit
from pathway.domain.labs import lab_results, labs_within, latest_ecog, latest_lab, latest_result
from pathway.domain.model import EventRecord

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEFINITION = load_pathway_file(DEFAULT_PATHWAY)


def lab(definition: PathwayDefinition, test: str, value: Any, unit: str) -> dict[str, Any]:
    return validate_event_data(definition, "lab_result", {"test": test, "value": value, "unit": unit})


def record(id_: int, type_: str, at: datetime, **data: Any) -> EventRecord:
    return EventRecord(id_, 1, type_, at, at, "test", data, None, {})


def test_every_catalogue_test_is_a_choice_of_the_lab_event(definition: PathwayDefinition) -> None:
    values = definition.events["lab_result"].fields["test"].values
    assert set(values or ()) == set(definition.labs.tests)
    expected = {"creatinine", "egfr", "crcl", "corrected_calcium", "vitamin_d", "wbc", "platelets"}
    assert expected | {"haemoglobin", "urine_rbc", "albumin"} == set(definition.labs.tests)


def test_codes_are_sourced_and_the_calcium_limit_is_a_proposal(definition: PathwayDefinition) -> None:
    tests = definition.labs.tests
    assert tests["creatinine"].loinc == "2160-0"  # rule book 5.1
    assert tests["corrected_calcium"].loinc == "29265-6"
    assert tests["vitamin_d"].loinc is None and tests["albumin"].loinc is None  # none from a checked source
    limit = tests["corrected_calcium"].lower_limit
    assert limit is not None and limit.kind == "proposal" and "local laboratory" in limit.source


@pytest.mark.parametrize("unit", ["mmol/L", "mmol/l", " MMOL/L "])
def test_a_result_in_the_test_unit_is_kept_with_the_catalogue_spelling(
    definition: PathwayDefinition, unit: str
) -> None:
    assert lab(definition, "corrected_calcium", "1.9", unit) == {
        "test": "corrected_calcium",
        "value": 1.9,
        "unit": "mmol/L",
    }


def test_micro_is_written_either_way(definition: PathwayDefinition) -> None:
    assert lab(definition, "wbc", "1500", "/µL")["unit"] == "/uL"
    assert normal_unit("µmol/L") == normal_unit("μmol/l") == "umol/l"


@pytest.mark.parametrize(
    ("test", "value", "unit", "words"),
    [
        ("corrected_calcium", "8.9", "mg/dL", "recorded in mmol/L, not 'mg/dL'; convert the value to mmol/L"),
        ("wbc", "4.5", "10^9/L", "recorded in /uL"),
        ("corrected_calcium", "0.49", "mmol/L", "not a plausible albumin-corrected serum calcium"),
        ("corrected_calcium", "5.01", "mmol/L", "plausible 0.5–5 mmol/L"),
        ("crcl", "0", "mL/min", "not a plausible"),
        ("urine_rbc", "-1", "/HPF", "not a plausible"),
        ("creatinine", "abc", "mg/dL", "not a number"),
    ],
)
def test_a_wrong_unit_or_an_implausible_value_is_refused(
    definition: PathwayDefinition, test: str, value: str, unit: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        lab(definition, test, value, unit)
    assert words in str(info.value)


@pytest.mark.parametrize("value", ["0.5", "1.2", "2.19", "5"])
def test_an_alarming_but_plausible_value_is_recorded(definition: PathwayDefinition, value: str) -> None:
    assert lab(definition, "corrected_calcium", value, "mmol/L")["value"] == float(value)


@pytest.mark.parametrize(
    "raw", [{"test": "wbc", "value": "1"}, {"test": "wbc", "unit": "/uL"}, {"value": "1", "unit": "/uL"}]
)
def test_test_value_and_unit_are_required(definition: PathwayDefinition, raw: dict[str, str]) -> None:
    with pytest.raises(InvalidInput, match="needs field"):
        validate_event_data(definition, "lab_result", raw)


@pytest.mark.parametrize(
    ("ecog", "ok"), [("0", True), ("4", True), ("5", False), ("-1", False), ("1.5", False)]
)
def test_performance_status_is_ecog_zero_to_four(definition: PathwayDefinition, ecog: str, ok: bool) -> None:
    if ok:
        assert validate_event_data(definition, "performance_status", {"ecog": ecog}) == {"ecog": int(ecog)}
    else:
        with pytest.raises(InvalidInput):
            validate_event_data(definition, "performance_status", {"ecog": ecog})


def test_a_catalogue_that_disagrees_with_the_lab_event_is_refused_at_load(
    definition: PathwayDefinition,
) -> None:
    data = definition.model_dump(exclude={"content_hash"}, exclude_none=True)
    data["labs"]["tests"].pop("albumin")
    with pytest.raises(DefinitionError, match=r"must list exactly the tests under labs\.tests"):
        parse_definition(data, "x.yaml")
    data = definition.model_dump(exclude={"content_hash"}, exclude_none=True)
    data["labs"]["tests"]["wbc"]["lower_limit"] = {"value": -5, "source": "a test", "kind": "proposal"}
    with pytest.raises(DefinitionError, match="outside the plausible range"):
        parse_definition(data, "x.yaml")


# --- accessors ------------------------------------------------------------------------------------


def history() -> list[EventRecord]:
    return [
        record(1, "lab_result", T0, test="crcl", value=55.0, unit="mL/min"),
        record(2, "lab_result", T0 + timedelta(days=10), test="crcl", value=25.0, unit="mL/min"),
        record(3, "lab_result", T0 + timedelta(days=10), test="creatinine", value=2.0, unit="mg/dL"),
        record(4, "lab_result", T0 + timedelta(days=3), test="crcl", value=40.0, unit="mL/min"),  # back-dated
        record(5, "performance_status", T0 + timedelta(days=1), ecog=1),
        record(6, "performance_status", T0 + timedelta(days=5), ecog=2),
    ]


def test_latest_is_the_last_result_of_that_test_at_or_before_the_instant(
    definition: PathwayDefinition,
) -> None:
    events = history()
    assert latest_lab(definition, events, "crcl", T0 - timedelta(seconds=1)) is None
    first = latest_lab(definition, events, "crcl", T0)
    assert first is not None and first.value == 55.0
    mid = latest_lab(definition, events, "crcl", T0 + timedelta(days=9))
    assert mid is not None and mid.value == 40.0  # by clinical time, not by recording order
    last = latest_lab(definition, events, "crcl", T0 + timedelta(days=30))
    assert last is not None and (last.value, last.unit, last.event_id) == (25.0, "mL/min", 2)


def test_results_within_a_window_include_both_ends(definition: PathwayDefinition) -> None:
    events = history()
    at = T0 + timedelta(days=14)
    assert [r.event_id for r in labs_within(definition, events, "crcl", at, timedelta(days=14))] == [1, 4, 2]
    assert [r.event_id for r in labs_within(definition, events, "crcl", at, timedelta(days=11))] == [4, 2]
    assert labs_within(definition, events, "crcl", at, timedelta(days=3)) == []


def test_a_retracted_result_no_longer_counts(definition: PathwayDefinition) -> None:
    events = [*history(), record(7, "retraction", T0 + timedelta(days=11), event_id=2)]
    last = latest_lab(definition, events, "crcl", T0 + timedelta(days=30))
    assert last is not None and last.event_id == 4
    events.append(record(8, "retraction", T0 + timedelta(days=11), event_id=6))
    assert latest_ecog(definition, events, T0 + timedelta(days=30)) == 1
    assert latest_ecog(definition, history(), T0 + timedelta(days=30)) == 2
    assert latest_ecog(definition, history(), T0) is None


@given(
    st.lists(st.tuples(st.integers(0, 40), st.floats(1, 250)), min_size=1, max_size=12),
    st.integers(0, 45),
    st.sets(st.integers(1, 12)),
)
def test_latest_is_the_maximum_of_the_window_from_the_start(
    points: list[tuple[int, float]], day: int, retracted: set[int]
) -> None:
    definition = DEFINITION
    events = [
        record(i + 1, "lab_result", T0 + timedelta(days=d), test="crcl", value=v, unit="mL/min")
        for i, (d, v) in enumerate(points)
    ]
    events += [record(100 + i, "retraction", T0, event_id=i) for i in retracted]
    at = T0 + timedelta(days=day)
    results = lab_results(definition, events)
    assert all(r.event_id not in retracted for r in results)
    window = labs_within(definition, events, "crcl", at, timedelta(days=day))
    assert latest_result(results, "crcl", at) == (window[-1] if window else None)
