"""The daily report survives a mail failure or a crash while mailing (issue 17 item 12), on
SQLite and PostgreSQL, with a real SMTP server (aiosmtpd): the report is stored first, the mail
is a step of its own, retried until it goes, and taken over when its sender died."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pathway.adapters.channels import EmailSender, SmtpConfig
from pathway.ports import Deps
from pathway.services.daily_report import (
    STALE_RUN,
    ReportConfig,
    daily_report_job,
    mail_pending_report,
    report_missing,
)
from scheduler.runner import Jobs
from tests.fakes import FixedClock
from tests.integration.notify_fixtures import SmtpSink


def config(tmp_path: Path, sink: SmtpSink) -> ReportConfig:
    mailer = EmailSender(
        SmtpConfig(host="127.0.0.1", port=sink.port, starttls=False, sender="pathway@x.org", timeout=3)
    )
    return ReportConfig(reports_dir=tmp_path / "reports", recipients=("lead@x.org",), mailer=mailer)


def mail_state(deps: Deps) -> str:
    with deps.read() as uow:
        run = uow.report_runs.run_for(deps.clock.now().date())
    assert run is not None
    return str(run[1]["mail"])


def test_a_report_written_while_smtp_is_down_is_stored_and_mailed_once_it_is_up(
    deps: Deps, clock: FixedClock, tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    cfg = config(tmp_path, smtp_sink)  # the sink is not started: SMTP is down
    assert daily_report_job(deps, cfg) is not None
    assert not report_missing(deps) and mail_state(deps) == "failed"
    assert (tmp_path / "reports" / f"{clock.current.date()}.html").exists()
    smtp_sink.start()
    clock.advance(minutes=5)
    assert mail_pending_report(deps, cfg) == "mailed"
    assert mail_pending_report(deps, cfg) is None  # once
    assert len(smtp_sink.envelopes) == 1 and mail_state(deps) == "mailed"


def test_a_crash_while_mailing_is_taken_over_after_the_lease(
    deps: Deps, clock: FixedClock, tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    smtp_sink.start()
    cfg = config(tmp_path, smtp_sink)
    daily_report_job(deps, ReportConfig(reports_dir=cfg.reports_dir))  # stored, no mailer here
    with deps.uow() as uow:  # a process stored the report with mail pending, claimed it, died
        uow.report_runs.set_mail(clock.current.date(), "pending", clock.current)
        assert uow.report_runs.claim_mail(clock.current.date(), clock.current, clock.current - STALE_RUN)
        uow.commit()
    assert mail_pending_report(deps, cfg) is None  # its claim is still fresh: not sent twice
    clock.advance(seconds=STALE_RUN.total_seconds() + 1)
    assert mail_pending_report(deps, cfg) == "mailed"
    assert len(smtp_sink.envelopes) == 1


def test_mail_gives_up_after_five_attempts(
    deps: Deps, clock: FixedClock, tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    cfg = config(tmp_path, smtp_sink)  # never started: every attempt fails
    daily_report_job(deps, cfg)
    outcomes = []
    for _ in range(6):
        clock.advance(minutes=5)
        outcomes.append(mail_pending_report(deps, cfg))
    assert outcomes == ["failed"] * 4 + [None, None]
    assert timedelta(minutes=30) > STALE_RUN


def test_the_scheduler_watch_writes_a_report_whose_writer_died(
    deps: Deps, clock: FixedClock, tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    """A `running` report (its process killed) is written by the watch once the lease is over,
    the same day, not the next morning; its mail goes too."""
    smtp_sink.start()
    cfg = config(tmp_path, smtp_sink)
    jobs = Jobs(deps, report_time="07:00", report=cfg)  # the fixture clock is 09:00 UTC
    with deps.uow() as uow:
        assert uow.report_runs.claim_run(clock.current.date(), clock.current, clock.current - STALE_RUN)
        uow.commit()  # ... and the process dies here
    jobs.report_watch()
    assert report_missing(deps)  # the claim is fresh: nobody else writes it yet
    clock.advance(seconds=STALE_RUN.total_seconds() + 1)
    jobs.report_watch()
    assert not report_missing(deps) and mail_state(deps) == "mailed"
    assert len(smtp_sink.envelopes) == 1
    jobs.report_watch()
    assert len(smtp_sink.envelopes) == 1
