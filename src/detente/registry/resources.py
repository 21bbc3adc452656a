"""The registry's record types described once, for services, import and export.

A ``Resource`` ties a table to its models, its references to other records,
its list-valued links (agreement parties, engagement partners), its lifecycle
and its natural key (how a re-imported row finds the record it describes when
the file carries no id).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from pydantic import BaseModel

from detente.core.errors import ValidationError
from detente.registry import models as m
from detente.registry import tables as t

__all__ = ["META_FIELDS", "RESOURCES", "WITHHELD", "Link", "Resource", "resource"]

# Bookkeeping columns every record has, in export order (after the record's own fields).
META_FIELDS = ("marking", "version", "created_at", "created_by", "updated_at", "updated_by")
# The reference fields withheld from the reader (their target is hidden from them): a
# list-valued column of every export, informational only (an import ignores it).
WITHHELD = "withheld"


@dataclass(frozen=True)
class Link:
    """A list-valued reference kept in a link table (owner id, member id, position)."""

    table: type[t.Base]
    owner_column: str
    target: str = "actors"
    member_column: str = "actor_id"

    @property
    def owner(self) -> Any:
        return getattr(self.table, self.owner_column)

    @property
    def member(self) -> Any:
        return getattr(self.table, self.member_column)


@dataclass(frozen=True)
class Resource:
    name: str
    singular: str
    table: type[t.Base]
    fields_model: type[BaseModel]
    create_model: type[BaseModel]
    update_model: type[BaseModel]
    public_model: type[BaseModel]
    title_field: str
    natural_key: tuple[str, ...]
    refs: dict[str, str] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    lifecycle: tuple[str, str] | None = None  # (status field, lifecycle name)
    list_fields: tuple[str, ...] = ()  # list-valued columns (``withheld`` is added to every resource)
    filters: tuple[str, ...] = ("external_id",)  # fields a listing may be filtered by (exact match)

    @property
    def fields(self) -> tuple[str, ...]:
        """The record's own fields in a stable, readable order."""
        return tuple(self.fields_model.model_fields)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every exported column: id, external id, own fields, bookkeeping."""
        return ("id", "external_id", *self.fields, *META_FIELDS, WITHHELD)

    def ref_target(self, name: str) -> str | None:
        if name in self.refs:
            return self.refs[name]
        if name in self.links:
            return self.links[name].target
        return None


RESOURCES: dict[str, Resource] = {
    r.name: replace(r, list_fields=(*r.list_fields, WITHHELD))
    for r in (
        Resource(
            name="actors",
            singular="actor",
            table=t.Actor,
            fields_model=m.ActorFields,
            create_model=m.ActorCreate,
            update_model=m.ActorUpdate,
            public_model=m.ActorPublic,
            title_field="name",
            natural_key=("kind", "name", "country"),
            filters=("kind", "country", "parent_id", "external_id"),
            refs={"parent_id": "actors"},
            list_fields=("aliases",),
        ),
        Resource(
            name="people",
            singular="person",
            table=t.Person,
            fields_model=m.PersonFields,
            create_model=m.PersonCreate,
            update_model=m.PersonUpdate,
            public_model=m.PersonPublic,
            title_field="name",
            natural_key=("name", "sending_state", "receiving_state", "role"),
            filters=(
                "role",
                "sending_state",
                "receiving_state",
                "accreditation_status",
                "organisation_id",
                "external_id",
            ),
            refs={"organisation_id": "actors"},
            lifecycle=("accreditation_status", "accreditation"),
        ),
        Resource(
            name="agreements",
            singular="agreement",
            table=t.Agreement,
            fields_model=m.AgreementFields,
            create_model=m.AgreementCreate,
            update_model=m.AgreementUpdate,
            public_model=m.AgreementPublic,
            title_field="title",
            natural_key=("kind", "title"),
            filters=("kind", "external_id"),
            links={"parties": Link(t.AgreementParty, "agreement_id")},
            list_fields=("parties", "activity_types"),
        ),
        Resource(
            name="engagements",
            singular="engagement",
            table=t.Engagement,
            fields_model=m.EngagementFields,
            create_model=m.EngagementCreate,
            update_model=m.EngagementUpdate,
            public_model=m.EngagementPublic,
            title_field="title",
            natural_key=("title", "start_date"),
            filters=("kind", "status", "lead_actor_id", "agreement_id", "location_country", "external_id"),
            refs={"lead_actor_id": "actors", "agreement_id": "agreements"},
            links={
                "partners": Link(t.EngagementPartner, "engagement_id"),
                "people": Link(t.EngagementPerson, "engagement_id", "people", "person_id"),
            },
            lifecycle=("status", "engagement"),
            list_fields=("partners", "people"),
        ),
        Resource(
            name="commitments",
            singular="commitment",
            table=t.Commitment,
            fields_model=m.CommitmentFields,
            create_model=m.CommitmentCreate,
            update_model=m.CommitmentUpdate,
            public_model=m.CommitmentPublic,
            title_field="description",
            natural_key=("engagement_id", "committed_by_id", "description"),
            filters=("status", "engagement_id", "committed_by_id", "external_id"),
            refs={"engagement_id": "engagements", "committed_by_id": "actors"},
            lifecycle=("status", "commitment"),
        ),
        Resource(
            name="vetting_decisions",
            singular="vetting decision",
            table=t.VettingDecision,
            fields_model=m.VettingDecisionFields,
            create_model=m.VettingDecisionCreate,
            update_model=m.VettingDecisionUpdate,
            public_model=m.VettingDecisionPublic,
            title_field="subject_name",
            natural_key=("subject_name", "decided_on", "outcome"),
            filters=("outcome", "actor_id", "person_id", "external_id"),
            refs={"actor_id": "actors", "person_id": "people"},
            lifecycle=("outcome", "vetting"),
            list_fields=("checklist",),
        ),
        Resource(
            name="initiatives",
            singular="initiative",
            table=t.Initiative,
            fields_model=m.InitiativeFields,
            create_model=m.InitiativeCreate,
            update_model=m.InitiativeUpdate,
            public_model=m.InitiativePublic,
            title_field="title",
            natural_key=("title",),
            filters=("status", "partner_country", "lead_actor_id", "external_id"),
            refs={"lead_actor_id": "actors"},
            lifecycle=("status", "initiative"),
        ),
        Resource(
            name="objectives",
            singular="objective",
            table=t.Objective,
            fields_model=m.ObjectiveFields,
            create_model=m.ObjectiveCreate,
            update_model=m.ObjectiveUpdate,
            public_model=m.ObjectivePublic,
            title_field="title",
            natural_key=("initiative_id", "title"),
            filters=("initiative_id", "partner_country", "line_of_effort", "external_id"),
            refs={"initiative_id": "initiatives"},
            links={
                "engagements": Link(t.ObjectiveEngagement, "objective_id", "engagements", "engagement_id"),
                "agreements": Link(t.ObjectiveAgreement, "objective_id", "agreements", "agreement_id"),
            },
            list_fields=("engagements", "agreements"),
        ),
        Resource(
            name="indicators",
            singular="indicator",
            table=t.Indicator,
            fields_model=m.IndicatorFields,
            create_model=m.IndicatorCreate,
            update_model=m.IndicatorUpdate,
            public_model=m.IndicatorPublic,
            title_field="name",
            natural_key=("objective_id", "name"),
            filters=("objective_id", "frequency", "external_id"),
            refs={"objective_id": "objectives"},
        ),
        Resource(
            name="observations",
            singular="observation",
            table=t.IndicatorObservation,
            fields_model=m.ObservationFields,
            create_model=m.ObservationCreate,
            update_model=m.ObservationUpdate,
            public_model=m.ObservationPublic,
            title_field="source",
            natural_key=("indicator_id", "observed_on", "source"),
            filters=("indicator_id", "confidence", "external_id"),
            refs={"indicator_id": "indicators"},
        ),
        Resource(
            name="evaluations",
            singular="evaluation",
            table=t.Evaluation,
            fields_model=m.EvaluationFields,
            create_model=m.EvaluationCreate,
            update_model=m.EvaluationUpdate,
            public_model=m.EvaluationPublic,
            title_field="title",
            natural_key=("initiative_id", "title"),
            filters=("initiative_id", "objective_id", "kind", "rating", "external_id"),
            refs={"initiative_id": "initiatives", "objective_id": "objectives"},
        ),
        Resource(
            name="lessons",
            singular="lesson",
            table=t.Lesson,
            fields_model=m.LessonFields,
            create_model=m.LessonCreate,
            update_model=m.LessonUpdate,
            public_model=m.LessonPublic,
            title_field="title",
            natural_key=("title",),
            filters=("status", "initiative_id", "evaluation_id", "external_id"),
            refs={"initiative_id": "initiatives", "evaluation_id": "evaluations"},
            lifecycle=("status", "lesson"),
            links={"engagements": Link(t.LessonEngagement, "lesson_id", "engagements", "engagement_id")},
            list_fields=("engagements",),
        ),
        Resource(
            name="calendar_entries",
            singular="calendar entry",
            table=t.CalendarEntry,
            fields_model=m.CalendarEntryFields,
            create_model=m.CalendarEntryCreate,
            update_model=m.CalendarEntryUpdate,
            public_model=m.CalendarEntryPublic,
            title_field="title",
            natural_key=("country", "title", "start_date"),
            filters=("country", "kind", "external_id"),
        ),
    )
}

ALIASES = {
    "actor": "actors",
    "person": "people",
    "attaches": "people",
    "agreement": "agreements",
    "engagement": "engagements",
    "commitment": "commitments",
    "vetting": "vetting_decisions",
    "vetting_decision": "vetting_decisions",
    "initiative": "initiatives",
    "objective": "objectives",
    "indicator": "indicators",
    "observation": "observations",
    "evaluation": "evaluations",
    "lesson": "lessons",
    "lessons_learned": "lessons",
    "calendar": "calendar_entries",
    "calendar_entry": "calendar_entries",
}


@cache
def resource(name: str) -> Resource:
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in RESOURCES:
        raise ValidationError(f"unknown registry table {name!r}; one of {', '.join(RESOURCES)}")
    return RESOURCES[key]
