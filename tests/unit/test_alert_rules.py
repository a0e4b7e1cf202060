"""Alert rules: for each rule one history that fires it and one that does not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pathway.domain.alerts import AlertCandidate, alerts_for_checks, alerts_for_follow_ups, effective
from pathway.domain.followups import derive_follow_ups
from pathway.domain.machine import Pathway
from pathway.domain.model import EventRecord, Patient
from pathway.domain.timeline import build_timeline
from pathway.domain.windows import Calendar

LONDON = ZoneInfo("Europe/London")
ENROLLED = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday, GMT
DEFAULTS: dict[str, dict[str, Any]] = {
    "mdt_decision": {"resectability": "unresectable", "plan": "definitive_rt"},
    "rt_plan_approved": {"total_dose_gy": 63.0, "fractions": 30},
    "imaging_done": {"region": "pelvis_sacrum", "modality": "MRI"},
    "neuro_exam": {"finding": "new_deficit"},
    "mri_whole_spine_done": {"compression": "yes"},
    "mscc_escalated": {"contact": "mscc_coordinator"},
    "mscc_suspected": {"neuro_signs": "yes"},
    "dexamethasone_changed": {"change": "taper", "dose_mg_per_day": 8.0},
    "mscc_treatment_decided": {"treatment": "rt"},
    "mscc_treatment_started": {"treatment": "rt"},
    "dexamethasone_started": {"dose_mg_per_day": 16.0, "indication": "mscc_neuro"},
    "fracture_risk_assessed": {"sins": 8},
    "bma_started": {"agent": "denosumab", "schedule": "q4w", "dose_mg": 120},
    "bma_dose": {"agent": "denosumab", "dose_mg": 120},
    "pain_score": {"nrs": 5},
    "histology_confirmed": {"histology": "sts"},
}


def day(n: float, hour: int = 10) -> datetime:
    return ENROLLED.replace(hour=hour) + timedelta(days=n)


class History:
    def __init__(self, histology: str | None = "sts") -> None:
        self.patient = Patient(
            id=1, mrn="M", enrolled_on=ENROLLED.date(), enrolled_at=ENROLLED, histology=histology
        )
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
                data={k: v for k, v in {**DEFAULTS.get(type, {}), **data}.items() if v is not None},
                reason=None,
                changes={},
            )
        )
        return self

    def rt_completed(self, at: datetime) -> History:
        return self.add("mdt_decision", day(1)).add("rt_started", day(5)).add("rt_completed", at)

    def alerts(self, pathway: Pathway, now: datetime, rule: str) -> list[AlertCandidate]:
        """Every candidate of `rule` at `now`; each must carry its source and name its step."""
        d = pathway.definition
        timeline = build_timeline(pathway, ENROLLED, self.events)
        assert len(timeline) == len(self.events) + 1, "an event was not allowed where it was added"
        fus = derive_follow_ups(d, timeline, Calendar(LONDON))
        found = [
            c
            for c in alerts_for_follow_ups(d, fus, now, LONDON)
            + alerts_for_checks(d, self.patient, timeline, LONDON)
            if c.rule == rule
        ]
        for c in found:
            assert c.source.strip() and c.message, c
            if c.follow_up is not None:
                assert d.rules.follow_ups[c.follow_up[0]].step.casefold() in c.message.casefold(), c.message
            else:
                assert d.rules.checks[c.key.split(":")[0]].title in c.message, c.message
        return found


def severities(candidates: list[AlertCandidate]) -> list[str]:
    return sorted(c.severity for c in candidates)


def local_midnight(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=LONDON).astimezone(UTC)


# --- calendar follow-up alerts -------------------------------------------------------------------


def test_a48_warns_when_no_mdt_decision_within_14_days(pathway: Pathway) -> None:
    closes = local_midnight(2026, 3, 17)
    assert History().alerts(pathway, closes - timedelta(minutes=1), "A48") == []
    assert severities(History().alerts(pathway, closes + timedelta(minutes=1), "A48")) == ["warning"]
    decided = History().add("mdt_decision", day(10))
    assert decided.alerts(pathway, day(30), "A48") == []


def test_a48_fires_only_once_t01_is_overdue(pathway: Pathway) -> None:
    closes = local_midnight(2026, 3, 17)
    timeline = build_timeline(pathway, ENROLLED, [])
    [t01] = [f for f in derive_follow_ups(pathway.definition, timeline, Calendar(LONDON)) if f.rule == "T01"]
    fired = History().alerts(pathway, closes, "A48") != []
    assert fired == (t01.status(closes) == "overdue")


def test_a07_warns_at_21_days_and_escalates_to_critical_at_42(pathway: Pathway) -> None:
    history = History().add("mdt_decision", day(1))  # 3 March: target 24 March, closes 14 April
    assert history.alerts(pathway, day(20), "A07") == []
    assert severities(history.alerts(pathway, day(23), "A07")) == ["warning"]
    both = history.alerts(pathway, day(44), "A07")
    assert severities(both) == ["critical", "warning"]
    [kept] = effective(both)
    assert kept.severity == "critical"
    started = History().add("mdt_decision", day(1)).add("rt_started", day(30))
    assert started.alerts(pathway, day(60), "A07") == []


def test_a10_warns_when_imaging_is_overdue_and_is_critical_28_days_later(pathway: Pathway) -> None:
    history = History().rt_completed(day(40))  # window closes at the end of 4 July
    closes = local_midnight(2026, 7, 5)
    assert history.alerts(pathway, closes - timedelta(minutes=1), "A10") == []
    warnings = history.alerts(pathway, closes + timedelta(minutes=1), "A10")
    assert severities(warnings) == ["warning", "warning"]  # pelvis_sacrum and chest
    later = history.alerts(pathway, closes + timedelta(days=28, minutes=1), "A10")
    assert severities(effective(later)) == ["critical", "critical"]
    imaged = (
        History()
        .rt_completed(day(40))
        .add("imaging_done", day(90))
        .add("imaging_done", day(90), region="chest", modality="CT")
    )
    assert imaged.alerts(pathway, closes + timedelta(days=1), "A10") == []


def test_a11_notes_imaging_done_before_the_window_opened(pathway: Pathway) -> None:
    early = History().rt_completed(day(40)).add("imaging_done", day(54))
    [alert] = early.alerts(pathway, day(60), "A11")
    assert alert.severity == "info" and "pelvis_sacrum" in alert.message
    in_window = History().rt_completed(day(40)).add("imaging_done", day(40 + 7 * 7))
    assert in_window.alerts(pathway, day(100), "A11") == []


def test_a16_warns_when_no_physical_exam_within_four_months(pathway: Pathway) -> None:
    assert severities(History().alerts(pathway, day(125), "A16")) == ["warning"]
    assert History().alerts(pathway, day(115), "A16") == []
    assert History().add("exam_done", day(100)).alerts(pathway, day(125), "A16") == []


@pytest.mark.parametrize(
    ("alert", "event", "data"),
    [
        ("A17", "pain_score", {"nrs": 2}),
        ("A47", "neuro_exam", {"finding": "baseline"}),
        ("A28", "fracture_risk_assessed", {"sins": 5}),
    ],
)
def test_a_baseline_step_missing_by_its_deadline_warns_and_recording_it_prevents_the_alert(
    pathway: Pathway, alert: str, event: str, data: dict[str, Any]
) -> None:
    [fired] = History().alerts(pathway, day(15), alert)
    assert fired.severity == "warning"
    assert History().add(event, day(3), **data).alerts(pathway, day(15), alert) == []


def test_a17_and_a47_wait_seven_days_and_a28_fourteen(pathway: Pathway) -> None:
    assert History().alerts(pathway, day(6), "A17") == History().alerts(pathway, day(6), "A47") == []
    assert History().alerts(pathway, day(8), "A17") and History().alerts(pathway, day(8), "A47")
    assert History().alerts(pathway, day(13), "A28") == []


def test_a21_informs_at_28_days_and_warns_at_56_without_a_palliative_referral(pathway: Pathway) -> None:
    assert History().alerts(pathway, day(27), "A21") == []
    assert severities(History().alerts(pathway, day(30), "A21")) == ["info"]
    assert severities(effective(History().alerts(pathway, day(60), "A21"))) == ["warning"]
    referred = History().add("palliative_referral", day(20))
    assert referred.alerts(pathway, day(60), "A21") == []


def test_a15_warns_when_progression_has_no_mdt_decision_within_14_days(pathway: Pathway) -> None:
    progressed = History().rt_completed(day(40)).add("progression", day(90))
    assert severities(progressed.alerts(pathway, day(106), "A15")) == ["warning"]
    assert progressed.alerts(pathway, day(103), "A15") == []
    progressed.add("mdt_decision", day(95), plan="next_line")
    assert progressed.alerts(pathway, day(106), "A15") == []


@pytest.mark.parametrize("agent", ["denosumab", "zoledronic_acid"])
def test_a26b_warns_when_a_bone_agent_dose_is_overdue(pathway: Pathway, agent: str) -> None:
    started = History().add("fracture_risk_assessed", day(2)).add("bma_started", day(10), agent=agent)
    assert severities(started.alerts(pathway, day(47), "A26b")) == ["warning"]
    assert started.alerts(pathway, day(44), "A26b") == []
    started.add("bma_dose", day(38), agent=agent)
    assert started.alerts(pathway, day(47), "A26b") == []


# --- urgent compression and pain alerts (clock time) ---------------------------------------------


def test_a01_is_critical_when_a_new_deficit_is_not_escalated_within_60_minutes(pathway: Pathway) -> None:
    exam = day(3)
    history = History().add("neuro_exam", exam)
    assert history.alerts(pathway, exam + timedelta(minutes=59), "A01") == []
    [alert] = history.alerts(pathway, exam + timedelta(minutes=61), "A01")
    assert alert.severity == "critical" and alert.urgent
    escalated = History().add("neuro_exam", exam).add("mscc_escalated", exam + timedelta(minutes=30))
    assert escalated.alerts(pathway, exam + timedelta(hours=3), "A01") == []


def test_a02_is_critical_without_a_whole_spine_mri_within_24_hours(pathway: Pathway) -> None:
    suspected = day(3)
    history = History().add("mscc_suspected", suspected)
    assert history.alerts(pathway, suspected + timedelta(hours=23), "A02") == []
    assert severities(history.alerts(pathway, suspected + timedelta(hours=25), "A02")) == ["critical"]
    history.add("mri_whole_spine_done", suspected + timedelta(hours=20), compression="no")
    assert history.alerts(pathway, suspected + timedelta(hours=25), "A02") == []


def test_a04_is_critical_without_dexamethasone_within_2_hours(pathway: Pathway) -> None:
    suspected = day(3)
    history = History().add("neuro_exam", suspected)
    assert severities(history.alerts(pathway, suspected + timedelta(hours=3), "A04")) == ["critical"]
    history.add("dexamethasone_started", suspected + timedelta(hours=1))
    assert history.alerts(pathway, suspected + timedelta(hours=3), "A04") == []


@pytest.mark.parametrize(
    ("dose", "indication", "fires"),
    [
        (4.0, "mscc_neuro", True),
        (8.0, "mscc_neuro", True),
        (16.0, "mscc_neuro", False),
        (4.0, "neuropathic_pain", True),  # during an episode with neurological signs: any indication
        (8.0, "other", True),
        (16.0, "other", False),
    ],
)
def test_a04b_warns_when_mscc_dexamethasone_is_below_16_mg(
    pathway: Pathway, dose: float, indication: str, fires: bool
) -> None:
    history = (
        History()
        .add("neuro_exam", day(3))
        .add("dexamethasone_started", day(3, hour=11), dose_mg_per_day=dose, indication=indication)
    )
    assert severities(history.alerts(pathway, day(4), "A04b")) == (["warning"] if fires else [])


@pytest.mark.parametrize(
    ("dose", "indication", "fires"), [(4.0, "mscc_neuro", True), (8.0, "neuropathic_pain", False)]
)
def test_a04b_outside_an_episode_warns_only_for_the_mscc_indication(
    pathway: Pathway, dose: float, indication: str, fires: bool
) -> None:
    history = History().add("dexamethasone_started", day(3), dose_mg_per_day=dose, indication=indication)
    assert severities(history.alerts(pathway, day(4), "A04b")) == (["warning"] if fires else [])
    pain_only = History().add("mscc_suspected", day(3), neuro_signs="no")
    pain_only.add("dexamethasone_started", day(3, hour=11), dose_mg_per_day=dose, indication=indication)
    assert severities(pain_only.alerts(pathway, day(4), "A04b")) == (["warning"] if fires else [])


def test_a04_does_not_start_when_a_dose_at_the_mscc_level_is_already_active(pathway: Pathway) -> None:
    on_16 = History().add("dexamethasone_started", day(1), indication="other", dose_mg_per_day=16.0)
    on_16.add("neuro_exam", day(3))
    assert on_16.alerts(pathway, day(3) + timedelta(hours=3), "A04") == []
    on_8 = History().add("dexamethasone_started", day(1), indication="neuropathic_pain", dose_mg_per_day=8.0)
    on_8.add("neuro_exam", day(3))
    assert severities(on_8.alerts(pathway, day(3) + timedelta(hours=3), "A04")) == ["critical"]


def test_a_deficit_after_treatment_opens_a_new_episode_with_its_own_alert_keys(pathway: Pathway) -> None:
    first, second = day(3), day(20)
    history = (
        History()
        .add("neuro_exam", first)
        .add("mscc_escalated", first + timedelta(minutes=20))
        .add("dexamethasone_started", first + timedelta(minutes=40))
        .add("mri_whole_spine_done", first + timedelta(hours=6))
        .add("mscc_treatment_decided", first + timedelta(hours=8))
        .add("mscc_treatment_started", first + timedelta(hours=20))
        .add("dexamethasone_changed", day(10), change="stopped", dose_mg_per_day=None)
        .add("neuro_exam", second, finding="worsening")
    )
    for rule, late in (("A01", timedelta(minutes=61)), ("A04", timedelta(hours=2, minutes=1))):
        assert history.alerts(pathway, second + late - timedelta(minutes=2), rule) == []
        [alert] = history.alerts(pathway, second + late, rule)
        assert alert.severity == "critical" and alert.key.endswith(second.isoformat())
    assert history.alerts(pathway, second + timedelta(hours=23, minutes=59), "A02") == []
    [mri] = history.alerts(pathway, second + timedelta(hours=24), "A02")
    assert mri.key.endswith(second.isoformat())


def test_a_second_deficit_rearms_the_clocks_but_never_hides_a_missed_one(pathway: Pathway) -> None:
    first, second = day(3), day(3) + timedelta(hours=3)
    history = History().add("neuro_exam", first).add("neuro_exam", second, finding="worsening")
    keys = {a.key for a in history.alerts(pathway, second + timedelta(minutes=30), "A01")}
    assert keys == {f"A01::{first.isoformat()}"}  # the missed escalation stays open
    keys = {a.key for a in history.alerts(pathway, second + timedelta(minutes=61), "A01")}
    assert keys == {f"A01::{first.isoformat()}", f"A01::{second.isoformat()}"}
    history.add("mscc_escalated", second + timedelta(minutes=70))
    assert history.alerts(pathway, second + timedelta(hours=2), "A01") == []


def test_a03_pain_only_suspicion_needs_mri_and_a_plan_within_7_days(pathway: Pathway) -> None:
    suspected = day(3)
    history = History().add("mscc_suspected", suspected, neuro_signs="no")
    for rule in ("A01", "A02", "A04"):
        assert history.alerts(pathway, suspected + timedelta(days=6), rule) == []
    closes = local_midnight(2026, 3, 13)  # the end of the 7th clinic day after 5 March
    assert history.alerts(pathway, closes - timedelta(minutes=1), "A03") == []
    assert severities(history.alerts(pathway, closes, "A03")) == ["warning"]
    history.add("mri_whole_spine_done", day(5), compression="yes")
    assert severities(history.alerts(pathway, closes, "A03")) == ["warning"]  # MRI, no plan yet
    history.add("mscc_treatment_decided", day(6))
    assert history.alerts(pathway, closes, "A03") == []
    excluded = History().add("mscc_suspected", suspected, neuro_signs="no")
    excluded.add("mri_whole_spine_done", day(5), compression="no")
    assert excluded.alerts(pathway, closes, "A03") == []


def test_a_deficit_upgrades_a_pain_only_suspicion_to_the_hour_clocks(pathway: Pathway) -> None:
    history = History().add("mscc_suspected", day(3), neuro_signs="no").add("neuro_exam", day(4))
    assert severities(history.alerts(pathway, day(4) + timedelta(hours=25), "A02")) == ["critical"]
    assert severities(history.alerts(pathway, day(4) + timedelta(hours=3), "A04")) == ["critical"]


def test_a04c_informs_when_mri_excludes_compression_while_mscc_dexamethasone_is_active(
    pathway: Pathway,
) -> None:
    history = History().add("neuro_exam", day(3)).add("dexamethasone_started", day(3, hour=11))
    history.add("mri_whole_spine_done", day(3, hour=15), compression="no")
    assert severities(history.alerts(pathway, day(4), "A04c")) == ["info"]
    stopped = History().add("neuro_exam", day(3)).add("dexamethasone_started", day(3, hour=11))
    stopped.add("dexamethasone_changed", day(3, hour=14), change="stopped", dose_mg_per_day=None)
    stopped.add("mri_whole_spine_done", day(3, hour=15), compression="no")
    assert stopped.alerts(pathway, day(4), "A04c") == []


def test_a46_informs_when_dexamethasone_runs_14_days_without_a_taper_plan(pathway: Pathway) -> None:
    history = History().add("dexamethasone_started", day(3))
    closes = local_midnight(2026, 3, 20)  # 5 March + 14 days, end of that clinic day
    assert history.alerts(pathway, closes - timedelta(minutes=1), "A46") == []
    assert severities(history.alerts(pathway, closes, "A46")) == ["info"]
    history.add("dexamethasone_changed", day(10), change="taper", dose_mg_per_day=8.0)
    assert history.alerts(pathway, closes, "A46") == []


def test_a05_is_critical_when_rt_for_compression_has_not_started_within_24_hours(pathway: Pathway) -> None:
    decided = day(3, hour=14)
    history = (
        History()
        .add("mri_whole_spine_done", day(3))
        .add("dexamethasone_started", day(3, hour=11))
        .add("mscc_treatment_decided", decided)
    )
    assert history.alerts(pathway, decided + timedelta(hours=23), "A05") == []
    assert severities(history.alerts(pathway, decided + timedelta(hours=25), "A05")) == ["critical"]
    history.add("mscc_treatment_started", decided + timedelta(hours=6))
    assert history.alerts(pathway, decided + timedelta(hours=25), "A05") == []
    surgery = (
        History()
        .add("mri_whole_spine_done", day(3))
        .add("mscc_treatment_decided", decided, treatment="surgery")
    )
    assert surgery.alerts(pathway, decided + timedelta(hours=25), "A05") == []


def test_a19_warns_when_nrs_5_has_no_detailed_assessment_within_24_hours(pathway: Pathway) -> None:
    scored = day(3)
    assert severities(
        History().add("pain_score", scored).alerts(pathway, scored + timedelta(hours=25), "A19")
    ) == ["warning"]
    assessed = (
        History().add("pain_score", scored).add("pain_assessment_detailed", scored + timedelta(hours=2))
    )
    assert assessed.alerts(pathway, scored + timedelta(hours=25), "A19") == []
    mild = History().add("pain_score", scored, nrs=2)
    assert mild.alerts(pathway, scored + timedelta(hours=25), "A19") == []


def test_a20_is_critical_when_nrs_8_has_no_analgesic_change_within_24_hours(pathway: Pathway) -> None:
    scored = day(3)
    severe = History().add("pain_score", scored, nrs=8)
    assert severities(severe.alerts(pathway, scored + timedelta(hours=25), "A20")) == ["critical"]
    assessed_only = (
        History()
        .add("pain_score", scored, nrs=8)
        .add("pain_assessment_detailed", scored + timedelta(hours=1))
    )
    assert severities(assessed_only.alerts(pathway, scored + timedelta(hours=25), "A20")) == ["critical"]
    changed = History().add("pain_score", scored, nrs=8).add("analgesia_changed", scored + timedelta(hours=3))
    assert changed.alerts(pathway, scored + timedelta(hours=25), "A20") == []
    moderate = History().add("pain_score", scored, nrs=5)
    assert moderate.alerts(pathway, scored + timedelta(hours=25), "A20") == []


# --- checks on single events ---------------------------------------------------------------------


def test_a05b_warns_on_an_mdt_decision_while_histology_is_missing(pathway: Pathway) -> None:
    [alert] = History(histology=None).add("mdt_decision", day(5)).alerts(pathway, day(6), "A05b")
    assert alert.severity == "warning" and alert.key == "A05b:event:1"
    assert History().add("mdt_decision", day(5)).alerts(pathway, day(6), "A05b") == []
    confirmed = History(histology=None).add("histology_confirmed", day(4)).add("mdt_decision", day(5))
    assert confirmed.alerts(pathway, day(6), "A05b") == []


@pytest.mark.parametrize(
    ("histology", "dose", "fires"),
    [
        ("sts", 50.0, True),
        ("sts", 63.0, False),  # 63 Gy in 30 fractions: 64.05 Gy EQD2 at alpha/beta 4
        ("sts", 66.0, True),
        ("chordoma", 63.0, True),
        ("chordoma", 74.0, False),
        ("gctb", 50.0, True),  # every histology has a range now (a proposal for gctb)
        ("gctb", 62.0, False),
    ],
)
def test_a06_flags_a_prescription_outside_the_histology_dose_range_in_eqd2(
    pathway: Pathway, histology: str | None, dose: float, fires: bool
) -> None:
    history = (
        History(histology=histology)
        .add("mdt_decision", day(5))
        .add("rt_plan_approved", day(8), total_dose_gy=dose)
    )
    found = history.alerts(pathway, day(9), "A06")
    assert severities(found) == (["info"] if fires else [])
    if fires:
        assert f"{dose:g}" in found[0].message and str(histology) in found[0].message
        assert "Gy EQD2 (alpha/beta 4 Gy, proposal)" in found[0].message


def test_a06_hypofractionated_sixty_gray_in_five_is_far_above_the_sts_range(pathway: Pathway) -> None:
    planned = History().add("mdt_decision", day(5))
    [alert] = planned.add("rt_plan_approved", day(8), total_dose_gy=60.0, fractions=5).alerts(
        pathway, day(9), "A06"
    )
    assert (
        "60 Gy in 5 fractions = 160.0 Gy EQD2" in alert.message and "60–65 Gy EQD2 for sts" in alert.message
    )
    two_gray = (
        History()
        .add("mdt_decision", day(5))
        .add("rt_plan_approved", day(8), total_dose_gy=60.0, fractions=30)
    )
    assert two_gray.alerts(pathway, day(9), "A06") == []


def test_a06_compares_an_eqd2_prescription_as_given_and_never_a_gy_rbe_one_silently(pathway: Pathway) -> None:
    eqd2 = (
        History()
        .add("mdt_decision", day(5))
        .add("rt_plan_approved", day(8), total_dose_gy=63.0, fractions=5, dose_unit="EQD2_Gy")
    )
    assert eqd2.alerts(pathway, day(9), "A06") == []
    [rbe] = (
        History(histology="chordoma")
        .add("mdt_decision", day(5))
        .add("rt_plan_approved", day(8), total_dose_gy=70.0, fractions=16, dose_unit="Gy_RBE")
        .alerts(pathway, day(9), "A06")
    )
    assert "70 Gy(RBE) in 16 fractions not checked: the range is in Gy EQD2, not Gy(RBE)" in rbe.message


def test_a06_before_histology_says_not_checked_then_checks_when_histology_arrives(pathway: Pathway) -> None:
    before = (
        History(histology=None)
        .add("mdt_decision", day(5))
        .add("rt_plan_approved", day(8), total_dose_gy=100.0, fractions=50)
    )
    [waiting] = before.alerts(pathway, day(9), "A06")
    assert waiting.key == "A06:event:2:unchecked" and "dose could not be checked" in waiting.message
    [checked] = before.add("histology_confirmed", day(10), histology="sts").alerts(pathway, day(11), "A06")
    assert checked.key == "A06:event:2" and "100 Gy in 50 fractions" in checked.message
    assert "checked when histology was recorded (event 3)" in checked.message
    fine = (
        History(histology=None)
        .add("mdt_decision", day(5))
        .add("rt_plan_approved", day(8), total_dose_gy=63.0, fractions=30)
    )
    assert fine.add("histology_confirmed", day(10), histology="sts").alerts(pathway, day(11), "A06") == []


def test_a06_uses_histology_confirmed_after_enrolment(pathway: Pathway) -> None:
    history = (
        History(histology=None)
        .add("histology_confirmed", day(2), histology="chordoma")
        .add("mdt_decision", day(5))
        .add("rt_plan_approved", day(8), total_dose_gy=63.0)
    )
    assert severities(history.alerts(pathway, day(9), "A06")) == ["info"]


def test_a09_notes_radiotherapy_stopped_early(pathway: Pathway) -> None:
    base = History().add("mdt_decision", day(1)).add("rt_started", day(5))
    assert severities(
        base.add("rt_stopped_early", day(20), reason_code="toxicity").alerts(pathway, day(21), "A09")
    ) == ["info"]
    assert History().rt_completed(day(40)).alerts(pathway, day(41), "A09") == []


def test_a12a_warns_when_a_region_is_reimaged_with_a_different_modality(pathway: Pathway) -> None:
    changed = History().add("imaging_done", day(2)).add("imaging_done", day(60), modality="CT")
    [alert] = changed.alerts(pathway, day(61), "A12a")
    assert alert.severity == "warning" and "baseline was MRI" in alert.message
    same = (
        History()
        .add("imaging_done", day(2))
        .add("imaging_done", day(3), region="chest", modality="CT")
        .add("imaging_done", day(60))
    )
    assert same.alerts(pathway, day(61), "A12a") == []


def test_a12b_warns_when_the_chest_is_imaged_with_mri(pathway: Pathway) -> None:
    chest_mri = History().add("imaging_done", day(2), region="chest", modality="MRI")
    assert severities(chest_mri.alerts(pathway, day(3), "A12b")) == ["warning"]
    chest_ct = History().add("imaging_done", day(2), region="chest", modality="CT")
    assert chest_ct.alerts(pathway, day(3), "A12b") == []
    assert History().add("imaging_done", day(2)).alerts(pathway, day(3), "A12b") == []
