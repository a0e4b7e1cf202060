"""Probes and metrics for operators: /healthz, /readyz and /metrics (Prometheus text format).

/healthz and /readyz are public (load balancers and monitors call them without a token) and carry no
patient data. /metrics is for signed-in admins or clients in PATHWAY_METRICS_ALLOW (CIDR ranges).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import datetime, time
from typing import cast

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from pathway.bootstrap import App
from pathway.domain.errors import PermissionDenied
from pathway.domain.records import NotificationStatus
from pathway.services import health
from pathway.web.auth import identify

router = APIRouter(include_in_schema=False)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def application_of(request: Request) -> App:
    return cast(App, request.app.state.application)


@router.get("/healthz")
def healthz() -> JSONResponse:
    """The process is up and answering (no database call)."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    result = application_of(request).health()
    return JSONResponse(result.as_json(), status_code=200 if result.healthy else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    application = application_of(request)
    if not allowed_address(request.client.host if request.client else None, application):
        user = await run_in_threadpool(identify, request)
        if user.role != "admin":
            raise PermissionDenied("metrics are for admins or the addresses in PATHWAY_METRICS_ALLOW")
    registry: CollectorRegistry = request.app.state.metrics
    body = await run_in_threadpool(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def allowed_address(host: str | None, application: App) -> bool:
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # e.g. the test client's "testclient"
        return False
    return any(address in ipaddress.ip_network(net) for net in application.settings.metrics_allow)


class PathwayCollector(Collector):
    """Reads the stored facts at each scrape: nothing is counted in one process and lost in another."""

    def __init__(self, application: App) -> None:
        self.application = application

    def collect(self) -> Iterator[Metric]:
        deps = self.application.deps
        known = health.facts(deps)
        alerts = GaugeMetricFamily(
            "pathway_open_alerts", "Alerts not resolved or overridden, by severity", labels=["severity"]
        )
        for severity in ("info", "warning", "critical"):
            alerts.add_metric([severity], known.open_alerts.get(severity, 0))
        yield alerts
        yield GaugeMetricFamily(
            "pathway_overdue_follow_ups",
            "Open follow-ups whose window has closed",
            value=known.overdue_follow_ups,
        )
        outbox = GaugeMetricFamily(
            "pathway_outbox_notifications", "Notifications in the outbox, by status", labels=["status"]
        )
        for status in sorted({NotificationStatus.PENDING, NotificationStatus.DEAD, *known.outbox}):
            outbox.add_metric([status], known.outbox.get(status, 0))
        yield outbox
        seconds = GaugeMetricFamily(
            "pathway_job_last_duration_seconds", "Duration of the job's last run", labels=["job"]
        )
        success = GaugeMetricFamily(
            "pathway_job_last_success_timestamp_seconds",
            "When the job last finished without error (Unix time)",
            labels=["job"],
        )
        runs = CounterMetricFamily("pathway_job_runs", "Runs of the job", labels=["job", "outcome"])
        for name, run in sorted(known.jobs.items()):
            seconds.add_metric([name], run.last_seconds)
            if run.last_success_at is not None:
                success.add_metric([name], run.last_success_at.timestamp())
            runs.add_metric([name, "success"], run.runs - run.failures)
            runs.add_metric([name, "failure"], run.failures)
        yield from (seconds, success, runs)
        report = GaugeMetricFamily(
            "pathway_report_last_date_timestamp_seconds",
            "Start of the clinic-local day of the last daily report written (Unix time)",
        )
        if known.last_report is not None:
            report.add_metric([], datetime.combine(known.last_report, time.min, deps.zone).timestamp())
        yield report


def install(app_registry: CollectorRegistry, application: App) -> Histogram:
    """Register the stored-facts collector and return the request-latency histogram."""
    app_registry.register(PathwayCollector(application))
    return Histogram(
        "pathway_http_request_duration_seconds",
        "HTTP request latency by route template",
        ["method", "route", "status"],
        registry=app_registry,
        buckets=LATENCY_BUCKETS,
    )
