"""Assessment's record types, declared once and registered with the store kernel:
initiatives, objectives, indicators, observations, evaluations and lessons learned."""

from __future__ import annotations

from detente.assessment import tables as t
from detente.assessment.models import (
    EvaluationFields,
    IndicatorFields,
    InitiativeFields,
    LessonFields,
    ObjectiveFields,
    ObservationFields,
)
from detente.registry.taxonomy import taxonomy
from detente.store.records import Link, RecordType, register

__all__ = ["EVALUATIONS", "INDICATORS", "INITIATIVES", "LESSONS", "OBJECTIVES", "OBSERVATIONS"]


INITIATIVES = RecordType(
    name="initiatives",
    singular="initiative",
    slice="assessment",
    rank=70,
    description="Assessment: programmes of engagements with a partner or a region.",
    table=t.Initiative,
    fields_model=InitiativeFields,
    title_field="title",
    natural_key=("title",),
    filters=("status", "partner_country", "lead_actor_id", "external_id"),
    refs={"lead_actor_id": "actors"},
    lifecycle=("status", taxonomy().lifecycles["initiative"]),
    date_field="start_date",
    order="start_date",
    cli_names={
        "partner_country": "partner",
        "lead_actor_id": "lead",
        "start_date": "start",
        "end_date": "end",
    },
    example={
        "title": "Gulf of Guinea maritime security",
        "partner_country": "GHA",
        "start_date": "2025-01-01",
    },
)

OBJECTIVES = RecordType(
    name="objectives",
    singular="objective",
    slice="assessment",
    rank=80,
    description="Assessment: an initiative's objectives, their logic model and what serves them.",
    table=t.Objective,
    fields_model=ObjectiveFields,
    title_field="title",
    natural_key=("initiative_id", "title"),
    filters=("initiative_id", "partner_country", "line_of_effort", "external_id"),
    refs={"initiative_id": "initiatives"},
    links={
        "engagements": Link(t.ObjectiveEngagement, "objective_id", "engagements", "engagement_id"),
        "agreements": Link(t.ObjectiveAgreement, "objective_id", "agreements", "agreement_id"),
    },
    list_fields=("engagements", "agreements"),
    order="title",
    cli_names={
        "initiative_id": "initiative",
        "line_of_effort": "line",
        "partner_country": "partner",
        "engagements": "engagement",
        "agreements": "agreement",
    },
    example={
        "title": "A coast guard able to patrol the EEZ",
        "initiative_id": "@initiatives",
        "line_of_effort": "maritime_security",
    },
)

INDICATORS = RecordType(
    name="indicators",
    singular="indicator",
    slice="assessment",
    rank=90,
    description="Assessment: how an objective is measured (baseline, target, frequency).",
    table=t.Indicator,
    fields_model=IndicatorFields,
    title_field="name",
    natural_key=("objective_id", "name"),
    filters=("objective_id", "frequency", "external_id"),
    refs={"objective_id": "objectives"},
    order="name",
    cli_names={
        "objective_id": "objective",
        "baseline_value": "baseline",
        "target_value": "target",
        "data_source": "source",
    },
    example={
        "name": "Patrol days per quarter",
        "objective_id": "@objectives",
        "unit": "days",
        "baseline_value": 20,
        "baseline_date": "2025-01-01",
        "target_value": 60,
        "target_date": "2027-01-01",
    },
)

OBSERVATIONS = RecordType(
    name="observations",
    singular="observation",
    slice="assessment",
    rank=100,
    description="Assessment: an indicator's values over time.",
    table=t.IndicatorObservation,
    fields_model=ObservationFields,
    title_field="source",
    natural_key=("indicator_id", "observed_on", "source"),
    filters=("indicator_id", "confidence", "external_id"),
    refs={"indicator_id": "indicators"},
    cli_names={"indicator_id": "indicator", "observed_on": "on"},
    example={
        "source": "Quarterly report Q1",
        "indicator_id": "@indicators",
        "value": 28,
        "observed_on": "2025-04-01",
    },
)

EVALUATIONS = RecordType(
    name="evaluations",
    singular="evaluation",
    slice="assessment",
    rank=110,
    description="Assessment: evaluations of an initiative (kind, independence, findings, rating).",
    table=t.Evaluation,
    fields_model=EvaluationFields,
    title_field="title",
    natural_key=("initiative_id", "title"),
    filters=("initiative_id", "objective_id", "kind", "rating", "external_id"),
    refs={"initiative_id": "initiatives", "objective_id": "objectives"},
    order="title",
    cli_names={"initiative_id": "initiative", "objective_id": "objective", "conducted_on": "on"},
    example={
        "title": "Mid-term review",
        "initiative_id": "@initiatives",
        "kind": "formative",
        "conducted_on": "2026-01-20",
    },
)

LESSONS = RecordType(
    name="lessons",
    singular="lesson",
    slice="assessment",
    rank=120,
    description="Assessment: lessons learned and the engagements they shape.",
    table=t.Lesson,
    fields_model=LessonFields,
    title_field="title",
    natural_key=("title",),
    filters=("status", "initiative_id", "evaluation_id", "external_id"),
    refs={"initiative_id": "initiatives", "evaluation_id": "evaluations"},
    lifecycle=("status", taxonomy().lifecycles["lesson"]),
    links={"engagements": Link(t.LessonEngagement, "lesson_id", "engagements", "engagement_id")},
    list_fields=("engagements",),
    order="title",
    aliases=("lessons_learned",),
    cli_names={
        "initiative_id": "initiative",
        "evaluation_id": "evaluation",
        "identified_on": "on",
        "engagements": "engagement",
    },
    example={
        "title": "Train the trainers first",
        "observation": "Teams trained by local instructors kept their skills",
    },
)

register(INITIATIVES, OBJECTIVES, INDICATORS, OBSERVATIONS, EVALUATIONS, LESSONS)
