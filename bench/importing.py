"""Benchmark `pathway import` of a generated cohort CSV against a raw `executemany` of the same rows.

    python -m bench.importing --patients 20000 --db sqlite
    python -m bench.importing --patients 20000 --db postgresql

The engine reads and checks the CSV, derives every patient's states, follow-ups and open alerts as
of now and writes them (`services.importing.import_cohort`) into an empty, migrated database. The
baseline then copies exactly the rows the engine wrote (every table it touched, read back) into a
second empty database with one DB-API `executemany` per table in one transaction: the floor for
writing those rows, with no CSV, no checks and no derivation. Wall and process CPU time of each;
the peak resident memory of the process during the engine's import (Linux: the high-water mark is
reset just before it) next to the resident memory just before it (the engine reads the CSV from a
file, as `pathway import` does); the peak of Python allocations of the engine in a separate traced run
when `--trace`.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.cohort import bench_now, history
from db import migrate
from db.engine import DEFAULT_CACHE_MIB
from pathway.bootstrap import build
from pathway.ports import Deps
from pathway.services.importing import import_cohort, iter_rows
from tests.fakes import FixedClock

TABLES = ("patient", "track_state", "event", "follow_up", "alert", "alert_action", "notification", "handover")


def cohort_csv(patients: int, seed: int = 7) -> str:
    """About 18 events per patient over up to three years (severe pain scores kept below the
    hour-clock threshold: a date alone cannot start an hour clock)."""
    rng = random.Random(seed)
    now = bench_now()
    lines = ["mrn,enrolled_on,histology,event,on,fields,row_id"]
    for pid in range(1, patients + 1):
        days = rng.randint(1, 3 * 365)
        enrolled_on = (now - timedelta(days=days)).date()
        mrn = f"B{pid:07d}"
        lines.append(f"{mrn},{enrolled_on},{rng.choice(['sts', 'sts', 'chordoma', 'other'])},,,,")
        steps = [s for s in history(rng, days) if s[0] <= days]  # history()'s early returns skip this
        for i, (offset, kind, data) in enumerate(steps):
            if kind == "pain_score":
                data = {"nrs": min(int(data["nrs"]), 6)}
            fields = ";".join(f"{k}={v}" for k, v in data.items())
            lines.append(f"{mrn},,,{kind},{enrolled_on + timedelta(days=offset)},{fields},{mrn}-{i}")
    return "\n".join(lines) + "\n"


def _rss_kib(field: str) -> int:
    """VmRSS or VmHWM of this process in KiB (Linux), 0 elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _reset_peak_rss() -> bool:
    """Reset the process's resident high-water mark (Linux >= 4.0); False when it cannot be."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _database(db: str, workdir: Path, pg_url: str, tag: str, prefix: str = "bench_import") -> str:
    if db == "sqlite":
        path = workdir / f"import-{tag}-{uuid.uuid4().hex[:6]}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{tag}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{pg_url.rsplit('/', 1)[0]}/{name}"


def _drop(db: str, url: str, pg_url: str) -> None:
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{url.removeprefix('sqlite:///')}{suffix}").unlink(missing_ok=True)
    if db == "postgresql":
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


def engine_import(url: str, csv: Path, trace: bool = False) -> tuple[float, float, int, Any, tuple[int, int]]:
    """Wall, CPU, traced peak (bytes), the import's result, and (RSS before, peak RSS during) in KiB."""
    app = build({"PATHWAY_DATABASE_URL": url, "PATHWAY_TIMEZONE": "Europe/London"})
    migrate.upgrade(app.engine)
    deps = Deps(uow=app.deps.uow, clock=FixedClock(bench_now()), pathway=app.deps.pathway, zone=app.deps.zone)
    if trace:
        tracemalloc.start()
    before = _rss_kib("VmRSS")
    reset = _reset_peak_rss()
    wall, cpu = time.perf_counter(), time.process_time()

    def rows() -> Iterator[dict[str, str]]:
        """The file, read afresh for each pass, as `pathway import` reads it."""
        with csv.open(encoding="utf-8-sig", newline="") as stream:
            yield from iter_rows(stream)

    done = import_cohort(deps, rows, "bench")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rss_peak = _rss_kib("VmHWM") if reset else 0
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    app.engine.dispose()
    return wall, cpu, peak, done, (before, rss_peak)


def _plain(value: Any) -> Any:
    """JSON columns come back decoded on PostgreSQL: hand them to the driver as JSON again."""
    if isinstance(value, dict | list):
        from psycopg.types.json import Jsonb

        return Jsonb(value)
    return value


def raw_copy(db: str, source: str, target: str, chunk: int = 100_000) -> tuple[float, float, int]:
    """Copy every row the engine wrote with the driver alone, `chunk` rows at a time (memory stays
    bounded at 100,000 patients); only the inserts and the commit are timed, not the reading."""
    src = create_engine(source)
    migrate.upgrade(create_engine(target))
    if db == "sqlite":
        conn_: Any = sqlite3.connect(target.removeprefix("sqlite:///"), isolation_level=None)
        conn_.execute("PRAGMA journal_mode=WAL")
        conn_.execute("PRAGMA synchronous=NORMAL")
        conn_.execute(f"PRAGMA cache_size=-{DEFAULT_CACHE_MIB * 1024}")  # the engine's (db.engine)
        mark, begin = "?", "BEGIN IMMEDIATE"
    else:
        import psycopg

        conn_ = psycopg.connect(target.replace("postgresql+psycopg://", "postgresql://"))
        mark, begin = "%s", None
    count = 0
    wall = cpu = 0.0
    cur = conn_.cursor()
    if begin:
        cur.execute(begin)
    with src.connect().execution_options(stream_results=True) as conn:  # PostgreSQL: a server-side cursor
        for table in TABLES:
            result = conn.exec_driver_sql(f"SELECT * FROM {table}")
            keys = list(result.keys())
            sql = f"INSERT INTO {table} ({', '.join(keys)}) VALUES ({', '.join([mark] * len(keys))})"
            for batch in result.partitions(chunk):
                values = [tuple(map(_plain, r)) for r in batch]
                w, c = time.perf_counter(), time.process_time()
                cur.executemany(sql, values)
                wall, cpu = wall + time.perf_counter() - w, cpu + time.process_time() - c
                count += len(values)
    w, c = time.perf_counter(), time.process_time()
    conn_.commit() if db == "postgresql" else cur.execute("COMMIT")
    wall, cpu = wall + time.perf_counter() - w, cpu + time.process_time() - c
    conn_.close()
    src.dispose()
    return wall, cpu, count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--workdir", type=Path, default=Path("bench/.work"))
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-prefix", default="bench_import", help="prefix of the PostgreSQL databases made")
    parser.add_argument("--trace", action="store_true", help="also a traced run for peak Python memory")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    body = cohort_csv(args.patients)
    csv_rows = body.count("\n") - 1
    print(f"{args.patients:,} patients, {csv_rows:,} CSV rows ({len(body) / 2**20:.1f} MiB)")
    csv = args.workdir / f"cohort-{args.patients}-{uuid.uuid4().hex[:6]}.csv"
    csv.write_text(body, encoding="utf-8")
    del body  # the engine reads the file, as `pathway import` does: its memory is its own
    try:
        for db in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
            _run(db, args, csv, csv_rows)
    finally:
        csv.unlink(missing_ok=True)


def _run(db: str, args: argparse.Namespace, csv: Path, csv_rows: int) -> None:
    ours = _database(db, args.workdir, args.pg_url, "engine", args.pg_prefix)
    theirs = _database(db, args.workdir, args.pg_url, "raw", args.pg_prefix)
    try:
        load = os.getloadavg()
        wall, cpu, _, done, (before, rss_peak) = engine_import(ours, csv)
        print(
            f"{db}: engine {wall:.1f} s wall / {cpu:.1f} s CPU ({csv_rows / cpu:,.0f} rows/s CPU, "
            f"{csv_rows / wall:,.0f} rows/s wall); {done}",
            flush=True,
        )
        if rss_peak:
            print(
                f"{db}: resident memory {before / 1024:.0f} MiB before the import, "
                f"peak {rss_peak / 1024:.0f} MiB during it "
                f"(+{(rss_peak - before) / 1024:.0f} MiB)",
                flush=True,
            )
        print(f"{db}: load average {load[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end", flush=True)
        raw_wall, raw_cpu, written = raw_copy(db, ours, theirs)
        print(
            f"{db}: raw executemany of the same {written:,} rows {raw_wall:.1f} s wall / "
            f"{raw_cpu:.1f} s CPU; ratio engine/raw CPU {cpu / raw_cpu:.1f}x, "
            f"wall {wall / raw_wall:.1f}x",
            flush=True,
        )
        if args.trace:
            again = _database(db, args.workdir, args.pg_url, "traced", args.pg_prefix)
            try:
                peak = engine_import(again, csv, trace=True)[2]
                print(f"{db}: peak Python allocations of the engine's import {peak / 2**20:.0f} MiB")
            finally:
                _drop(db, again, args.pg_url)
    finally:
        _drop(db, ours, args.pg_url)
        _drop(db, theirs, args.pg_url)


if __name__ == "__main__":
    main()
