"""EQD2 arithmetic: properties of the linear-quadratic conversion, not a table of examples."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pathway.domain.eqd2 import eqd2

doses = st.floats(min_value=0.5, max_value=120, allow_nan=False)
fractions = st.integers(min_value=1, max_value=60)
ratios = st.floats(min_value=0.5, max_value=20, allow_nan=False)


@given(st.integers(min_value=1, max_value=60), ratios)
def test_two_gray_fractions_leave_the_dose_unchanged(n: int, ab: float) -> None:
    assert math.isclose(eqd2(2.0 * n, n, ab), 2.0 * n, rel_tol=1e-12)


@given(doses, doses, fractions, ratios)
def test_monotone_in_total_dose_for_the_same_fractions(a: float, b: float, n: int, ab: float) -> None:
    low, high = sorted((a, b))
    assert eqd2(low, n, ab) <= eqd2(high, n, ab)


@given(doses, fractions, fractions, ratios)
def test_monotone_in_dose_per_fraction_for_the_same_total(d: float, n1: int, n2: int, ab: float) -> None:
    more, fewer = sorted((n1, n2), reverse=True)  # fewer fractions: a larger dose per fraction
    assert eqd2(d, more, ab) <= eqd2(d, fewer, ab) * (1 + 1e-12)


@given(doses, fractions, ratios)
def test_above_two_gray_per_fraction_raises_and_below_lowers(d: float, n: int, ab: float) -> None:
    per_fraction = d / n
    value = eqd2(d, n, ab)
    if per_fraction > 2:
        assert value >= d
    elif per_fraction < 2:
        assert value <= d


def test_sixty_gray_in_five_fractions_is_far_above_sixty_five_at_alpha_beta_four() -> None:
    assert eqd2(60, 5, 4) == pytest.approx(160.0)


@pytest.mark.parametrize(("d", "n", "ab"), [(-1, 5, 4), (60, 0, 4), (60, 30, 0)])
def test_impossible_inputs_are_refused(d: float, n: int, ab: float) -> None:
    with pytest.raises(ValueError):
        eqd2(d, n, ab)
