"""Commands for follow-ups and alerts: sweep, due, alerts, ack, snooze, override, why, scheduler."""

from __future__ import annotations

from typing import Annotated, cast

import typer

from pathway import alerting, health, logs
from pathway.cli import render, render_care
from pathway.cli.choices import AlertStatus, OverrideReason, Role, Severity
from pathway.cli.common import JsonOpt, app, get_app, handles_errors
from pathway.domain.clinical_time import parse_date
from scheduler.channels import EmailSender

By = Annotated[
    str, typer.Option("--by", envvar="PATHWAY_ACTOR", help="Who is acting (recorded on the alert).")
]


@app.command()
@handles_errors
def sweep(
    all_: Annotated[bool, typer.Option("--all", help="Recompute every patient from history.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Move follow-ups and alerts forward to now; safe to run twice or in parallel.

    Example: pathway sweep --json
    """
    application = get_app()
    job = alerting.refresh_all if all_ else alerting.sweep
    changes = health.run_recorded(application.deps, health.SWEEP, lambda: job(application.deps))
    if json_:
        render.dump_json(changes.as_dict())
        return
    for line in changes.lines:
        print(line)
    print(
        f"sweep: {changes.patients} patient(s) checked; {changes.follow_ups_created} follow-up(s) "
        f"created, {changes.follow_ups_changed} changed; alerts: {changes.alerts_opened} opened, "
        f"{changes.alerts_escalated} escalated, {changes.alerts_resolved} resolved, "
        f"{changes.alerts_reopened} reopened"
    )


@app.command()
@handles_errors
def due(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Clinic date YYYY-MM-DD.")] = None,
    within: Annotated[
        int | None, typer.Option(help="Include steps opening within N days (default 7).")
    ] = None,
    severity: Annotated[Severity | None, typer.Option(help="Only alerts of this severity or higher.")] = None,
    limit: Annotated[int, typer.Option(help="Show the N most urgent lines (0: all).")] = 200,
    json_: JsonOpt = False,
) -> None:
    """The worklist: open alerts, overdue, due and soon-due steps, most urgent first.

    Example: pathway due --within 14
    """
    if limit < 0:
        raise typer.BadParameter("must be 0 (all) or more", param_hint="--limit")
    application = get_app()
    day = parse_date(as_of, "--as-of") if as_of else None
    items = alerting.worklist(
        application.deps, day, within, severity.value if severity else None, limit or None
    )
    if json_:
        render.dump_json(render_care.worklist_json(items, application.deps.zone))
        return
    render_care.worklist_lines(items, application.deps.zone)
    if limit and len(items) >= limit:
        counts = alerting.worklist_counts(application.deps, day, within)
        print(
            f"showing the {limit} most urgent lines of "
            + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items() if n)
            + "; --limit 0 shows all"
        )


@app.command()
@handles_errors
def alerts(
    status: Annotated[
        AlertStatus | None,
        typer.Option(help="live (default): open, acknowledged or snoozed; all: every status."),
    ] = None,
    mrn: Annotated[str | None, typer.Option(help="Only this patient.")] = None,
    json_: JsonOpt = False,
) -> None:
    """List alerts with their rule, severity, status and clinical source.

    Example: pathway alerts --status all --mrn MRN-1001
    """
    application = get_app()
    rows = alerting.list_alerts(application.deps, status.value if status else None, mrn)
    dead = alerting.undelivered_alert_ids(application.deps)
    if json_:
        render.dump_json(
            [render_care.alert_json(a, m) | {"notification_dead": a.id in dead} for a, m in rows]
        )
    else:
        render_care.alerts_table(rows, application.deps.zone, dead)


@app.command()
@handles_errors
def ack(alert_id: int, by: By, note: Annotated[str | None, typer.Option()] = None) -> None:
    """Acknowledge an alert (it still resolves by itself when the step is done).

    Example: pathway ack 12 --by j.smith --note "MRI booked for Friday"
    """
    alert = alerting.acknowledge(get_app().deps, alert_id, by, note)
    print(f"alert {alert.id} acknowledged by {alert.acted_by}")


@app.command()
@handles_errors
def snooze(
    alert_id: int,
    until: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    by: By,
    note: Annotated[str, typer.Option(help="Why it can wait.")],
) -> None:
    """Snooze an alert until a date; it reopens then unless the step is done.

    Example: pathway snooze 12 --until 2026-12-04 --by j.smith --note "patient abroad"
    """
    alert = alerting.snooze(get_app().deps, alert_id, parse_date(until, "--until"), by, note)
    print(f"alert {alert.id} snoozed until {until} by {alert.acted_by}")


@app.command()
@handles_errors
def override(
    alert_id: int,
    reason: Annotated[OverrideReason, typer.Option(help="Why the alert is overridden.")],
    note: Annotated[str, typer.Option(help="The clinical reasoning.")],
    by: By,
    until: Annotated[
        str | None, typer.Option(help="Expiry YYYY-MM-DD (default: this alert instance only).")
    ] = None,
    role: Annotated[
        Role, typer.Option(help="Role of the person overriding; critical alerts need clinician.")
    ] = Role.coordinator,
) -> None:
    """Override an alert with a reason code; it stays visible as overridden.

    Example: pathway override 12 --reason patient_preference --note "declined MRI" --by dr.lee
    """
    alert = alerting.override(
        get_app().deps,
        alert_id,
        reason.value,
        note,
        by,
        role.value,
        parse_date(until, "--until") if until else None,
    )
    print(f"alert {alert.id} overridden ({reason}) by {alert.acted_by}")


@app.command()
@handles_errors
def why(mrn: str, rule: str, json_: JsonOpt = False) -> None:
    """Explain a follow-up: rule and source, anchor, interval, calendar shifts and pauses.

    Example: pathway why MRN-1001 T09
    """
    explanations = alerting.why(get_app().deps, mrn, rule)
    if json_:
        render.dump_json(explanations)
        return
    for e in explanations:
        region = f" ({e['region']})" if e["region"] else ""
        window = e["window"]
        interval = e["interval"]
        assert isinstance(window, dict) and isinstance(interval, dict)
        print(f"{e['rule']} {e['step']}{region}: {e['status']}")
        print(f"  rule source: {e['source']} [{e['kind']}]")
        runs_in, done_by = cast(list[str], e["runs_in"]), cast(list[str], e["done_by"])
        print(f"  runs while {e['track']} is in: {', '.join(runs_in)}; done by: {', '.join(done_by)}")
        print(f"  anchor: {e['anchor']} at {e['anchor_at']}")
        print(
            f"  interval: opens {interval['opens']}, target {interval['target'] or '-'}, closes "
            f"{interval['closes']}{' (re-anchors on each done)' if interval['recurring'] else ''}"
        )
        print(f"  window: {window['opens']} → target {window['target']} → closes {window['closes']}")
        for note in e["adjustments"]:  # type: ignore[attr-defined]
            print(f"  adjustment: {note}")
        for level in e["alert_levels"]:  # type: ignore[attr-defined]
            print(f"  alert {level['alert']} {level['severity']} from {level['fires_at']}")
        if e["done_on"]:
            print(
                f"  done on {e['done_on']}"
                + (f", {e['late_days']} day(s) late" if e["late_days"] else "")
                + (", early" if e["early"] else "")
            )
        if e["cancel_reason"]:
            print(f"  cancelled: {e['cancel_reason']}")


@app.command("scheduler")
@handles_errors
def scheduler_cmd(
    sweep_minutes: Annotated[
        int | None, typer.Option(envvar="PATHWAY_SWEEP_MINUTES", help="Minutes between sweeps.")
    ] = None,
) -> None:
    """Run the reminder jobs in the foreground (catch-up sweep first); stop with Ctrl-C or SIGTERM.

    Example: pathway scheduler --sweep-minutes 5
    """
    from scheduler.report_job import ReportConfig
    from scheduler.runner import Jobs, run

    if sweep_minutes is not None and not 1 <= sweep_minutes <= 1440:
        raise typer.BadParameter("must be between 1 and 1440", param_hint="--sweep-minutes")
    application = get_app()
    settings = application.settings
    logs.configure(settings.log_format)
    minutes = settings.sweep_minutes if sweep_minutes is None else sweep_minutes
    senders = application.senders()
    mailer = senders.get("email")
    report = ReportConfig(
        settings.reports_dir, settings.report_recipients, mailer if isinstance(mailer, EmailSender) else None
    )
    run(Jobs(application.deps, minutes, senders, application.retry_policy, settings.report_time, report))
