"""The hand-over summary of a patient leaving the pathway (transfer, withdrawal, loss to follow-up).

Built once, when the exit is recorded and before it closes the follow-ups and alerts, from what
the record holds at that moment; stored with the exit event as plain JSON so it reads the same
later, whatever the pathway file or the code become. Pure: the caller passes `now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from pathway.domain.clinical_time import local_date
from pathway.domain.definition import PathwayDefinition
from pathway.domain.model import EventRecord, Patient, StoredAlert, StoredFollowUp
from pathway.domain.windows import Window, closes_day, target_day

Summary = dict[str, Any]
LIVE_ALERTS = ("open", "acknowledged", "snoozed")


@dataclass(frozen=True)
class HandoverInput:
    patient: Patient
    exit_event: EventRecord
    states: dict[str, str]  # each track's state just before the exit
    history: list[EventRecord]  # live events before the exit (retracted ones removed)
    follow_ups: list[StoredFollowUp]
    alerts: list[StoredAlert]


def build_handover(d: PathwayDefinition, given: HandoverInput, now: datetime, zone: tzinfo) -> Summary:
    exit_event = given.exit_event
    return {
        "patient": {
            "mrn": given.patient.mrn,
            "enrolled_on": given.patient.enrolled_on.isoformat(),
            "histology": given.patient.histology,
        },
        "pathway": {"id": d.pathway.id, "version": d.pathway.version},
        "exit": {
            "event": exit_event.type,
            "event_id": exit_event.id,
            "on": local_date(exit_event.occurred_at, zone).isoformat(),
            "details": dict(exit_event.data),
            "reason": exit_event.reason,
            "recorded_by": exit_event.actor,
        },
        "generated_at": now.isoformat(),
        "tracks": {t: given.states[t] for t in d.tracks if t in given.states},
        "steps": _steps(d, given.follow_ups, now, zone),
        "open_alerts": _alerts(given.alerts, zone),
        "last_imaging": _imaging(d, given.history, zone),
        "active_drugs": _drugs(d, given.history, zone),
        "pauses": _pauses(d, given.history, zone),
    }


def _status(fu: StoredFollowUp, now: datetime) -> str:
    if fu.status in ("done", "cancelled"):
        return fu.status
    if now < fu.opens_at:
        return "upcoming"
    return "due" if now < fu.closes_at else "overdue"


def _steps(d: PathwayDefinition, rows: list[StoredFollowUp], now: datetime, zone: tzinfo) -> list[Summary]:
    order = {"overdue": 0, "due": 1, "upcoming": 2}
    out = []
    for fu in rows:
        status = _status(fu, now)
        if status not in order:
            continue
        rule = d.rules.follow_ups.get(fu.rule)
        window = Window(fu.opens_at, fu.target_at, fu.closes_at, fu.clock_time)
        out.append(
            {
                "rule": fu.rule,
                "step": rule.step if rule else fu.rule,
                "region": fu.region or None,
                "status": status,
                "target": _when(fu.target_at, zone)
                if fu.clock_time
                else target_day(window, zone).isoformat(),
                "closes": _when(fu.closes_at, zone)
                if fu.clock_time
                else closes_day(window, zone).isoformat(),
                "source": rule.source if rule else None,
            }
        )
    return sorted(out, key=lambda s: (order[s["status"]], s["closes"], s["rule"]))


def _alerts(alerts: list[StoredAlert], zone: tzinfo) -> list[Summary]:
    rank = {"critical": 0, "warning": 1, "info": 2}
    live = [a for a in alerts if a.status in LIVE_ALERTS]
    return [
        {
            "id": a.id,
            "rule": a.rule,
            "severity": a.severity,
            "status": a.status,
            "message": a.message,
            "source": a.source,
            "raised": _when(a.opened_at, zone),
        }
        for a in sorted(live, key=lambda a: (rank.get(a.severity, 3), a.opened_at))
    ]


def _imaging(d: PathwayDefinition, history: list[EventRecord], zone: tzinfo) -> list[Summary]:
    """The last imaging per region and modality: the done events of the report's imaging rules."""
    rules = [d.rules.follow_ups[r] for r in d.rules_in_section("imaging")]
    kinds = {e: r.per for r in rules for e in r.done.events}
    last: dict[tuple[str, str], EventRecord] = {}
    for e in sorted(history, key=lambda e: (e.occurred_at, e.id)):
        if e.type in kinds:
            per = kinds[e.type]
            last[(str(e.data.get(per, "")) if per else "", str(e.data.get("modality", "")))] = e
    return [
        {
            "region": region or None,
            "modality": modality or None,
            "on": local_date(e.occurred_at, zone).isoformat(),
            "event": e.type,
            "event_id": e.id,
            "details": dict(e.data),
        }
        for (region, modality), e in sorted(last.items())
    ]


def _drugs(d: PathwayDefinition, history: list[EventRecord], zone: tzinfo) -> list[Summary]:
    """Medicines started (or changed) and not stopped since, as the pathway file tags its events."""
    active: dict[str, EventRecord] = {}
    for e in sorted(history, key=lambda e: (e.occurred_at, e.id)):
        med = d.events[e.type].medication if e.type in d.events else None
        if med is None:
            continue
        if med.action == "stop":
            active.pop(med.name, None)
        else:
            active[med.name] = e
    return [
        {
            "name": name,
            "since": local_date(e.occurred_at, zone).isoformat(),
            "event": e.type,
            "details": dict(e.data),
        }
        for name, e in sorted(active.items())
    ]


def _pauses(d: PathwayDefinition, history: list[EventRecord], zone: tzinfo) -> list[Summary]:
    pause, resume = d.event_with_role("pause"), d.event_with_role("resume")
    out: list[Summary] = []
    for e in sorted(history, key=lambda e: (e.occurred_at, e.id)):
        if e.type == pause:
            out.append(
                {"from": local_date(e.occurred_at, zone).isoformat(), "to": None, "details": dict(e.data)}
            )
        elif e.type == resume and out and out[-1]["to"] is None:
            out[-1]["to"] = local_date(e.occurred_at, zone).isoformat()
    return out


def _when(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def handover_markdown(s: Summary) -> str:
    """The stored summary as Markdown (the CLI, the API's text form and the patient page)."""
    p, x = s["patient"], s["exit"]
    lines = [
        f"# Hand-over summary: {p['mrn']}",
        "",
        f"- exit: {x['event']} on {x['on']} (event {x['event_id']}, recorded by {x['recorded_by']})"
        + "".join(f"; {k}: {v}" for k, v in x["details"].items()),
        f"- enrolled on {p['enrolled_on']}; histology: {p['histology'] or 'not recorded'}",
        f"- pathway: {s['pathway']['id']} {s['pathway']['version']}; summary made {s['generated_at']}",
        "",
        "## Tracks at exit",
        *[f"- {t}: {state}" for t, state in s["tracks"].items()],
        "",
        "## Open alerts (closed by the exit: hand them over)",
        *(
            [
                f"- **{a['severity']}** {a['rule']} ({a['status']}, raised {a['raised']}): {a['message']}"
                f" — source: {a['source']}"
                for a in s["open_alerts"]
            ]
            or ["- none"]
        ),
        "",
        "## Steps overdue, due or upcoming",
        *(
            [
                f"- {st['status']}: {st['rule']} {st['step']}"
                + (f" ({st['region']})" if st["region"] else "")
                + f", target {st['target']}, window closes {st['closes']}"
                for st in s["steps"]
            ]
            or ["- none"]
        ),
        "",
        "## Last imaging per region and modality",
        *(
            [
                f"- {i['region'] or '-'} {i['modality'] or '-'}: {i['on']} (event {i['event_id']})"
                for i in s["last_imaging"]
            ]
            or ["- none recorded"]
        ),
        "",
        "## Active medicines",
        *(
            [
                f"- {m['name']} since {m['since']}" + "".join(f"; {k}: {v}" for k, v in m["details"].items())
                for m in s["active_drugs"]
            ]
            or ["- none recorded"]
        ),
        "",
        "## Pauses",
        *(
            [
                f"- {pz['from']} to {pz['to'] or 'the exit (never resumed)'}"
                + "".join(f"; {k}: {v}" for k, v in pz["details"].items())
                for pz in s["pauses"]
            ]
            or ["- none"]
        ),
    ]
    return "\n".join(lines) + "\n"
