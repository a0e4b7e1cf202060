"""Use case: the patient's dose and heart summary (cumulative anthracycline, LVEF, next dose)."""

from __future__ import annotations

from pathway.domain.dose_summary import DoseSummary, dose_summary
from pathway.ports import Deps
from pathway.services.patients import history


def summary_of(deps: Deps, mrn: str) -> DoseSummary | None:
    """What `pathway status` and the patient page show of doses and the heart (None: nothing)."""
    events = history(deps, mrn).events
    return dose_summary(deps.pathway.definition, events, deps.clock.now(), deps.zone)
