"""Commands for follow-ups and alerts: sweep, due, alerts, ack, snooze, override, why, scheduler."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from pathway import logs
from pathway.adapters.channels import EmailSender
from pathway.cli import choices, render, render_care
from pathway.cli.choices import OverrideReason
from pathway.cli.common import ACTS_AS, JsonOpt, acting, app, get_app, handles_errors
from pathway.domain.alert_status import Severity
from pathway.domain.clinical_time import parse_date
from pathway.domain.counts import summary
from pathway.domain.explanation import as_json
from pathway.services import accounts, alerting, caseload, health, pathway_change

By = Annotated[
    str | None,
    typer.Option("--by", help="Who is acting (recorded on the alert); refused once there are user accounts."),
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
    pathway_change.require_applied(application.deps, str(application.settings.pathway_file))
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
        + (f", {changes.renotified} critical notification(s) sent again" if changes.renotified else "")
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
    mine: Annotated[
        bool,
        typer.Option(
            "--mine",
            help="Only my caseload: patients named to the account in PATHWAY_TOKEN, and the "
            "unnamed patients of its teams.",
        ),
    ] = False,
    team: Annotated[str | None, typer.Option(help="Only the patients of this care team.")] = None,
    json_: JsonOpt = False,
) -> None:
    """The worklist: open alerts, overdue, due and soon-due steps, most urgent first.

    Example: pathway due --within 14; pathway due --mine
    """
    if limit < 0:
        raise typer.BadParameter("must be 0 (all) or more", param_hint="--limit")
    application = get_app()
    day = parse_date(as_of, "--as-of") if as_of else None
    scope = None
    if mine or team is not None:
        me = (
            accounts.token_holder(application.deps, os.environ.get(accounts.TOKEN_VARIABLE)) if mine else None
        )
        scope = caseload.caseload(application.deps, me, team).mrns
    items = alerting.worklist(
        application.deps, day, within, severity.value if severity else None, limit or None, scope
    )
    if json_:
        render.dump_json(render_care.worklist_json(items, application.deps.zone))
        return
    render_care.worklist_lines(items, application.deps.zone)
    if limit and len(items) >= limit:
        counts = alerting.worklist_counts(application.deps, day, within)
        print(f"showing the {limit} most urgent lines of {summary(counts)}; --limit 0 shows all")


@app.command()
@handles_errors
def alerts(
    status: Annotated[
        choices.AlertStatus | None,
        typer.Option(help="live (default): open, acknowledged or snoozed; all: every status."),
    ] = None,
    mrn: Annotated[str | None, typer.Option(help="Only this patient.")] = None,
    json_: JsonOpt = False,
) -> None:
    """List alerts with their rule, severity, status and clinical source.

    Example: pathway alerts --status all --mrn MRN-1001
    """
    application = get_app()
    rows = alerting.list_alerts(application.deps, status, mrn)
    dead = alerting.undelivered_alert_ids(application.deps)
    if json_:
        render.dump_json(
            [render_care.alert_json(a, m) | {"notification_dead": a.id in dead} for a, m in rows]
        )
    else:
        render_care.alerts_table(rows, application.deps.zone, dead)


@app.command(epilog=ACTS_AS)
@handles_errors
def ack(
    alert_id: int,
    by: By = None,
    note: Annotated[str | None, typer.Option()] = None,
    handling: Annotated[
        str | None, typer.Option(help="Who is handling it (default: the person acknowledging).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Acknowledge an alert (it still resolves by itself when the step is done).

    A critical alert stays notified: acknowledging it records who saw it and who is handling
    it, and its notifications and renotifications go on until the step is done or a clinician
    overrides it.

    Example: pathway ack 12 --by j.smith --note "MRI booked for Friday"
    """
    application = get_app()
    actor = acting(application, "acknowledge", by)
    alert = alerting.acknowledge(application.deps, alert_id, actor.name, note, actor.role, handling)
    if json_:
        render.dump_json(render_care.action_json(alert))
        return
    print(
        f"alert {alert.id} acknowledged by {alert.acted_by}"
        + (
            "; it is critical: it stays notified until done or overridden"
            if alert.severity == Severity.CRITICAL
            else ""
        )
    )


@app.command(epilog=ACTS_AS)
@handles_errors
def snooze(
    alert_id: int,
    until: Annotated[str, typer.Option(help="YYYY-MM-DD, at most snooze_max_days ahead.")],
    note: Annotated[str, typer.Option(help="Why it can wait.")],
    by: By = None,
    json_: JsonOpt = False,
) -> None:
    """Snooze a warning or info alert until a date; it reopens then unless the step is done.

    A critical alert cannot be snoozed. The longest snooze is the pathway's snooze_max_days.

    Example: pathway snooze 12 --until 2026-12-04 --by j.smith --note "patient abroad"
    """
    application = get_app()
    actor = acting(application, "snooze", by)
    alert = alerting.snooze(
        application.deps, alert_id, parse_date(until, "--until"), actor.name, note, actor.role
    )
    if json_:
        render.dump_json(render_care.action_json(alert))
        return
    print(f"alert {alert.id} snoozed until {until} by {alert.acted_by}")


@app.command(epilog=ACTS_AS)
@handles_errors
def override(
    alert_id: int,
    reason: Annotated[OverrideReason, typer.Option(help="Why the alert is overridden.")],
    note: Annotated[str, typer.Option(help="The clinical reasoning.")],
    by: By = None,
    until: Annotated[
        str | None, typer.Option(help="Expiry YYYY-MM-DD (default: this alert instance only).")
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            help="Role of the person overriding (critical alerts need clinician); only without "
            "user accounts, default admin."
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Override an alert with a reason code; it stays visible as overridden.

    Example: pathway override 12 --reason patient_preference --note "declined MRI" --by dr.lee
    """
    application = get_app()
    actor = acting(application, "override", by, role)
    alert = alerting.override(
        application.deps,
        alert_id,
        reason,
        note,
        actor.name,
        actor.role,
        parse_date(until, "--until") if until else None,
    )
    if json_:
        render.dump_json(render_care.action_json(alert) | {"reason": str(reason)})
        return
    print(f"alert {alert.id} overridden ({reason}) by {alert.acted_by}")


@app.command()
@handles_errors
def why(mrn: str, rule: str, json_: JsonOpt = False) -> None:
    """Explain a follow-up: rule and source, anchor, interval, calendar shifts and pauses.

    Example: pathway why MRN-1001 T09
    """
    application = get_app()
    explanations = alerting.why(application.deps, mrn, rule)
    zone = application.deps.zone
    if json_:
        render.dump_json([as_json(e, zone) for e in explanations])
        return
    for e in explanations:
        render_care.why_lines(e, zone)


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
    from pathway.services.daily_report import ReportConfig
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
