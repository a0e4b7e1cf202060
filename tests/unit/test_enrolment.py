"""Adults only (rule book E4): completed years on the enrolment date, the age from the pathway file."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pathway.domain.definition import PathwayDefinition
from pathway.domain.enrolment import age_in_years, check_age
from pathway.domain.errors import InvalidInput


@given(birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)), years=st.integers(0, 100))
def test_the_age_turns_on_the_birthday_and_not_a_day_before(birth: date, years: int) -> None:
    try:
        birthday = birth.replace(year=birth.year + years)
    except ValueError:  # 29 February in a common year: the birthday is 1 March
        birthday = date(birth.year + years, 3, 1)
    assert age_in_years(birth, birthday) == years
    if years:
        assert age_in_years(birth, birthday - timedelta(days=1)) == years - 1


def test_the_minimum_age_comes_from_the_pathway_file(definition: PathwayDefinition) -> None:
    assert definition.enrolment is not None and definition.enrolment.min_age_years == 18
    with pytest.raises(InvalidInput, match="aged 18 or over"):
        check_age(definition, date(2008, 3, 3), date(2026, 3, 2))
    check_age(definition, date(2008, 3, 2), date(2026, 3, 2))
    check_age(definition, None, date(2026, 3, 2))  # no birth date recorded: nothing to check
    younger = definition.model_copy(
        update={"enrolment": definition.enrolment.model_copy(update={"min_age_years": 16})}
    )
    check_age(younger, date(2008, 3, 3), date(2026, 3, 2))
