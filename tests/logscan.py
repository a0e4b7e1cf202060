"""Reusable: run `pathway serve` as a real process, capture every log line, and find patient data in it.

with ServerProcess(env, cwd) as server:
    server.get("/patients/DEMO-006", token)
assert leaks(server.lines, patient_secrets(database_url) | {token}) == []
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from sqlalchemy import create_engine, text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVE = [sys.executable, "-c", "from pathway.cli.app import main; main()", "serve"]
START_SECONDS = 120  # two shared cores under load: a cold start can take a while


class ServerProcess:
    """`pathway serve` on a free port; `lines` holds everything it wrote once it has stopped."""

    def __init__(self, env: dict[str, str], cwd: Path, *args: str) -> None:
        self.env, self.cwd, self.args = env, cwd, args
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []

    def __enter__(self) -> ServerProcess:
        self.process = subprocess.Popen(
            [*SERVE, "--port", str(self.port), *self.args],
            cwd=self.cwd,
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                self.request("GET", "/healthz")
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise AssertionError("the server did not start:\n" + "\n".join(self.lines)) from None
                time.sleep(0.2)

    def request(
        self, method: str, path: str, token: str | None = None, body: bytes | None = None
    ) -> tuple[int, str]:
        headers = {"Content-Type": "application/json"} if body else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read().decode()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            output, _ = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        self.lines = output.splitlines()
        watch.lines("pathway serve", self.lines)


def patient_secrets(database_url: str) -> set[str]:
    """Every MRN and every name word (3+ letters) of every patient in the database."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT mrn, name FROM patient")).all()
    engine.dispose()
    secrets = {mrn for mrn, _ in rows}
    for _, name in rows:
        secrets |= {part for part in (name or "").replace(",", " ").split() if len(part) >= 3}
    return secrets


def leaks(lines: list[str], secrets: set[str]) -> list[str]:
    """The log lines that carry any of the secrets (an MRN, a name, a token)."""
    return [f"{line}  <- {s!r}" for line in lines for s in sorted(secrets) if s and s in line]


# --- the session-wide scan (tests/conftest.py) ---------------------------------------------------
# Every log record emitted in the test process, and the output of every server and scheduler
# process the tests start, is checked as it comes; the session fails at its end on any MRN, patient
# name or token seen. Cheap: three regular expressions per line, nothing kept but the leaks.

MRN_PREFIXES = ("CAL", "DEMO", "FHIR", "MRN", "NEW", "NOBODY", "NOPE", "TWIN", "WEB")  # the tests' MRNs
PATIENT_NAMES = ("Lovelace", "Jane Doe")  # the names the tests enrol
_MRN = re.compile(r"\b(?:" + "|".join(MRN_PREFIXES) + r")-\d+\b")
_NAME = re.compile("|".join(re.escape(n) for n in PATIENT_NAMES))
# an API token or session secret (secrets.token_urlsafe): 40+ URL-safe characters mixing upper
# case, lower case and digits (request ids are 32 hex digits; test directory names lack capitals)
_TOKEN = re.compile(r"(?<![\w-])(?=[\w-]*[A-Z])(?=[\w-]*[a-z])(?=[\w-]*\d)[\w-]{40,}(?![\w-])")


class LeakWatch:
    def __init__(self) -> None:
        self.found: list[str] = []
        self.lines_seen = 0

    def line(self, origin: str, text: str) -> None:
        self.lines_seen += 1
        for pattern in (_MRN, _NAME, _TOKEN):
            hit = pattern.search(text)
            if hit:
                test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
                self.found.append(f"{test} [{origin}] {hit.group(0)!r} in: {text[:300]}")
                return

    def lines(self, origin: str, lines: list[str]) -> None:
        for entry in lines:
            self.line(origin, entry)


watch = LeakWatch()


class LeakHandler(logging.Handler):
    """On the root logger for the whole session: every record any in-process logger emits."""

    CLIENTS = ("httpx", "httpcore")  # the tests' own HTTP client, which logs the URLs it requests

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(self.CLIENTS):
            return
        try:
            text = record.getMessage()
        except Exception:  # a malformed record is the logging module's business, not ours
            return
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + str(record.exc_info[1])
        watch.line(f"log {record.name}", text)
