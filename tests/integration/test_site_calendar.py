"""The site's holiday calendar decides which days are the weekend (not always Saturday-Sunday)."""

from __future__ import annotations

from datetime import date, timedelta

import holidays as holiday_calendars
import pytest

from pathway.bootstrap import clinic_calendar
from pathway.settings import load_settings


@pytest.mark.parametrize("site", ["GB", "SA", "IL", "FR"])
def test_the_weekend_comes_from_the_sites_holiday_calendar(site: str) -> None:
    calendar = clinic_calendar(load_settings({"PATHWAY_HOLIDAYS": site, "PATHWAY_TIMEZONE": "UTC"}))
    table = holiday_calendars.country_holidays(site)
    for offset in range(21):
        day = date(2026, 6, 1) + timedelta(days=offset)
        expected = table.get(day) or ("weekend" if day.weekday() in table.weekend else None)
        assert calendar.non_working(day) == (str(expected) if expected else None), day
    friday = date(2026, 6, 5)
    assert (calendar.non_working(friday) == "weekend") == (site in ("SA", "IL"))
