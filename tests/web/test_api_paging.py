"""API convention: every list pages by keyset (`limit` + opaque `cursor`, the next page in `Link`)."""

from __future__ import annotations

import base64
import re

import pytest

from pathway.web.paging import MAX_LIMIT
from tests.web.conftest import TestClient, bearer

PROBLEM = "application/problem+json"
NEXT = re.compile(r'^<(?P<url>/api/v1/[^>]+)>; rel="next"$')


def walk(client: TestClient, path: str, token: str, limit: int) -> tuple[list[dict[str, object]], int]:
    """Follow the Link headers from the first page to the last; the items and the page count."""
    items: list[dict[str, object]] = []
    url: str | None = f"{path}{'&' if '?' in path else '?'}limit={limit}"
    pages = 0
    while url is not None:
        response = client.get(url, headers=bearer(token))
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page) <= limit
        items += page
        pages += 1
        link = response.headers.get("link")
        url = NEXT.match(link).group("url") if link else None  # type: ignore[union-attr]
    return items, pages


@pytest.mark.parametrize(
    ("path", "role", "key"),
    [
        ("/api/v1/patients", "viewer", "mrn"),
        ("/api/v1/alerts?status=all", "viewer", "id"),
        ("/api/v1/patients/DEMO-006/events", "viewer", "id"),
        ("/api/v1/users", "admin", "name"),
    ],
)
def test_pages_follow_the_link_header_to_every_item_once(
    client: TestClient, tokens: dict[str, str], path: str, role: str, key: str
) -> None:
    sep = "&" if "?" in path else "?"
    whole = client.get(f"{path}{sep}limit={MAX_LIMIT}", headers=bearer(tokens[role])).json()
    assert len(whole) < MAX_LIMIT
    assert len(whole) >= 3, "the demo cohort should fill several pages"

    paged, pages = walk(client, path, tokens[role], limit=2)

    # every item exactly once (alerts: each page is shown most urgent first, so compare as sets)
    assert len(paged) == len({i[key] for i in paged}) == len(whole)
    assert sorted(i[key] for i in paged) == sorted(i[key] for i in whole)
    if key != "id" or "alerts" not in path:
        assert [i[key] for i in paged] == [i[key] for i in whole]
    assert pages == -(-len(whole) // 2)


def test_limit_is_honoured_and_bounded(client: TestClient, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["viewer"])
    two = client.get("/api/v1/patients?limit=2", headers=headers)
    assert len(two.json()) == 2 and 'rel="next"' in two.headers["link"]
    assert "link" not in client.get(f"/api/v1/patients?limit={MAX_LIMIT}", headers=headers).headers
    for bad in ("0", str(MAX_LIMIT + 1), "two"):
        refused = client.get(f"/api/v1/patients?limit={bad}", headers=headers)
        assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM


def test_a_new_patient_does_not_shift_the_next_page(client: TestClient, tokens: dict[str, str]) -> None:
    headers = bearer(tokens["coordinator"])
    first = client.get("/api/v1/patients?limit=2", headers=headers)
    after_first = NEXT.match(first.headers["link"]).group("url")  # type: ignore[union-attr]
    expected = client.get(after_first, headers=headers).json()
    created = client.post("/api/v1/patients", headers=headers, json={"mrn": "A-0001"})  # sorts first
    assert created.status_code == 201
    assert client.get(after_first, headers=headers).json() == expected


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",
        base64.urlsafe_b64encode(b'["alerts",3]').decode().rstrip("="),  # another list's
        base64.urlsafe_b64encode(b'["patients",7]').decode().rstrip("="),  # wrong key type
        "a%00b",
    ],
)
def test_a_bad_cursor_is_a_422_problem(client: TestClient, tokens: dict[str, str], cursor: str) -> None:
    response = client.get(f"/api/v1/patients?cursor={cursor}", headers=bearer(tokens["viewer"]))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert "cursor" in response.json()["detail"]
