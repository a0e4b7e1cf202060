"""The pages in Debian's chromium (Playwright): sign in, clear DEMO-006's overdue chest scan.

A real uvicorn server runs in a thread on a free port against a SQLite file with the demo cohort,
on the real clock (never under freezegun). Screenshots go to test-output/ (git-ignored).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from db import migrate
from pathway.bootstrap import build
from pathway.services import accounts
from pathway.services.demo import load_demo
from pathway.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-output"
CHEST_ALERT = re.compile(r"Response imaging overdue \(chest\)")  # the alert names its step once
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is required under CI=true", pytrace=False)
    pytest.skip(
        f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)",
        allow_module_level=True,
    )


@dataclass(frozen=True)
class Live:
    url: str
    token: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    db = tmp_path_factory.mktemp("live") / "pathway.db"
    application = build({"PATHWAY_DATABASE_URL": f"sqlite:///{db}", "PATHWAY_TIMEZONE": "Europe/London"})
    migrate.upgrade(application.engine)
    load_demo(application.deps)
    token = accounts.add_user(application.deps, "c.jones", "coordinator").token
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


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(p: Page, live: Live) -> None:
    p.goto(live.url + "/")
    assert p.url.startswith(live.url + "/login")
    shot(p, "login")
    p.get_by_label("API token").fill(live.token)
    p.get_by_role("button", name="Sign in").click()
    p.wait_for_url(live.url + "/")


def worklist_rows(page: Page) -> int:
    return page.locator("table.worklist tbody tr").count()


def test_a_coordinator_clears_an_overdue_chest_scan_from_the_pages(page: Page, live: Live) -> None:
    p = page
    sign_in(p, live)
    expect(p.get_by_role("heading", name="Worklist")).to_be_visible()
    chest = p.locator("table.worklist tr", has_text="DEMO-006").filter(has_text="Response imaging (chest)")
    expect(chest).to_have_count(1)
    before = worklist_rows(p)
    shot(p, "worklist")

    p.get_by_role("link", name="DEMO-006").first.click()
    p.wait_for_url(re.compile(r".*/patients/DEMO-006$"))
    alert = p.locator("li.alert-item", has_text=CHEST_ALERT)
    expect(alert).to_have_count(1)
    expect(p.locator("p.why").first).to_contain_text("Anchored on")
    expect(p.locator("svg.timeline")).to_be_visible()
    shot(p, "patient")

    p.get_by_label("Event", exact=True).select_option("imaging_done")
    p.get_by_role("button", name="Choose").click()
    p.get_by_label(re.compile(r"^region")).select_option("chest")
    p.get_by_label(re.compile(r"^modality")).select_option("CT")
    p.get_by_label(re.compile(r"^response")).select_option("SD")  # a reported scan (no A13 clock)
    shot(p, "patient-record-form")
    p.get_by_role("button", name="Record imaging done").click()
    expect(p.locator(".flash.ok")).to_contain_text("Recorded imaging_done")
    expect(p.locator("li.alert-item", has_text=CHEST_ALERT)).to_have_count(0)
    shot(p, "patient-after-recording")

    p.goto(live.url + "/alerts?status=all&mrn=DEMO-006")
    resolved = p.locator("table.alerts tr", has_text=CHEST_ALERT)
    expect(resolved.first).to_contain_text("resolved")
    shot(p, "alerts")

    p.goto(live.url + "/")
    expect(chest).to_have_count(0)
    assert worklist_rows(p) == before - 1
    shot(p, "worklist-after")


def test_every_page_reads_well_on_a_laptop_and_a_tablet(page: Page, live: Live) -> None:
    p = page
    sign_in(p, live)
    pages = {
        "worklist": "/",
        "patient": "/patients/DEMO-009",
        "alerts": "/alerts",
        "patients": "/patients",
        "report": "/report",
        "pathway": "/pathway?mrn=DEMO-006",
    }
    for width, device in ((1280, "laptop"), (820, "tablet")):
        for name, path in pages.items():
            p.set_viewport_size({"width": width, "height": 1000})
            p.goto(live.url + path)
            overflow = p.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
            shot(p, f"{name}-{device}")
    expect(p.locator("svg.diagram").first).to_be_visible()


def test_signing_out_ends_the_session(page: Page, live: Live) -> None:
    p = page
    sign_in(p, live)
    p.get_by_role("button", name="Sign out").click()
    p.wait_for_url(re.compile(r".*/login$"))
    p.goto(live.url + "/alerts")
    assert "/login" in p.url


def test_mscc_comes_first_with_a_banner_and_required_choices_start_empty(page: Page, live: Live) -> None:
    """Issue 15 items 3 and 8: DEMO-009's open MSCC episode heads the worklist and has a banner;
    a required choice on the record form starts at "choose…" and the form will not go without it."""
    p = page
    sign_in(p, live)
    first = p.locator("table.worklist tbody tr").first
    expect(first).to_contain_text("DEMO-009")
    expect(first.locator(".badge.episode")).to_contain_text("mscc")
    expect(first).to_contain_text("h")

    p.goto(live.url + "/patients/DEMO-009")
    banner = p.get_by_role("alert", name="Emergency episode")
    expect(banner).to_contain_text("Open emergency episode")
    expect(p.locator("li.alert-item").first).to_contain_text("A02")
    shot(p, "patient-mscc")

    p.goto(live.url + "/patients/DEMO-006")
    expect(p.get_by_label("Event", exact=True)).to_have_value("")
    p.get_by_label("Event", exact=True).select_option("imaging_done")
    p.get_by_role("button", name="Choose").click()
    region, modality = p.get_by_label(re.compile(r"^region")), p.get_by_label(re.compile(r"^modality"))
    expect(region).to_have_value("")
    expect(modality).to_have_value("")
    p.get_by_role("button", name="Record imaging done").click()
    assert region.evaluate("e => e.validity.valueMissing")
    expect(p.locator(".flash.ok")).to_have_count(0)
