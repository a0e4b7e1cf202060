"""Every request body is capped before it is read (issue 17 item 5)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from starlette.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from pathway.web.sessions import BodyLimit
from tests.web.conftest import bearer

MB = 1024 * 1024


def test_a_2_mb_body_is_refused_from_its_length_without_being_read() -> None:
    async def never(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("the application must not run")

    async def unread() -> Message:
        raise AssertionError("the body must not be read")

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/patients",
        "headers": [(b"content-length", str(2 * MB).encode()), (b"content-type", b"application/json")],
    }
    asyncio.run(BodyLimit(never, max_bytes=MB)(scope, unread, send))
    assert sent[0]["status"] == 413
    assert (b"content-type", b"application/problem+json") in sent[0]["headers"]


def test_json_and_form_bodies_over_the_cap_get_413(client: TestClient, tokens: dict[str, str]) -> None:
    big = b'{"mrn": "' + b"x" * (2 * MB) + b'"}'
    answer = client.post(
        "/api/v1/patients",
        content=big,
        headers={**bearer(tokens["admin"]), "content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert "PATHWAY_MAX_BODY_BYTES" in answer.json()["detail"]
    form = client.post("/login", data={"token": "x" * (2 * MB)})
    assert form.status_code == 413


def test_a_streamed_body_is_cut_off_at_the_cap(client: TestClient, tokens: dict[str, str]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"mrn": "'
        for _ in range(40):
            yield b"x" * 64 * 1024
        yield b'"}'

    answer = client.post(
        "/api/v1/patients",
        content=chunks(),
        headers={**bearer(tokens["admin"]), "content-type": "application/json"},
    )
    assert answer.status_code == 413


def test_a_small_streamed_body_still_arrives_whole(client: TestClient, tokens: dict[str, str]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"mrn": "STREAM-'
        yield b'1", "histology": "sts"}'

    answer = client.post(
        "/api/v1/patients",
        content=chunks(),
        headers={**bearer(tokens["admin"]), "content-type": "application/json"},
    )
    assert answer.status_code == 201, answer.text
