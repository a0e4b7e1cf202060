"""Follow-ups derived from history: anchors, completion, recurrence, cancellation and pauses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pathway.domain.clinical_time import start_of_day
from pathway.domain.definition import PathwayDefinition
from pathway.domain.followups import FollowUp, derive_follow_ups
from pathway.domain.machine import Pathway
from pathway.domain.model import EventRecord
from pathway.domain.timeline import build_timeline
from pathway.domain.windows import Calendar

LONDON = ZoneInfo("Europe/London")
ENROLLED = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday, GMT
DEFAULTS: dict[str, dict[str, Any]] = {
    "mdt_decision": {"resectability": "unresectable", "plan": "definitive_rt"},
    "imaging_done": {"region": "pelvis_sacrum", "modality": "MRI"},
    "systemic_started": {"regimen": "doxorubicin", "line": 1},
    "care_paused": {"reason_code": "hospital_admission"},
    "neuro_exam": {"finding": "new_deficit"},
    "fracture_risk_assessed": {"sins": 8},
    "bma_started": {"agent": "denosumab", "schedule": "q4w", "dose_mg": 120},
    "bma_dose": {"agent": "denosumab", "dose_mg": 120},
    "pain_score": {"nrs": 5},
}


def day(n: float, hour: int = 10) -> datetime:
    """`n` days after the enrolment day, at `hour` UTC."""
    return ENROLLED.replace(hour=hour) + timedelta(days=n)


class History:
    """One patient's events in clinical order, with ids increasing as they are added."""

    def __init__(self, enrolled_at: datetime = ENROLLED) -> None:
        self.enrolled_at = enrolled_at
        self.events: list[EventRecord] = []

    def add(self, type: str, at: datetime, **data: Any) -> History:
        self.events.append(
            EventRecord(
                id=len(self.events) + 1,
                patient_id=1,
                type=type,
                occurred_at=at,
                recorded_at=at,
                actor="t",
                data={**DEFAULTS.get(type, {}), **data},
                reason=None,
                changes={},
            )
        )
        return self

    def rt_completed(self, at: datetime) -> History:
        return self.add("mdt_decision", day(1)).add("rt_started", day(5)).add("rt_completed", at)

    def follow_ups(self, pathway: Pathway, holidays: bool = False) -> list[FollowUp]:
        timeline = build_timeline(pathway, self.enrolled_at, self.events)
        assert len(timeline) == len(self.events) + 1, "an event was not allowed where it was added"
        calendar = Calendar(LONDON, holiday=(lambda d: None) if holidays else None)
        return derive_follow_ups(pathway.definition, timeline, calendar)


def of(fus: list[FollowUp], rule: str, region: str = "") -> list[FollowUp]:
    return [f for f in fus if f.rule == rule and f.region == region]


def only_open(fus: list[FollowUp], rule: str, region: str = "") -> FollowUp:
    found = [f for f in of(fus, rule, region) if f.outcome == "open"]
    assert len(found) == 1, found
    return found[0]


def local_midnight(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=LONDON).astimezone(UTC)


# --- T01: MDT decision within 14 days of enrolment -----------------------------------------------


def test_t01_is_due_from_enrolment_for_14_days(pathway: Pathway) -> None:
    fu = only_open(History().follow_ups(pathway), "T01")
    assert fu.anchor_label == "enrolment" and fu.anchor_at == ENROLLED
    assert fu.window.opens_at == local_midnight(2026, 3, 2)
    assert fu.window.closes_at == local_midnight(2026, 3, 17)  # end of day 14 (16 March)
    assert fu.status(ENROLLED) == "due"
    assert fu.status(day(14, hour=23)) == "due"


def test_t01_is_overdue_once_its_window_has_closed(pathway: Pathway) -> None:
    fu = only_open(History().follow_ups(pathway), "T01")
    assert fu.status(local_midnight(2026, 3, 17) + timedelta(minutes=1)) == "overdue"


def test_t01_is_done_by_the_mdt_decision(pathway: Pathway) -> None:
    [fu] = of(History().add("mdt_decision", day(10)).follow_ups(pathway), "T01")
    assert fu.outcome == "done" and fu.status(day(60)) == "done"
    assert fu.done_at == day(10) and fu.done_event_id == 1
    assert fu.late_days == 0 and not fu.early


def test_a_step_done_on_the_day_after_its_window_closed_is_one_day_late(pathway: Pathway) -> None:
    # `--on 2026-03-17` records the start of that clinic day, which is also the instant T01 closes
    [fu] = of(History().add("mdt_decision", local_midnight(2026, 3, 17)).follow_ups(pathway), "T01")
    assert fu.late_days == 1


# --- T09: response imaging per region ------------------------------------------------------------


def test_t09_opens_one_instance_per_region_anchored_at_rt_completion(pathway: Pathway) -> None:
    fus = History().rt_completed(day(40)).follow_ups(pathway)
    for region in ("pelvis_sacrum", "chest"):
        fu = only_open(fus, "T09", region)
        assert fu.anchor_at == day(40) and fu.anchor_label == "rt_completed (event 3)"
        assert fu.window.opens_at == local_midnight(2026, 5, 23)  # 11 April + 6 weeks
        assert fu.window.closes_at == local_midnight(2026, 7, 5)  # end of 11 April + 12 weeks
    assert of(fus, "T09") == []  # the rule is always per region


def test_imaging_of_one_region_completes_only_that_region_and_reanchors_on_its_date(pathway: Pathway) -> None:
    fus = History().rt_completed(day(40)).add("imaging_done", day(100)).follow_ups(pathway)
    done, following = of(fus, "T09", "pelvis_sacrum")
    assert done.outcome == "done" and done.done_at == day(100) and done.late_days == 0
    assert following.outcome == "open" and following.anchor_at == day(100)
    assert following.anchor_label == "imaging_done done (event 4)"
    assert only_open(fus, "T09", "chest").anchor_at == day(40)


def test_imaging_done_late_counts_the_days_late_and_still_opens_the_next_instance(pathway: Pathway) -> None:
    anchor = day(40)
    fus = History().rt_completed(anchor).add("imaging_done", anchor + timedelta(weeks=14)).follow_ups(pathway)
    done, following = of(fus, "T09", "pelvis_sacrum")
    assert done.outcome == "done" and done.late_days == 14  # last window day 4 July, done 18 July
    assert following.outcome == "open" and following.anchor_at == anchor + timedelta(weeks=14)


def test_an_overdue_step_can_still_be_completed(pathway: Pathway) -> None:
    fus = History().rt_completed(day(40)).follow_ups(pathway)
    assert only_open(fus, "T09", "pelvis_sacrum").status(day(40 + 7 * 20)) == "overdue"
    fus = History().rt_completed(day(40)).add("imaging_done", day(40 + 7 * 20)).follow_ups(pathway)
    assert of(fus, "T09", "pelvis_sacrum")[0].outcome == "done"


def test_imaging_before_the_window_opens_is_early(pathway: Pathway) -> None:
    fus = History().rt_completed(day(40)).add("imaging_done", day(55)).follow_ups(pathway)
    done, following = of(fus, "T09", "pelvis_sacrum")
    assert done.early and done.late_days == 0
    assert following.anchor_at == day(55) and not following.early


def test_systemic_therapy_started_in_surveillance_supersedes_and_reanchors_t09(pathway: Pathway) -> None:
    fus = History().rt_completed(day(40)).add("systemic_started", day(70)).follow_ups(pathway)
    old, new = of(fus, "T09", "chest")
    assert old.outcome == "cancelled" and old.status(day(70)) == "cancelled"
    assert old.cancel_reason is not None and old.cancel_reason.startswith("superseded")
    assert "systemic_started" in old.cancel_reason
    assert new.outcome == "open" and new.anchor_at == day(70)


def test_best_supportive_care_cancels_response_imaging(pathway: Pathway) -> None:
    fus = (
        History()
        .rt_completed(day(40))
        .add("mdt_decision", day(60), resectability="unresectable", plan="bsc")
        .follow_ups(pathway)
    )
    for region in ("pelvis_sacrum", "chest"):
        [fu] = of(fus, "T09", region)
        assert fu.outcome == "cancelled"
        assert fu.cancel_reason is not None and "best_supportive_care" in fu.cancel_reason


def test_death_cancels_every_open_follow_up(pathway: Pathway) -> None:
    history = (
        History()
        .rt_completed(day(40))
        .add("pain_score", day(41), nrs=8)
        .add("fracture_risk_assessed", day(41))
        .add("bma_started", day(42))
        .add("mscc_suspected", day(43), neuro_signs="yes")
    )
    before = {f.key for f in history.follow_ups(pathway) if f.outcome == "open"}
    assert {k[0] for k in before} >= {"T09", "T10", "T16", "T21a", "T04", "T06", "A19", "A20"}
    after = history.add("death", day(44)).follow_ups(pathway)
    assert [f for f in after if f.outcome == "open"] == []
    for fu in after:
        if fu.key in before:
            assert fu.outcome == "cancelled" and "deceased" in (fu.cancel_reason or ""), fu


# --- T10: physical examination every 3-4 months ---------------------------------------------------


def test_t10_is_due_three_to_four_calendar_months_after_enrolment(pathway: Pathway) -> None:
    fu = only_open(History().follow_ups(pathway), "T10")
    assert fu.window.opens_at == local_midnight(2026, 6, 2)
    assert fu.window.closes_at == local_midnight(2026, 7, 3)
    assert fu.status(day(30)) == "upcoming"
    assert fu.status(day(95)) == "due"


def test_t10_recurs_after_each_examination(pathway: Pathway) -> None:
    fus = History().add("exam_done", day(100)).add("exam_done", day(200)).follow_ups(pathway)
    first, second, third = of(fus, "T10")
    assert (first.outcome, second.outcome, third.outcome) == ("done", "done", "open")
    assert second.anchor_at == day(100) and third.anchor_at == day(200)
    assert third.window.opens_at == local_midnight(2026, 12, 18)  # 18 September + 3 months


# --- pause and resume ----------------------------------------------------------------------------


def test_urgent_compression_rules_keep_running_through_a_pause(pathway: Pathway) -> None:
    suspected = day(3)
    fus = (
        History()
        .add("neuro_exam", suspected)
        .add("care_paused", suspected + timedelta(minutes=5))
        .follow_ups(pathway)
    )
    for rule in ("T04", "A01", "T06"):
        fu = only_open(fus, rule)
        assert fu.anchor_at == suspected and fu.cancel_reason is None
    assert only_open(fus, "A01").status(suspected + timedelta(minutes=61)) == "overdue"
    [exam] = of(fus, "T10")  # pausable: held while the pause lasts (tests/unit/test_pauses.py)
    assert exam.outcome == "cancelled" and "held until care resumes" in (exam.cancel_reason or "")


# --- other anchors -------------------------------------------------------------------------------


def test_t02_anchors_only_on_an_unresectable_definitive_rt_decision(pathway: Pathway) -> None:
    surgical = History().add("mdt_decision", day(3), resectability="resectable", plan="surgery")
    assert of(surgical.follow_ups(pathway), "T02") == []
    fu = only_open(History().add("mdt_decision", day(3)).follow_ups(pathway), "T02")
    assert fu.anchor_at == day(3)
    assert fu.window.target_at == local_midnight(2026, 3, 27)  # end of 5 March + 21 days


def test_t02_is_done_when_radiotherapy_starts(pathway: Pathway) -> None:
    [fu] = of(History().add("mdt_decision", day(3)).add("rt_started", day(20)).follow_ups(pathway), "T02")
    assert fu.outcome == "done" and fu.done_at == day(20)


def test_a15_anchors_on_progression_and_is_done_by_the_next_mdt_decision(pathway: Pathway) -> None:
    history = History().rt_completed(day(40)).add("progression", day(90), basis="recist")
    fu = only_open(history.follow_ups(pathway), "A15")
    assert fu.anchor_at == day(90)
    history.add("mdt_decision", day(95), resectability="unresectable", plan="next_line")
    assert [f.outcome for f in of(history.follow_ups(pathway), "A15")] == ["done"]


def test_t21a_anchors_on_denosumab_and_recurs_on_each_dose(pathway: Pathway) -> None:
    history = History().add("fracture_risk_assessed", day(2)).add("bma_started", day(10))
    fus = history.add("bma_dose", day(38)).follow_ups(pathway)
    first, second = of(fus, "T21a")
    assert first.anchor_at == day(10) and first.outcome == "done"
    assert second.anchor_at == day(38) and second.outcome == "open"
    assert of(fus, "T21b") == []


def test_zoledronic_acid_anchors_t21b_not_t21a(pathway: Pathway) -> None:
    fus = (
        History()
        .add("fracture_risk_assessed", day(2))
        .add("bma_started", day(10), agent="zoledronic_acid", dose_mg=4)
        .follow_ups(pathway)
    )
    assert of(fus, "T21a") == []
    assert only_open(fus, "T21b").anchor_at == day(10)


def test_t04_anchors_when_compression_is_suspected_and_closes_24_clock_hours_later(pathway: Pathway) -> None:
    suspected = datetime(2026, 3, 28, 12, tzinfo=UTC)  # the clocks go forward overnight
    fu = only_open(History().add("mscc_suspected", suspected, neuro_signs="yes").follow_ups(pathway), "T04")
    assert fu.anchor_at == suspected and fu.window.clock_time
    assert fu.window.closes_at == suspected + timedelta(hours=24)
    assert fu.status(suspected + timedelta(hours=23, minutes=59)) == "due"
    assert fu.status(suspected + timedelta(hours=24, minutes=1)) == "overdue"


def test_derivation_is_deterministic(pathway: Pathway) -> None:
    history = (
        History()
        .rt_completed(day(40))
        .add("imaging_done", day(100))
        .add("care_paused", day(110))
        .add("care_resumed", day(120))
        .add("exam_done", day(130))
    )
    assert history.follow_ups(pathway) == history.follow_ups(pathway)
    assert history.follow_ups(pathway, holidays=True) == history.follow_ups(pathway, holidays=True)


def test_follow_up_keys_are_unique_when_a_step_is_done_at_its_anchor_instant(pathway: Pathway) -> None:
    # rt_completed and imaging_done both recorded `--on` the same day share the start-of-day instant
    same_day = start_of_day(day(40).date(), LONDON)
    fus = History().rt_completed(same_day).add("imaging_done", same_day).follow_ups(pathway)
    keys = [f.key for f in fus]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_the_definition_has_the_follow_up_rules_under_test(definition: PathwayDefinition) -> None:
    assert {
        "T01",
        "T02",
        "T09",
        "T10",
        "T12",
        "T13",
        "T16",
        "T28",
        "A15",
        "T21a",
        "T21b",
        "A01",
        "T04",
        "T06",
        "T03",
        "A19",
        "A20",
    } <= set(definition.rules.follow_ups)
