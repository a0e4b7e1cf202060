"""Consistent backups while the engine runs, and restores into an empty database.

SQLite: the online backup API copies a consistent snapshot page by page (writers may go on;
copying the .db file alone loses whatever is still in its -wal file). PostgreSQL: `pg_dump` in
its custom format, and `pg_restore` into an empty database.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import URL

from pathway.domain.errors import Conflict, InvalidInput


def backup(engine: Engine, target: Path) -> None:
    if target.exists():
        raise Conflict(f"{target} exists; choose a new file name (a backup never overwrites)")
    if not target.parent.is_dir():
        raise InvalidInput(f"{target.parent} is not a folder")
    url = engine.url
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(Path(str(url.database)), target)
    else:
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq(url)], target)
    os.chmod(target, 0o600)  # a backup holds patient data


def restore(engine: Engine, source: Path) -> None:
    if not source.is_file():
        raise InvalidInput(f"{source}: no such backup file")
    if inspect(engine).get_table_names():
        raise Conflict(
            "the target database is not empty; restore into a new, empty database "
            "(a restore never merges into or replaces live data)"
        )
    url = engine.url
    engine.dispose()
    if url.get_backend_name() == "sqlite":
        _sqlite_copy(source, Path(str(url.database)))
    else:
        _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_libpq(url)}", str(source)], None)


def _sqlite_copy(source: Path, target: Path) -> None:
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        try:
            src.backup(dst)
        except sqlite3.DatabaseError as exc:
            raise InvalidInput(f"{source}: not a SQLite database ({exc})") from None
    dst.close()
    src.close()


def _libpq(url: URL) -> str:
    """The URL as libpq (pg_dump, pg_restore) reads it: no SQLAlchemy driver suffix."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run(argv: list[str], created: Path | None) -> None:
    if shutil.which(argv[0]) is None:
        raise InvalidInput(f"{argv[0]} is not installed; install the PostgreSQL client tools")
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        if created is not None and created.exists():
            created.unlink()
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise InvalidInput(f"{argv[0]} failed: {last}")
