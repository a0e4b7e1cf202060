"""Use case: the patient's dose and heart summary (cumulative anthracycline, LVEF, next dose)."""

from __future__ import annotations

from dataclasses import replace

from pathway.domain.dose_summary import DoseSummary, dose_summary, open_line_clocks
from pathway.domain.timeline import build_timeline
from pathway.ports import Deps
from pathway.services.patients import history


def summary_of(deps: Deps, mrn: str) -> DoseSummary | None:
    """What `pathway status` and the patient page show of doses and the heart (None: nothing)."""
    found = history(deps, mrn)
    now = deps.clock.now()
    summary = dose_summary(deps.pathway.definition, found.events, now, deps.zone)
    if summary is None or summary.projection.next_dose is None:
        return summary
    timeline = build_timeline(deps.pathway, found.patient.enrolled_at, found.events)
    clocks = open_line_clocks(deps.pathway.definition, timeline, deps.calendar, now)
    return replace(summary, outstanding=[*summary.outstanding, *clocks])
