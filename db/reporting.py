"""Set-based queries behind the daily report and the report-run claims (one report per date)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, false, func, or_, text, update
from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from db.status_sql import OPEN_ROWS, in_status, not_overdue, window_is
from db.tables import AlertActionRow, AlertRow, EventRow, FollowUpRow, PatientRow, ReportRunRow, TrackStateRow
from db.tracking import _insert
from pathway.domain.alert_status import LIVE, SEVERITY_RANK
from pathway.domain.records import ReportRunStatus, ReportSummary
from pathway.domain.report import AlertFact, EventFact, ReportBounds
from pathway.domain.rows import (
    ActionRow,
    ActivePatients,
    CountedMrns,
    ForecastBucket,
    NextStep,
    PatientLine,
    RtEventRow,
    StepRow,
)
from pathway.domain.status import FollowUpStatus, Outcome
from pathway.domain.urgency import CRITICAL_RANK

UPCOMING, DUE, OVERDUE = FollowUpStatus.UPCOMING, FollowUpStatus.DUE, FollowUpStatus.OVERDUE
_F = FollowUpRow.__table__  # type: ignore[attr-defined]
_P = PatientRow.__table__  # type: ignore[attr-defined]
_A = AlertRow.__table__  # type: ignore[attr-defined]
_E = EventRow.__table__  # type: ignore[attr-defined]
_T = TrackStateRow.__table__  # type: ignore[attr-defined]
# The SQL twin of pathway.domain.urgency.tier on a follow-up row: the level raised is its alert's
# severity rank; a critical level on an hour clock comes first (overdue rows, so lateness follows).
URGENCY_TIER = case(
    (and_(_F.c.raised >= CRITICAL_RANK, _F.c.clock_time), 0), else_=1 + len(SEVERITY_RANK) - _F.c.raised
)


def _section(name: str, b: ReportBounds) -> tuple[Any, list[Any]]:
    """Which open steps one section holds (see ReportBounds), and its ordering. The clause reads
    only columns of ix_follow_up_open_closes, so counting is an index-only scan on PostgreSQL."""
    f = _F.c
    overdue, pending = window_is(OVERDUE, b.at), not_overdue(b.at)
    due_today = window_is(DUE, b.at)  # "due": the window is open (pathway/domain/counts.py)
    due_soon = and_(window_is(UPCOMING, b.at), f.opens_at <= b.soon_until)
    # created since the previous report; a report stored before ids were kept knows of none
    new = f.id > b.previous_last_id if b.previous_last_id is not None else false()
    sections = {
        "overdue": (overdue, [URGENCY_TIER, f.closes_at]),
        "due_today": (due_today, [f.closes_at]),
        "due_soon": (due_soon, [f.opens_at]),
        "newly_overdue": (
            and_(overdue, or_(not_overdue(b.previous_at or b.at), new)),
            [f.closes_at],
        ),
        "newly_due": (
            and_(
                pending,
                f.target_at <= b.week_end,
                or_(f.target_at > (b.previous_week_end or b.week_end), new),
            ),
            [f.target_at],
        ),
    }
    return sections[name]


MAIL_ATTEMPTS = 5  # a report whose mail failed this often is left for the operator


class SqlReportReadModel:
    def __init__(self, session: Session) -> None:
        self.session = session

    def counts_by_state(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        query = select(TrackStateRow.track, TrackStateRow.state, func.count()).group_by(
            col(TrackStateRow.track), col(TrackStateRow.state)
        )
        for track, state, n in self.session.execute(query):
            out.setdefault(track, {})[state] = int(n)
        return out

    def step_counts(self, b: ReportBounds) -> dict[str, int]:
        """How many open steps each section holds, from two scans of ix_follow_up_open_closes."""
        hint = "INDEXED BY ix_follow_up_open_closes"
        counts: dict[str, int] = {}
        for window, names in (
            (window_is(OVERDUE, b.at), ("overdue", "newly_overdue")),
            (not_overdue(b.at), ("due_today", "due_soon", "newly_due")),
        ):
            query = columns(*(func.sum(case((_section(n, b)[0], 1), else_=0)) for n in names))
            row = self.session.execute(
                query.select_from(_F).where(OPEN_ROWS, window).with_hint(_F, hint, "sqlite")
            ).one()
            counts |= {n: int(v or 0) for n, v in zip(names, row, strict=True)}
        return counts

    def steps(self, section: str, b: ReportBounds, limit: int) -> list[StepRow]:
        """The first rows of one report section: (mrn, rule, region, opens, target, closes).

        The ids are picked along ix_follow_up_open_closes alone; the table is visited for the
        listed rows only.
        """
        where, order = _section(section, b)
        ids = (
            self.session.execute(
                columns(_F.c.id)
                .where(OPEN_ROWS, where)
                .with_hint(_F, "INDEXED BY ix_follow_up_open_closes", "sqlite")
                .order_by(*order, _F.c.id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        rows = {
            r[0]: r[1:]
            for r in self.session.execute(
                columns(
                    _F.c.id,
                    _F.c.patient_id,
                    _F.c.rule,
                    _F.c.region,
                    _F.c.opens_at,
                    _F.c.target_at,
                    _F.c.closes_at,
                ).where(_F.c.id.in_(ids))
            )
        }
        mrns = self._mrns({r[0] for r in rows.values()})
        return [StepRow(mrns[rows[i][0]], *rows[i][1:]) for i in ids]

    def _mrns(self, patient_ids: set[int]) -> dict[int, str]:
        if not patient_ids:
            return {}
        return dict(
            self.session.execute(columns(_P.c.id, _P.c.mrn).where(_P.c.id.in_(sorted(patient_ids)))).all()
        )

    def mrns_with_overdue(self, rules: tuple[str, ...], at: datetime, limit: int) -> CountedMrns:
        where = in_status(OVERDUE, at) & _F.c.rule.in_(rules)
        mrns = columns(_P.c.mrn).join(_F, _F.c.patient_id == _P.c.id).where(where).distinct()
        total = self.session.execute(columns(func.count()).select_from(mrns.subquery())).scalar()
        first = self.session.execute(mrns.order_by(_P.c.mrn).limit(limit)).scalars().all()
        return CountedMrns(int(total or 0), list(first))

    def live_alerts(self, severity: str, limit: int) -> tuple[int, list[AlertFact]]:
        """Live alerts of one severity, oldest first (along ix_alert_severity_opened)."""
        where = _A.c.status.in_(LIVE) & (_A.c.severity == severity)
        total = self.session.execute(columns(func.count()).select_from(_A).where(where)).scalar()
        rows = self.session.execute(
            columns(
                _A.c.id, _A.c.patient_id, _A.c.rule, _A.c.severity, _A.c.status, _A.c.message, _A.c.opened_at
            )
            .where(where)
            .order_by(_A.c.opened_at, _A.c.id)
            .limit(limit)
        ).all()
        mrns = self._mrns({r[1] for r in rows})
        return int(total or 0), [AlertFact(i, mrns[pid], *rest) for i, pid, *rest in rows]

    def active_patients(self, exit_states: tuple[str, ...]) -> ActivePatients:
        """(enrolled, still on the pathway)."""
        enrolled = self.session.execute(columns(func.count()).select_from(_P)).scalar()
        active = self.session.execute(
            columns(func.count()).select_from(_T).where(_T.c.track == "main", _T.c.state.not_in(exit_states))
        ).scalar()
        return ActivePatients(int(enrolled or 0), int(active or 0))

    def active_without_event(
        self, event_type: str, since: datetime, exit_states: tuple[str, ...], excluded: set[int], limit: int
    ) -> CountedMrns:
        """Active patients with no `event_type` (leaving out retracted events) since `since`."""
        recent = columns(_E.c.patient_id).where(_E.c.type == event_type, _E.c.occurred_at >= since)
        if excluded:
            recent = recent.where(_E.c.id.not_in(excluded))
        where = (_T.c.track == "main") & _T.c.state.not_in(exit_states) & _T.c.patient_id.not_in(recent)
        total = self.session.execute(columns(func.count()).select_from(_T).where(where)).scalar()
        first = (
            self.session.execute(
                columns(_P.c.mrn)
                .join(_T, _T.c.patient_id == _P.c.id)
                .where(where)
                .order_by(_P.c.mrn)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        return CountedMrns(int(total or 0), list(first))

    def quality_counts(self, since: datetime, at: datetime) -> dict[str, dict[str, int]]:
        """Steps judged in the period, per rule and outcome (cancelled ones are not judged).

        A step counts when its window closed in the period or it was done in the period; done
        before the window opened is early, after it closed late; never done, missed. Two
        disjoint indexed queries: windows closed in the period, and steps done in it otherwise.
        """
        outcome = case(
            (_F.c.done_at.is_(None), "missed"),
            (_F.c.done_at < _F.c.opens_at, "early"),
            (_F.c.done_at < _F.c.closes_at, "on_time"),
            else_="late",
        )
        closed_in = and_(_F.c.closes_at >= since, _F.c.closes_at <= at)
        judged = text("follow_up.status IN ('open', 'done')")
        out: dict[str, dict[str, int]] = {}
        for where in (
            and_(judged, closed_in),
            and_(_F.c.done_at >= since, _F.c.status == Outcome.DONE, ~closed_in),
        ):
            for rule, kind, n in self.session.execute(
                columns(_F.c.rule, outcome, func.count()).where(where).group_by(_F.c.rule, outcome)
            ):
                counts = out.setdefault(rule, {})
                counts[kind] = counts.get(kind, 0) + int(n)
        return out

    def alert_open_days(self, since: datetime) -> list[float]:
        """Days each alert resolved since `since` stayed open (computed in SQL, one float a row)."""
        if self.session.get_bind().dialect.name == "postgresql":
            days = func.extract("epoch", _A.c.resolved_at - _A.c.opened_at) / 86400.0
        else:
            days = func.julianday(_A.c.resolved_at) - func.julianday(_A.c.opened_at)
        rows = self.session.execute(columns(days).where(_A.c.resolved_at >= since)).scalars()
        return [float(d) for d in rows]

    def rt_events(self, since: datetime, at: datetime) -> list[RtEventRow]:
        """(event id, patient, type, when) of the unresectable / definitive-RT decisions and the
        RT starts of the patients whose radiotherapy started in the period: those patients first,
        then their events along the per-patient index, a thousand patients at a time."""
        started = sorted(
            set(
                self.session.execute(
                    columns(_E.c.patient_id).where(
                        _E.c.type == "rt_started", _E.c.occurred_at >= since, _E.c.occurred_at <= at
                    )
                ).scalars()
            )
        )
        decision = and_(
            _E.c.type == "mdt_decision",
            _E.c.data["resectability"].as_string() == "unresectable",
            _E.c.data["plan"].as_string() == "definitive_rt",
        )
        out: list[RtEventRow] = []
        for i in range(0, len(started), 1000):
            out += [
                RtEventRow(e, p, t, w)
                for e, p, t, w in self.session.execute(
                    columns(_E.c.id, _E.c.patient_id, _E.c.type, _E.c.occurred_at).where(
                        _E.c.patient_id.in_(started[i : i + 1000]), or_(_E.c.type == "rt_started", decision)
                    )
                )
            ]
        return out

    def forecast_buckets(self, rules: tuple[str, ...]) -> list[ForecastBucket]:
        """Open steps of `rules` counted per rule and target instant (targets fall on day ends)."""
        query = (
            columns(_F.c.rule, _F.c.target_at, func.count())
            .where(OPEN_ROWS, _F.c.rule.in_(rules))
            .group_by(_F.c.rule, _F.c.target_at)
        )
        return [ForecastBucket(r, t, int(n)) for r, t, n in self.session.execute(query)]

    def last_follow_up_id(self) -> int:
        return int(self.session.execute(columns(func.max(_F.c.id))).scalar() or 0)

    def actions_since(self, since: datetime | None) -> list[ActionRow]:
        if since is None:
            return []
        query = (
            select(AlertActionRow.action, AlertActionRow.alert_id, PatientRow.mrn, AlertActionRow.note)
            .join(AlertRow, col(AlertRow.id) == col(AlertActionRow.alert_id))
            .join(PatientRow, col(PatientRow.id) == col(AlertRow.patient_id))
            .where(col(AlertActionRow.at) > since)
        )
        return [ActionRow(a, i, m, n) for a, i, m, n in self.session.execute(query)]

    def events_of(self, types: tuple[str, ...], recorded_since: datetime | None = None) -> list[EventFact]:
        query = (
            columns(
                col(EventRow.id),
                col(PatientRow.mrn),
                col(EventRow.type),
                col(EventRow.occurred_at),
                col(EventRow.data),
            )
            .join(PatientRow, col(PatientRow.id) == col(EventRow.patient_id))
            .where(col(EventRow.type).in_(types))
        )
        if recorded_since is not None:
            query = query.where(col(EventRow.recorded_at) > recorded_since)
        return [EventFact(i, m, t, at, dict(d or {})) for i, m, t, at, d in self.session.execute(query)]

    def patient_lines(self, at: datetime) -> list[PatientLine]:
        """Per patient: (mrn, enrolled on, states, overdue steps, next open step (rule, region,
        target), live alerts per severity), in MRN order, from four set-based queries."""
        states: dict[int, dict[str, str]] = {}
        for pid, track, state in self.session.execute(columns(_T.c.patient_id, _T.c.track, _T.c.state)):
            states.setdefault(pid, {})[track] = state
        overdue = dict(
            self.session.execute(
                columns(_F.c.patient_id, func.count()).where(in_status(OVERDUE, at)).group_by(_F.c.patient_id)
            ).all()
        )
        nxt: dict[int, NextStep] = {}
        for pid, rule, region, target in self.session.execute(
            columns(_F.c.patient_id, _F.c.rule, _F.c.region, _F.c.target_at)
            .where(OPEN_ROWS, not_overdue(at))
            .order_by(_F.c.patient_id, _F.c.target_at, _F.c.id)
        ):
            nxt.setdefault(pid, NextStep(rule, region, target))
        alerts: dict[int, dict[str, int]] = {}
        for pid, severity, n in self.session.execute(
            columns(_A.c.patient_id, _A.c.severity, func.count())
            .where(_A.c.status.in_(LIVE))
            .group_by(_A.c.patient_id, _A.c.severity)
        ):
            alerts.setdefault(pid, {})[severity] = int(n)
        return [
            PatientLine(
                mrn, on, states.get(pid, {}), int(overdue.get(pid, 0)), nxt.get(pid), alerts.get(pid, {})
            )
            for pid, mrn, on in self.session.execute(
                columns(_P.c.id, _P.c.mrn, _P.c.enrolled_on).order_by(_P.c.mrn)
            )
        ]


class SqlReportRuns:
    def __init__(self, session: Session) -> None:
        self.session = session

    def claim_run(self, day: date, now: datetime, stale_before: datetime) -> int | None:
        """Claim the report for `day`: a new row, or one left `running` by a process that died."""
        stmt = (
            _insert(self.session)(ReportRunRow)
            .values(report_date=day, status=ReportRunStatus.RUNNING, created_at=now, data={})
            .on_conflict_do_nothing(index_elements=["report_date"])
            .returning(col(ReportRunRow.id))
        )
        row = self.session.execute(stmt).first()
        if row:
            return int(row[0])
        result = self.session.execute(
            update(ReportRunRow)
            .where(
                col(ReportRunRow.report_date) == day,
                col(ReportRunRow.status) == ReportRunStatus.RUNNING,
                col(ReportRunRow.created_at) < stale_before,
            )
            .values(created_at=now)
            .returning(col(ReportRunRow.id))
        )
        retaken = result.first()
        return int(retaken[0]) if retaken else None

    def finish_run(self, run_id: int, now: datetime, data: ReportSummary) -> None:
        self.session.execute(
            update(ReportRunRow)
            .where(col(ReportRunRow.id) == run_id)
            .values(status=ReportRunStatus.DONE, finished_at=now, data=data)
        )

    def claim_mail(self, day: date, now: datetime, stale_before: datetime) -> bool:
        query = select(ReportRunRow).where(ReportRunRow.report_date == day, ReportRunRow.status == "done")
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = self.session.exec(query).first()
        if row is None:
            return False
        data = dict(row.data or {})
        mail, attempts = str(data.get("mail", "")), int(data.get("mail_attempts", 0))
        claimed_at = data.get("mail_claimed_at")
        stale = mail == "sending" and claimed_at is not None and claimed_at < stale_before.isoformat()
        if not (mail in ("pending", "failed") or stale) or attempts >= MAIL_ATTEMPTS:
            return False
        data |= {"mail": "sending", "mail_claimed_at": now.isoformat(), "mail_attempts": attempts + 1}
        self.session.execute(update(ReportRunRow).where(col(ReportRunRow.id) == row.id).values(data=data))
        return True

    def set_mail(self, day: date, outcome: str, now: datetime) -> None:
        row = self.session.exec(select(ReportRunRow).where(ReportRunRow.report_date == day)).first()
        if row is not None:
            data = dict(row.data or {}) | {"mail": outcome, "mail_at": now.isoformat()}
            self.session.execute(update(ReportRunRow).where(col(ReportRunRow.id) == row.id).values(data=data))

    def run_for(self, day: date) -> tuple[str, ReportSummary] | None:
        row = self.session.exec(select(ReportRunRow).where(ReportRunRow.report_date == day)).first()
        return (row.status, dict(row.data or {})) if row else None

    def previous(self, before: date) -> ReportSummary | None:
        row = self.session.exec(
            select(ReportRunRow)
            .where(col(ReportRunRow.report_date) < before, ReportRunRow.status == ReportRunStatus.DONE)
            .order_by(col(ReportRunRow.report_date).desc())
        ).first()
        return dict(row.data or {}) if row else None
