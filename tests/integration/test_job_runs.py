"""Each periodic job's last run is recorded once per job, whatever happens to the job."""

from __future__ import annotations

import pytest

from pathway.ports import Deps
from pathway.services import health
from tests.fakes import FixedClock


def runs(deps: Deps) -> dict[str, tuple[int, int, bool, str | None]]:
    return {
        name: (r.runs, r.failures, r.last_success_at is not None, r.last_error)
        for name, r in health.facts(deps).jobs.items()
    }


def test_runs_and_failures_are_counted_and_a_failure_keeps_the_last_success(
    deps: Deps, clock: FixedClock
) -> None:
    assert health.run_recorded(deps, "sweep", lambda: 42) == 42
    first_success = clock.current
    clock.advance(minutes=5)

    def broken() -> None:
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        health.run_recorded(deps, "sweep", broken)
    health.run_recorded(deps, "notify", lambda: None)

    assert runs(deps) == {
        "sweep": (2, 1, True, "RuntimeError: database went away"),
        "notify": (1, 0, True, None),
    }
    assert health.facts(deps).jobs["sweep"].last_success_at == first_success
