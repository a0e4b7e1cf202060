"""Event field validation: raw strings from the command line become typed, canonical event data."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pathway.domain.definition import PathwayDefinition
from pathway.domain.errors import InvalidInput, NotFound
from pathway.domain.events import event_spec, validate_event_data


def refused(definition: PathwayDefinition, event: str, raw: dict[str, Any]) -> str:
    with pytest.raises(InvalidInput) as info:
        validate_event_data(definition, event, raw)
    return str(info.value)


# --- choices ------------------------------------------------------------------------------------


@pytest.mark.parametrize("given_value", ["mri", "MRI", "Mri", "  mRi "])
def test_a_choice_is_matched_case_insensitively_and_returned_as_declared(
    definition: PathwayDefinition, given_value: str
) -> None:
    raw = {"region": "pelvis_sacrum", "modality": given_value}
    data = validate_event_data(definition, "imaging_done", raw)
    assert data == {"region": "pelvis_sacrum", "modality": "MRI"}


@pytest.mark.parametrize(
    ("given_value", "canonical"), [("YES", "yes"), ("Yes", "yes"), ("NO", "no"), ("no", "no")]
)
def test_a_lowercase_choice_is_canonicalised_from_any_case(
    definition: PathwayDefinition, given_value: str, canonical: str
) -> None:
    assert validate_event_data(definition, "mri_whole_spine_done", {"compression": given_value}) == {
        "compression": canonical
    }


def test_a_choice_outside_the_declared_values_is_refused_listing_them(definition: PathwayDefinition) -> None:
    message = refused(definition, "imaging_done", {"region": "chest", "modality": "ultrasound"})
    assert "imaging_done.modality" in message
    assert "'ultrasound'" in message
    assert "MRI, CT, PET_CT, XR" in message


# --- required, optional and unknown fields ------------------------------------------------------


def test_a_missing_required_field_is_refused_naming_the_field_and_the_set_option(
    definition: PathwayDefinition,
) -> None:
    message = refused(definition, "mdt_decision", {"resectability": "unresectable"})
    assert "'plan'" in message
    assert "--set plan=VALUE" in message
    assert "definitive_rt" in message


def test_an_empty_string_counts_as_missing_for_a_required_field(definition: PathwayDefinition) -> None:
    message = refused(definition, "pain_score", {"nrs": ""})
    assert "'nrs'" in message
    assert "--set nrs=" in message
    assert "0–10" in message


def test_optional_fields_left_out_are_absent_from_the_result(definition: PathwayDefinition) -> None:
    data = validate_event_data(definition, "rt_plan_approved", {"total_dose_gy": "60", "fractions": "30"})
    assert data == {"total_dose_gy": 60.0, "fractions": 30}
    assert isinstance(data["fractions"], int)


def test_an_unknown_field_is_refused_listing_the_allowed_fields(definition: PathwayDefinition) -> None:
    message = refused(definition, "imaging_done", {"region": "chest", "modality": "CT", "contrast": "yes"})
    assert "no field contrast" in message
    assert "clinical_status, modality, new_baseline, region, response" in message


def test_an_event_without_fields_refuses_any_field_and_says_it_has_none(
    definition: PathwayDefinition,
) -> None:
    message = refused(definition, "rt_started", {"fraction": "1"})
    assert "its fields: none" in message


def test_an_event_without_fields_validates_to_empty_data(definition: PathwayDefinition) -> None:
    assert validate_event_data(definition, "rt_started", {}) == {}


def test_text_is_stripped(definition: PathwayDefinition) -> None:
    assert validate_event_data(definition, "plan_revised", {"note": "  family meeting  "}) == {
        "note": "family meeting"
    }


# --- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize("nrs", ["11", "-1", 11, -1, "100"])
def test_a_pain_score_outside_zero_to_ten_is_refused_with_the_range(
    definition: PathwayDefinition, nrs: Any
) -> None:
    message = refused(definition, "pain_score", {"nrs": nrs})
    assert "pain_score.nrs" in message
    assert "0–10" in message
    assert "LOINC 72514-3" in message


@pytest.mark.parametrize("nrs", ["abc", "3.5", "", "seven", "nan"])
def test_a_pain_score_that_is_not_a_whole_number_is_refused(definition: PathwayDefinition, nrs: str) -> None:
    with pytest.raises(InvalidInput):
        validate_event_data(definition, "pain_score", {"nrs": nrs})


def test_a_non_numeric_pain_score_says_it_is_not_a_whole_number(definition: PathwayDefinition) -> None:
    assert "'abc' is not a whole number" in refused(definition, "pain_score", {"nrs": "abc"})


@pytest.mark.parametrize("dose", ["0.5", "0", "100.5", "1000", "-60"])
def test_a_total_dose_outside_the_plausibility_bounds_is_refused(
    definition: PathwayDefinition, dose: str
) -> None:
    message = refused(definition, "rt_plan_approved", {"total_dose_gy": dose, "fractions": "30"})
    assert "rt_plan_approved.total_dose_gy" in message
    assert "1–100 Gy" in message


@pytest.mark.parametrize(("dose", "expected"), [("1", 1.0), ("100", 100.0), ("54.0", 54.0), ("70.2", 70.2)])
def test_a_total_dose_inside_the_bounds_is_a_float(
    definition: PathwayDefinition, dose: str, expected: float
) -> None:
    data = validate_event_data(definition, "rt_plan_approved", {"total_dose_gy": dose, "fractions": "30"})
    assert data["total_dose_gy"] == expected


@pytest.mark.parametrize("dose", ["nan", "inf", "-inf", "sixty"])
def test_a_total_dose_that_is_not_a_finite_number_is_refused(
    definition: PathwayDefinition, dose: str
) -> None:
    with pytest.raises(InvalidInput):
        validate_event_data(definition, "rt_plan_approved", {"total_dose_gy": dose, "fractions": "30"})


@given(nrs=st.integers(min_value=0, max_value=10), as_text=st.booleans())
def test_every_whole_pain_score_from_zero_to_ten_is_accepted_as_that_int(
    definition: PathwayDefinition, nrs: int, as_text: bool
) -> None:
    data = validate_event_data(definition, "pain_score", {"nrs": str(nrs) if as_text else nrs})
    assert data == {"nrs": nrs}
    assert type(data["nrs"]) is int


@given(nrs=st.one_of(st.integers(max_value=-1), st.integers(min_value=11)), as_text=st.booleans())
def test_every_whole_pain_score_outside_zero_to_ten_is_refused(
    definition: PathwayDefinition, nrs: int, as_text: bool
) -> None:
    with pytest.raises(InvalidInput, match="0–10"):
        validate_event_data(definition, "pain_score", {"nrs": str(nrs) if as_text else nrs})


# --- booleans -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "expected"),
    [
        ("yes", True),
        ("YES", True),
        ("y", True),
        ("true", True),
        ("1", True),
        (True, True),
        ("no", False),
        ("No", False),
        ("n", False),
        ("false", False),
        ("0", False),
        (False, False),
    ],
)
def test_a_yes_no_field_is_parsed_to_a_bool(
    definition: PathwayDefinition, given_value: Any, expected: bool
) -> None:
    raw = {"sins": "8", "ortho_review": given_value}
    data = validate_event_data(definition, "fracture_risk_assessed", raw)
    assert data == {"sins": 8, "ortho_review": expected}


def test_a_yes_no_field_refuses_anything_else(definition: PathwayDefinition) -> None:
    message = refused(definition, "fracture_risk_assessed", {"sins": "8", "ortho_review": "maybe"})
    assert "fracture_risk_assessed.ortho_review" in message
    assert "yes/no" in message


# --- event references and unknown events --------------------------------------------------------


def test_a_retraction_takes_a_whole_event_id(definition: PathwayDefinition) -> None:
    assert validate_event_data(definition, "retraction", {"event_id": "42"}) == {"event_id": 42}
    with pytest.raises(InvalidInput, match="whole number"):
        validate_event_data(definition, "retraction", {"event_id": "last"})


def test_an_unknown_event_is_not_found_and_the_known_events_are_listed(definition: PathwayDefinition) -> None:
    with pytest.raises(NotFound) as info:
        validate_event_data(definition, "chemo_started", {})
    message = str(info.value)
    assert "unknown event 'chemo_started'" in message
    for known in ("mdt_decision", "pain_score", "systemic_started", "retraction"):
        assert known in message
    assert "pathway events" in message


def test_event_spec_returns_the_declared_fields(definition: PathwayDefinition) -> None:
    assert set(event_spec(definition, "bma_held").fields) == {"reason_code"}


@given(day=st.dates())
def test_a_date_field_outside_a_clinical_lifetime_is_refused_with_the_range(
    definition: PathwayDefinition, day: Any
) -> None:
    from pathway.domain.events import FIRST_DAY, LAST_DAY

    raw = {"agent": "denosumab", "schedule": "q4w", "first_dose_on": day.isoformat()}
    if FIRST_DAY <= day <= LAST_DAY:
        assert validate_event_data(definition, "bma_planned", raw)["first_dose_on"] == day.isoformat()
    else:
        assert "check the year" in refused(definition, "bma_planned", raw)
