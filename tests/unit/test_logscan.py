"""The session-wide log scan recognises MRNs, names and tokens, and lets ordinary lines through."""

from __future__ import annotations

import pytest

from tests.logscan import LeakWatch


@pytest.mark.parametrize(
    "line",
    [
        '127.0.0.1 - "GET /patients/DEMO-006" 200',
        "enrolled MRN-1001",
        "patient Ada Lovelace transferred",
        "token kT9vQ2mZ_Lr8xW4nB7cY1pD6sF3hJ0gA5eU-tR2oN1i",  # as secrets.token_urlsafe(32)
    ],
)
def test_patient_data_and_tokens_are_caught(line: str) -> None:
    watch = LeakWatch()
    watch.line("test", line)
    assert len(watch.found) == 1


@pytest.mark.parametrize(
    "line",
    [
        '127.0.0.1 - "GET /patients/{mrn}" 200 3.1ms',
        "request c9ee9a4ed1764fb79956a472e416d5b0 done",  # a request id (hex) is not a token
        "sweep: 12 patient(s) checked, patient 7 changed; GB-ENG calendar; ISO-8601",
        "report written to /tmp/pytest-of-root/pytest-3/test_the_daily_report_is_written_once0/r.md",
    ],
)
def test_ordinary_lines_pass(line: str) -> None:
    watch = LeakWatch()
    watch.line("test", line)
    assert watch.found == []
