"""No route of the app answers without a signed-in user, except signing in and static assets."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from tests.web.conftest import TestClient

FEED_TOKEN = "x" * 43  # the calendar feed's secret URL is its credential (tests/web/test_interop.py)
PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", f"/calendar/{FEED_TOKEN}.ics"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
}
SAMPLE = {
    "mrn": "DEMO-006",
    "alert_id": "1",
    "track": "main",
    "rule": "T09",
    "name": "admin.one",
    "token": FEED_TOKEN,
}


def endpoints(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the app routes, path parameters filled with sample values."""
    found = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount):
            assert route.path == "/static", f"unexpected mount {route.path}"
            continue
        assert route.path and route.methods, f"unexpected route {route.original_route!r}"
        path = re.sub(r"{(\w+)(:\w+)?}", lambda m: SAMPLE[m.group(1)], route.path)
        found += [(method, path) for method in sorted(route.methods) if method != "HEAD"]
    return found


def test_the_app_has_the_routes_this_test_knows_how_to_fill(web: FastAPI) -> None:
    paths = {p for _, p in endpoints(web)}
    assert {
        "/",
        "/alerts",
        "/report",
        "/pathway",
        "/patients/DEMO-006",
        "/openapi.json",
        "/api/v1/patients/DEMO-006/events",
        "/api/v1/alerts/1/override",
    } <= paths
    assert len(endpoints(web)) >= 30


def test_no_route_answers_without_a_signed_in_user(web: FastAPI, client: TestClient) -> None:
    reached = []
    for method, path in endpoints(web):
        if (method, path) in PUBLIC:
            continue
        response = client.request(
            method,
            path,
            json={} if path.startswith("/api/") else None,
            data=None if path.startswith("/api/") else {"x": "1"},
        )
        if path.startswith(("/api/", "/openapi.json")):
            ok = response.status_code == 401 and set(response.json()) == {
                "type",
                "title",
                "status",
                "detail",
                "error",
            }
        else:
            ok = response.status_code == 303 and response.headers["location"].startswith("/login")
        if not ok:
            reached.append(f"{method} {path}: {response.status_code}")
    assert not reached, "reachable without signing in:\n" + "\n".join(reached)


@pytest.mark.parametrize("path", ["/login", "/static/app.css", "/static/favicon.svg"])
def test_the_sign_in_page_and_static_assets_are_public(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 200


def test_a_forged_session_cookie_is_worthless(client: TestClient) -> None:
    client.cookies.set("pathway_session", "eyJ1c2VyX2lkIjogMX0=.forged.signature")
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/").status_code == 303
