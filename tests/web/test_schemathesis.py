"""Property-based tests of the JSON API from its own OpenAPI document: no input makes it fail (5xx).

The document is the app's own (/openapi.json needs a signed-in user, so it is taken from the app
object here); each generated request goes to a fresh app on a copy of the demo database.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from pathway.bootstrap import build
from pathway.web.app import create_app
from tests.web.conftest import bearer


def _document() -> dict[str, object]:
    unused = Path(tempfile.gettempdir()) / "pathway-openapi-unused.db"  # never opened
    application = build({"PATHWAY_DATABASE_URL": f"sqlite:///{unused}"})
    return create_app(application, secret_key="unused").openapi()


schema = schemathesis.openapi.from_dict(_document())


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_never_fails_on_any_input(
    case: schemathesis.Case, web: FastAPI, tokens: dict[str, str]
) -> None:
    # Excluded: "schema-valid data must be accepted". Rules that depend on the pathway file or on
    # today (a known track, a date not in the future) cannot be expressed in the schema, and
    # refusing them with 4xx is the point.
    case.call_and_validate(
        headers=bearer(tokens["admin"]), app=web, excluded_checks=[positive_data_acceptance]
    )
