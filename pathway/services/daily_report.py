"""The daily report job: exactly one report per clinic date, written to files and mailed."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pathway.domain.clinical_time import local_date
from pathway.domain.errors import DeliveryFailed
from pathway.domain.records import ReportRunStatus
from pathway.domain.report import as_json
from pathway.ports import Deps, Mailer, Sender
from pathway.render import report as render_report
from pathway.services import reports
from pathway.services.outbox import send_digests

log = logging.getLogger("pathway.report")
STALE_RUN = timedelta(minutes=10)  # a claim older than this belongs to a process that died


@dataclass(frozen=True)
class ReportConfig:
    reports_dir: Path
    recipients: tuple[str, ...] = ()
    mailer: Mailer | None = None


def write_atomically(path: Path, text: str) -> None:
    """Write the whole file or nothing, readable by its owner only (a report names patients)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    write_private(tmp, text)
    os.replace(tmp, path)


def write_private(path: Path, text: str) -> None:
    """Create or replace `path` with mode 0600 from the first byte (never briefly world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_TRUNC
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def daily_report_job(
    deps: Deps, config: ReportConfig, senders: dict[str, Sender] | None = None
) -> Path | None:
    """Claim today's report (no-op if another process has it), build, write and store it; then
    mail it in a step of its own, so a crash while mailing loses no report and the mail is retried
    (`mail_pending_report`)."""
    now = deps.clock.now()
    today = local_date(now, deps.zone)
    with deps.uow() as uow:
        run_id = uow.report_runs.claim_run(today, now, now - STALE_RUN)
        uow.commit()
    if run_id is None:
        log.info("report for %s: already written or being written by another process", today)
        return None
    built = reports.build(deps)
    html_path = config.reports_dir / f"{today.isoformat()}.html"
    write_atomically(html_path, render_report.to_html(built))
    write_atomically(config.reports_dir / f"{today.isoformat()}.json", render_report.to_json(built))
    mail = "pending" if config.recipients and config.mailer is not None else "not configured"
    with deps.uow() as uow:
        uow.report_runs.finish_run(run_id, deps.clock.now(), as_json(built) | {"mail": mail})
        uow.commit()
    log.info("report for %s written to %s", today, html_path)
    if mail == "pending":
        mail_pending_report(deps, config, markdown=render_report.to_markdown(built))
    send_digests(deps, config.mailer, senders or {})
    return html_path


def mail_pending_report(deps: Deps, config: ReportConfig, markdown: str | None = None) -> str | None:
    """Mail today's stored report if it waits to be mailed, failed, or its mailer died; the
    outcome is stored with the run. Run after the report and again by the scheduler's watch."""
    if not config.recipients or config.mailer is None:
        return None
    now = deps.clock.now()
    today = local_date(now, deps.zone)
    with deps.uow() as uow:
        claimed = uow.report_runs.claim_mail(today, now, now - STALE_RUN)
        uow.commit()
    if not claimed:
        return None
    html_path = config.reports_dir / f"{today.isoformat()}.html"
    try:
        html = html_path.read_text(encoding="utf-8")
        text = markdown or f"The daily status report for {today} is attached as HTML ({html_path.name})."
        config.mailer.send_mail(config.recipients, f"Daily status report {today}", text, html)
        outcome = "mailed"
    except (DeliveryFailed, OSError) as exc:
        outcome = "failed"
        log.error("report for %s written but not mailed: %s", today, exc)
    with deps.uow() as uow:
        uow.report_runs.set_mail(today, outcome, deps.clock.now())
        uow.commit()
    return outcome


def report_missing(deps: Deps) -> bool:
    today = local_date(deps.clock.now(), deps.zone)
    with deps.read() as uow:
        run = uow.report_runs.run_for(today)
    return run is None or run[0] != ReportRunStatus.DONE
