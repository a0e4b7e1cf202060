"""Issue 15 item 9: the CLI worklist, the web cards and the daily report agree on every count.

A deterministic cohort of 240 generated patients (bench/cohort.py, seeded) is loaded on SQLite and
on PostgreSQL, swept, and then counted four ways: the worklist's count query, the lines of
`pathway due --json` (and its summary line), the web worklist's cards, and the report (its count
cards and its section totals). Every patient the report lists as a gap has a worklist line.
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Iterator
from datetime import timedelta

import pytest
from freezegun.api import FrozenDateTimeFactory

from bench.cohort import bench_now, generate
from bench.load import load
from pathway.bootstrap import App, build
from pathway.domain.clinical_time import local_date
from pathway.domain.counts import Count, summary, words
from pathway.domain.errors import InvalidInput
from pathway.services import accounts, alerting, bookings, reports
from pathway.web.app import create_app
from tests.e2e.conftest import Cli, as_json, ok

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PATIENTS = 240
STEP_KINDS = {"overdue": Count.OVERDUE, "due": Count.DUE, "soon": Count.SOON}


@pytest.fixture
def cohort(cli_env: dict[str, str | None], frozen: FrozenDateTimeFactory) -> Iterator[App]:
    frozen.move_to(bench_now())
    application = build({k: v for k, v in cli_env.items() if v is not None})
    deps = application.deps
    load(application.engine, generate(deps.pathway, deps.calendar, bench_now(), PATIENTS, seed=15), PATIENTS)
    alerting.sweep(deps)
    book_some(application)
    yield application
    application.engine.dispose()


def book_some(application: App) -> None:
    """Book a few open steps (overdue, due and soon): a booked step still counts by its window."""
    deps = application.deps
    today = local_date(deps.clock.now(), deps.zone)
    booked: dict[str, int] = {}
    for item in alerting.worklist(deps):
        if item.kind in STEP_KINDS and booked.get(item.kind, 0) < 2:
            try:
                bookings.book(deps, item.mrn, item.rule, today + timedelta(days=3), actor="c.count")
            except InvalidInput:  # several open regions of that rule: not needed here
                continue
            booked[item.kind] = booked.get(item.kind, 0) + 1
    assert sum(booked.values()) >= 3, booked
    assert sum(i.kind == "booked" for i in alerting.worklist(deps)) >= 3


def kind_of(line: dict[str, object]) -> object:
    return line["status"] if line["kind"] == "booked" else line["kind"]


def cards(html: str) -> dict[str, int]:
    return {k: int(n) for k, n in re.findall(r'data-count="(\w+)">\s*<b>([\d,]+)</b>', html)}


def test_the_worklist_the_web_cards_and_the_report_agree_on_every_count(cohort: App, cli: Cli) -> None:
    deps = cohort.deps
    counts = alerting.worklist_counts(deps)
    assert all(counts[c] > 0 for c in (Count.OVERDUE, Count.DUE, Count.SOON, Count.WARNING)), counts

    # the CLI worklist: one line per step, every open alert on a line, the same summary words
    lines = as_json(cli("due", "--limit", "0", "--json"))
    steps = {c: sum(1 for i in lines if STEP_KINDS.get(kind_of(i)) == c) for c in STEP_KINDS.values()}
    assert steps == {c: counts[c] for c in STEP_KINDS.values()}
    assert alerting.line_counts(alerting.worklist(deps)) == counts
    text = ok(cli("due", "--limit", "0")).stdout
    assert summary(counts) in " ".join(text.split())

    # the web worklist's cards
    web = create_app(dataclasses.replace(cohort), secret_key="reconcile")
    token = accounts.add_user(deps, "c.count", "coordinator").token
    with TestClient(web, follow_redirects=False) as client:
        login = client.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"csrf_token": csrf, "token": token, "next": "/"})
        page = client.get("/").text
        report_html = client.get("/report").text
    assert cards(page) == {c.value: n for c, n in counts.items()}
    assert (
        f"<b>{counts[Count.OVERDUE]}</b> {words(Count.OVERDUE, counts[Count.OVERDUE]).split(' ', 1)[1]}"
        in page
    )

    # the report: its count cards and its sections
    report = reports.build(deps)
    assert report.counts == {c.value: n for c, n in counts.items()}
    assert cards(report_html) == report.counts
    assert report.totals["overdue"] == counts[Count.OVERDUE]
    assert report.totals["due_today"] == counts[Count.DUE]
    assert report.totals["due_next_7_days"] == counts[Count.SOON]
    on_list = {i["mrn"] for i in lines}
    gaps = set(report.pain_steps_overdue) | set(report.palliative_referral_overdue)
    assert gaps <= on_list, gaps - on_list
