"""Mermaid state diagrams drawn from the pathway definition."""

from __future__ import annotations

from pathway.domain.definition import PathwayDefinition
from pathway.domain.diagram import mermaid


def test_the_mermaid_diagram_has_front_matter_and_a_state_diagram(definition: PathwayDefinition) -> None:
    text = mermaid(definition, "main")
    assert text.startswith("---\n")
    assert "sacral-metastasis: main" in text.split("stateDiagram-v2")[0]
    assert "\nstateDiagram-v2\n" in text


def test_the_mermaid_diagram_shows_guarded_transitions_with_their_conditions(
    definition: PathwayDefinition,
) -> None:
    text = mermaid(definition, "main")
    guard = "[resectability=unresectable and plan=definitive_rt]"
    assert f"assessment --> rt_planning: mdt_decision {guard}" in text
    assert "best_supportive_care --> progression_review: plan_revised" in text
    note = next(line for line in text.splitlines() if "Recorded without a state change" in line)
    for observation in ("exam_done", "histology_confirmed", "imaging_done"):
        assert observation in note
    assert "death → deceased" in text


def test_the_mermaid_diagram_marks_the_initial_state_active_by_default(definition: PathwayDefinition) -> None:
    text = mermaid(definition, "pain")
    assert "Class unassessed s_active" in text
    assert "[*] --> unassessed" in text


def test_the_mermaid_diagram_marks_the_current_state_active(definition: PathwayDefinition) -> None:
    text = mermaid(definition, "main", current="surveillance")
    assert "Class surveillance s_active" in text
    assert "Class assessment s_default" in text


def test_highlighting_the_current_state_keeps_the_start_marker_on_the_initial_state(
    definition: PathwayDefinition,
) -> None:
    text = mermaid(definition, "main", current="surveillance")
    assert "[*] --> assessment" in text
    assert "[*] --> surveillance" not in text
