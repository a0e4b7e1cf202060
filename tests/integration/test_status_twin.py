"""The follow-up status rule and its SQL twin agree on every boundary, on SQLite and PostgreSQL.

pathway/domain/status.py derives upcoming / due / overdue from a window and `now`; db/status_sql.py
evaluates the same rule in SQL (a CASE, and the range predicates the worklist, report and sweep
read along their indexes). Windows and instants are drawn by hypothesis, with `now` on and one
microsecond either side of each window's opening and closing instants.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, insert
from sqlalchemy import select as columns

from db.status_sql import in_status, status_case
from db.tables import FollowUpRow, PatientRow
from pathway.domain.status import FollowUpStatus, Outcome, follow_up_status

_F = FollowUpRow.__table__  # type: ignore[attr-defined]
US = timedelta(microseconds=1)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def windows(draw: st.DrawFn) -> tuple[str, datetime, datetime]:
    opens = draw(instants)
    length = draw(st.one_of(st.just(timedelta(0)), st.just(US), st.timedeltas(US, timedelta(days=400))))
    return draw(st.sampled_from(list(Outcome))), opens, opens + length


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[tuple[str, datetime, datetime]], list[datetime]]:
    rows = draw(st.lists(windows(), min_size=1, max_size=6))
    edges = [at + d for _, opens, closes in rows for at in (opens, closes) for d in (-US, timedelta(0), US)]
    nows = draw(st.lists(st.one_of(st.sampled_from(edges), instants), min_size=1, max_size=8))
    return rows, nows


def _add(conn: Connection, patient_id: int, rows: list[tuple[str, datetime, datetime]]) -> dict[int, tuple]:
    added = {}
    for n, (outcome, opens, closes) in enumerate(rows):
        fid = conn.execute(
            insert(_F)
            .values(
                patient_id=patient_id,
                rule="T01",
                region=str(n),
                anchor_at=opens,
                anchor_label="twin",
                opens_at=opens,
                target_at=closes,
                closes_at=closes,
                clock_time=True,
                status=outcome,
                notes=[],
                updated_at=opens,
            )
            .returning(_F.c.id)
        ).scalar_one()
        added[int(fid)] = (outcome, opens, closes)
    return added


def _patient(engine: Engine) -> int:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        pid = conn.execute(
            insert(PatientRow)
            .values(mrn="TWIN-1", enrolled_on=when.date(), enrolled_at=when, pathway_id="t", updated_at=when)
            .returning(PatientRow.id)
        ).scalar_one()
    return int(pid)


def test_the_sql_twin_derives_the_same_status_as_the_domain_rule(engine: Engine) -> None:
    patient_id = _patient(engine)

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(cases())
    def agree(case: tuple[list[tuple[str, datetime, datetime]], list[datetime]]) -> None:
        rows, nows = case
        with engine.connect() as conn, conn.begin() as transaction:
            added = _add(conn, patient_id, rows)
            for now in nows:
                expected = {
                    fid: follow_up_status(o, opens, closes, now) for fid, (o, opens, closes) in added.items()
                }
                derived = dict(
                    conn.execute(columns(_F.c.id, status_case(now)).where(_F.c.id.in_(added))).all()
                )
                assert {fid: FollowUpStatus(s) for fid, s in derived.items()} == expected, now
                for status in FollowUpStatus:
                    found = set(
                        conn.execute(
                            columns(_F.c.id).where(in_status(status, now), _F.c.id.in_(added))
                        ).scalars()
                    )
                    assert found == {fid for fid, s in expected.items() if s is status}, (status, now)
            transaction.rollback()

    agree()


def test_the_window_is_half_open() -> None:
    opens, closes = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 15, tzinfo=UTC)
    assert [
        follow_up_status(Outcome.OPEN, opens, closes, t) for t in (opens - US, opens, closes - US, closes)
    ] == [
        FollowUpStatus.UPCOMING,
        FollowUpStatus.DUE,
        FollowUpStatus.DUE,
        FollowUpStatus.OVERDUE,
    ]
    assert follow_up_status(Outcome.DONE, opens, closes, closes) is FollowUpStatus.DONE
    assert follow_up_status(Outcome.CANCELLED, opens, closes, opens - US) is FollowUpStatus.CANCELLED
