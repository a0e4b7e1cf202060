"""Several `pathway scheduler` processes, a web server and a writer against one PostgreSQL database.

Nothing is created twice, nothing is lost, and every follow-up ends in the status its history gives.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from db import migrate
from pathway.bootstrap import build
from pathway.domain.clinical_time import local_date
from pathway.services import alerting, patients
from tests.integration.notify_fixtures import WebhookReceiver
from tests.integration.test_sweep import duplicates

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from pathway.cli.app import main; main()"]
SCHEDULERS = 3
PATIENTS = 24


def _cohort(env: dict[str, str]) -> list[str]:
    """Patients enrolled weeks ago with back-dated histories: much is overdue now."""
    app = build(env)
    migrate.upgrade(app.engine)
    today = local_date(app.deps.clock.now(), app.deps.zone)
    mrns = []
    for i in range(PATIENTS):
        mrn = f"MP-{i:03d}"
        start = today - timedelta(days=60 + 7 * i)
        patients.enroll(app.deps, mrn, histology="sts", on=start)
        patients.record_event(
            app.deps, mrn, "pain_score", {"nrs": str(i % 5)}, on=start + timedelta(days=1), actor="setup"
        )
        if i % 3:
            patients.record_event(
                app.deps,
                mrn,
                "mdt_decision",
                {"resectability": "unresectable", "plan": "definitive_rt"},
                on=start + timedelta(days=9),
                actor="setup",
            )
        mrns.append(mrn)
    app.engine.dispose()
    return mrns


def _writer(env: dict[str, str], mrns: list[str], errors: list[BaseException]) -> None:
    """Records events while the schedulers run (real clock, like a coordinator would)."""
    app = build(env)
    try:
        for mrn in mrns:
            patients.record_event(app.deps, mrn, "neuro_exam", {"finding": "baseline"}, actor="writer")
            patients.record_event(app.deps, mrn, "palliative_referral", {}, actor="writer")
    except BaseException as exc:  # reported by the test
        errors.append(exc)
    finally:
        app.engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_page(url: str, seconds: float) -> None:
    """The web server answers its sign-in page while the schedulers run."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"the web server did not answer {url} within {seconds} s")


def _wait_for(process: subprocess.Popen[str], log: Path, needle: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if needle in log.read_text(encoding="utf-8", errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"no {needle!r} within {seconds} s:\n{log.read_text()}")


def test_schedulers_a_web_server_and_a_writer_create_nothing_twice_and_lose_nothing(
    pg_database: str, tmp_path: Path
) -> None:
    from tests.conftest import _reset_pg

    _reset_pg(pg_database)
    receiver = WebhookReceiver()
    receiver.start()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PATHWAY_")},
        "PATHWAY_DATABASE_URL": pg_database,
        "PATHWAY_TIMEZONE": "Europe/London",
        "PATHWAY_NOTIFY": f'[{{"channel": "webhook", "to": "{receiver.url}"}}]',
        "PATHWAY_WEBHOOK_SECRET": "s3cret",
        "PATHWAY_SESSION_SECRET": "multiprocess-test-session-secret-0123456789",
        "PATHWAY_REPORT_TIME": "00:00",
        "PATHWAY_REPORTS_DIR": str(tmp_path / "reports"),
    }
    mrns = _cohort(env)
    processes: list[tuple[subprocess.Popen[str], Path]] = []
    handles = []
    try:
        port = _free_port()
        commands = [["scheduler", "--sweep-minutes", "1"]] * SCHEDULERS + [["serve", "--port", str(port)]]
        for i, command in enumerate(commands):
            log = tmp_path / f"{command[0]}-{i}.log"
            handles.append(log.open("w"))
            processes.append(
                (
                    subprocess.Popen(
                        [*CLI, *command],
                        cwd=tmp_path,
                        env=env,
                        stdout=handles[-1],
                        stderr=subprocess.STDOUT,
                        text=True,
                    ),
                    log,
                )
            )
        errors: list[BaseException] = []
        writer = threading.Thread(target=_writer, args=(env, mrns, errors))
        writer.start()
        writer.join(timeout=120)
        assert not writer.is_alive() and not errors, errors
        for process, log in processes[:SCHEDULERS]:
            _wait_for(process, log, "scheduler running", 60)
        _wait_for_page(f"http://127.0.0.1:{port}/login", 30)
    finally:
        for process, _ in processes:
            process.send_signal(signal.SIGTERM)
        for process, _ in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for handle in handles:
            handle.close()
        receiver.stop()
    for process, log in processes[:SCHEDULERS]:
        assert process.returncode == 0, log.read_text()
        assert "Traceback" not in log.read_text()

    app = build(env)
    assert duplicates(app.engine) == []
    with app.engine.connect() as conn:
        reports = conn.execute(text("SELECT report_date, status FROM report_run")).all()
        sent = (
            conn.execute(text("SELECT idempotency_key FROM notification WHERE status = 'sent'"))
            .scalars()
            .all()
        )
        stuck = conn.execute(text("SELECT count(*) FROM notification WHERE status = 'sending'")).scalar_one()
    assert len(reports) == 1 and reports[0][1] == "done"
    received = [r.headers["Idempotency-Key"] for r in receiver.requests]
    assert sorted(set(received)) == sorted(sent), "every sent notification reached the receiver"
    assert len(received) == len(set(received)), "no notification was delivered twice"
    assert stuck == 0
    # Nothing lost: recomputing every patient from history at the same moment changes nothing.
    final = alerting.sweep(app.deps)
    recomputed = alerting.refresh_all(app.deps)
    assert (
        recomputed.follow_ups_created,
        recomputed.alerts_opened,
        recomputed.alerts_resolved,
        recomputed.alerts_escalated,
    ) == (0, 0, 0, 0), (final.lines, recomputed.lines)
    app.engine.dispose()
