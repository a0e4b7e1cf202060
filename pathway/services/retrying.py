"""Rerun a short write transaction that lost a deadlock or a serialization check to another writer."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from pathway.domain.errors import Busy, TransientConflict

T = TypeVar("T")
ATTEMPTS = 5
log = logging.getLogger("pathway.retry")


def rerun_on_deadlock(work: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """`work` is one whole unit of work (it opens, commits and leaves it): PostgreSQL rolled the
    loser of a deadlock (40P01) or a serialization failure (40001) back, so running it again is
    safe. After `attempts` tries the caller gets `Busy` ("database busy, try again")."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except TransientConflict as exc:
            if attempt == attempts:
                raise Busy(str(exc)) from exc
            log.info("transaction rolled back by the database (%s); rerunning, attempt %d", exc, attempt + 1)
            time.sleep(random.uniform(0.01, 0.1) * attempt)  # jitter: the two writers do not meet again
    raise AssertionError("unreachable")
