"""Cutting work into write transactions bounded both in patients and in rows."""

from __future__ import annotations

from collections.abc import Mapping


def batches(weights: Mapping[int, int], max_items: int, max_weight: int) -> list[list[int]]:
    """The keys in ascending order, cut into consecutive batches of at most `max_items` keys whose
    weights add up to at most `max_weight`; a key heavier than `max_weight` is a batch of its own
    (a patient's rows are never split across transactions)."""
    if max_items < 1 or max_weight < 1:
        raise ValueError("a batch holds at least one item of weight at least 1")
    cut: list[list[int]] = []
    batch: list[int] = []
    weight = 0
    for key in sorted(weights):
        w = max(weights[key], 0)
        if batch and (len(batch) >= max_items or weight + w > max_weight):
            cut.append(batch)
            batch, weight = [], 0
        batch.append(key)
        weight += w
    if batch:
        cut.append(batch)
    return cut
