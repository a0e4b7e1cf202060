"""Page: the pathway's state diagrams, with one patient's current states when `?mrn=` is given."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from pathway.render.diagram_svg import diagram_svg
from pathway.services import patients
from pathway.web.audit_routes import viewed
from pathway.web.auth import CurrentUser, deps_of
from pathway.web.templating import page

router = APIRouter(include_in_schema=False)
MRN = patients.MRN_PATTERN.pattern


@router.get("/pathway", response_class=HTMLResponse)
def pathway(
    request: Request,
    user: CurrentUser,
    mrn: Annotated[str | None, Query(max_length=64, pattern=MRN + "|^$")] = None,
) -> HTMLResponse:
    deps = deps_of(request)
    definition = deps.pathway.definition
    view = patients.status(deps, mrn) if mrn else None
    if view is not None:
        viewed(request, user, view.patient.mrn, "pathway")
    states = view.states if view else {}
    tracks = [
        (name, spec.description, states.get(name), Markup(diagram_svg(definition, name, states.get(name))))
        for name, spec in definition.tracks.items()
    ]
    return page(
        request,
        "pathway.html",
        {"definition": definition, "tracks": tracks, "patient": view.patient if view else None},
    )
