"""Generate a realistic synthetic cohort fast: histories over three years, derived through the
engine's own pure code (timeline, follow-ups, alert plans), bulk-inserted with Core executemany."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pathway.domain.alerts import alerts_for_checks, alerts_for_follow_ups, effective
from pathway.domain.clinical_time import start_of_day
from pathway.domain.followups import derive_follow_ups
from pathway.domain.machine import Pathway
from pathway.domain.model import EventRecord, Patient
from pathway.domain.timeline import build_timeline
from pathway.domain.windows import Calendar
from pathway.services.sync import _values

Step = tuple[int, str, dict[str, Any]]


@dataclass
class Generated:
    patient: dict[str, Any]
    states: dict[str, str]
    events: list[dict[str, Any]]
    follow_ups: list[dict[str, Any]]
    alerts: list[dict[str, Any]]


def history(rng: random.Random, days_enrolled: int) -> list[Step]:
    """About 20 events: baseline, MDT, RT, surveillance imaging and exams, sometimes progression;
    only the ones that have happened by now (every branch goes through the same date filter)."""
    return sorted((s for s in _steps(rng, days_enrolled) if s[0] <= days_enrolled), key=lambda s: s[0])


def _steps(rng: random.Random, days_enrolled: int) -> list[Step]:
    nrs = rng.randint(1, 8)
    steps: list[Step] = [(1, "neuro_exam", {"finding": "baseline"}), (1, "pain_score", {"nrs": nrs})]
    if nrs >= 3:
        steps.append((1, "pain_assessment_detailed", {}))
    steps += [
        (2, "imaging_done", {"region": "pelvis_sacrum", "modality": "MRI"}),
        (2, "imaging_done", {"region": "chest", "modality": "CT"}),
        (5, "fracture_risk_assessed", {"sins": rng.randint(0, 12)}),
    ]
    mdt = rng.randint(7, 16)
    roll = rng.random()
    if roll < 0.08:
        return [
            *steps,
            (mdt, "mdt_decision", {"resectability": "unresectable", "plan": "bsc"}),
            (mdt + 2, "palliative_referral", {}),
        ]
    if roll < 0.15:
        return [*steps, (mdt, "mdt_decision", {"resectability": "resectable", "plan": "surgery"})]
    start = mdt + rng.randint(7, 35)
    steps += [
        (mdt, "mdt_decision", {"resectability": "unresectable", "plan": "definitive_rt"}),
        (mdt + 5, "rt_plan_approved", {"total_dose_gy": 63.0, "fractions": 35}),
        (start, "rt_started", {}),
        (start + 48, "rt_completed", {}),
        (start + rng.randint(20, 60), "palliative_referral", {}),
    ]
    day, exam, state = start + 48, 0, "surveillance"
    while len(steps) < 22:
        day += rng.randint(45, 90)
        steps += [
            (day, "imaging_done", {"region": "pelvis_sacrum", "modality": "MRI"}),
            (day, "imaging_done", {"region": "chest", "modality": "CT"}),
        ]
        if day - exam > 100:
            steps.append((day, "exam_done", {}))
            exam = day
        if state == "surveillance" and rng.random() < 0.12:
            steps += [
                (day + 1, "progression", {"basis": "recist"}),
                (day + 8, "mdt_decision", {"resectability": "unresectable", "plan": "next_line"}),
            ]
            state = "systemic_therapy"
        elif rng.random() < 0.03:
            steps.append((day + 3, "death", {}))
            break
    last = max(s[0] for s in steps)
    if last + 120 < days_enrolled and not any(s[1] == "death" for s in steps):
        # histories that stop long ago end: most patients with metastatic disease leave the
        # pathway (death, transfer or loss to follow-up) within a year or two
        ending = rng.choice(["death", "death", "transfer", "lost_to_follow_up"])
        steps.append((last + rng.randint(30, 90), ending, {}))
    return steps


def generate(
    pathway: Pathway, calendar: Calendar, now: datetime, n: int, seed: int = 7
) -> Iterator[Generated]:
    rng = random.Random(seed)
    definition = pathway.definition
    rules = definition.rules.follow_ups
    event_id = 0
    for pid in range(1, n + 1):
        days = rng.randint(1, 3 * 365)
        enrolled_on = (now - timedelta(days=days)).astimezone(calendar.zone).date()
        enrolled_at = start_of_day(enrolled_on, calendar.zone)
        histology = rng.choice(["sts", "sts", "sts", "chordoma", "other"])
        patient = Patient(pid, f"B{pid:07d}", enrolled_on, enrolled_at, histology)
        records, states = [], definition.initial_states()
        for offset, kind, data in history(rng, days):
            event_id += 1
            at = start_of_day(enrolled_on + timedelta(days=offset), calendar.zone)
            outcome = pathway.fire(states, kind, data)
            records.append(EventRecord(event_id, pid, kind, at, at, "bench", data, None, outcome.changes))
            states = outcome.states
        timeline = build_timeline(pathway, enrolled_at, records)
        fus = derive_follow_ups(definition, timeline, calendar)
        candidates = effective(
            alerts_for_follow_ups(definition, fus, now, calendar.zone)
            + alerts_for_checks(definition, patient, timeline, calendar.zone)
        )
        yield Generated(
            patient={
                "id": pid,
                "mrn": patient.mrn,
                "name": None,
                "birth_date": None,
                "histology": histology,
                "enrolled_on": enrolled_on,
                "enrolled_at": enrolled_at,
                "pathway_id": definition.pathway.id,
                "version": 1 + len(records),
                "updated_at": now,
            },
            states=states,
            events=[
                {
                    "id": e.id,
                    "patient_id": pid,
                    "type": e.type,
                    "occurred_at": e.occurred_at,
                    "recorded_at": e.recorded_at,
                    "actor": "bench",
                    "reason": None,
                    "data": e.data,
                    "changes": {k: list(v) for k, v in e.changes.items()},
                }
                for e in records
            ],
            follow_ups=[
                {
                    "patient_id": pid,
                    "rule": f.rule,
                    "region": f.region,
                    "anchor_at": f.anchor_at,
                    **_values(f, now, calendar, rules),
                }
                for f in fus
            ],
            alerts=[
                {
                    "patient_id": pid,
                    "rule": c.rule,
                    "instance_key": c.key,
                    "severity": c.severity,
                    "status": "open",
                    "message": c.message,
                    "source": c.source,
                    "states_at_fire": states,
                    "pathway_hash": definition.content_hash,
                    "opened_at": c.opened_at,
                    "created_at": now,
                    "updated_at": now,
                    "held": False,
                    "urgent": c.urgent,
                    "track": c.track,
                    "next_renotify_at": now if c.severity == "critical" else None,
                }
                for c in candidates
            ],
        )


def bench_now() -> datetime:
    return datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
