"""The alert-level rule: the highest level reached at `now` and when the next one fires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pathway.domain.alerts import level_reached

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
US = timedelta(microseconds=1)
offsets = st.one_of(st.none(), st.integers(-5, 5).map(lambda n: T0 + n * US))


def test_a_level_fires_at_its_instant_and_the_next_is_the_earliest_higher_one() -> None:
    fires = {1: T0, 2: T0 + timedelta(days=7), 3: T0 + timedelta(days=14)}
    assert level_reached(fires, T0 - US) == (0, T0)
    assert level_reached(fires, T0) == (1, fires[2])
    assert level_reached(fires, fires[3]) == (3, None)
    assert level_reached({1: None, 2: None, 3: fires[3]}, T0) == (0, fires[3])


def test_time_never_lowers_a_level_already_raised() -> None:
    fires = {1: T0, 2: T0 + timedelta(days=7), 3: T0 + timedelta(days=14)}
    assert level_reached(fires, T0, raised=2) == (2, fires[3])
    assert level_reached(fires, T0 - US, raised=3) == (3, None)


@given(st.fixed_dictionaries({1: offsets, 2: offsets, 3: offsets}), st.integers(0, 3))
def test_the_level_is_the_highest_fired_and_the_next_the_soonest_above_it(
    fires: dict[int, datetime | None], raised: int
) -> None:
    reached, next_at = level_reached(fires, T0, raised)
    fired = [rank for rank, when in fires.items() if when is not None and when <= T0]
    assert reached == max([raised, *fired])
    above = [when for rank, when in fires.items() if rank > reached and when is not None]
    assert all(when > T0 for when in above)  # nothing above the level has fired
    assert next_at == min(above, default=None)
