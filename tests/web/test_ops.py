"""/healthz, /readyz and /metrics on the demo cohort (fixed clock, the real storage)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from pathway.bootstrap import App
from pathway.ports import Deps
from pathway.services import alerting, health
from pathway.web.app import create_app
from tests.fakes import FixedClock
from tests.web.conftest import TestClient, bearer


def samples(text: str) -> dict[str, list[Sample]]:
    found: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def value(found: dict[str, list[Sample]], name: str, **labels: str) -> float:
    [match] = [s for s in found[name] if all(s.labels.get(k) == v for k, v in labels.items())]
    return match.value


def test_healthz_and_readyz_need_no_sign_in_and_readyz_names_each_check(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    response = client.get("/readyz")
    assert set(response.json()["checks"]) == {"database", "schema", "sweep", "report", "notifications"}
    assert response.status_code == 503  # the demo cohort was never swept by a recorded job


def test_readyz_is_degraded_once_the_sweep_is_older_than_twice_its_interval(
    client: TestClient, deps: Deps, clock: FixedClock
) -> None:
    health.run_recorded(deps, health.SWEEP, lambda: alerting.sweep(deps))
    clock.current = clock.current.replace(hour=5)  # before the 07:00 report: only the sweep counts
    health.run_recorded(deps, health.SWEEP, lambda: alerting.sweep(deps))
    assert client.get("/readyz").status_code == 200

    clock.advance(minutes=10)
    assert client.get("/readyz").status_code == 200
    clock.advance(seconds=1)
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert [name for name, c in checks.items() if not c["ok"]] == ["sweep"]


@pytest.fixture
def admin(tokens: dict[str, str]) -> dict[str, str]:
    return bearer(tokens["admin"])


def test_metrics_parse_and_count_what_the_database_holds(
    client: TestClient, admin: dict[str, str], deps: Deps, clock: FixedClock
) -> None:
    health.run_recorded(deps, health.SWEEP, lambda: alerting.sweep(deps))
    assert client.get("/api/v1/patients/DEMO-006", headers=admin).status_code == 200

    response = client.get("/metrics", headers=admin)

    assert response.status_code == 200
    found = samples(response.text)
    live = [a for a, _ in alerting.list_alerts(deps, "live")]
    for severity in ("info", "warning", "critical"):
        expected = sum(1 for a in live if a.severity == severity)
        assert value(found, "pathway_open_alerts", severity=severity) == expected
    assert value(found, "pathway_outbox_notifications", status="dead") == 0
    assert value(found, "pathway_job_last_success_timestamp_seconds", job="sweep") == pytest.approx(
        clock.current.timestamp()
    )
    assert value(found, "pathway_job_runs_total", job="sweep", outcome="success") == 1
    assert "pathway_overdue_follow_ups" in found
    routes = {s.labels["route"] for s in found["pathway_http_request_duration_seconds_count"]}
    assert "/api/v1/patients/{mrn}" in routes
    assert not any("DEMO" in s.labels.get("route", "") for v in found.values() for s in v)


def test_overdue_follow_ups_move_with_time(
    client: TestClient, admin: dict[str, str], clock: FixedClock
) -> None:
    before = value(samples(client.get("/metrics", headers=admin).text), "pathway_overdue_follow_ups")
    clock.advance(days=400)
    after = value(samples(client.get("/metrics", headers=admin).text), "pathway_overdue_follow_ups")
    assert after > before


@pytest.mark.parametrize("role", ["viewer", "coordinator", "clinician"])
def test_metrics_are_refused_to_other_roles(client: TestClient, tokens: dict[str, str], role: str) -> None:
    assert client.get("/metrics", headers=bearer(tokens[role])).status_code == 403


def test_metrics_without_sign_in_go_to_the_sign_in_page(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.fixture
def ranged(demo: App, tokens: dict[str, str]) -> FastAPI:
    settings = demo.settings.model_copy(update={"metrics_allow": ("10.1.0.0/16",)})
    return create_app(App(settings, demo.engine, demo.deps), secret_key="test-secret")


@pytest.mark.parametrize(("address", "status"), [("10.1.2.3", 200), ("10.2.0.1", 303), ("::1", 303)])
def test_a_configured_address_range_may_read_metrics_without_a_token(
    ranged: FastAPI, address: str, status: int
) -> None:
    with TestClient(ranged, follow_redirects=False, client=(address, 50000)) as c:
        assert c.get("/metrics").status_code == status


def test_a_request_id_is_returned_and_a_good_one_is_kept(client: TestClient) -> None:
    assert len(client.get("/healthz").headers["x-request-id"]) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    bad = client.get("/healthz", headers={"X-Request-ID": "DEMO-006 <script>"}).headers["x-request-id"]
    assert bad != "DEMO-006 <script>"
