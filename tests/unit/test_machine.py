"""The compiled pathway: each track's transitions, the exits and the shared machines."""

from __future__ import annotations

from typing import Any

import pytest

from pathway.domain.definition import PathwayDefinition
from pathway.domain.errors import EventNotAllowed, GuardRefused, NotFound
from pathway.domain.machine import Outcome, Pathway

Step = tuple[str, dict[str, Any]]
MAIN_ACTIVE = [
    "assessment",
    "rt_planning",
    "rt_active",
    "surveillance",
    "systemic_therapy",
    "progression_review",
    "best_supportive_care",
    "surgical_pathway",
]
RT_PLAN = {"resectability": "unresectable", "plan": "definitive_rt"}
EXITS = {
    "death": "deceased",
    "transfer": "transferred",
    "withdrawal": "withdrawn",
    "lost_to_follow_up": "lost_to_follow_up",
}


def at(definition: PathwayDefinition, **states: str) -> dict[str, str]:
    return {**definition.initial_states(), **states}


def walk(pathway: Pathway, states: dict[str, str], *steps: Step) -> dict[str, str]:
    for event, data in steps:
        states = pathway.fire(states, event, data).states
    return states


def fire_one(
    pathway: Pathway,
    definition: PathwayDefinition,
    track: str,
    state: str,
    event: str,
    data: dict[str, Any] | None = None,
) -> Outcome:
    return pathway.fire(at(definition, **{track: state}), event, data or {})


# --- main track ---------------------------------------------------------------------------------


def test_an_unresectable_tumour_for_definitive_rt_moves_from_assessment_to_rt_planning(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    outcome = pathway.fire(definition.initial_states(), "mdt_decision", RT_PLAN)
    assert outcome.states == at(definition, main="rt_planning")
    assert outcome.changes == {"main": ("assessment", "rt_planning")}
    assert outcome.accepted_by == ("main",)


def test_a_resectable_tumour_moves_to_the_surgical_pathway(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    outcome = pathway.fire(
        definition.initial_states(), "mdt_decision", {"resectability": "resectable", "plan": "surgery"}
    )
    assert outcome.states["main"] == "surgical_pathway"


@pytest.mark.parametrize(
    "source", ["assessment", "rt_planning", "surveillance", "systemic_therapy", "progression_review"]
)
def test_a_plan_of_best_supportive_care_moves_there(
    pathway: Pathway, definition: PathwayDefinition, source: str
) -> None:
    outcome = fire_one(
        pathway, definition, "main", source, "mdt_decision", {"resectability": "unresectable", "plan": "bsc"}
    )
    assert outcome.changes == {"main": (source, "best_supportive_care")}


def test_unresectable_with_surgery_plan_at_assessment_is_refused_explaining_the_unmet_conditions(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    with pytest.raises(GuardRefused) as info:
        pathway.fire(
            definition.initial_states(), "mdt_decision", {"resectability": "unresectable", "plan": "surgery"}
        )
    message = str(info.value)
    assert "main state 'assessment'" in message
    assert "[plan=bsc]" in message
    assert "[resectability=unresectable and plan=definitive_rt]" in message
    assert "[resectability=resectable]" in message
    assert "[plan=systemic]" in message
    assert "(got plan=surgery, resectability=unresectable)" in message


@pytest.mark.parametrize("state", ["assessment", "progression_review"])
def test_a_systemic_plan_from_assessment_or_progression_review_leads_to_systemic_therapy(
    pathway: Pathway, definition: PathwayDefinition, state: str
) -> None:
    decided = fire_one(
        pathway,
        definition,
        "main",
        state,
        "mdt_decision",
        {"resectability": "unresectable", "plan": "systemic"},
    )
    assert decided.states["main"] == "systemic_therapy"
    started = fire_one(
        pathway, definition, "main", "systemic_therapy", "systemic_started", {"regimen": "imatinib"}
    )
    assert started.states["main"] == "systemic_therapy"


@pytest.mark.parametrize("event", ["imaging_done", "imaging_reported"])
@pytest.mark.parametrize("state", ["surveillance", "systemic_therapy"])
def test_recist_pd_on_a_scan_or_its_report_is_progression(
    pathway: Pathway, definition: PathwayDefinition, event: str, state: str
) -> None:
    pd = fire_one(pathway, definition, "main", state, event, {"response": "PD", "region": "chest"})
    assert pd.states["main"] == "progression_review"
    sd = fire_one(pathway, definition, "main", state, event, {"response": "SD", "region": "chest"})
    assert sd.states["main"] == state


def test_rt_started_during_assessment_is_not_allowed_and_the_allowed_events_are_listed(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    with pytest.raises(EventNotAllowed) as info:
        pathway.fire(definition.initial_states(), "rt_started", {})
    assert not isinstance(info.value, GuardRefused)
    message = str(info.value)
    assert "'rt_started' is not allowed in main state 'assessment'" in message
    assert "Allowed now:" in message
    for event in ("mdt_decision", "imaging_done", "pain_score", "retraction", "death"):
        assert event in message.split("Allowed now:")[1]


def test_the_full_radiotherapy_then_systemic_path(pathway: Pathway, definition: PathwayDefinition) -> None:
    expected = [
        ("mdt_decision", RT_PLAN, "rt_planning"),
        ("rt_plan_approved", {"total_dose_gy": 60.0, "fractions": 30}, "rt_planning"),
        ("rt_started", {}, "rt_active"),
        ("rt_completed", {}, "surveillance"),
        ("systemic_started", {"regimen": "doxorubicin"}, "systemic_therapy"),
        ("systemic_started", {"regimen": "trabectedin", "line": 2}, "systemic_therapy"),
        ("progression", {"basis": "recist"}, "progression_review"),
        ("mdt_decision", {"resectability": "unresectable", "plan": "next_line"}, "systemic_therapy"),
        ("systemic_completed", {}, "surveillance"),
        ("progression", {"basis": "clinical"}, "progression_review"),
        ("mdt_decision", {"resectability": "unresectable", "plan": "reirradiation"}, "rt_planning"),
    ]
    states = definition.initial_states()
    for event, data, main in expected:
        states = pathway.fire(states, event, data).states
        assert states == at(definition, main=main), event


def test_rt_stopped_early_also_leads_to_surveillance(pathway: Pathway, definition: PathwayDefinition) -> None:
    outcome = fire_one(
        pathway, definition, "main", "rt_active", "rt_stopped_early", {"reason_code": "toxicity"}
    )
    assert outcome.changes == {"main": ("rt_active", "surveillance")}


def test_systemic_therapy_can_start_from_progression_review(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    outcome = fire_one(
        pathway, definition, "main", "progression_review", "systemic_started", {"regimen": "pazopanib"}
    )
    assert outcome.states["main"] == "systemic_therapy"


def test_revising_a_best_supportive_care_plan_returns_to_progression_review(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    outcome = fire_one(pathway, definition, "main", "best_supportive_care", "plan_revised")
    assert outcome.changes == {"main": ("best_supportive_care", "progression_review")}


@pytest.mark.parametrize("state", MAIN_ACTIVE)
@pytest.mark.parametrize(
    ("event", "data"),
    [
        ("imaging_done", {"region": "pelvis_sacrum", "modality": "MRI", "response": "SD"}),
        ("exam_done", {}),
        ("histology_confirmed", {"histology": "chordoma"}),
    ],
)
def test_observations_are_accepted_without_a_state_change_in_every_active_main_state(
    pathway: Pathway, definition: PathwayDefinition, state: str, event: str, data: dict[str, Any]
) -> None:
    states = at(definition, main=state)
    outcome = pathway.fire(states, event, data)
    assert outcome.states == states
    assert outcome.changes == {}
    assert outcome.accepted_by == ("main",)


def test_firing_does_not_mutate_the_given_states(pathway: Pathway, definition: PathwayDefinition) -> None:
    states = definition.initial_states()
    pathway.fire(states, "mdt_decision", RT_PLAN)
    assert states == definition.initial_states()


def test_an_unknown_event_is_not_found(pathway: Pathway, definition: PathwayDefinition) -> None:
    with pytest.raises(NotFound, match="unknown event 'teleport'"):
        pathway.fire(definition.initial_states(), "teleport", {})


# --- exits --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("event", "exit_state"), list(EXITS.items()))
def test_an_exit_moves_every_track_to_its_exit_state(
    pathway: Pathway, definition: PathwayDefinition, event: str, exit_state: str
) -> None:
    states = at(definition, main="systemic_therapy", mscc="confirmed", pain="uncontrolled", bone="on_bma")
    outcome = pathway.fire(states, event, {})
    assert outcome.states == dict.fromkeys(definition.tracks, exit_state)
    assert set(outcome.changes) == set(definition.tracks)
    assert pathway.is_closed(outcome.states)


def test_after_death_only_a_retraction_is_allowed(pathway: Pathway, definition: PathwayDefinition) -> None:
    dead = pathway.fire(definition.initial_states(), "death", {}).states
    assert pathway.allowed_events(dead) == ["retraction"]


@pytest.mark.parametrize(
    "event",
    [
        "mdt_decision",
        "pain_score",
        "palliative_visit",
        "bma_dose",
        "neuro_exam",
        "imaging_done",
        "exam_done",
        "death",
        "transfer",
        "withdrawal",
    ],
)
def test_after_death_every_ordinary_event_is_not_allowed(
    pathway: Pathway, definition: PathwayDefinition, event: str
) -> None:
    dead = pathway.fire(definition.initial_states(), "death", {}).states
    with pytest.raises(EventNotAllowed) as info:
        pathway.fire(dead, event, {})
    assert "'deceased'" in str(info.value)
    assert str(info.value).endswith("Allowed now: retraction")


# --- mscc overlay -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("finding", "expected"),
    [("new_deficit", "suspected"), ("worsening", "suspected"), ("stable", "none"), ("baseline", "none")],
)
def test_a_neuro_exam_raises_suspicion_only_on_a_new_or_worsening_deficit(
    pathway: Pathway, definition: PathwayDefinition, finding: str, expected: str
) -> None:
    outcome = fire_one(pathway, definition, "mscc", "none", "neuro_exam", {"finding": finding})
    assert outcome.states["mscc"] == expected
    assert outcome.accepted_by == ("mscc",)


def test_the_mscc_episode_from_suspicion_to_resolution(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    states = walk(pathway, definition.initial_states(), ("mscc_suspected", {"neuro_signs": "yes"}))
    assert states["mscc"] == "suspected"
    states = walk(pathway, states, ("mri_whole_spine_done", {"compression": "yes"}))
    assert states["mscc"] == "confirmed"
    states = walk(pathway, states, ("mscc_treatment_started", {"treatment": "rt"}))
    assert states["mscc"] == "treated"
    states = walk(pathway, states, ("mscc_resolved", {}))
    assert states == definition.initial_states()


@pytest.mark.parametrize(
    ("state", "event", "data", "expected"),
    [
        ("none", "mscc_suspected", {"neuro_signs": "no"}, "suspected_pain"),
        ("none", "mscc_suspected", {"neuro_signs": "yes"}, "suspected"),
        ("none", "mscc_suspected", {}, "suspected"),  # recorded before neuro_signs existed
        ("suspected_pain", "mscc_suspected", {"neuro_signs": "no"}, "suspected_pain"),
        ("suspected_pain", "mscc_suspected", {"neuro_signs": "yes"}, "suspected"),
        ("suspected_pain", "neuro_exam", {"finding": "new_deficit"}, "suspected"),
        ("treated", "neuro_exam", {"finding": "worsening"}, "suspected"),
        ("treated", "mscc_suspected", {"neuro_signs": "no"}, "suspected_pain"),
        ("confirmed", "neuro_exam", {"finding": "worsening"}, "confirmed"),
        ("suspected_pain", "mri_whole_spine_done", {"compression": "no"}, "none"),
        ("suspected_pain", "mri_whole_spine_done", {"compression": "yes"}, "confirmed"),
    ],
)
def test_neuro_signs_and_new_deficits_move_the_mscc_overlay(
    pathway: Pathway,
    definition: PathwayDefinition,
    state: str,
    event: str,
    data: dict[str, str],
    expected: str,
) -> None:
    assert fire_one(pathway, definition, "mscc", state, event, data).states["mscc"] == expected


def test_a_negative_whole_spine_mri_clears_a_suspicion(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    outcome = fire_one(
        pathway, definition, "mscc", "suspected", "mri_whole_spine_done", {"compression": "no"}
    )
    assert outcome.changes == {"mscc": ("suspected", "none")}


def test_a_positive_mri_without_prior_suspicion_confirms_compression(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    outcome = fire_one(pathway, definition, "mscc", "none", "mri_whole_spine_done", {"compression": "yes"})
    assert outcome.states["mscc"] == "confirmed"


# --- pain ---------------------------------------------------------------------------------------


def test_the_pain_threshold_comes_from_the_parameter(pathway: Pathway, definition: PathwayDefinition) -> None:
    threshold = int(definition.parameters["pain_detail_threshold"].value)
    assert threshold == 3
    below = fire_one(pathway, definition, "pain", "unassessed", "pain_score", {"nrs": threshold - 1})
    at_threshold = fire_one(pathway, definition, "pain", "unassessed", "pain_score", {"nrs": threshold})
    assert (below.states["pain"], at_threshold.states["pain"]) == ("controlled", "uncontrolled")


@pytest.mark.parametrize(
    ("nrs", "expected"), [(0, "controlled"), (2, "controlled"), (3, "uncontrolled"), (10, "uncontrolled")]
)
def test_a_pain_score_sorts_the_patient_into_controlled_or_uncontrolled(
    pathway: Pathway, definition: PathwayDefinition, nrs: int, expected: str
) -> None:
    outcome = fire_one(pathway, definition, "pain", "unassessed", "pain_score", {"nrs": nrs})
    assert outcome.states["pain"] == expected


def test_pain_moves_between_controlled_and_uncontrolled(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    states = definition.initial_states()
    for nrs, expected in [(2, "controlled"), (8, "uncontrolled"), (1, "controlled"), (1, "controlled")]:
        states = pathway.fire(states, "pain_score", {"nrs": nrs}).states
        assert states["pain"] == expected


def test_a_pain_score_after_referral_keeps_the_interventional_state(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    states = walk(pathway, definition.initial_states(), ("pain_score", {"nrs": 8}), ("pain_referral", {}))
    assert states["pain"] == "interventional_referred"
    for nrs in (0, 9):
        outcome = pathway.fire(states, "pain_score", {"nrs": nrs})
        assert outcome.states == states
        assert outcome.accepted_by == ("pain",)


# --- palliative and bone ------------------------------------------------------------------------


def test_palliative_care_is_referred_then_active(pathway: Pathway, definition: PathwayDefinition) -> None:
    states = walk(pathway, definition.initial_states(), ("palliative_referral", {}))
    assert states["palliative"] == "referred"
    states = walk(pathway, states, ("palliative_visit", {}), ("palliative_visit", {}))
    assert states["palliative"] == "active"


def test_a_palliative_visit_without_referral_is_not_allowed(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    with pytest.raises(EventNotAllowed, match="palliative state 'not_referred'"):
        pathway.fire(definition.initial_states(), "palliative_visit", {})


def test_the_bone_track_from_assessment_through_a_held_agent(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    steps: list[tuple[str, dict[str, Any], str]] = [
        ("fracture_risk_assessed", {"sins": 8, "ortho_review": True}, "assessed"),
        ("dental_exam", {}, "assessed"),
        ("bma_started", {"agent": "denosumab", "schedule": "q4w", "dose_mg": 120}, "on_bma"),
        ("bma_dose", {"agent": "denosumab", "dose_mg": 120}, "on_bma"),
        ("bma_held", {"reason_code": "dental_procedure"}, "bma_held"),
        ("dental_exam", {}, "bma_held"),
        ("bma_started", {"agent": "zoledronic_acid", "schedule": "q12w", "dose_mg": 4}, "on_bma"),
        ("bma_dose", {"agent": "zoledronic_acid", "dose_mg": 4}, "on_bma"),
    ]
    states = definition.initial_states()
    for event, data, expected in steps:
        outcome = pathway.fire(states, event, data)
        assert outcome.states["bone"] == expected, event
        assert outcome.accepted_by == ("bone",)
        states = outcome.states


# --- the shared machine -------------------------------------------------------------------------


def test_the_machines_are_shared_and_never_register_patients(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    before = {name: len(track.machine.models) for name, track in pathway.tracks.items()}
    for i in range(1000):
        states = at(definition, main=MAIN_ACTIVE[i % len(MAIN_ACTIVE)])
        pathway.fire(states, "pain_score", {"nrs": i % 11})
        pathway.fire(states, "exam_done", {})
    assert {name: len(track.machine.models) for name, track in pathway.tracks.items()} == before
    assert all(n == 0 for n in before.values())


def test_a_remembered_transition_is_reused_only_for_the_same_state_event_and_fields(
    pathway: Pathway, definition: PathwayDefinition
) -> None:
    accepted = [
        fire_one(pathway, definition, "main", "assessment", "mdt_decision", dict(RT_PLAN)) for _ in range(2)
    ]
    assert [o.states["main"] for o in accepted] == ["rt_planning", "rt_planning"]

    with pytest.raises(GuardRefused):
        fire_one(
            pathway,
            definition,
            "main",
            "assessment",
            "mdt_decision",
            {"resectability": "unresectable", "plan": "surgery"},
        )
    with pytest.raises(EventNotAllowed):
        fire_one(pathway, definition, "main", "surveillance", "mdt_decision", dict(RT_PLAN))
    resected = fire_one(
        pathway,
        definition,
        "main",
        "assessment",
        "mdt_decision",
        {"resectability": "resectable", "plan": "surgery"},
    )
    assert resected.states["main"] == "surgical_pathway"
