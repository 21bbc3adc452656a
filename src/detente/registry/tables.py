"""The registry's tables: actors, people, agreements (and their parties), engagements (and
their partners and people) and commitments. Every record table has the kernel's
bookkeeping and marking columns (``detente.store.tables.RecordColumns``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from detente.core.db import Base
from detente.store.tables import RecordColumns, listing_index

__all__ = [
    "Actor",
    "Agreement",
    "AgreementParty",
    "Commitment",
    "Engagement",
    "EngagementPartner",
    "EngagementPerson",
    "Person",
]


class Actor(RecordColumns, Base):
    __tablename__ = "actors"

    name: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    country: Mapped[str | None] = mapped_column(String(3), index=True)
    abbreviation: Mapped[str | None] = mapped_column(String(60))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("actors.id", ondelete="RESTRICT"), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)


class Person(RecordColumns, Base):
    __tablename__ = "people"

    name: Mapped[str] = mapped_column(String(300), index=True)
    rank: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(60))
    sending_state: Mapped[str] = mapped_column(String(3), index=True)
    receiving_state: Mapped[str] = mapped_column(String(3), index=True)
    post: Mapped[str | None] = mapped_column(String(300))
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("actors.id", ondelete="RESTRICT"), index=True
    )
    accreditation_status: Mapped[str] = mapped_column(String(40))
    immunity_basis: Mapped[str] = mapped_column(String(60))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)


class Agreement(RecordColumns, Base):
    __tablename__ = "agreements"

    title: Mapped[str] = mapped_column(String(500), index=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    signed_on: Mapped[date | None] = mapped_column(Date)
    in_force_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    terminated_on: Mapped[date | None] = mapped_column(Date)
    activity_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)


class AgreementParty(Base):
    __tablename__ = "agreement_parties"

    agreement_id: Mapped[str] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[str] = mapped_column(
        ForeignKey("actors.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class Engagement(RecordColumns, Base):
    __tablename__ = "engagements"

    title: Mapped[str] = mapped_column(String(500), index=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    status: Mapped[str] = mapped_column(String(40), index=True)
    lead_actor_id: Mapped[str] = mapped_column(ForeignKey("actors.id", ondelete="RESTRICT"), index=True)
    agreement_id: Mapped[str | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="RESTRICT"), index=True
    )
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date | None] = mapped_column(Date)
    location_country: Mapped[str | None] = mapped_column(String(3), index=True)
    location_place: Mapped[str | None] = mapped_column(String(300))
    troops: Mapped[int | None] = mapped_column(Integer)
    tanks: Mapped[int | None] = mapped_column(Integer)
    armoured_combat_vehicles: Mapped[int | None] = mapped_column(Integer)
    artillery: Mapped[int | None] = mapped_column(Integer)
    aircraft_sorties: Mapped[int | None] = mapped_column(Integer)
    amphibious_airborne_troops: Mapped[int | None] = mapped_column(Integer)
    host_consent_on: Mapped[date | None] = mapped_column(Date)
    host_consent_reference: Mapped[str | None] = mapped_column(String(300))
    vd_notified_on: Mapped[date | None] = mapped_column(Date)  # Vienna Document prior notification sent
    vd_calendar_on: Mapped[date | None] = mapped_column(Date)  # listed in the annual calendar exchanged
    cost: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    objectives: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)


class EngagementPartner(Base):
    __tablename__ = "engagement_partners"

    engagement_id: Mapped[str] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[str] = mapped_column(
        ForeignKey("actors.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class EngagementPerson(Base):
    """The people (attachés, liaison officers, senior leaders) taking part in an engagement."""

    __tablename__ = "engagement_people"

    engagement_id: Mapped[str] = mapped_column(
        ForeignKey("engagements.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class Commitment(RecordColumns, Base):
    __tablename__ = "commitments"

    engagement_id: Mapped[str] = mapped_column(ForeignKey("engagements.id", ondelete="RESTRICT"), index=True)
    committed_by_id: Mapped[str] = mapped_column(ForeignKey("actors.id", ondelete="RESTRICT"), index=True)
    description: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(40), index=True)
    notes: Mapped[str | None] = mapped_column(Text)


Index("ix_engagements_kind_start", Engagement.kind, Engagement.start_date)
# A listing's default order within its commonest filter (the lifecycle status), so that a
# page is read in index order and stops at offset + limit instead of sorting every match
# (halves the list request's query on SQLite); migration 0016, and 0017 added the access
# columns (``listing_index``), so the page's total is counted from the index alone.
listing_index("ix_engagements_status_start", Engagement, "status", "start_date", "id")
listing_index("ix_commitments_status_due", Commitment, "status", "due_on", "id")
listing_index("ix_people_status_start", Person, "accreditation_status", "start_date", "id")
listing_index("ix_agreements_signed", Agreement, "signed_on", "id")
