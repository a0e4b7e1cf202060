"""The cyclic garbage collector kept off the long-lived heap while bulk work runs.

A full collection walks every tracked object: the pathway definition and its plans, the
remembered windows, SQLAlchemy's compiled statements. A sweep or an import allocates enough to
set one off every few batches, and at 100,000 patients each cost about 70-100 ms of CPU inside a
write transaction (SQLite's write lock held meanwhile; bench/README.md). While bulk work runs,
everything that existed before it is frozen (`gc.freeze`, constant time) and collected again as
usual afterwards (`gc.unfreeze`): nothing is kept alive longer than the operation.

The youngest generation's threshold is also raised meanwhile (700 allocations to 20,000): an
import keeps per-patient state from its first pass to its second, and with the default every
few hundred thousand allocations promoted enough of it to set off a full collection (3,000
patients: 11 of them, 0.8-0.9 s of an 8.7-9.2 s import; with the raised threshold none, and
the import 6-8% faster). Cyclic garbage then waits a little longer (at most 20,000 new
containers) before it is freed.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
YOUNG_THRESHOLD = 20_000
_thresholds: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def bulk_work() -> Iterator[None]:
    """Nestable and safe across threads: the heap is unfrozen when the last bulk work ends. Also a
    decorator (`@bulk_work()`), entered afresh on each call."""
    global _depth, _thresholds
    with _lock:
        _depth += 1
        if _depth == 1:
            _thresholds = gc.get_threshold()
            gc.set_threshold(max(_thresholds[0], YOUNG_THRESHOLD), *_thresholds[1:])
        gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()
                gc.set_threshold(*_thresholds)
