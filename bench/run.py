"""Benchmark the engine at realistic scale against raw SQL on the same data, in the same process.

    python -m bench.run --patients 100000 --db sqlite
    python -m bench.run --patients 100000 --db postgresql --pg-url postgresql+psycopg://postgres@127.0.0.1/postgres

Each operation is timed `--reps` times, interleaved with its raw-SQL baseline; the table reports
medians, the ratio to raw SQL and the peak Python memory of the engine's operation.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.cohort import bench_now, generate
from bench.load import load
from bench.raw import Raw
from pathway import alerting, reports, services
from pathway.bootstrap import build
from pathway.ports import Deps
from tests.fakes import FixedClock


def timed(fn: Callable[[], Any], trace: bool = False) -> tuple[float, int]:
    """Seconds, and the peak of Python allocations when `trace` (tracing slows the run)."""
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    return elapsed, peak


def measure(name: str, ours: Callable[[int], Any], raw: Callable[[int], Any], reps: int,
            unit: str = "ms") -> dict[str, Any]:
    ours_t, raw_t, peaks = [], [], []
    for i in range(reps):
        start = time.perf_counter()
        raw(i)
        raw_t.append(time.perf_counter() - start)
        elapsed, _ = timed(lambda i=i: ours(i))  # type: ignore[misc]
        ours_t.append(elapsed)
    peaks.append(timed(lambda: ours(reps), trace=True)[1])
    scale = 1000 if unit == "ms" else 1_000_000
    o, r = statistics.median(ours_t), statistics.median(raw_t)
    row = {"operation": name, "engine": f"{o * scale:.2f} {unit}", "raw SQL": f"{r * scale:.2f} {unit}",
           "ratio": f"{o / r:.1f}x" if r else "-", "peak MiB": f"{max(peaks) / 2**20:.1f}"}
    print(" | ".join(str(v) for v in row.values()), flush=True)
    return row


def prepare(db: str, patients: int, workdir: Path, pg_url: str) -> tuple[str, Callable[[], str]]:
    """Build the base database once; return its URL and a function making a fresh copy of it."""
    env = {"PATHWAY_TIMEZONE": "Europe/London"}
    if db == "sqlite":
        base = workdir / f"bench-{patients}.db"
        url = f"sqlite:///{base}"
        if not base.exists():
            app = build(env | {"PATHWAY_DATABASE_URL": url})
            print(load(app.engine, generate(app.deps.pathway, app.deps.calendar, bench_now(),
                                            patients), patients))
            app.engine.dispose()
            raw = sqlite3.connect(base, isolation_level=None)
            raw.execute("ANALYZE")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raw.close()

        def copy() -> str:
            target = workdir / f"copy-{uuid.uuid4().hex[:6]}.db"
            shutil.copy(base, target)
            return f"sqlite:///{target}"
        return url, copy
    admin = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"),
                          isolation_level="AUTOCOMMIT")
    name = f"pathway_bench_{patients}"
    root = pg_url.rsplit("/", 1)[0]
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            app = build(env | {"PATHWAY_DATABASE_URL": f"{root}/{name}"})
            print(load(app.engine, generate(app.deps.pathway, app.deps.calendar, bench_now(),
                                            patients), patients))
            app.engine.dispose()

    def pg_copy() -> str:
        target = f"{name}_copy_{uuid.uuid4().hex[:6]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{name}"'))
        return f"{root}/{target}"
    return f"{root}/{name}", pg_copy


def run(db: str, patients: int, reps: int, workdir: Path, pg_url: str) -> list[dict[str, Any]]:
    _base_url, fresh = prepare(db, patients, workdir, pg_url)
    now = bench_now()
    url = fresh()
    app = build({"PATHWAY_TIMEZONE": "Europe/London", "PATHWAY_DATABASE_URL": url})
    clock = FixedClock(now)
    deps: Deps = replace(app.deps, clock=clock)
    raw_conn = app.engine.raw_connection().driver_connection
    raw = Raw(raw_conn, app.engine.dialect.name)
    rng = random.Random(3)
    active = [f"B{i:07d}" for i in rng.sample(range(1, patients + 1), 400)]
    with app.engine.connect() as conn:
        live = {m for (m,) in conn.execute(text(
            "SELECT p.mrn FROM patient p JOIN track_state t ON t.patient_id = p.id "
            "WHERE t.track = 'main' AND t.state NOT IN ('deceased', 'transferred', 'withdrawn', "
            "'lost_to_follow_up')"))}
    active = [m for m in active if m in live][:200]
    print(f"\n{db}, {patients} patients\noperation | engine | raw SQL | ratio | peak MiB")
    rows = []
    event_reps = max(reps, 50)
    rows.append(measure("record one event end to end",
                        lambda i: services.record_event(deps, active[i % len(active)], "exam_done",
                                                        {}, actor="bench"),
                        lambda i: raw.record_event(active[(i + 100) % len(active)], now),
                        event_reps))
    rows.append(measure("worklist for today (200 most urgent lines)",
                        lambda i: alerting.worklist(deps, limit=200),
                        lambda i: raw.worklist(now, limit=200), reps))
    rows.append(measure("daily report", lambda i: reports.build(deps),
                        lambda i: raw.report(now), reps))

    def day(i: int) -> Deps:
        clock.current = now + timedelta(days=i + 1)
        return deps
    rows.append(measure("incremental sweep after one day", lambda i: alerting.sweep(day(i)),
                        lambda i: raw.sweep(now + timedelta(days=i + 1)), reps))
    raw_conn.close()
    app.engine.dispose()
    full_ours: list[float] = []
    full_raw: list[float] = []
    peaks: list[int] = []
    for _ in range(max(2, reps // 2)):
        url = fresh()
        copy = build({"PATHWAY_TIMEZONE": "Europe/London", "PATHWAY_DATABASE_URL": url})
        later = replace(copy.deps, clock=FixedClock(now + timedelta(days=30)))
        conn = copy.engine.raw_connection()
        start = time.perf_counter()
        Raw(conn.driver_connection, copy.engine.dialect.name).sweep(now + timedelta(days=30))
        full_raw.append(time.perf_counter() - start)
        conn.close()
        elapsed, _ = timed(lambda later=later: alerting.sweep(later))  # type: ignore[misc]
        full_ours.append(elapsed)
        copy.engine.dispose()
    url = fresh()
    copy = build({"PATHWAY_TIMEZONE": "Europe/London", "PATHWAY_DATABASE_URL": url})
    later = replace(copy.deps, clock=FixedClock(now + timedelta(days=30)))
    peaks.append(timed(lambda: alerting.sweep(later), trace=True)[1])
    copy.engine.dispose()
    o, r = statistics.median(full_ours), statistics.median(full_raw)
    row = {"operation": "full sweep after 30 days of downtime", "engine": f"{o * 1000:.2f} ms",
           "raw SQL": f"{r * 1000:.2f} ms", "ratio": f"{o / r:.1f}x",
           "peak MiB": f"{max(peaks) / 2**20:.1f}"}
    print(" | ".join(row.values()))
    rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path("bench/.work"))
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    for db in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        run(db, args.patients, args.reps, args.workdir, args.pg_url)


if __name__ == "__main__":
    sys.exit(main())
