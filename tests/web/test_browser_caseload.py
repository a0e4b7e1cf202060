"""The care-team and booking forms in Debian's chromium (Playwright): assign DEMO-006 to a team
and coordinator on its page, see the worklist narrow to my caseload with "all" one click away,
book an open follow-up and see "booked for" on the page and the worklist."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from db import migrate
from pathway.bootstrap import build
from pathway.clock import SystemClock
from pathway.domain.clinical_time import local_date
from pathway.services import accounts, caseload
from pathway.services.demo import load_demo
from pathway.web.app import create_app
from tests.web.test_browser import ARGS, CHROMIUM, Live, _free_port, shot


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    db = tmp_path_factory.mktemp("live-caseload") / "pathway.db"
    application = build({"PATHWAY_DATABASE_URL": f"sqlite:///{db}", "PATHWAY_TIMEZONE": "Europe/London"})
    migrate.upgrade(application.engine)
    load_demo(application.deps)
    deps = application.deps
    token = accounts.add_user(deps, "c.jones", "coordinator").token
    caseload.add_team(deps, "sarcoma-a", None, None, by="test")
    caseload.join(deps, "c.jones", "sarcoma-a", by="test")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(application, secret_key="browser-test-secret"),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield Live(f"http://127.0.0.1:{port}", token)
    server.should_exit = True
    thread.join(timeout=10)
    application.engine.dispose()


@pytest.fixture(scope="module")
def browser(live: Live) -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield page
    context.close()
    assert not problems, f"console errors (CSP violations?): {problems}"


def test_assign_then_my_caseload_then_book_from_the_pages(page: Page, live: Live) -> None:
    p = page
    p.goto(live.url + "/login")
    p.get_by_label("API token").fill(live.token)
    p.get_by_role("button", name="Sign in").click()
    p.wait_for_url(live.url + "/")
    # in a team with nobody assigned yet: my caseload is empty, all patients one click away
    expect(p.locator("nav.caseload")).to_contain_text("c.jones's caseload")
    expect(p.locator("table.worklist")).to_have_count(0)
    p.get_by_role("link", name="All patients").click()
    expect(p.locator("table.worklist tr", has_text="DEMO-006").first).to_be_visible()

    p.goto(live.url + "/patients/DEMO-006")
    form = p.get_by_role("form", name="Assign")
    expect(form.get_by_label("Team")).to_have_value("")  # a required choice starts empty
    form.get_by_label("Team").select_option("sarcoma-a")
    form.get_by_label("Coordinator").select_option("c.jones")
    form.get_by_role("button", name="Assign").click()
    expect(p.locator(".flash.ok")).to_contain_text("DEMO-006 is now in team sarcoma-a, coordinator c.jones")
    expect(p.locator("#care-team")).to_contain_text("coordinator c.jones")
    shot(p, "patient-care-team")

    p.goto(live.url + "/")
    rows = p.locator("table.worklist tbody tr")
    expect(rows.first).to_be_visible()
    assert {r.strip() for r in p.locator("table.worklist tbody tr td:nth-child(2) a").all_inner_texts()} == {
        "DEMO-006"
    }

    p.goto(live.url + "/patients/DEMO-006")
    first = p.locator("ul.follow-ups li").first
    step = first.locator("b").first.inner_text()
    today = local_date(SystemClock().now(), ZoneInfo("Europe/London"))
    on = (today + timedelta(days=3)).isoformat()
    first.get_by_label("Book for").fill(on)
    first.get_by_role("button", name="Book").click()
    expect(p.locator(".flash.ok")).to_contain_text(f"Booked {step.split(' (')[0]}")
    booked = p.locator("ul.follow-ups li", has_text=step).locator("p.booking")
    expect(booked.first).to_contain_text(re.compile(r"booked for \d+ \w{3}"))
    shot(p, "patient-booked")
    p.goto(live.url + "/?caseload=mine")
    expect(p.locator("table.worklist small.booking").first).to_contain_text("booked for")
    shot(p, "worklist-my-caseload")
