"""The cyclic garbage collector kept off the long-lived heap while bulk work runs.

A full collection walks every tracked object: the pathway definition and its plans, the
remembered windows, SQLAlchemy's compiled statements. A sweep or an import allocates enough to
set one off every few batches, and at 100,000 patients each cost about 70-100 ms of CPU inside a
write transaction (SQLite's write lock held meanwhile; bench/README.md). While bulk work runs,
everything that existed before it is frozen (`gc.freeze`, constant time) and collected again as
usual afterwards (`gc.unfreeze`): nothing is kept alive longer than the operation.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0


@contextmanager
def bulk_work() -> Iterator[None]:
    """Nestable and safe across threads: the heap is unfrozen when the last bulk work ends. Also a
    decorator (`@bulk_work()`), entered afresh on each call."""
    global _depth
    with _lock:
        _depth += 1
        gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()
