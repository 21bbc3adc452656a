"""Planning's record type: partners' calendars (holidays, election periods, other times to
avoid), declared once and registered with the store kernel."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field, model_validator
from sqlalchemy import Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from detente.core.db import Base
from detente.registry.taxonomy import kind_of
from detente.store.fields import Country, OptLong, ShortText, in_order
from detente.store.models import RecordFields
from detente.store.records import RecordType, register
from detente.store.tables import RecordColumns

__all__ = ["CALENDAR_ENTRIES", "CalendarEntry", "CalendarEntryFields"]


class CalendarEntry(RecordColumns, Base):
    """A partner's national holiday, election period or other time to avoid (user-kept)."""

    __tablename__ = "calendar_entries"

    country: Mapped[str] = mapped_column(String(3), index=True)
    title: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)


class CalendarEntryFields(RecordFields):
    """A time to avoid in a partner's calendar."""

    country: Country = Field(description="Country whose calendar it is")
    title: ShortText = Field(description="What it is, e.g. 'Independence Day'")
    kind: Annotated[str, kind_of("calendar_kinds")] = Field(description="Kind of entry")
    start_date: date = Field(description="First day")
    end_date: date | None = Field(None, description="Last day, if more than one")
    notes: OptLong = Field(None, description="Free-text notes")

    @model_validator(mode="after")
    def _check(self) -> CalendarEntryFields:
        in_order(self, ("start_date", "end_date"))
        return self


CALENDAR_ENTRIES = RecordType(
    name="calendar_entries",
    singular="calendar entry",
    slice="planning",
    rank=130,
    description="Planning: partners' holidays, election periods and other times to avoid.",
    table=CalendarEntry,
    fields_model=CalendarEntryFields,
    title_field="title",
    natural_key=("country", "title", "start_date"),
    filters=("country", "kind", "external_id"),
    date_field="start_date",
    order="start_date",
    aliases=("calendar",),
    cli_names={"start_date": "start", "end_date": "end"},
    example={
        "title": "Independence Day",
        "country": "GHA",
        "kind": "national_holiday",
        "start_date": "2026-03-06",
    },
)

register(CALENDAR_ENTRIES)
