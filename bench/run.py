"""Benchmark the engine at realistic scale against raw SQL on the same data, in the same process.

    python -m bench.run --patients 100000 --db sqlite
    python -m bench.run --patients 100000 --db postgresql --pg-url postgresql+psycopg://postgres@127.0.0.1/postgres

Each operation is timed `--reps` times, interleaved with its raw-SQL baseline; the table reports
medians, the ratio to raw SQL and the peak Python memory of the engine's operation.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.cohort import bench_now, generate
from bench.load import load
from bench.raw import Raw
from bench.replay import Capture, replay, round_trips
from db import migrate
from db.engine import DEFAULT_CACHE_MIB
from pathway.bootstrap import build
from pathway.domain.alerts import holdable_keys
from pathway.ports import Deps
from pathway.services import alerting, reports
from pathway.services import patients as patient_service
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


def measure(
    name: str, ours: Callable[[int], Any], raw: Callable[[int], Any], reps: int, unit: str = "ms"
) -> dict[str, Any]:
    """Wall and process-CPU medians of the engine and of its baseline, interleaved."""
    ours_t, raw_t, ours_c, raw_c, peaks = [], [], [], [], []
    raw(-1)  # warm up (for the sweeps: a sweep at the time of the last one, nothing to do)
    ours(-1)
    for i in range(reps):
        start, cpu = time.perf_counter(), time.process_time()
        raw(i)
        raw_t.append(time.perf_counter() - start)
        raw_c.append(time.process_time() - cpu)
        cpu = time.process_time()
        elapsed, _ = timed(lambda i=i: ours(i))  # type: ignore[misc]
        ours_c.append(time.process_time() - cpu)
        ours_t.append(elapsed)
    peaks.append(timed(lambda: ours(reps), trace=True)[1])
    return _row(name, ours_t, raw_t, ours_c, raw_c, max(peaks), unit)


def _row(
    name: str,
    ours_t: list[float],
    raw_t: list[float],
    ours_c: list[float],
    raw_c: list[float],
    peak: int,
    unit: str = "ms",
) -> dict[str, Any]:
    scale = 1000 if unit == "ms" else 1_000_000
    o, r = statistics.median(ours_t), statistics.median(raw_t)
    oc, rc = statistics.median(ours_c), statistics.median(raw_c)
    row = {
        "operation": name,
        "engine": f"{o * scale:.2f} {unit}",
        "raw SQL": f"{r * scale:.2f} {unit}",
        "ratio": f"{o / r:.1f}x" if r else "-",
        "engine CPU": f"{oc * scale:.2f} {unit}",
        "raw CPU": f"{rc * scale:.2f} {unit}",
        "CPU ratio": f"{oc / rc:.1f}x" if rc else "-",
        "peak MiB": f"{peak / 2**20:.1f}",
    }
    print(" | ".join(str(v) for v in row.values()), flush=True)
    return row


def prepare(
    db: str, patients: int, workdir: Path, pg_url: str, pg_prefix: str = "pathway_bench"
) -> tuple[str, Callable[[], str]]:
    """Build the base database once; return its URL and a function making a fresh copy of it."""
    env = {"PATHWAY_TIMEZONE": "Europe/London"}
    if db == "sqlite":
        base = workdir / f"bench-{patients}.db"
        url = f"sqlite:///{base}"
        if not base.exists():
            app = build(env | {"PATHWAY_DATABASE_URL": url})
            print(
                load(
                    app.engine, generate(app.deps.pathway, app.deps.calendar, bench_now(), patients), patients
                )
            )
            app.engine.dispose()
            raw = sqlite3.connect(base, isolation_level=None)
            raw.execute("ANALYZE")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            raw.close()
        _upgrade(url)

        def copy() -> str:
            target = workdir / f"copy-{uuid.uuid4().hex[:6]}.db"
            shutil.copy(base, target)
            os.sync()  # the copy's write-back would otherwise land inside the timed commits
            return f"sqlite:///{target}"

        return url, copy
    admin = create_engine(
        pg_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    name = f"{pg_prefix}_{patients}"
    root = pg_url.rsplit("/", 1)[0]
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            app = build(env | {"PATHWAY_DATABASE_URL": f"{root}/{name}"})
            print(
                load(
                    app.engine, generate(app.deps.pathway, app.deps.calendar, bench_now(), patients), patients
                )
            )
            app.engine.dispose()
    _upgrade(f"{root}/{name}")
    vacuum = create_engine(f"{root}/{name}", isolation_level="AUTOCOMMIT")
    with vacuum.connect() as conn:  # after a bulk load: visibility map (index-only scans), stats
        conn.execute(text("VACUUM ANALYZE"))
    vacuum.dispose()

    def pg_copy() -> str:
        target = f"{name}_copy_{uuid.uuid4().hex[:6]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{name}"'))
        return f"{root}/{target}"

    return f"{root}/{name}", pg_copy


def _upgrade(url: str) -> None:
    """A base built before a later migration (new indexes) is brought up to date, then analysed."""
    engine = create_engine(url)
    old, new = migrate.upgrade(engine)
    if old != new:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()


ENV = {"PATHWAY_TIMEZONE": "Europe/London"}  # the engine's settings in the timed runs (main: --pathway)
RENOTIFY = {"on": True}  # main: --renotify off
RAW_BATCHED = {"on": False}  # main: --raw-batches on


def _no_renotify(url: str) -> None:
    """Renotification switched off on a copy: no live critical alert awaits a round (the pathway
    file given with --renotify off also sets the longest interval, 72 hours, so the criticals a
    timed sweep raises are not due again within the run). For a like-for-like comparison with code
    that did not renotify; the engine and the raw baseline get the same copies."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alert SET next_renotify_at = NULL WHERE next_renotify_at IS NOT NULL"))
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        os.sync()
    engine.dispose()


def _pathway_without_renotify(workdir: Path) -> Path:
    """A copy of the default pathway file with `critical_renotify_hours` at its largest (72)."""
    source = Path(__file__).resolve().parent.parent / "config" / "pathways" / "sacral-metastasis.yaml"
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip() == "critical_renotify_hours:")
    assert lines[at + 1].strip() == "value: 4", lines[at + 1]
    lines[at + 1] = lines[at + 1].replace("value: 4", "value: 72")
    target = workdir / "sacral-metastasis-renotify-72h.yaml"
    target.write_text("".join(lines), encoding="utf-8")
    return target


SQLITE_CACHE_KIB = DEFAULT_CACHE_MIB * 1024  # the engine's own page cache (db.engine), for the raw side


def run(
    db: str,
    patients: int,
    reps: int,
    workdir: Path,
    pg_url: str,
    pg_prefix: str = "pathway_bench",
    only: str = "",
) -> list[dict[str, Any]]:
    """Every operation on its own copy of the base: the engine's on one, raw SQL's on another."""
    _base_url, copy = prepare(db, patients, workdir, pg_url, pg_prefix)

    def fresh() -> str:
        url = copy()
        if not RENOTIFY["on"]:
            _no_renotify(url)
        return url

    now = bench_now()
    env = ENV
    app = build(env | {"PATHWAY_DATABASE_URL": fresh()})
    raw_engine = create_engine(fresh())
    clock = FixedClock(now)
    deps: Deps = replace(app.deps, clock=clock)
    raw = raw_for(raw_engine.raw_connection().driver_connection, raw_engine.dialect.name, app)
    rng = random.Random(3)
    active = [f"B{i:07d}" for i in rng.sample(range(1, patients + 1), min(400, patients))]
    with app.engine.connect() as conn:
        live = {
            m
            for (m,) in conn.execute(
                text(
                    "SELECT p.mrn FROM patient p JOIN track_state t ON t.patient_id = p.id "
                    "WHERE t.track = 'main' AND t.state NOT IN ('deceased', 'transferred', 'withdrawn', "
                    "'lost_to_follow_up')"
                )
            )
        }
    active = [m for m in active if m in live][:200]
    print(
        f"\n{db}, {patients} patients\noperation | engine | raw SQL | ratio | engine CPU | raw CPU | "
        "CPU ratio | peak MiB"
    )
    rows = []
    sweeps_only = only == "sweeps"  # the event, worklist and report rows are skipped; "event": that row only
    if not sweeps_only:
        rows.append(_record_events(app.engine, raw, deps, active, max(reps, 50)))
        if only == "event":
            raw.conn.close()
            raw_engine.dispose()
            app.engine.dispose()
            return rows
        rows.append(
            measure(
                "worklist for today (200 most urgent lines)",
                lambda i: alerting.worklist(deps, limit=200),
                lambda i: raw.worklist(now, limit=200),
                reps,
            )
        )
        rows.append(measure("daily report", lambda i: reports.build(deps), lambda i: raw.report(now), reps))
        if only == "reads":
            raw.conn.close()
            raw_engine.dispose()
            app.engine.dispose()
            return rows

    def at(moment: datetime) -> Deps:
        clock.current = moment
        return deps

    tick = timedelta(minutes=15)
    rows.append(
        measure(
            "sweep tick (15 minutes after the last)",
            lambda i: alerting.sweep(at(now + (i + 1) * tick)),
            lambda i: raw.sweep(now + (i + 1) * tick, batched=RAW_BATCHED["on"]),
            reps,
        )
    )
    later = now + (reps + 1) * tick
    spans: list[float] = []
    cpus: list[float] = []
    daily = replace(deps, uow=_TimedWrites(deps.uow, spans, cpus))  # same clock object as `deps`

    def day(i: int) -> Any:
        at(later + timedelta(days=i + 1))
        return alerting.sweep(daily)

    rows.append(
        measure(
            "incremental sweep after one day",
            day,
            lambda i: raw.sweep(later + timedelta(days=i + 1), batched=RAW_BATCHED["on"]),
            reps,
        )
    )
    _print_spans("one-day sweeps (all repetitions)", spans, cpus)
    raw.conn.close()
    raw_engine.dispose()
    app.engine.dispose()
    rows.append(_full_sweep(fresh, now + timedelta(days=30), max(2, reps // 2)))
    return rows


def raw_for(dbapi_connection: Any, dialect: str, app: Any) -> Raw:
    """The raw baseline writing what this engine writes: pathway hash, titles, holds, stamp."""
    definition = app.deps.pathway.definition
    titles = {c.id: c.title for c in definition.rules.checks.values()}
    titles |= {r.alert.id: r.alert.title for r in definition.rules.follow_ups.values() if r.alert}
    if dialect == "sqlite":
        for pragma in ("synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
            dbapi_connection.execute(f"PRAGMA {pragma}")  # the engine's settings (db.engine)
        dbapi_connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    return Raw(
        dbapi_connection,
        dialect,
        pathway_hash=definition.content_hash,
        titles=titles,
        holdable=holdable_keys(definition),
        stamp=getattr(app.deps.uow, "keywords", {}).get("alert_stamp"),
        renotify_every=definition.alert_policy.renotify_every,
    )


def same_writes(url_a: str, url_b: str) -> bool:
    """Whether two copies hold the same alerts, audit rows and outbox rows (the engine's and the
    raw baseline's after the same sweep): keys, statuses, payloads."""
    out = []
    for url in (url_a, url_b):
        engine = create_engine(url)
        with engine.connect() as conn:
            out.append(
                [
                    sorted(map(tuple, conn.execute(text(q)).all()))
                    for q in (
                        "SELECT patient_id, rule, instance_key, severity, status, held, resolution, "
                        "CAST(states_at_fire AS TEXT) <> '{}', pathway_hash, opened_at, next_renotify_at "
                        "FROM alert",
                        "SELECT alert_id, action, actor, note FROM alert_action",
                        "SELECT idempotency_key, status, CAST(payload AS TEXT) FROM notification",
                        "SELECT id, raised, next_alert_at FROM follow_up WHERE raised > 0",
                    )
                ]
            )
        engine.dispose()
    a, b = out
    # payload text: SQLite keeps the writer's JSON spelling, so compare parsed
    a[2] = sorted((k, st, json.loads(pl)) for k, st, pl in a[2])  # type: ignore[call-overload]
    b[2] = sorted((k, st, json.loads(pl)) for k, st, pl in b[2])  # type: ignore[call-overload]
    return a == b


class _TimedWrites:
    """A unit-of-work factory that records how long each writing unit of work lasts (enter to
    exit, wall): on SQLite that bounds how long the sweep holds the write lock at a time."""

    def __init__(self, factory: Any, spans: list[float], cpus: list[float]) -> None:
        self.factory, self.spans, self.cpus = factory, spans, cpus

    def __call__(self, read_only: bool = False) -> Any:
        inner = self.factory(read_only)
        return inner if read_only else _Span(inner, self.spans, self.cpus)


class _Span:
    def __init__(self, inner: Any, spans: list[float], cpus: list[float]) -> None:
        self.inner, self.spans, self.cpus = inner, spans, cpus

    def __enter__(self) -> Any:
        self.start, self.cpu = time.perf_counter(), time.process_time()
        return self.inner.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self.inner.__exit__(*exc)
        self.spans.append(time.perf_counter() - self.start)
        self.cpus.append(time.process_time() - self.cpu)


def _record_events(engine: Any, raw: Raw, deps: Deps, active: list[str], reps: int) -> dict[str, Any]:
    """Record `exam_done` on the engine's copy, then replay the very statements it sent to the
    driver (same SQL, same converted parameters) on the raw copy: same patients, same rows."""
    capture = Capture(engine)
    before = raw.conn.autocommit if raw.pg else raw.conn.isolation_level
    if raw.pg:
        raw.conn.autocommit = False
    else:
        raw.conn.isolation_level = None  # the captured calls carry the engine's BEGIN IMMEDIATE
    ours_t, raw_t, ours_c, raw_c, statements = [], [], [], [], []

    def ours(i: int) -> None:
        patient_service.record_event(deps, active[i % len(active)], "exam_done", {}, actor="bench")

    for i in range(-1, reps):  # -1: warm-up
        start, cpu = time.perf_counter(), time.process_time()
        calls = capture.run(lambda i=i: ours(i))  # type: ignore[misc]
        elapsed, spent = time.perf_counter() - start, time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        replay(raw.conn, calls, pipelined=raw.pg)
        if i >= 0:
            ours_t.append(elapsed)
            ours_c.append(spent)
            raw_t.append(time.perf_counter() - start)
            raw_c.append(time.process_time() - cpu)
            statements.append(sum(1 for sql, _, _ in calls if not sql.startswith("BEGIN")))
    peak = timed(lambda: ours(reps), trace=True)[1]
    if raw.pg:
        trips = [round_trips(engine, lambda i=i: ours(i)) for i in range(20)]  # type: ignore[misc]
        print(
            f"round trips per event, counted at the wire (BEGIN and COMMIT not counted): median "
            f"{statistics.median(trips)}, max {max(trips)}; the raw replay: 1 (one pipeline)",
            flush=True,
        )
        raw.conn.autocommit = before
    else:
        raw.conn.isolation_level = before
    print(
        f"statements per event (BEGIN and COMMIT not counted): median {statistics.median(statements)}, "
        f"max {max(statements)}",
        flush=True,
    )
    return _row("record one event end to end", ours_t, raw_t, ours_c, raw_c, peak)


def _print_spans(what: str, spans: list[float], cpus: list[float]) -> None:
    """How long the engine's writing units of work lasted (wall: on SQLite, the write lock)."""
    if spans:
        print(
            f"  {what}: engine write transactions: {len(spans)}, longest {max(spans) * 1000:.0f} ms "
            f"wall, median {statistics.median(spans) * 1000:.0f} ms; CPU longest "
            f"{max(cpus) * 1000:.0f} ms, median {statistics.median(cpus) * 1000:.0f} ms",
            flush=True,
        )


def _full_sweep(fresh: Callable[[], str], when: datetime, reps: int) -> dict[str, Any]:
    """30 days of downtime caught up at once, each repetition on fresh copies of the base."""
    ours: list[float] = []
    theirs: list[float] = []
    ours_c: list[float] = []
    theirs_c: list[float] = []
    peak = 0
    same = None
    for rep in range(reps + 1):
        engine_url, raw_url = fresh(), fresh()
        copy = build(ENV | {"PATHWAY_DATABASE_URL": engine_url})
        raw_engine = create_engine(raw_url)
        conn = raw_engine.raw_connection()
        start, cpu = time.perf_counter(), time.process_time()
        raw_for(conn.driver_connection, raw_engine.dialect.name, copy).sweep(when, batched=RAW_BATCHED["on"])
        theirs.append(time.perf_counter() - start)
        theirs_c.append(time.process_time() - cpu)
        conn.close()
        raw_engine.dispose()
        spans: list[float] = []
        cpus: list[float] = []
        later = replace(copy.deps, clock=FixedClock(when), uow=_TimedWrites(copy.deps.uow, spans, cpus))
        cpu = time.process_time()
        elapsed, traced = timed(
            lambda later=later: alerting.sweep(later),  # type: ignore[misc]
            trace=rep == reps,
        )
        if rep == reps:
            peak = traced  # the last repetition is traced for memory, not timed
        else:
            ours.append(elapsed)
            ours_c.append(time.process_time() - cpu)
        copy.engine.dispose()
        _print_spans("30-day catch-up", spans, cpus)
        if same is None:
            same = same_writes(engine_url, raw_url)
            print(f"30-day catch-up: engine and raw baseline wrote the same rows: {same}", flush=True)
    return _row("full sweep after 30 days of downtime", ours, theirs[:-1], ours_c, theirs_c[:-1], peak)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path("bench/.work"))
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--pg-prefix", default="pathway_bench", help="PostgreSQL base database name: PREFIX_PATIENTS"
    )
    parser.add_argument(
        "--only",
        default="",
        help="time only these operations: sweeps | event | reads (event, worklist, report)",
    )
    parser.add_argument("--pathway", type=Path, help="pathway file of the timed runs (default: the app's)")
    parser.add_argument(
        "--renotify",
        choices=["on", "off"],
        default="on",
        help="off: no open critical alert awaits a renotification round on the copies, and "
        "critical_renotify_hours is 72 (like for like with code that did not renotify)",
    )
    parser.add_argument(
        "--raw-batches",
        choices=["on", "off"],
        default="off",
        help="on: the raw sweep baseline commits in the engine's batches (100 patients or 300 levels, "
        "500 renotified alerts), as SQLite's short write lock asks of the engine; off: one transaction",
    )
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    RENOTIFY["on"] = args.renotify == "on"
    RAW_BATCHED["on"] = args.raw_batches == "on"
    pathway = args.pathway or (None if RENOTIFY["on"] else _pathway_without_renotify(args.workdir))
    if pathway:
        ENV["PATHWAY_PATHWAY_FILE"] = str(pathway)
    for db in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        try:
            run(db, args.patients, args.reps, args.workdir, args.pg_url, args.pg_prefix, args.only)
        finally:
            _drop_copies(db, args.patients, args.workdir, args.pg_url, args.pg_prefix)


def _drop_copies(db: str, patients: int, workdir: Path, pg_url: str, pg_prefix: str) -> None:
    """The copies made for the writes go; the base stays for the next run."""
    if db == "sqlite":
        for path in workdir.glob("copy-*.db*"):
            path.unlink()
        return
    admin = create_engine(
        pg_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        for (name,) in conn.execute(
            text("SELECT datname FROM pg_database WHERE datname LIKE :n"),
            {"n": f"{pg_prefix}_{patients}_copy_%"},
        ).all():
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    main()
