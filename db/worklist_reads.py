"""The worklist's read model: open steps and open alerts, most urgent first, and their counts.

The steps are read along the partial index ix_follow_up_urgency (highest level raised, then the
earliest window end), so the top lines come without sorting every open follow-up of the cohort.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy import select as columns
from sqlmodel import Session, col

from db.status_sql import OPEN_ROWS, status_case
from db.tables import AlertRow, FollowUpRow, PatientRow, TrackStateRow
from pathway.domain.alert_status import AlertStatus, Severity
from pathway.domain.model import AlertLine, WorkStep
from pathway.domain.status import FollowUpStatus

_F = FollowUpRow.__table__  # type: ignore[attr-defined]
_A = AlertRow.__table__  # type: ignore[attr-defined]
_P = PatientRow.__table__  # type: ignore[attr-defined]
_T = TrackStateRow.__table__  # type: ignore[attr-defined]
_IN_STATES = (
    columns(_P.c.mrn, _T.c.state)
    .join(_P, _P.c.id == _T.c.patient_id)
    .where(_T.c.track == bindparam("track"), _T.c.state.in_(bindparam("states", expanding=True)))
)
_IN_STATES_OF = _IN_STATES.where(_P.c.mrn.in_(bindparam("mrns", expanding=True)))
_STEPS = (
    columns(
        _F.c.id,
        _F.c.rule,
        _F.c.region,
        _F.c.anchor_label,
        _F.c.opens_at,
        _F.c.closes_at,
        _F.c.clock_time,
        _P.c.mrn,
        _F.c.anchor_at,
    )
    .join(_P, _P.c.id == _F.c.patient_id)
    .where(OPEN_ROWS, _F.c.opens_at <= bindparam("until"))
    .order_by(_F.c.raised.desc(), _F.c.closes_at, _F.c.id)
)
_STEPS_TOP = _STEPS.limit(bindparam("limit"))
_OPEN_ALERTS = (
    columns(
        _A.c.id, _A.c.follow_up_id, _A.c.rule, _A.c.severity, _A.c.message, _A.c.source, _A.c.held, _P.c.mrn
    )
    .join(_P, _P.c.id == _A.c.patient_id)
    .where(_A.c.status == AlertStatus.OPEN, _A.c.severity == bindparam("severity"))
    .order_by(_A.c.opened_at)
)
_OPEN_ALERTS_TOP = _OPEN_ALERTS.limit(bindparam("limit"))


class SqlWorklistReadModel:
    def __init__(self, session: Session) -> None:
        self.session = session

    def steps(self, until: datetime, limit: int | None = None) -> list[WorkStep]:
        query = _STEPS_TOP if limit else _STEPS
        rows = self.session.connection().execute(query, {"until": until, "limit": limit})
        return [WorkStep(*r) for r in rows]

    def step_counts(self, at: datetime, until: datetime) -> dict[FollowUpStatus, int]:
        stage = status_case(at)
        query = columns(stage, func.count()).where(OPEN_ROWS, _F.c.opens_at <= until).group_by(stage)
        return {FollowUpStatus(k): int(n) for k, n in self.session.execute(query)}

    def open_alerts(self, limit: int | None = None) -> list[AlertLine]:
        rows: list[Any] = []
        conn = self.session.connection()
        for severity in reversed(Severity):
            if limit is None:
                rows += conn.execute(_OPEN_ALERTS, {"severity": severity}).all()
            elif len(rows) < limit:
                rows += conn.execute(
                    _OPEN_ALERTS_TOP, {"severity": severity, "limit": limit - len(rows)}
                ).all()
        return [
            AlertLine(i, f, rule, sev, msg, src, bool(held), mrn)
            for i, f, rule, sev, msg, src, held, mrn in rows
        ]

    def in_states(
        self, track: str, states: tuple[str, ...], mrns: Collection[str] | None = None
    ) -> list[tuple[str, str]]:
        params: dict[str, object] = {"track": track, "states": list(states)}
        query = _IN_STATES
        if mrns is not None:
            query, params["mrns"] = _IN_STATES_OF, sorted(mrns)
        rows = self.session.connection().execute(query, params)
        return [(str(mrn), str(state)) for mrn, state in rows]

    def alert_counts(self, statuses: tuple[str, ...]) -> dict[str, int]:
        query = (
            columns(col(AlertRow.severity), func.count())
            .where(col(AlertRow.status).in_(statuses))
            .group_by(col(AlertRow.severity))
        )
        return {s: int(n) for s, n in self.session.execute(query)}
