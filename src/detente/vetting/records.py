"""Vetting's record type: a decision about one registry actor or person, declared once
and registered with the store kernel (its table, fields, lifecycle and rules)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator
from sqlalchemy import JSON, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from detente.core.db import Base
from detente.registry.taxonomy import status_of, taxonomy
from detente.store.fields import OptLong, OptRef, OptShort, ShortText, in_order
from detente.store.models import (
    RecordFields,
    RecordPublic,
)
from detente.store.records import RecordType, register
from detente.store.tables import RecordColumns

__all__ = [
    "ANSWERS",
    "VALIDITY_DAYS",
    "VETTING_DECISIONS",
    "VettingDecision",
    "VettingDecisionFields",
]

ANSWERS = ("yes", "no", "unknown")
VALIDITY_DAYS = 365  # a decision holds for a year unless the officer says otherwise


class VettingDecision(RecordColumns, Base):
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


def _check_item(value: str) -> str:
    item, sep, answer = value.partition("=")
    item, answer = item.strip(), answer.strip().lower()
    items = taxonomy().vetting_checklist
    if not sep or item not in items:
        raise ValueError(f"checklist item {value!r}: give ITEM=ANSWER with ITEM one of {', '.join(items)}")
    if answer not in ANSWERS:
        raise ValueError(f"checklist {item}: answer {answer!r} is not one of {', '.join(ANSWERS)}")
    return f"{item}={answer}"


ChecklistItem = Annotated[str, AfterValidator(_check_item)]


class VettingDecisionFields(RecordFields):
    """A vetting officer's decision about one registry actor or person, with its checklist,
    conditions, validity and the screening it rested on."""

    subject_name: ShortText = Field(description="Who was vetted, as screened")
    actor_id: OptRef = Field(None, description="The registry actor decided about (or a person)")
    person_id: OptRef = Field(None, description="The person decided about (or an actor)")
    outcome: Annotated[str, status_of("vetting")] = Field("pending", description="Outcome")
    checklist: list[ChecklistItem] = Field(
        default_factory=list,
        max_length=50,
        description="The officer's checklist answers, ITEM=yes|no|unknown",
    )
    conditions: OptLong = Field(None, description="Conditions of a conditional clearance")
    decided_on: date = Field(default_factory=date.today, description="Date decided")
    valid_until: date | None = Field(
        None, description=f"Valid until (default: {VALIDITY_DAYS} days after the decision)"
    )
    officer: OptShort = Field(None, description="The vetting officer")
    screened_lists: OptLong = Field(None, description="The lists screened, with their versions")
    screening: OptLong = Field(None, description="The candidates the screening found, one per line")
    notes: OptLong = Field(None, description="Free-text notes")

    @field_validator("checklist")
    @classmethod
    def _one_answer_per_item(cls, value: list[str]) -> list[str]:
        items = [v.split("=")[0] for v in value]
        repeated = sorted({i for i in items if items.count(i) > 1})
        if repeated:
            raise ValueError(f"checklist item {repeated[0]} answered twice")
        return value

    @model_validator(mode="after")
    def _subject_and_validity(self) -> VettingDecisionFields:
        if (self.actor_id is None) == (self.person_id is None):
            raise ValueError(
                "a decision is about one registry actor or one person: give actor_id or person_id"
            )
        if self.valid_until is None:
            self.valid_until = self.decided_on + timedelta(days=VALIDITY_DAYS)
        in_order(self, ("decided_on", "valid_until"))
        if self.outcome == "cleared_with_conditions" and not self.conditions:
            raise ValueError("cleared_with_conditions: say what the conditions are (conditions)")
        return self


class VettingDecisionPublicBase(RecordPublic):
    """A decision as returned, with its standing on a day."""

    def standing(self, on: date | None = None) -> str:
        """valid, expired, refused, suspended or pending on a day (today by default)."""
        day = on or date.today()
        outcome: str = self.outcome  # type: ignore[attr-defined]
        if outcome in ("refused", "suspended", "pending"):
            return outcome
        valid_until: date = self.valid_until  # type: ignore[attr-defined]
        return "valid" if day <= valid_until else "expired"


VETTING_DECISIONS = RecordType(
    name="vetting_decisions",
    singular="vetting decision",
    slice="vetting",
    rank=60,
    description="Vetting decisions about actors and people: outcome, checklist, validity.",
    table=VettingDecision,
    fields_model=VettingDecisionFields,
    public_base=VettingDecisionPublicBase,
    title_field="subject_name",
    natural_key=("subject_name", "decided_on", "outcome"),
    filters=("outcome", "actor_id", "person_id", "external_id"),
    refs={"actor_id": "actors", "person_id": "people"},
    lifecycle=("outcome", taxonomy().lifecycles["vetting"]),
    list_fields=("checklist",),
    date_field="decided_on",
    aliases=("vetting", "decisions"),
    cli_names={"actor_id": "actor", "person_id": "person", "decided_on": "on", "valid_until": "valid-until"},
    example={
        "subject_name": "Ghana Navy",
        "actor_id": "@actors",
        "outcome": "pending",
        "decided_on": "2026-01-15",
    },
)

register(VETTING_DECISIONS)
