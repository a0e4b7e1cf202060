"""SQLite's page cache is set deliberately on every connection (PATHWAY_SQLITE_CACHE_MIB, 64 MiB by
default; SQLite's own default is 2 MiB), and a value out of range is refused with the range."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from pathway.bootstrap import build
from pathway.domain.errors import InvalidInput


def cache_kib(environ: dict[str, str]) -> int:
    app = build(environ)
    try:
        with app.engine.connect() as conn:
            return -int(conn.execute(text("PRAGMA cache_size")).scalar_one())
    finally:
        app.engine.dispose()


def test_every_sqlite_connection_gets_the_configured_page_cache(tmp_path: Path) -> None:
    url = {"PATHWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    assert cache_kib(url) == 64 * 1024
    assert cache_kib(url | {"PATHWAY_SQLITE_CACHE_MIB": "8"}) == 8 * 1024


@pytest.mark.parametrize(
    ("value", "why"),
    [("1", "between 2 and 4096 MiB"), ("5000", "between 2 and 4096 MiB"), ("lots", "valid integer")],
)
def test_a_cache_size_out_of_range_is_refused_with_the_range(tmp_path: Path, value: str, why: str) -> None:
    url = {"PATHWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "PATHWAY_SQLITE_CACHE_MIB": value}
    with pytest.raises(InvalidInput, match=f"PATHWAY_SQLITE_CACHE_MIB: .*{why}"):
        build(url)
