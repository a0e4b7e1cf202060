"""One thin function per periodic job: call the service, log what changed."""

from __future__ import annotations

import logging

from pathway.ports import Deps
from pathway.services.alerting import sweep
from pathway.services.health import SWEEP, run_recorded
from pathway.services.pathway_change import require_applied
from pathway.services.raising import Changes

log = logging.getLogger("pathway.scheduler")


def sweep_job(deps: Deps) -> None:
    def job() -> Changes:
        require_applied(deps, "FILE")  # refused on an unapplied pathway file; recorded as a failure
        return sweep(deps)

    changes = run_recorded(deps, SWEEP, job)
    log.info(
        "sweep: %d patient(s) checked, %d follow-up(s) created, %d changed, %d alert(s) "
        "opened, %d escalated, %d resolved, %d reopened",
        changes.patients,
        changes.follow_ups_created,
        changes.follow_ups_changed,
        changes.alerts_opened,
        changes.alerts_escalated,
        changes.alerts_resolved,
        changes.alerts_reopened,
    )
