"""`pathway status`: the bone-modifying agents block (agent, next planned dose, outstanding checks)."""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from pathway.cli.render import console
from pathway.domain.bone_checks import AgentSummary


def bone_json(agents: list[AgentSummary]) -> list[dict[str, Any]]:
    return [
        {
            "agent": a.agent,
            "schedule": a.schedule,
            "label": a.label,
            "started_on": a.started_on.isoformat(),
            "doses": a.doses,
            "last_dose_on": a.last_dose_on.isoformat(),
            "next_planned_dose": a.next_planned_dose.isoformat() if a.next_planned_dose else None,
            "outstanding": list(a.outstanding),
        }
        for a in agents
    ]


def show_bone(agents: list[AgentSummary]) -> None:
    if not agents:
        return
    console.print("[bold]Bone-modifying agents:[/bold]")
    for a in agents:
        planned = a.next_planned_dose.isoformat() if a.next_planned_dose else "-"
        console.print(
            f"  {escape(a.label)}: {a.doses} dose(s), last {a.last_dose_on}; next planned dose {planned}"
        )
        for check in a.outstanding:
            console.print(f"    before it: {escape(check)}")
