"""The `pathway` command: parse -> one service call -> render. Errors: one line on stderr, exit 2."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from db import migrate
from db.accounts import mark_demo
from pathway.cli import render, render_bone, render_care
from pathway.cli.common import ACTS_AS, ChecksFailed, JsonOpt, acting, app, get_app, handles_errors
from pathway.domain.alert_status import LIVE
from pathway.domain.clinical_time import parse_date, parse_datetime
from pathway.domain.diagram import mermaid
from pathway.domain.errors import InvalidInput
from pathway.domain.status import PENDING
from pathway.services import alerting, bone, dosing, pathway_change, patients
from pathway.services.demo import load_demo


@app.command()
@handles_errors
def init(demo: Annotated[bool, typer.Option(help="Also load the demo cohort.")] = False) -> None:
    """Create or upgrade the database (safe to run twice).

    Example: pathway init --demo
    """
    application = get_app(check=False)
    before, after = migrate.upgrade(application.engine)
    url = application.engine.url.render_as_string(hide_password=True)
    state = "created" if before is None else ("up to date" if before == after else "upgraded")
    print(f"database {url}: {state} (schema {after})")
    settings = application.settings
    adopted = pathway_change.adopt(
        application.deps, settings.pathway_file.read_text(encoding="utf-8"), "pathway init"
    )
    if adopted is not None:
        print(f"pathway file {settings.pathway_file.name}: recorded as version 1 (`pathway pathway-history`)")
    if demo:
        created = load_demo(application.deps)
        mark_demo(application.engine, application.deps.clock.now())
        print(f"demo cohort: {len(created)} patient(s) added" + ("" if created else " (already loaded)"))


@app.command(epilog=ACTS_AS)
@handles_errors
def enroll(
    mrn: str,
    name: Annotated[str | None, typer.Option(help="Patient name (kept out of logs).")] = None,
    birth_date: Annotated[str | None, typer.Option("--birth-date", help="YYYY-MM-DD")] = None,
    histology: Annotated[
        str | None,
        typer.Option(help="sts, chordoma, gctb, chondrosarcoma_conventional, chondrosarcoma_other, other"),
    ] = None,
    on: Annotated[str | None, typer.Option(help="Enrolment date YYYY-MM-DD (default today).")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="FIELD=VALUE of the staging event, e.g. sites=ilium,si_joint (repeat)."),
    ] = None,
    prior: Annotated[
        list[str] | None,
        typer.Option(
            "--prior",
            help="FIELD=VALUE of the prior treatment (anthracycline before this pathway, cardiac-region RT), "
            "e.g. drug=epirubicin cumulative_dose=150 unit=mg/m2 cardiac_region_rt=no (repeat).",
        ),
    ] = None,
    confirm_new: Annotated[
        bool,
        typer.Option("--confirm-new", help="Enrol although a patient with this name and birth date exists."),
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Enrol a patient on the pathway (with --set, the involved sites are recorded with it; with
    --prior, the anthracycline given before this pathway).

    Example: pathway enroll MRN-1001 --histology sts --on 2026-11-02 --set sites=ilium,si_joint
    """
    application = get_app()
    actor = acting(application, "enrol")
    patient = patients.enroll(
        application.deps,
        mrn,
        name=name,
        histology=histology,
        birth_date=parse_date(birth_date, "--birth-date") if birth_date else None,
        on=parse_date(on, "--on") if on else None,
        fields=_fields(set_ or []),
        prior=_fields(prior or [], "--prior"),
        actor=actor.name,
        confirm_new=confirm_new,
    )
    if json_:
        render.dump_json(render.patient_json(patient))
        return
    print(f"enrolled {patient.mrn} (patient {patient.id}) on {patient.enrolled_on}")


@app.command(epilog=ACTS_AS)
@handles_errors
def record(
    mrn: str,
    event: str,
    on: Annotated[str | None, typer.Option(help="Clinic-local date YYYY-MM-DD.")] = None,
    at: Annotated[str | None, typer.Option(help="Clinic-local YYYY-MM-DDTHH:MM.")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="FIELD=VALUE (repeat).")] = None,
    reason: Annotated[str | None, typer.Option(help="Why (needed for retraction).")] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who records it; refused once there are user accounts.")
    ] = None,
    expect_version: Annotated[
        int | None, typer.Option("--expect-version", help="Refuse if the patient changed since this version.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Record something that happened to a patient (back-dated with --on or --at).

    Example: pathway record MRN-1001 pain_score --on 2026-11-03 --set nrs=6 --by j.smith
    """
    application = get_app()
    event = event.strip().lower()
    actor = acting(application, "record", by)
    result = patients.record_event(
        application.deps,
        mrn,
        event,
        _fields(set_ or []),
        on=parse_date(on, "--on") if on else None,
        at=parse_datetime(at, "--at") if at else None,
        reason=reason,
        actor=actor.name,
        expected_version=expect_version,
        role=actor.role,
    )
    if json_:
        render.dump_json(
            {
                "event": render.event_json(result.event, application.deps.zone, False),
                "patient": render.patient_json(result.patient),
                "changes": {t: list(change) for t, change in result.changes.items()},
            }
        )
        return
    moved = ", ".join(f"{t}: {a} → {b}" for t, (a, b) in result.changes.items())
    print(
        f"recorded {result.event.type} for {result.patient.mrn} "
        f"(event {result.event.id}); " + (moved or "no state change")
    )
    if result.handover:
        print(
            f"hand-over summary stored with event {result.event.id}: "
            f"`pathway handover {result.patient.mrn}`, "
            f"GET /api/v1/patients/{result.patient.mrn}/handover, or the patient page"
        )


def _fields(pairs: list[str], option: str = "--set") -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"{option} {pair!r}: use FIELD=VALUE, e.g. {option} nrs=6")
        key = name.strip().lower()
        if key in fields:
            raise InvalidInput(
                f"{option} {key} is given twice ({fields[key]!r} and {value.strip()!r}); give it once"
            )
        fields[key] = value.strip()
    return fields


@app.command()
@handles_errors
def status(mrn: str, json_: JsonOpt = False) -> None:
    """Where a patient stands in every track, what may happen next, and recent history.

    Example: pathway status MRN-1001 --json
    """
    application = get_app()
    deps = application.deps
    view = patients.status(deps, mrn)
    follow_ups, alerts = alerting.follow_ups_of(deps, mrn)
    rules = dict(deps.pathway.definition.rules.follow_ups)
    current = [f for f in follow_ups if f.status in PENDING]
    live = [a for a in alerts if a.status in LIVE]
    warning = pathway_change.hint(deps, str(application.settings.pathway_file))
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    doses = dosing.summary_of(deps, mrn)
    if json_:
        out = render.status_json(view, deps.zone)
        out["anthracycline"] = render.dose_json(doses, deps.zone)
        out["follow_ups"] = [render_care.follow_up_json(f, rules, deps.zone) for f in current]
        out["alerts"] = [render_care.alert_json(a) for a in live]
        out["bone_agents"] = render_bone.bone_json(bone.agents_of(deps, mrn))
        render.dump_json(out)
        return
    render.show_status(view, deps.zone, application.settings.show_names)
    render_bone.show_bone(bone.agents_of(deps, mrn))
    render.show_doses(doses, deps.zone)
    if current:
        render.console.print("[bold]Follow-ups:[/bold]")
        render_care.follow_ups_table(current, rules, deps.zone)
    if live:
        render.console.print("[bold]Alerts:[/bold]")
        render_care.alerts_table([(a, view.patient.mrn) for a in live], deps.zone)


@app.command("list")
@handles_errors
def list_(
    track: Annotated[str | None, typer.Option(help="Filter on a track, e.g. main.")] = None,
    state: Annotated[str | None, typer.Option(help="Filter on a state, e.g. surveillance.")] = None,
    json_: JsonOpt = False,
) -> None:
    """List patients with the state of each track.

    Example: pathway list --track main --state surveillance
    """
    application = get_app()
    rows = patients.list_patients(application.deps, track, state)
    if json_:
        render.dump_json([{"patient": render.patient_json(p), "tracks": s} for p, s in rows])
    else:
        render.patients_table(rows, list(application.deps.pathway.definition.tracks))


@app.command()
@handles_errors
def history(mrn: str, json_: JsonOpt = False) -> None:
    """The full, append-only history of a patient (retracted events marked "[retracted]"; reasons shown).

    Example: pathway history MRN-1001
    """
    application = get_app()
    h = patients.history(application.deps, mrn)
    zone = application.deps.zone
    if json_:
        render.dump_json(
            {
                "patient": render.patient_json(h.patient),
                "events": [render.event_json(e, zone, e.id in h.retracted) for e in h.events],
            }
        )
    else:
        render.console.print(f"[bold]{h.patient.mrn}[/bold] (patient {h.patient.id})")
        render.events_table(h.events, zone, h.retracted)


@app.command()
@handles_errors
def events(json_: JsonOpt = False) -> None:
    """The event types of the pathway, with their fields and allowed values.

    Example: pathway events --json
    """
    pathway = get_app(check=False).deps.pathway
    tracks_of = {name: pathway.tracks_of(name) for name in pathway.definition.events}
    if json_:
        render.dump_json(render.catalogue_json(pathway.definition, tracks_of))
    else:
        render.events_catalogue(pathway.definition, tracks_of)


@app.command()
@handles_errors
def diagram(
    track: Annotated[str | None, typer.Option(help="One track (default: all).")] = None,
    mrn: Annotated[str | None, typer.Option(help="Highlight this patient's states.")] = None,
) -> None:
    """Print the pathway as Mermaid state diagrams (paste into any Mermaid viewer).

    Example: pathway diagram --track mscc
    """
    application = get_app(check=mrn is not None)
    definition = application.deps.pathway.definition
    if track is not None and track not in definition.tracks:
        raise InvalidInput(f"unknown track '{track}'; tracks: {', '.join(definition.tracks)}")
    states = patients.status(application.deps, mrn).states if mrn else {}
    for name in [track] if track else list(definition.tracks):
        print(mermaid(definition, name, states.get(name)))


@app.command()
@handles_errors
def verify(json_: JsonOpt = False) -> None:
    """Rebuild every patient's tracks from history and compare with the stored states (exit 1 if any differ).

    Example: pathway verify --json
    """
    application = get_app()
    mismatches = patients.verify_replay(application.deps)
    if json_:
        render.dump_json({"ok": not mismatches, "mismatches": mismatches})
        if mismatches:
            raise typer.Exit(1)
        return
    for line in mismatches:
        print(line)
    if mismatches:
        raise ChecksFailed(f"{len(mismatches)} patient(s) differ from their history")
    print("every patient's stored state matches its history")


def main() -> None:
    app()


from pathway.cli import audit_cmd as _audit  # noqa: E402,F401
from pathway.cli import backup_cmds as _backup  # noqa: E402,F401
from pathway.cli import care as _care  # noqa: E402,F401  (registers the follow-up commands)
from pathway.cli import caseload_cmds as _caseload  # noqa: E402,F401
from pathway.cli import fhir_cmds as _fhir  # noqa: E402,F401
from pathway.cli import handover_cmd as _handover  # noqa: E402,F401
from pathway.cli import health_cmd as _health  # noqa: E402,F401
from pathway.cli import import_cmd as _import  # noqa: E402,F401
from pathway.cli import notify_cmds as _notify  # noqa: E402,F401
from pathway.cli import pathway_cmds as _pathway_cmds  # noqa: E402,F401
from pathway.cli import report_cmds as _report  # noqa: E402,F401
from pathway.cli import rules_cmd as _rules  # noqa: E402,F401
from pathway.cli import serve_cmd as _serve  # noqa: E402,F401
from pathway.cli import users_cmds as _users  # noqa: E402,F401
