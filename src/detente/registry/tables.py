"""SQLAlchemy tables of the registry (the store's shape; services map to models).

Every record carries the same bookkeeping columns (``RecordMixin``): a UUID id,
an optional external id (the key a user's own spreadsheet uses), timestamps,
author, a version for optimistic concurrency, and a marking.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from detente.core.db import Base, UTCDateTime, metadata, new_id

__all__ = [
    "Actor",
    "Agreement",
    "AgreementParty",
    "Base",
    "CalendarEntry",
    "Commitment",
    "Engagement",
    "EngagementPartner",
    "EngagementPerson",
    "Evaluation",
    "Indicator",
    "IndicatorObservation",
    "Initiative",
    "Lesson",
    "LessonEngagement",
    "Objective",
    "ObjectiveAgreement",
    "ObjectiveEngagement",
    "Person",
    "VettingDecision",
    "metadata",
    "new_id",
]


class RecordMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    external_id: Mapped[str | None] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    updated_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
    marking: Mapped[str] = mapped_column(String(500), default="UNCLASSIFIED")
    # who owns the record (its organisation) and the marking, taken apart so that
    # sharing rules run inside SQL (see detente.sharing.access); kept in step by the service
    owner_org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    mk_national: Mapped[int] = mapped_column(Integer, default=0)
    mk_nato: Mapped[int] = mapped_column(Integer, default=-1)
    mk_rel: Mapped[str] = mapped_column(String(1000), default="|")
    mk_tlp: Mapped[str] = mapped_column(String(20), default="")
    mk_recipients: Mapped[str] = mapped_column(String(1000), default="|")
    mk_public: Mapped[bool] = mapped_column(Boolean, default=False)


class Actor(RecordMixin, Base):
    __tablename__ = "actors"

    name: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    country: Mapped[str | None] = mapped_column(String(3), index=True)
    abbreviation: Mapped[str | None] = mapped_column(String(60))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("actors.id", ondelete="RESTRICT"), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)


class Person(RecordMixin, Base):
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


class Agreement(RecordMixin, Base):
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


class Engagement(RecordMixin, Base):
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


class CalendarEntry(RecordMixin, Base):
    """A partner's national holiday, election period or other time to avoid (user-kept)."""

    __tablename__ = "calendar_entries"

    country: Mapped[str] = mapped_column(String(3), index=True)
    title: Mapped[str] = mapped_column(String(300), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)


class Commitment(RecordMixin, Base):
    __tablename__ = "commitments"

    engagement_id: Mapped[str] = mapped_column(ForeignKey("engagements.id", ondelete="RESTRICT"), index=True)
    committed_by_id: Mapped[str] = mapped_column(ForeignKey("actors.id", ondelete="RESTRICT"), index=True)
    description: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(40), index=True)
    notes: Mapped[str | None] = mapped_column(Text)


class VettingDecision(RecordMixin, Base):
    __tablename__ = "vetting_decisions"

    actor_id: Mapped[str | None] = mapped_column(ForeignKey("actors.id", ondelete="RESTRICT"), index=True)
    person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="RESTRICT"), index=True)
    subject_name: Mapped[str] = mapped_column(String(500), index=True)
    outcome: Mapped[str] = mapped_column(String(40), index=True)
    checklist: Mapped[list[str]] = mapped_column(JSON, default=list)  # "item=answer"
    conditions: Mapped[str | None] = mapped_column(Text)
    decided_on: Mapped[date] = mapped_column(Date, index=True)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    officer: Mapped[str | None] = mapped_column(String(200))
    screened_lists: Mapped[str | None] = mapped_column(Text)
    screening: Mapped[str | None] = mapped_column(Text)  # the candidates at the time, one per line
    notes: Mapped[str | None] = mapped_column(Text)


# ---------------------------------------------------------------- assessment, monitoring, evaluation
class Initiative(RecordMixin, Base):
    """A programme of engagements with a partner or a region."""

    __tablename__ = "initiatives"

    title: Mapped[str] = mapped_column(String(500), index=True)
    partner_country: Mapped[str | None] = mapped_column(String(3), index=True)
    region: Mapped[str | None] = mapped_column(String(300))
    lead_actor_id: Mapped[str | None] = mapped_column(
        ForeignKey("actors.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(40), index=True)
    start_date: Mapped[date | None] = mapped_column(Date, index=True)
    end_date: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)


class Objective(RecordMixin, Base):
    """What an initiative aims at, with its logic model (inputs to outcomes, assumptions)."""

    __tablename__ = "objectives"

    initiative_id: Mapped[str] = mapped_column(ForeignKey("initiatives.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(500), index=True)
    partner_country: Mapped[str | None] = mapped_column(String(3), index=True)
    line_of_effort: Mapped[str] = mapped_column(String(60), index=True)
    inputs: Mapped[str | None] = mapped_column(Text)
    activities: Mapped[str | None] = mapped_column(Text)
    outputs: Mapped[str | None] = mapped_column(Text)
    outcomes: Mapped[str | None] = mapped_column(Text)
    assumptions: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)


class ObjectiveEngagement(Base):
    __tablename__ = "objective_engagements"

    objective_id: Mapped[str] = mapped_column(
        ForeignKey("objectives.id", ondelete="CASCADE"), primary_key=True
    )
    engagement_id: Mapped[str] = mapped_column(
        ForeignKey("engagements.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class ObjectiveAgreement(Base):
    __tablename__ = "objective_agreements"

    objective_id: Mapped[str] = mapped_column(
        ForeignKey("objectives.id", ondelete="CASCADE"), primary_key=True
    )
    agreement_id: Mapped[str] = mapped_column(
        ForeignKey("agreements.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class Indicator(RecordMixin, Base):
    __tablename__ = "indicators"

    objective_id: Mapped[str] = mapped_column(ForeignKey("objectives.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(500), index=True)
    definition: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(100))
    baseline_value: Mapped[float] = mapped_column(Float)
    baseline_date: Mapped[date] = mapped_column(Date)
    target_value: Mapped[float] = mapped_column(Float)
    target_date: Mapped[date] = mapped_column(Date)
    higher_is_better: Mapped[bool | None] = mapped_column(Boolean)
    data_source: Mapped[str | None] = mapped_column(Text)
    frequency: Mapped[str] = mapped_column(String(40))
    owner: Mapped[str | None] = mapped_column(String(200))
    computed_from: Mapped[str | None] = mapped_column(
        String(200)
    )  # "metric:argument", see assessment.metrics
    notes: Mapped[str | None] = mapped_column(Text)


class IndicatorObservation(RecordMixin, Base):
    __tablename__ = "observations"

    indicator_id: Mapped[str] = mapped_column(ForeignKey("indicators.id", ondelete="RESTRICT"), index=True)
    value: Mapped[float] = mapped_column(Float)
    observed_on: Mapped[date] = mapped_column(Date, index=True)
    source: Mapped[str | None] = mapped_column(String(500))
    confidence: Mapped[str] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)


class Evaluation(RecordMixin, Base):
    __tablename__ = "evaluations"

    initiative_id: Mapped[str] = mapped_column(ForeignKey("initiatives.id", ondelete="RESTRICT"), index=True)
    objective_id: Mapped[str | None] = mapped_column(
        ForeignKey("objectives.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(String(500), index=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    independence: Mapped[str] = mapped_column(String(40))
    evaluator: Mapped[str | None] = mapped_column(String(300))
    conducted_on: Mapped[date] = mapped_column(Date, index=True)
    questions: Mapped[str | None] = mapped_column(Text)
    findings: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)


class Lesson(RecordMixin, Base):
    __tablename__ = "lessons"

    title: Mapped[str] = mapped_column(String(500), index=True)
    initiative_id: Mapped[str | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="RESTRICT"), index=True
    )
    evaluation_id: Mapped[str | None] = mapped_column(
        ForeignKey("evaluations.id", ondelete="RESTRICT"), index=True
    )
    observation: Mapped[str] = mapped_column(Text)
    recommendation: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(40), index=True)
    identified_on: Mapped[date] = mapped_column(Date, index=True)
    owner: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)


class LessonEngagement(Base):
    __tablename__ = "lesson_engagements"

    lesson_id: Mapped[str] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True)
    engagement_id: Mapped[str] = mapped_column(
        ForeignKey("engagements.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


Index("ix_engagements_kind_start", Engagement.kind, Engagement.start_date)
