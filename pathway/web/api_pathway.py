"""/api/v1: the daily report (JSON, HTML), the pathway definition and its diagrams, who am I."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from pathway.domain.definition import PathwayDefinition
from pathway.domain.errors import NotFound
from pathway.domain.report import as_json
from pathway.render import report as render_report
from pathway.render.diagram_svg import diagram_svg
from pathway.services import accounts, pathway_change, patients, reports
from pathway.web import schemas, schemas_views
from pathway.web.auth import CurrentUser, deps_of
from pathway.web.schemas import JSON_ERRORS, ClinicDate
from pathway.web.security import csp_allowing_styles_of

MRN = patients.MRN_PATTERN.pattern
router = APIRouter(tags=["report and pathway"])


class SvgResponse(Response):
    media_type = "image/svg+xml"


@router.get("/report", response_model=schemas_views.ReportOut, operation_id="getReport")
def report(request: Request, _: CurrentUser, as_of: ClinicDate | None = None) -> Any:
    """The daily status report as data (news, overdue, due, alerts, gaps, quality, forecast)."""
    return as_json(reports.build(deps_of(request), as_of))


@router.get(
    "/report/html",
    response_class=HTMLResponse,
    responses={**JSON_ERRORS, 200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
    operation_id="getReportHtml",
)
def report_html(request: Request, _: CurrentUser, as_of: ClinicDate | None = None) -> Response:
    """The same report as one self-contained HTML document (inline SVG charts), for printing."""
    html = render_report.to_html(reports.build(deps_of(request), as_of))
    return HTMLResponse(html, headers={"Content-Security-Policy": csp_allowing_styles_of(html)})


@router.get("/pathway", response_model=PathwayDefinition, operation_id="getPathway")
def definition(request: Request, _: CurrentUser) -> Any:
    """The pathway file as loaded: tracks, states, events with their fields, rules, sources."""
    return deps_of(request).pathway.definition


@router.get(
    "/pathway/versions",
    response_model=list[schemas_views.PathwayVersionOut],
    operation_id="listPathwayVersions",
)
def versions(request: Request, _: CurrentUser) -> Any:
    """The applied pathway versions, newest first: hash, when, who applied and approved, the note
    and the changes (rule book 4.2); the file texts are kept in the database, not listed."""
    deps = deps_of(request)
    answer = [pathway_change.version_json(v, deps.zone) for v in pathway_change.history(deps)]
    for version in answer:
        version["changes"] = [
            c | {k: None if c.get(k) is None else json.dumps(c[k], default=str) for k in ("old", "new")}
            for c in version["changes"]
        ]
    return answer


@router.get(
    "/pathway/diagram/{track}",
    response_class=SvgResponse,
    responses={**JSON_ERRORS, 200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}}},
    operation_id="getTrackDiagram",
)
def diagram(
    request: Request,
    track: Annotated[str, Path(max_length=32)],
    _: CurrentUser,
    mrn: Annotated[str | None, Query(max_length=64, pattern=MRN)] = None,
) -> Response:
    """One track's state diagram as SVG; with `mrn`, that patient's current state highlighted."""
    deps = deps_of(request)
    definition = deps.pathway.definition
    if track not in definition.tracks:
        raise NotFound(f"unknown track '{track}'; tracks: {', '.join(definition.tracks)}")
    current = patients.status(deps, mrn).states.get(track) if mrn else None
    return SvgResponse(diagram_svg(definition, track, current))


@router.get("/me", response_model=schemas.MeOut, operation_id="getMe")
def me(user: CurrentUser) -> Any:
    return schemas.MeOut(name=user.name, role=user.role, permissions=accounts.permissions(user.role))
