"""Sweep batches: bounded in patients and in rows, every patient once, in id order, never split."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pathway.domain.batching import batches

weights = st.dictionaries(st.integers(1, 10_000), st.integers(0, 50), max_size=300)


@given(weights, st.integers(1, 40), st.integers(1, 120))
def test_every_key_once_in_order_and_within_both_bounds(due: dict[int, int], items: int, weight: int) -> None:
    cut = batches(due, items, weight)
    assert [k for batch in cut for k in batch] == sorted(due)
    for batch in cut:
        assert batch and len(batch) <= items
        total = sum(due[k] for k in batch)
        # over the weight only when one patient alone carries more than a batch may
        assert total <= weight or len(batch) == 1


@given(weights, st.integers(1, 40), st.integers(1, 120))
def test_a_batch_is_closed_only_when_the_next_patient_would_not_fit(
    due: dict[int, int], items: int, weight: int
) -> None:
    cut = batches(due, items, weight)
    for batch, following in pairwise(cut):
        total = sum(due[k] for k in batch)
        assert len(batch) == items or total + due[following[0]] > weight


def test_heavy_patients_get_their_own_transaction() -> None:
    assert batches({1: 2, 2: 500, 3: 1, 4: 1}, 100, 300) == [[1], [2], [3, 4]]
    assert batches({}, 100, 300) == []


def test_bounds_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        batches({1: 1}, 0, 10)
