"""Results worked out from a pathway definition alone, remembered per definition.

A loaded definition is never changed, but it is not hashable (its fields hold dicts): it is known
by identity, and each entry holds the definition itself, so its id cannot be reused while the
entry lives. Bounded: the whole memory is dropped when full (a process holds one or two
definitions; tests load many).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from pathway.domain.definition import PathwayDefinition

V = TypeVar("V")


class PerDefinition(Generic[V]):
    def __init__(self, limit: int) -> None:
        self._known: dict[tuple[int, Hashable], tuple[PathwayDefinition, V]] = {}
        self._limit = limit

    def get(self, definition: PathwayDefinition, key: Hashable, compute: Callable[[], V]) -> V:
        entry = (id(definition), key)
        known = self._known.get(entry)
        if known is not None and known[0] is definition:
            return known[1]
        value = compute()
        if len(self._known) >= self._limit:
            self._known.clear()
        self._known[entry] = (definition, value)
        return value
