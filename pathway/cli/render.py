"""Turning service results into Rich tables or JSON; no logic."""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime, tzinfo
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pathway.domain.clinical_time import local_date
from pathway.domain.definition import PathwayDefinition
from pathway.domain.dose_summary import DoseSummary, shown_next
from pathway.domain.events import show_value
from pathway.domain.model import EventRecord, Patient, PatientView


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """Rich would exit 1; the command's error handler ends quietly with success instead."""
        self.quiet = True
        raise BrokenPipeError


# a terminal (or COLUMNS, when piped) sets the width; 120 columns for files and pipes otherwise
console = _Console(highlight=False, width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 120)


def dump_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=False, default=_default))


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | tuple):
        return list(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def patient_json(p: Patient) -> dict[str, Any]:
    return {
        "id": p.id,
        "mrn": p.mrn,
        "enrolled_on": p.enrolled_on.isoformat(),
        "histology": p.histology,
        "birth_date": p.birth_date,
        "version": p.version,
    }


def event_json(e: EventRecord, zone: tzinfo, retracted: bool = False) -> dict[str, Any]:
    return {
        "id": e.id,
        "event": e.type,
        "occurred_at": e.occurred_at.isoformat(),
        "occurred_on": e.occurred_at.astimezone(zone).date().isoformat(),
        "recorded_at": e.recorded_at.isoformat(),
        "actor": e.actor,
        "data": e.data,
        "reason": e.reason,
        "changes": {k: list(v) for k, v in e.changes.items()},
        "retracted": retracted,
    }


def status_json(view: PatientView, zone: tzinfo) -> dict[str, Any]:
    return {
        "patient": patient_json(view.patient),
        "tracks": view.states,
        "allowed_events": view.allowed_events,
        "recent_events": [event_json(e, zone) for e in view.recent],
        "follow_ups": [],
        "alerts": [],
    }


def _when(e: EventRecord, zone: tzinfo) -> str:
    local = e.occurred_at.astimezone(zone)
    return (
        local.strftime("%Y-%m-%d")
        if local.time() == datetime.min.time()
        else local.strftime("%Y-%m-%d %H:%M")
    )


def _fields(data: dict[str, Any]) -> str:
    return " ".join(f"{k}={show_value(v)}" for k, v in data.items())


def _changes(e: EventRecord) -> str:
    return ", ".join(f"{t}: {a} → {b}" for t, (a, b) in e.changes.items())


def show_status(view: PatientView, zone: tzinfo, show_name: bool = True) -> None:
    p = view.patient
    name = f" {escape(p.name)}" if show_name and p.name else ""
    console.print(
        f"[bold]{p.mrn}[/bold]{name}  (patient {p.id}, enrolled {p.enrolled_on}, "
        f"histology {p.histology or 'not recorded'})"
    )
    table = Table(show_header=True, header_style="bold")
    table.add_column("track")
    table.add_column("state")
    for track in sorted(view.states, key=list(view.order).index):
        table.add_row(track, view.states[track])
    console.print(table)
    console.print("[bold]Allowed next:[/bold] " + (", ".join(view.allowed_events) or "none"))
    if view.recent:
        console.print("[bold]Recent history:[/bold]")
        events_table(view.recent, zone, set())


def events_table(events: list[EventRecord], zone: tzinfo, retracted: set[int]) -> None:
    table = Table(show_header=True, header_style="bold")
    for col in ("id", "on", "event", "fields", "changes", "by", "reason"):
        table.add_column(col, overflow="fold")  # values are folded onto the next line, never cut
    for e in events:
        gone = e.id in retracted
        style = "strike dim" if gone else None
        kind = f"{e.type} [retracted]" if gone else e.type  # in words: a pipe or a file drops the strike
        table.add_row(
            str(e.id),
            _when(e, zone),
            escape(kind),
            _fields(e.data),
            _changes(e),
            e.actor,
            e.reason or "",
            style=style,
        )
    console.print(table)


def patients_table(rows: list[tuple[Patient, dict[str, str]]], tracks: list[str]) -> None:
    table = Table(show_header=True, header_style="bold")
    table.add_column("MRN", no_wrap=True)
    table.add_column("enrolled")
    table.add_column("histology")
    for t in tracks:
        table.add_column(t)
    for p, states in rows:
        table.add_row(
            p.mrn, p.enrolled_on.isoformat(), p.histology or "-", *(states.get(t, "-") for t in tracks)
        )
    console.print(table)
    console.print(f"{len(rows)} patient(s)")


def events_catalogue(definition: PathwayDefinition, tracks_of: dict[str, list[str]]) -> None:
    table = Table(show_header=True, header_style="bold")
    for col in ("event", "tracks", "fields", "description"):
        # allowed values are printed in full, folded onto the next line rather than cut
        table.add_column(col, overflow="fold")
    for name, spec in definition.events.items():
        fields = []
        for fname, f in spec.fields.items():
            kind = " | ".join(f.values) if f.values else f.type
            if f.min is not None or f.max is not None:
                kind += f" {f.min:g}–{f.max:g}" if f.min is not None and f.max is not None else ""
            fields.append(f"{fname}{'' if f.required else '?'}={kind}")
        table.add_row(name, ", ".join(tracks_of[name]) or "(correction)", "\n".join(fields), spec.description)
    console.print(table)
    console.print("field? = optional. Choice values are case-insensitive.")


def catalogue_json(definition: PathwayDefinition, tracks_of: dict[str, list[str]]) -> list[Any]:
    return [
        {
            "event": name,
            "tracks": tracks_of[name],
            "description": spec.description,
            "fields": {f: v.model_dump(exclude_none=True) for f, v in spec.fields.items()},
        }
        for name, spec in definition.events.items()
    ]


def dose_json(s: DoseSummary | None, zone: tzinfo) -> dict[str, Any] | None:
    if s is None:
        return None
    nxt = s.projection.next_dose
    return {
        "cumulative_mg_m2": round(s.cumulative, 3),
        "prior_mg_m2": round(s.prior, 3),
        "projected_after_next_mg_m2": round(s.projection.after_next, 3),
        "projected_plan_mg_m2": round(s.projection.plan_total, 3),
        "bsa_m2": round(s.bsa, 3) if s.bsa is not None else None,
        "bsa_formula": s.bsa_formula,
        "last_lvef": (
            {
                "percent": s.last_lvef.percent,
                "method": s.last_lvef.method,
                "on": str(local_date(s.last_lvef.at, zone)),
            }
            if s.last_lvef
            else None
        ),
        "next_dose": (
            {
                "drug": nxt.drug,
                "cycle": nxt.cycle,
                "due_on": str(local_date(nxt.due_at, zone)),
                "dose": nxt.dose,
                "unit": nxt.unit,
                "text": shown_next(s, zone),
            }
            if nxt
            else None
        ),
        "outstanding": s.outstanding,
    }


def show_doses(s: DoseSummary | None, zone: tzinfo) -> None:
    if s is None:
        return
    lvef = (
        f"LVEF {s.last_lvef.percent:g} % ({s.last_lvef.method}, {local_date(s.last_lvef.at, zone)})"
        if s.last_lvef
        else "no LVEF recorded"
    )
    console.print(
        f"[bold]Anthracycline:[/bold] {s.cumulative:g} mg/m² doxorubicin-equivalent given "
        f"(prior treatment {s.prior:g}); {escape(lvef)}"
    )
    console.print(
        f"[bold]Next planned dose:[/bold] {escape(shown_next(s, zone))}; projected "
        f"{s.projection.after_next:g} mg/m² after it, {s.projection.plan_total:g} after the whole plan"
    )
    for item in s.outstanding:
        console.print(f"  outstanding: {escape(item)}")


def _lvef_json(s: DoseSummary, zone: tzinfo) -> dict[str, Any] | None:
    if s.last_lvef is None:
        return None
    return {
        "percent": s.last_lvef.percent,
        "method": s.last_lvef.method,
        "on": str(local_date(s.last_lvef.at, zone)),
    }
