"""Pages: the worklist (home), alerts with their actions, and the daily report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pathway.domain.clinical_time import local_date, parse_date
from pathway.ports import User
from pathway.render import report as render_report
from pathway.services import alerting, patients, reports
from pathway.web import views, views_worklist
from pathway.web.auth import CurrentUser, deps_of, flash, may
from pathway.web.schemas import AlertId, ClinicDate
from pathway.web.security import csp_allowing_styles_of
from pathway.web.templating import page, show_names

router = APIRouter(include_in_schema=False)
MRN = patients.MRN_PATTERN.pattern
Choice = Annotated[str | None, Query(max_length=64)]
Note = Annotated[str, Form(max_length=2000)]
Search = Annotated[str, Query(max_length=100)]
ICON = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
NAV = (
    '<nav class="meta"><a href="/">← Worklist</a> · <a href="/alerts">Alerts</a> · '
    '<a href="/pathway">Pathway</a> · <a href="/api/v1/report">JSON</a></nav>'
)


def worklist_filters(
    severity: Choice = None,
    track: Choice = None,
    state: Choice = None,
    kind: Choice = None,
    within: Annotated[int | None, Query(ge=0, le=366)] = None,
    caseload: Choice = None,
) -> views.WorklistFilters:
    """The worklist's filters from the query string: the page and its CSV download share them."""
    return views.WorklistFilters(
        severity or None, track or None, state or None, kind or None, within, caseload or None
    )


Filters = Annotated[views.WorklistFilters, Depends(worklist_filters)]


@router.get("/", response_class=HTMLResponse)
def worklist(
    request: Request,
    user: CurrentUser,
    filters: Filters,
    q: Search = "",
) -> HTMLResponse:
    context = views_worklist.worklist(deps_of(request), user, filters, q.strip(), show_names(request))
    return page(request, "worklist.html", context)


@router.get("/worklist.csv")
def worklist_csv(
    request: Request,
    user: CurrentUser,
    filters: Filters,
    q: Search = "",
) -> Response:
    """The worklist's lines as shown on the page with the same filters, as a CSV download."""
    deps = deps_of(request)
    names = show_names(request)
    lines, _ = views_worklist.worklist_lines(deps, user, filters, q.strip(), names)
    day = local_date(deps.clock.now(), deps.zone).isoformat()
    return Response(
        views_worklist.csv_text(lines, names),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="worklist-{day}.csv"'},
    )


@router.get("/alerts", response_class=HTMLResponse)
def alerts(
    request: Request,
    user: CurrentUser,
    status: Choice = None,
    mrn: Annotated[str | None, Query(max_length=64, pattern=MRN + "|^$")] = None,
) -> HTMLResponse:
    context = views.alerts(deps_of(request), user, status or None, mrn or None)
    return page(request, "alerts.html", context)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(
    request: Request, alert_id: AlertId, user: Annotated[User, may("acknowledge")], note: Note = ""
) -> Response:
    alerting.acknowledge(deps_of(request), alert_id, user.name, note.strip() or None, role=user.role)
    return _done(request, f"Alert {alert_id} acknowledged.")


@router.post("/alerts/{alert_id}/snooze")
def snooze(
    request: Request,
    alert_id: AlertId,
    user: Annotated[User, may("snooze")],
    until: Annotated[ClinicDate, Form()],
    note: Note,
) -> Response:
    alerting.snooze(deps_of(request), alert_id, until, user.name, note, role=user.role)
    return _done(request, f"Alert {alert_id} snoozed until {until}.")


@router.post("/alerts/{alert_id}/override")
def override(
    request: Request,
    alert_id: AlertId,
    user: Annotated[User, may("override")],
    reason: Annotated[str, Form(max_length=40)],
    note: Note,
    until: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    until_day = parse_date(until, "until") if until.strip() else None
    alerting.override(deps_of(request), alert_id, reason, note, user.name, role=user.role, until=until_day)
    return _done(request, f"Alert {alert_id} overridden ({reason}).")


@router.get("/report", response_class=HTMLResponse)
def report(request: Request, _: CurrentUser, as_of: ClinicDate | None = None) -> HTMLResponse:
    html = render_report.to_html(reports.build(deps_of(request), as_of))
    html = html.replace("</head>", f"{ICON}\n</head>", 1).replace("<body>", f"<body>\n{NAV}", 1)
    return HTMLResponse(html, headers={"Content-Security-Policy": csp_allowing_styles_of(html)})


def _done(request: Request, message: str) -> Response:
    flash(request, "ok", message)
    return RedirectResponse(getattr(request.state, "back", None) or "/alerts", status_code=303)
