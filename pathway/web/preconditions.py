"""ETag and If-Match on a patient: its version is the entity tag (`W/"7"`, as FHIR writes it).

A write to the patient with `If-Match` names the version it was built on; if the patient has moved
on, the answer is 412 Precondition Failed (with `expected_version` in the body it stays 409, as
before). The tag is weak because the representation also shows what time does (a step becoming
overdue) without a new version; `If-Match` compares the version alone, weak or strong.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Header, Response

from pathway.domain.errors import Conflict, InvalidInput
from pathway.web.schemas import PROBLEM, Error

_TAG = re.compile(r'^\s*(?:W/)?"(?P<version>[1-9][0-9]{0,9})"\s*$')

IfMatch = Annotated[
    str | None,
    Header(
        max_length=200,
        description='the patient\'s ETag as last read (e.g. W/"7"): refuse with 412 if it changed since',
    ),
]


class PreconditionFailed(Conflict):
    """If-Match named a version the patient is no longer at (HTTP 412)."""


def etag(version: int) -> str:
    return f'W/"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def expected_version(if_match: str | None, in_body: int | None) -> int | None:
    """The version the write must find: from If-Match (`*` means any), or the body's field."""
    if if_match is None or if_match.strip() == "*":
        return in_body
    found = _TAG.match(if_match)
    if found is None:
        raise InvalidInput("header 'If-Match' must be the patient's ETag, e.g. W/\"7\" (or *)")
    version = int(found.group("version"))
    if in_body is not None and in_body != version:
        raise InvalidInput("header 'If-Match' and field 'expected_version' name different versions")
    return version


ETAG_HEADER = {"ETag": {"description": 'the patient\'s version as an entity tag, W/"<version>"'}}
PRECONDITION_FAILED: dict[int | str, dict[str, Any]] = {
    412: {
        "model": Error,
        "description": "If-Match named a version the patient is no longer at",
        "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
}
