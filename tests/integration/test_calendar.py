"""The iCalendar feed on SQLite and PostgreSQL: parsed back with `icalendar`, it holds the caseload's
open windows, no MRN or name unless the site turns it on, and a revoked link finds nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from icalendar import Calendar

from pathway.domain.errors import Conflict, InvalidInput, NotFound
from pathway.domain.status import PENDING
from pathway.ports import Deps
from pathway.services import accounts, alerting, patients
from pathway.services.demo import load_demo
from pathway.services.interop import calendar_feed, calendar_link, revoke_calendar
from tests.fakes import FixedClock


@pytest.fixture
def cohort(deps: Deps, clock: FixedClock) -> Deps:
    load_demo(deps)
    patients.enroll(deps, "CAL-77", name="Ada Lovelace", on=clock.now().date() - timedelta(days=2))
    accounts.add_user(deps, "c.one", "coordinator")
    return deps


def parsed(feed: bytes) -> list[dict[str, object]]:
    cal = Calendar.from_ical(feed)
    assert cal["version"] == "2.0" and cal["prodid"]
    return [
        {k: c.get(k) for k in ("uid", "summary", "description")}
        | {"start": c.decoded("dtstart"), "end": c.decoded("dtend")}
        for c in cal.walk("VEVENT")
    ]


def expected_windows(deps: Deps, days: int) -> dict[str, tuple[object, object]]:
    now = deps.clock.now()
    out = {}
    for patient, _ in patients.list_patients(deps):
        follow_ups, _alerts = alerting.follow_ups_of(deps, patient.mrn)
        for fu in follow_ups:
            if fu.status in PENDING and fu.opens_at <= now + timedelta(days=days):
                out[f"follow-up-{fu.id}@sacral-pathway"] = (fu, patient)
    return out


@pytest.mark.parametrize("days", [14, 90])
def test_the_feed_holds_every_open_window_of_the_caseload_and_no_patient_identity(
    cohort: Deps, days: int
) -> None:
    _, token = calendar_link(cohort, "c.one")
    events = parsed(calendar_feed(cohort, token, days=days))
    want = expected_windows(cohort, days)
    assert want and {e["uid"] for e in events} == set(want)
    for e in events:
        fu, patient = want[str(e["uid"])]
        text = f"{e['summary']} {e['description']}"
        assert patient.mrn not in text and "Lovelace" not in text
        assert f"patient {patient.id}" in str(e["summary"])
        assert fu.rule in str(e["description"])
        if fu.clock_time:
            assert e["start"] == fu.opens_at and e["end"] == fu.closes_at
        else:
            local = fu.opens_at.astimezone(cohort.zone).date()
            assert isinstance(e["start"], date) and not isinstance(e["start"], datetime)
            assert e["start"] == local and e["end"] > e["start"]


def test_the_site_may_show_mrn_and_name(cohort: Deps) -> None:
    _, token = calendar_link(cohort, "c.one")
    summaries = [str(e["summary"]) for e in parsed(calendar_feed(cohort, token, show_patient=True))]
    assert any("CAL-77 Ada Lovelace" in s for s in summaries)


def test_a_revoked_or_replaced_link_finds_no_calendar(cohort: Deps) -> None:
    _, first = calendar_link(cohort, "c.one")
    _, second = calendar_link(cohort, "c.one")
    with pytest.raises(NotFound):
        calendar_feed(cohort, first)
    assert parsed(calendar_feed(cohort, second))
    revoke_calendar(cohort, "c.one")
    with pytest.raises(NotFound):
        calendar_feed(cohort, second)
    with pytest.raises(InvalidInput):
        revoke_calendar(cohort, "c.one")
    with pytest.raises(NotFound):
        calendar_feed(cohort, "x" * 43)


def test_revoking_the_user_ends_their_feed(cohort: Deps) -> None:
    _, token = calendar_link(cohort, "c.one")
    accounts.revoke_user(cohort, "c.one")
    with pytest.raises(NotFound):
        calendar_feed(cohort, token)
    with pytest.raises(Conflict, match="revoked"):
        calendar_link(cohort, "c.one")
