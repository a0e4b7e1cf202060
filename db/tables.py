from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JSONType = JSON().with_variant(JSONB(), "postgresql")


class PatientRow(SQLModel, table=True):
    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("mrn", name="uq_patient_mrn"),)

    id: int | None = Field(default=None, primary_key=True)
    mrn: str = Field(max_length=64)
    name: str | None = Field(default=None, max_length=200)
    birth_date: date | None = None
    histology: str | None = Field(default=None, max_length=64)
    enrolled_on: date
    enrolled_at: datetime
    pathway_id: str = Field(max_length=64)
    version: int = Field(default=1)
    updated_at: datetime


class TrackStateRow(SQLModel, table=True):
    __tablename__ = "track_state"
    __table_args__ = (Index("ix_track_state_track_state", "track", "state"),)

    patient_id: int = Field(foreign_key="patient.id", primary_key=True)
    track: str = Field(primary_key=True, max_length=32)
    state: str = Field(max_length=64)
    entered_at: datetime


class EventRow(SQLModel, table=True):
    """Append-only: database triggers refuse UPDATE and DELETE."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_patient", "patient_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    type: str = Field(max_length=64)
    occurred_at: datetime
    recorded_at: datetime
    actor: str = Field(max_length=100)
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    changes: dict[str, Any] = Field(default_factory=dict,
                                    sa_column=Column(JSONType, nullable=False))
