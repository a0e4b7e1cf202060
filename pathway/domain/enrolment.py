"""Who may enter the pathway (rule book E4: adults only, the age declared in the pathway file)."""

from __future__ import annotations

from datetime import date

from pathway.domain.definition import PathwayDefinition
from pathway.domain.errors import InvalidInput


def age_in_years(birth: date, on: date) -> int:
    """Completed years of age on a date (a 29 February birthday counts from 1 March in other years)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def check_age(definition: PathwayDefinition, birth: date | None, enrolled_on: date) -> None:
    rule = definition.enrolment
    if rule is None or birth is None:
        return
    age = age_in_years(birth, enrolled_on)
    if age < rule.min_age_years:
        raise InvalidInput(
            f"birth date {birth} makes the patient {age} on {enrolled_on}: this pathway enrols only "
            f"patients aged {rule.min_age_years} or over (refer to the paediatric service)"
        )
