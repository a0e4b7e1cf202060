"""One thin function per periodic job: call the service, log what changed."""

from __future__ import annotations

import logging

from pathway.ports import Deps
from pathway.services.alerting import sweep
from pathway.services.health import SWEEP, run_recorded

log = logging.getLogger("pathway.scheduler")


def sweep_job(deps: Deps) -> None:
    changes = run_recorded(deps, SWEEP, lambda: sweep(deps))
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
