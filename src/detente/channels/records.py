"""The channels slice's record type: an incident of the crisis log, declared once and
registered with the store kernel (its table, fields and rules). Its timeline (messages'
metadata, reports, engagements, decisions) is kept by ``detente.channels.crisis``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator
from sqlalchemy import Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from detente.core.db import Base, UTCDateTime, new_id
from detente.store.fields import OptLong, ShortText, in_order
from detente.store.models import RecordFields
from detente.store.records import RecordType, register
from detente.store.tables import RecordColumns

__all__ = ["INCIDENTS", "INCIDENT_STATUSES", "Incident", "IncidentEntry", "IncidentFields"]

INCIDENT_STATUSES = ("open", "closed")


def _status(value: str) -> str:
    if value not in INCIDENT_STATUSES:
        raise ValueError(f"unknown status {value!r}; one of {', '.join(INCIDENT_STATUSES)}")
    return value


_status.choices = lambda: INCIDENT_STATUSES  # type: ignore[attr-defined]


class Incident(RecordColumns, Base):
    """An incident of the crisis log (a border or maritime incident, a crisis call)."""

    __tablename__ = "incidents"

    title: Mapped[str] = mapped_column(String(300), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    opened_on: Mapped[date] = mapped_column(Date, index=True)
    closed_on: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[str | None] = mapped_column(Text)


class IncidentFields(RecordFields):
    """An incident whose messages, reports, engagements and decisions the crisis log
    puts on one timeline, for the after-action review."""

    title: ShortText = Field(description="What happened, e.g. 'Near-collision in the strait'")
    status: Annotated[str, AfterValidator(_status)] = Field("open", description="Status")
    opened_on: date = Field(default_factory=date.today, description="Date opened")
    closed_on: date | None = Field(None, description="Date closed")
    summary: OptLong = Field(None, description="Summary for the after-action review")

    @model_validator(mode="after")
    def _dates(self) -> IncidentFields:
        in_order(self, ("opened_on", "closed_on"))
        return self


class IncidentEntry(Base):
    """One item on an incident's timeline: a message (its metadata), a report, an
    engagement, or a decision written into the log."""

    __tablename__ = "channel_incident_entries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # message, report, engagement, decision
    ref_id: Mapped[str | None] = mapped_column(String(36))
    note: Mapped[str | None] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(100))


INCIDENTS = RecordType(
    name="incidents",
    singular="incident",
    slice="channels",
    rank=140,
    description="Crisis log: incidents, their messages, reports, engagements and decisions on one timeline.",
    table=Incident,
    fields_model=IncidentFields,
    title_field="title",
    natural_key=("title", "opened_on"),
    filters=("status", "external_id"),
    date_field="opened_on",
    order="opened_on",
    aliases=("incident", "crisis"),
    cli_names={"opened_on": "opened", "closed_on": "closed"},
    example={"title": "Near-collision in the strait", "status": "open", "opened_on": "2026-02-03"},
)

register(INCIDENTS)
