"""Assessment's tables: initiatives, objectives (and the engagements and agreements that
serve them), indicators, observations, evaluations and lessons (and the engagements
they shape). Every record table has the kernel's bookkeeping and marking columns.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from detente.core.db import Base
from detente.store.tables import RecordColumns

__all__ = [
    "Evaluation",
    "Indicator",
    "IndicatorObservation",
    "Initiative",
    "Lesson",
    "LessonEngagement",
    "Objective",
    "ObjectiveAgreement",
    "ObjectiveEngagement",
]


class Initiative(RecordColumns, Base):
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


class Objective(RecordColumns, Base):
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


class Indicator(RecordColumns, Base):
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


class IndicatorObservation(RecordColumns, Base):
    __tablename__ = "observations"

    indicator_id: Mapped[str] = mapped_column(ForeignKey("indicators.id", ondelete="RESTRICT"), index=True)
    value: Mapped[float] = mapped_column(Float)
    observed_on: Mapped[date] = mapped_column(Date, index=True)
    source: Mapped[str | None] = mapped_column(String(500))
    confidence: Mapped[str] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)


class Evaluation(RecordColumns, Base):
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


class Lesson(RecordColumns, Base):
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
