"""A demo cohort of a dozen patients at different points of the pathway, built through the services."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from pathway.domain.clinical_time import local_date
from pathway.ports import Deps
from pathway.services.patients import enroll, record_event

Step = tuple[int, str, dict[str, str]]  # (days after enrolment, event, fields)
TimedStep = tuple[int, str, dict[str, str], time]  # an event that starts an hour clock: at a time

MDT_RT = {"resectability": "unresectable", "plan": "definitive_rt"}
BASELINE: list[Step] = [
    (1, "neuro_exam", {"finding": "baseline"}),
    (1, "pain_score", {"nrs": "4"}),
    (1, "pain_assessment_detailed", {}),
    (2, "imaging_done", {"region": "pelvis_sacrum", "modality": "MRI"}),
    (2, "imaging_done", {"region": "chest", "modality": "CT"}),
    (5, "fracture_risk_assessed", {"sins": "5"}),
    (9, "mdt_decision", MDT_RT),
]
RT_DONE: list[Step] = [
    *BASELINE,
    (14, "rt_plan_approved", {"total_dose_gy": "63", "fractions": "35", "technique": "VMAT"}),
    (20, "rt_started", {}),
    (68, "rt_completed", {}),
]

COHORT: list[tuple[str, str, int, Sequence[Step | TimedStep]]] = [
    ("DEMO-001", "sts", 5, [(1, "pain_score", {"nrs": "2"})]),
    ("DEMO-002", "chordoma", 12, BASELINE[:3]),
    (
        "DEMO-003",
        "sts",
        30,
        [*BASELINE, (15, "rt_plan_approved", {"total_dose_gy": "60", "fractions": "30"})],
    ),
    (
        "DEMO-004",
        "sts",
        45,
        [
            *BASELINE,
            (14, "rt_plan_approved", {"total_dose_gy": "65", "fractions": "35"}),
            (22, "rt_started", {}),
            (30, "palliative_referral", {}),
        ],
    ),
    ("DEMO-005", "chordoma", 110, [*RT_DONE, (70, "palliative_referral", {}), (80, "palliative_visit", {})]),
    (
        "DEMO-006",
        "sts",
        200,
        [
            *RT_DONE,
            (75, "exam_done", {}),
            (120, "imaging_done", {"region": "pelvis_sacrum", "modality": "MRI", "response": "SD"}),
        ],
    ),
    (
        "DEMO-007",
        "sts",
        260,
        [
            *RT_DONE,
            (130, "progression", {"basis": "recist"}),
            (140, "mdt_decision", {"resectability": "unresectable", "plan": "next_line"}),
        ],
    ),
    (
        "DEMO-008",
        "gctb",
        90,
        [
            *BASELINE[:6],
            (10, "dental_exam", {}),
            (12, "bma_started", {"agent": "denosumab", "schedule": "q4w", "dose_mg": "120"}),
        ],
    ),
    (
        "DEMO-009",
        "sts",
        150,
        [
            *RT_DONE,
            (72, "palliative_referral", {}),
            (148, "neuro_exam", {"finding": "new_deficit"}, time(9, 0)),  # its 24 h clock: late at any hour
            (148, "mscc_escalated", {"contact": "mscc_coordinator"}, time(9, 30)),
            (
                148,
                "dexamethasone_started",
                {"dose_mg_per_day": "16", "indication": "mscc_neuro"},
                time(10, 0),
            ),
        ],
    ),
    (
        "DEMO-010",
        "other",
        40,
        [
            *BASELINE[:3],
            (8, "mdt_decision", {"resectability": "unresectable", "plan": "bsc"}),
            (9, "palliative_referral", {}),
        ],
    ),
    (
        "DEMO-011",
        "chondrosarcoma_conventional",
        60,
        [*BASELINE[:6], (10, "mdt_decision", {"resectability": "resectable", "plan": "surgery"})],
    ),
    ("DEMO-012", "sts", 300, [*RT_DONE, (250, "death", {})]),
]


def load_demo(deps: Deps, actor: str = "demo") -> list[str]:
    """Enrol the demo cohort relative to today; returns the MRNs created (skips existing ones)."""
    today = local_date(deps.clock.now(), deps.zone)
    created: list[str] = []
    with deps.read() as uow:
        existing = {mrn for mrn, *_ in COHORT if uow.patients.by_mrn(mrn) is not None}
    for mrn, histology, days_ago, steps in COHORT:
        if mrn in existing:
            continue
        enrolled_on = today - timedelta(days=days_ago)
        enroll(deps, mrn, histology=histology, on=enrolled_on)
        for offset, event, fields, *at in steps:
            day = enrolled_on + timedelta(days=offset)
            if at:
                when = datetime.combine(day, at[0])
                record_event(deps, mrn, event, dict(fields), at=when, actor=actor)
            else:
                record_event(deps, mrn, event, dict(fields), on=day, actor=actor)
        created.append(mrn)
    return created
