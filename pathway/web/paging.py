"""Keyset pagination for the API's lists: `limit` and an opaque `cursor`, the next page in `Link`.

The cursor carries the list's name and the last key shown (an MRN, an id, a user name), base64url
encoded: the next page starts after that key, so rows added or removed meanwhile never shift a page
(no OFFSET). A cursor that does not decode, or belongs to another list, is refused with 422.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

from fastapi import Query, Request, Response

from pathway.domain.errors import InvalidInput

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
T = TypeVar("T")
K = TypeVar("K", str, int)

Limit = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"at most this many items (default {DEFAULT_LIMIT})"),
]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=400,
        pattern=r"^[A-Za-z0-9_-]+$",
        description='opaque; take it from the `Link: <...>; rel="next"` header of the previous page',
    ),
]


def encode(kind: str, key: str | int) -> str:
    raw = json.dumps([kind, key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(kind: str, cursor: str | None, key_type: type[K]) -> K | None:
    """The last key of the previous page, or None for the first page."""
    if cursor is None:
        return None
    refused = InvalidInput(
        "query parameter 'cursor' is not a cursor of this list: "
        'follow the Link header\'s rel="next" address, or leave the cursor out for the first page'
    )
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise refused from None
    if not (isinstance(decoded, list) and len(decoded) == 2 and decoded[0] == kind):
        raise refused
    key = decoded[1]
    if type(key) is not key_type or key == "" or (isinstance(key, int) and key < 0):
        raise refused
    return key


def page(
    request: Request,
    response: Response,
    kind: str,
    rows: Sequence[T],
    limit: int,
    key: Callable[[T], str | int],
) -> Sequence[T]:
    """The first `limit` rows (the caller fetched one more to learn whether a next page exists);
    when there is one, a relative `Link: <...?cursor=...>; rel="next"` header points to it."""
    if len(rows) <= limit:
        return rows
    shown = rows[:limit]
    url = request.url.include_query_params(limit=limit, cursor=encode(kind, key(shown[-1])))
    response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
    return shown


def after(rows: Sequence[T], last: K | None, key: Callable[[T], K]) -> list[T]:
    """Rows whose key is beyond the cursor's (for short lists already loaded whole)."""
    return [r for r in rows if last is None or key(r) > last]
