"""The OpenAPI document of /api/v1: a stable, unique operationId on every operation and a typed schema
for every answer (no bare `object`, no `dict[str, Any]`), so clients can be generated from it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import TestClient, bearer

METHODS = {"get", "post", "put", "patch", "delete"}
STABLE = {  # renaming one breaks generated clients: change with care (and in the CHANGELOG)
    "listPatients",
    "enrolPatient",
    "getPatient",
    "listEvents",
    "recordEvent",
    "explainRule",
    "getHandover",
    "getAssignment",
    "assignPatient",
    "bookFollowUp",
    "getPatientFhir",
    "getWorklist",
    "listAlerts",
    "acknowledgeAlert",
    "snoozeAlert",
    "overrideAlert",
    "getReport",
    "getReportHtml",
    "getPathway",
    "getTrackDiagram",
    "getMe",
    "listUsers",
    "addUser",
    "revokeUser",
    "resetUserToken",
    "setUserRole",
    "listPathwayVersions",
    "listAuditEntries",
}


@pytest.fixture
def document(client: TestClient, tokens: dict[str, str]) -> dict[str, Any]:
    answer = client.get("/openapi.json", headers=bearer(tokens["viewer"]))
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1")
        for method, op in item.items()
        if method in METHODS
    ]


def untyped(schema: dict[str, Any], components: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    """Every place under `schema` that says nothing of its content."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return untyped(components[name], components, name, seen)
    found: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            found += untyped(part, components, where, seen)
    if not schema or schema.get("type") == "object" or "properties" in schema:
        extra = schema.get("additionalProperties")
        if (not schema.get("properties") and not isinstance(extra, dict)) or extra == {}:
            found.append(where)
        for name, part in schema.get("properties", {}).items():
            found += untyped(part, components, f"{where}.{name}", seen)
        if isinstance(extra, dict):
            found += untyped(extra, components, f"{where}{{}}", seen)
    if schema.get("type") == "array":
        found += untyped(schema.get("items", {}), components, f"{where}[]", seen)
    return found


def test_every_operation_has_a_unique_stable_operation_id(document: dict[str, Any]) -> None:
    ids = [op.get("operationId") for _, _, op in operations(document)]
    assert None not in ids, [f"{m} {p}" for m, p, op in operations(document) if "operationId" not in op]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert set(ids) == STABLE


def test_every_answer_has_a_typed_schema(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    problems = []
    for method, path, op in operations(document):
        for status, response in op["responses"].items():
            content = response.get("content")
            if content is None and status.startswith("2"):
                problems.append(f"{method} {path} {status}: no content")
            for media, body in (content or {}).items():
                where = f"{method} {path} {status} {media}"
                schema = body.get("schema")
                if not schema:
                    problems.append(f"{where}: no schema")
                    continue
                problems += [f"{where}: {place}" for place in untyped(schema, components, "", set())]
    assert problems == []


def test_every_post_declares_the_idempotency_key(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        if method == "post":
            names = {p["name"] for p in op.get("parameters", [])}
            assert "Idempotency-Key" in names, path
