"""The pathway-file loader: the shipped file loads; every malformed file is refused with a located message."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import DEFAULT_PATHWAY
from pathway.adapters.pathway_file import load_pathway_file
from pathway.domain.definition import PathwayDefinition, parse_definition
from pathway.domain.errors import DefinitionError

ORIGIN = "x.yaml"

EXPECTED_TRACKS = {
    "main": (
        "assessment",
        [
            "assessment",
            "rt_planning",
            "rt_active",
            "surveillance",
            "systemic_therapy",
            "progression_review",
            "best_supportive_care",
            "surgical_pathway",
        ],
    ),
    "mscc": ("none", ["none", "suspected_pain", "suspected", "confirmed", "treated"]),
    "pain": ("unassessed", ["unassessed", "controlled", "uncontrolled", "interventional_referred"]),
    "palliative": ("not_referred", ["not_referred", "referred", "active"]),
    "bone": ("not_assessed", ["not_assessed", "assessed", "on_bma", "bma_held"]),
    "dexamethasone": (
        "off",
        ["off", "mscc_at_dose", "mscc_below_dose", "other_at_dose", "other_below_dose"],
    ),
}


@pytest.fixture(scope="module")
def shipped_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEFAULT_PATHWAY.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def data(shipped_data: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(shipped_data)


def refusal(data: Any) -> str:
    with pytest.raises(DefinitionError) as info:
        parse_definition(data, origin=ORIGIN)
    return str(info.value)


def index_of(data: dict[str, Any], track: str, event: str, dest: str | None = None) -> int:
    for i, tr in enumerate(data["tracks"][track]["transitions"]):
        if tr["event"] == event and (dest is None or tr.get("dest") == dest):
            return i
    raise AssertionError(f"no {event} transition in {track}")


# --- the shipped file ---------------------------------------------------------------------------


def test_the_shipped_pathway_has_the_six_tracks_in_file_order(definition: PathwayDefinition) -> None:
    assert list(definition.tracks) == ["main", "mscc", "pain", "palliative", "bone", "dexamethasone"]


@pytest.mark.parametrize("track", list(EXPECTED_TRACKS))
def test_each_shipped_track_has_exactly_the_states_and_initial_state_of_the_file(
    definition: PathwayDefinition, shipped_data: dict[str, Any], track: str
) -> None:
    initial, states = EXPECTED_TRACKS[track]
    assert definition.tracks[track].initial == initial
    assert list(definition.tracks[track].states) == states
    assert states == shipped_data["tracks"][track]["states"]


def test_initial_states_name_the_initial_state_of_every_track(definition: PathwayDefinition) -> None:
    assert definition.initial_states() == {name: initial for name, (initial, _) in EXPECTED_TRACKS.items()}


def test_every_event_declared_in_the_file_is_loaded(
    definition: PathwayDefinition, shipped_data: dict[str, Any]
) -> None:
    assert set(definition.events) == set(shipped_data["events"])
    assert {"mdt_decision", "pain_score", "retraction", "death"} <= set(definition.events)
    assert definition.events["retraction"].retracts


def test_the_exits_lead_to_the_four_exit_states(definition: PathwayDefinition) -> None:
    assert definition.exit_states == ("deceased", "transferred", "withdrawn", "lost_to_follow_up")
    assert definition.track_states("palliative")[-4:] == definition.exit_states


def test_parameters_are_resolved_by_dollar_name(definition: PathwayDefinition) -> None:
    assert definition.parameter("$pain_detail_threshold") == 3
    assert definition.parameter(5.0) == 5.0


def test_the_loaded_definition_carries_a_content_hash(definition: PathwayDefinition) -> None:
    assert len(definition.content_hash) == 16
    int(definition.content_hash, 16)


def test_the_content_hash_is_stable_and_follows_the_content(data: dict[str, Any]) -> None:
    first = parse_definition(data, origin=ORIGIN).content_hash
    assert parse_definition(copy.deepcopy(data), origin="other.yaml").content_hash == first
    data["parameters"]["pain_detail_threshold"]["value"] = 4
    assert parse_definition(data, origin=ORIGIN).content_hash != first


# --- malformed definitions ----------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], list[str]]


def _unknown_dest(d: dict[str, Any]) -> list[str]:
    i = index_of(d, "main", "rt_started")
    d["tracks"]["main"]["transitions"][i]["dest"] = "limbo"
    return [f"tracks.main.transitions[{i}].dest", "unknown state 'limbo'"]


def _unknown_transition_event(d: dict[str, Any]) -> list[str]:
    i = index_of(d, "bone", "bma_dose")
    d["tracks"]["bone"]["transitions"][i]["event"] = "bma_infusion"
    return [f"tracks.bone.transitions[{i}].event", "unknown event 'bma_infusion'"]


def _initial_not_a_state(d: dict[str, Any]) -> list[str]:
    d["tracks"]["pain"]["initial"] = "agony"
    return ["tracks.pain.initial", "'agony' is not one of its states"]


def _guard_on_missing_field(d: dict[str, Any]) -> list[str]:
    i = index_of(d, "main", "mdt_decision", "surgical_pathway")
    d["tracks"]["main"]["transitions"][i]["when"] = {"urgency": "high"}
    return [f"tracks.main.transitions[{i}].when.urgency", "has no such field"]


def _guard_choice_not_in_values(d: dict[str, Any]) -> list[str]:
    i = index_of(d, "main", "mdt_decision", "best_supportive_care")
    d["tracks"]["main"]["transitions"][i]["when"] = {"plan": "chemo"}
    return [f"tracks.main.transitions[{i}].when.plan", "'chemo' is not one of"]


def _unquoted_yes_in_guard(d: dict[str, Any]) -> list[str]:
    i = index_of(d, "mscc", "mri_whole_spine_done", "confirmed")
    d["tracks"]["mscc"]["transitions"][i]["when"] = yaml.safe_load("{compression: yes}")
    return [f"tracks.mscc.transitions[{i}].when.compression", "'True' is not one of"]


def _numeric_literal_in_comparison(d: dict[str, Any]) -> list[str]:
    i = index_of(d, "pain", "pain_score", "controlled")
    d["tracks"]["pain"]["transitions"][i]["when"] = {"nrs": {"lt": 3}}
    return [f"tracks.pain.transitions[{i}].when.nrs", "clinical number", "$name"]


def _unknown_parameter(d: dict[str, Any]) -> list[str]:
    i = index_of(d, "pain", "pain_score", "uncontrolled")
    d["tracks"]["pain"]["transitions"][i]["when"] = {"nrs": {"ge": "$pain_treshold"}}
    return [f"tracks.pain.transitions[{i}].when.nrs", "unknown parameter '$pain_treshold'"]


def _bounded_field_without_provenance(d: dict[str, Any]) -> list[str]:
    nrs = d["events"]["pain_score"]["fields"]["nrs"]
    del nrs["source"], nrs["kind"]
    return ["events.pain_score.fields.nrs", "'source' and 'kind'"]


def _max_below_min(d: dict[str, Any]) -> list[str]:
    d["events"]["rt_plan_approved"]["fields"]["fractions"].update(min=30, max=5)
    return ["events.rt_plan_approved.fields.fractions", "max must be >= min"]


def _invalid_parameter_kind(d: dict[str, Any]) -> list[str]:
    d["parameters"]["pain_severe_threshold"]["kind"] = "hearsay"
    return ["parameters.pain_severe_threshold.kind", "'guideline'"]


def _extra_top_level_key(d: dict[str, Any]) -> list[str]:
    d["owner"] = "oncology"
    return ["owner", "Extra inputs are not permitted"]


def _extra_nested_key(d: dict[str, Any]) -> list[str]:
    d["tracks"]["bone"]["colour"] = "blue"
    return ["tracks.bone.colour", "Extra inputs are not permitted"]


def _event_no_track_accepts(d: dict[str, Any]) -> list[str]:
    d["events"]["tumour_board_photo"] = {"description": "Nobody listens for this."}
    return ["events.tumour_board_photo", "no track accepts this event"]


def _exit_to_unknown_event(d: dict[str, Any]) -> list[str]:
    d["exits"]["elopement"] = "eloped"
    return ["exits.elopement", "unknown event"]


def _exit_state_is_active(d: dict[str, Any]) -> list[str]:
    d["exits"]["death"] = "surveillance"
    return ["exits.death", "'surveillance' is also an active state"]


def _state_listed_twice(d: dict[str, Any]) -> list[str]:
    d["tracks"]["palliative"]["states"].append("referred")
    return ["tracks.palliative.states", "listed twice"]


def _source_is_an_exit_state(d: dict[str, Any]) -> list[str]:
    i = index_of(d, "palliative", "palliative_referral")
    d["tracks"]["palliative"]["transitions"][i]["source"] = "deceased"
    return [f"tracks.palliative.transitions[{i}].source", "'deceased'"]


def _missing_required_section(d: dict[str, Any]) -> list[str]:
    del d["events"]
    return ["events: Field required"]


MUTATIONS: dict[str, Mutation] = {
    "unknown-dest-state": _unknown_dest,
    "unknown-event-in-transition": _unknown_transition_event,
    "initial-not-in-states": _initial_not_a_state,
    "guard-on-field-the-event-lacks": _guard_on_missing_field,
    "guard-choice-not-in-values": _guard_choice_not_in_values,
    "guard-unquoted-yaml-yes": _unquoted_yes_in_guard,
    "numeric-literal-in-comparison": _numeric_literal_in_comparison,
    "unknown-parameter": _unknown_parameter,
    "bounded-field-without-source-kind": _bounded_field_without_provenance,
    "field-max-below-min": _max_below_min,
    "parameter-kind-hearsay": _invalid_parameter_kind,
    "extra-top-level-key": _extra_top_level_key,
    "extra-nested-key": _extra_nested_key,
    "event-no-track-accepts": _event_no_track_accepts,
    "exit-to-unknown-event": _exit_to_unknown_event,
    "exit-state-is-an-active-state": _exit_state_is_active,
    "state-listed-twice": _state_listed_twice,
    "source-is-an-exit-state": _source_is_an_exit_state,
    "missing-events-section": _missing_required_section,
}


@pytest.mark.parametrize("mutate", list(MUTATIONS.values()), ids=list(MUTATIONS))
def test_a_malformed_definition_is_refused_naming_the_file_and_the_dotted_path(
    data: dict[str, Any], mutate: Mutation
) -> None:
    expected = mutate(data)
    message = refusal(data)
    for fragment in expected:
        assert fragment in message
    assert all(line.startswith(f"{ORIGIN}: ") for line in message.splitlines())


def test_every_problem_is_reported_at_once_one_per_line(data: dict[str, Any]) -> None:
    expected = _unknown_dest(data) + _initial_not_a_state(data) + _event_no_track_accepts(data)
    message = refusal(data)
    assert len(message.splitlines()) == 3
    for fragment in expected:
        assert fragment in message


def test_a_comparison_guard_on_a_text_field_is_refused_at_load_time(data: dict[str, Any]) -> None:
    """Else it loads, and every matching event later crashes with a TypeError (str >= float)."""
    transitions = data["tracks"]["main"]["transitions"]
    transitions.insert(
        0,
        {
            "event": "plan_revised",
            "source": "best_supportive_care",
            "dest": "surveillance",
            "when": {"note": {"ge": "$pain_detail_threshold"}},
        },
    )
    message = refusal(data)
    assert "tracks.main.transitions[0].when.note" in message


@pytest.mark.parametrize(
    "top", [[], ["pathway"], "pathway", 42, None], ids=["list", "items", "str", "int", "empty"]
)
def test_a_top_level_that_is_not_a_mapping_is_refused(top: Any) -> None:
    message = refusal(top)
    assert message.startswith(f"{ORIGIN}: ")
    assert "mapping at the top level" in message


# --- through the file loader --------------------------------------------------------------------


def test_a_valid_file_on_disk_loads_like_the_shipped_one(
    tmp_path: Path, shipped_data: dict[str, Any], definition: PathwayDefinition
) -> None:
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(shipped_data, sort_keys=False), encoding="utf-8")
    loaded = load_pathway_file(path)
    assert loaded.initial_states() == definition.initial_states()
    assert loaded.content_hash == definition.content_hash


def test_invalid_yaml_syntax_is_refused_with_the_path_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "pathway:\n  id: sacral\n  title: [unclosed\nexits: {death: deceased}\n", encoding="utf-8"
    )
    with pytest.raises(DefinitionError) as info:
        load_pathway_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not valid YAML")
    assert "line" in message


def test_a_missing_file_is_refused_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "pathway.yaml"
    with pytest.raises(DefinitionError) as info:
        load_pathway_file(path)
    assert str(path) in str(info.value)
    assert "cannot read" in str(info.value)


def test_a_bad_file_on_disk_is_refused_with_its_own_path_as_origin(
    tmp_path: Path, data: dict[str, Any]
) -> None:
    expected = _unknown_dest(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_pathway_file(path)
    assert str(info.value).startswith(f"{path}: ")
    assert all(fragment in str(info.value) for fragment in expected)


def test_an_empty_file_is_refused_as_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(DefinitionError, match="mapping at the top level"):
        load_pathway_file(path)


SCALAR_KEY_LINE = re.compile(r"^\s*([a-z_]+): \S")


def test_a_duplicated_parameter_block_is_refused_naming_the_key_and_both_lines(tmp_path: Path) -> None:
    lines = DEFAULT_PATHWAY.read_text(encoding="utf-8").splitlines()
    start = lines.index("  pain_detail_threshold:")
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("    "))
    path = tmp_path / "twice.yaml"
    path.write_text("\n".join(lines[:end] + lines[start:end] + lines[end:]), encoding="utf-8")
    with pytest.raises(DefinitionError) as info:
        load_pathway_file(path)
    assert str(info.value) == (
        f"{path}: duplicate key 'pain_detail_threshold' at line {end + 1} "
        f"(first given at line {start + 1}); keep one"
    )


def test_any_repeated_key_anywhere_in_the_file_is_refused(tmp_path: Path) -> None:
    lines = DEFAULT_PATHWAY.read_text(encoding="utf-8").splitlines()
    candidates = [i for i, line in enumerate(lines) if SCALAR_KEY_LINE.match(line)]
    assert len(candidates) > 100
    for i in candidates[:: len(candidates) // 12]:
        key = SCALAR_KEY_LINE.match(lines[i]).group(1)  # type: ignore[union-attr]
        path = tmp_path / f"dup{i}.yaml"
        path.write_text("\n".join(lines[: i + 1] + lines[i:]), encoding="utf-8")
        with pytest.raises(
            DefinitionError, match=rf"duplicate key '{key}' at line {i + 2} \(first given at line {i + 1}\)"
        ):
            load_pathway_file(path)


def test_a_yaml_merge_key_may_be_overridden(tmp_path: Path) -> None:
    from pathway.adapters.pathway_file import _UniqueKeyLoader

    text = "base: &b {a: 1, b: 2}\nderived:\n  <<: *b\n  b: 3\n"
    assert yaml.load(text, Loader=_UniqueKeyLoader)["derived"] == {"a": 1, "b": 3}
