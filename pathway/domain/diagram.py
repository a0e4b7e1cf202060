"""Mermaid state diagrams drawn by transitions from the same definition (no graphviz needed)."""

from __future__ import annotations

from typing import Any

from transitions.extensions import GraphMachine

from pathway.domain.definition import PathwayDefinition
from pathway.domain.machine import Guard


class _Model:
    """A throw-away model: GraphMachine attaches get_graph() to it."""


def mermaid(definition: PathwayDefinition, track: str, current: str | None = None) -> str:
    """Draw one track; internal (observation) transitions and the exits are summarised in a note."""
    spec = definition.tracks[track]
    states = list(definition.track_states(track))
    transitions: list[dict[str, Any]] = []
    observations: set[str] = set()
    for tr in spec.transitions:
        if tr.dest is None:
            observations.add(tr.event)
            continue
        conditions = [Guard(definition, tr.when)] if tr.when else []
        for source in tr.sources(spec.states):
            transitions.append(
                {"trigger": tr.event, "source": source, "dest": tr.dest, "conditions": conditions}
            )
    model = _Model()
    GraphMachine(
        model=model,
        states=states,
        initial=spec.initial,
        transitions=transitions,
        auto_transitions=False,
        graph_engine="mermaid",
        show_conditions=True,
        title=f"{definition.pathway.id}: {track}",
    )
    text: str = model.get_graph().draw(None)  # type: ignore[attr-defined]
    if current and current != spec.initial:
        text = text.replace(f"Class {spec.initial} s_active", f"Class {spec.initial} s_default")
        text = text.replace(f"Class {current} s_default", f"Class {current} s_active")
    exits = ", ".join(f"{e} → {s}" for e, s in definition.exits.items())
    lines = [text.rstrip(), f"  note right of {spec.initial}", f"    From every active state: {exits}"]
    if observations:
        lines.append(f"    Recorded without a state change: {', '.join(sorted(observations))}")
    lines.append("  end note")
    return "\n".join(lines) + "\n"
