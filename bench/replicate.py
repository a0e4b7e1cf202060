"""Build a large bench base from a smaller one by copying its patients with shifted ids.

    python -m bench.replicate --base bench/.work/bench-4000.db --factor 25 --to bench/.work/bench-100000.db
    python -m bench.replicate --from-sqlite bench/.work/bench-100000.db --pg-name eventpath_bench_100000

Generating a cohort through the engine's pure code costs tens of milliseconds of CPU per patient;
on a shared machine 100,000 patients took hours. Copy k of a base of N patients gets patient ids
+k*N (MRN B{id:07d}), and event, follow-up and alert ids shifted past the base's largest; the
event ids written into texts ("event 14", "A18:event:14") are shifted too, so recording an event
on a copied patient re-derives exactly what it would on the original. The histories repeat every
N patients: table and index sizes are those of the full cohort, the mix of histories that of N.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.load import _fix_sequences
from db import migrate

_EVENT = re.compile(r"(event[ :])(\d+)")
TABLES = ("patient", "track_state", "event", "follow_up", "alert")
# per table: the id columns and what they point at (their offset)
SHIFT = {
    "patient": {"id": "patient"},
    "track_state": {"patient_id": "patient"},
    "event": {"id": "event", "patient_id": "patient"},
    "follow_up": {"id": "follow_up", "patient_id": "patient", "done_event_id": "event"},
    "alert": {"id": "alert", "patient_id": "patient", "follow_up_id": "follow_up"},
}
TEXTS = {
    "follow_up": ("anchor_label", "alert_message", "notes", "instance_key"),
    "alert": ("instance_key", "message"),
}


def _shift_text(value: str | None, offset: int) -> str | None:
    if value is None or offset == 0:
        return value
    return _EVENT.sub(lambda m: f"{m[1]}{int(m[2]) + offset}", value)


def replicate(base: Path, factor: int, target: Path) -> None:
    shutil.copy(base, target)
    conn = sqlite3.connect(target, isolation_level=None)
    conn.create_function("shift_text", 2, _shift_text, deterministic=True)
    conn.execute("PRAGMA journal_mode=WAL")
    size = {
        t: conn.execute(f"SELECT max(id) FROM {t}").fetchone()[0]
        for t in ("patient", "event", "follow_up", "alert")
    }
    indexes = [
        (name, sql)
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
    ]
    conn.execute("BEGIN")
    for name, _sql in indexes:  # rebuilt once at the end: far cheaper than row by row
        conn.execute(f'DROP INDEX "{name}"')
    for k in range(1, factor):
        for table in TABLES:
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            exprs = []
            for c in cols:
                if c in SHIFT[table]:
                    exprs.append(f"{c} + {k * size[SHIFT[table][c]]}")
                elif table == "patient" and c == "mrn":
                    exprs.append(f"printf('B%07d', id + {k * size['patient']})")
                elif c in TEXTS.get(table, ()):
                    exprs.append(f"shift_text({c}, {k * size['event']})")
                else:
                    exprs.append(c)
            conn.execute(
                f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {table} "
                f"WHERE {'patient_id' if table != 'patient' else 'id'} <= {size['patient']}"
            )
        print(f"copy {k + 1}/{factor}", flush=True)
    for _name, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def to_postgres(source: Path, url: str, name: str) -> None:
    """A PostgreSQL base with the same rows as a SQLite one (schema by the migrations, rows by COPY)."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    root = url.rsplit("/", 1)[0]
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(f"{root}/{name}")
    migrate.upgrade(engine)
    src = sqlite3.connect(source)
    raw = engine.raw_connection()
    pg = raw.driver_connection
    with pg.cursor() as cur:
        cur.execute("SET TIME ZONE 'UTC'")
        for table in TABLES:
            cols = [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
            with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in src.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY rowid"):
                    copy.write_row(row)
            print(f"{table} copied", flush=True)
    pg.commit()
    raw.close()
    _fix_sequences(engine)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", type=Path)
    parser.add_argument("--factor", type=int, default=5)
    parser.add_argument("--to", type=Path)
    parser.add_argument("--from-sqlite", type=Path)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-name")
    args = parser.parse_args()
    if args.base:
        replicate(args.base, args.factor, args.to)
    if args.from_sqlite:
        to_postgres(args.from_sqlite, args.pg_url, args.pg_name)


if __name__ == "__main__":
    main()
