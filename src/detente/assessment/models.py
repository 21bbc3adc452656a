"""Assessment's record fields: initiatives, objectives with their logic model, indicators,
observations, evaluations and lessons learned, each field described once.

The Create, Update and Public models are built from these by ``detente.store.models``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from detente.registry.taxonomy import kind_of, status_of
from detente.store.fields import (
    Finite,
    LongText,
    OptCountry,
    OptionalText,
    OptLong,
    OptRef,
    OptShort,
    Ref,
    ShortText,
    Title,
    distinct,
    in_order,
)
from detente.store.models import RecordFields

__all__ = [
    "EvaluationFields",
    "IndicatorFields",
    "InitiativeFields",
    "LessonFields",
    "ObjectiveFields",
    "ObservationFields",
]

NOTES = "Free-text notes"


class InitiativeFields(RecordFields):
    """A programme of engagements with a partner or a region."""

    title: Title = Field(description="Title of the programme")
    partner_country: OptCountry = Field(None, description="Partner country")
    region: OptShort = Field(
        None, description="Region, e.g. 'Gulf of Guinea' (a partner or a region is needed)"
    )
    lead_actor_id: OptRef = Field(None, description="Leading actor")
    status: Annotated[str, status_of("initiative")] = Field("proposed", description="Status")
    start_date: date | None = Field(None, description="Start date")
    end_date: date | None = Field(None, description="End date")
    description: OptLong = Field(None, description="What the initiative is for")
    notes: OptLong = Field(None, description=NOTES)

    @model_validator(mode="after")
    def _check(self) -> InitiativeFields:
        if not self.partner_country and not self.region:
            raise ValueError("an initiative is with a partner or a region: give partner_country or region")
        in_order(self, ("start_date", "end_date"))
        return self


class ObjectiveFields(RecordFields):
    """What an initiative aims at, with its logic model and the engagements and agreements serving it."""

    initiative_id: Ref = Field(description="Its initiative")
    title: Title = Field(description="What the objective aims at")
    partner_country: OptCountry = Field(None, description="Partner country")
    line_of_effort: Annotated[str, kind_of("lines_of_effort")] = Field(description="Line of effort")
    engagements: list[Ref] = Field(
        default_factory=list, max_length=1000, description="Engagements serving it"
    )
    agreements: list[Ref] = Field(default_factory=list, max_length=200, description="Agreements serving it")
    inputs: OptLong = Field(None, description="Logic model: what goes in (people, money, equipment)")
    activities: OptLong = Field(None, description="Logic model: what is done")
    outputs: OptLong = Field(None, description="Logic model: what the activities produce")
    outcomes: OptLong = Field(None, description="Logic model: what should change for the partner")
    assumptions: OptLong = Field(None, description="Logic model: what must hold for the chain to work")
    notes: OptLong = Field(None, description=NOTES)

    @field_validator("engagements", "agreements")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return distinct(value)


def _metric(value: str) -> str:
    from detente.assessment.metrics import parse_metric

    return parse_metric(value).spec


class IndicatorFields(RecordFields):
    """How an objective is measured: baseline, target, frequency, or a metric computed by detente."""

    objective_id: Ref = Field(description="Its objective")
    name: Title = Field(description="What is measured")
    definition: OptLong = Field(None, description="How it is measured")
    unit: Annotated[ShortText, StringConstraints(max_length=100)] = Field(
        description="Unit, e.g. 'companies', 'percent'"
    )
    baseline_value: Finite = Field(description="Baseline value")
    baseline_date: date = Field(description="Date of the baseline")
    target_value: Finite = Field(description="Target value")
    target_date: date = Field(description="Date the target is due")
    higher_is_better: bool | None = Field(
        None, description="Which side is good: needed when target = baseline"
    )
    data_source: OptLong = Field(None, description="Where the values come from")
    frequency: Annotated[str, kind_of("indicator_frequencies")] = Field(
        "quarterly", description="How often observed"
    )
    owner: OptShort = Field(None, description="Who reports it")
    computed_from: Annotated[Annotated[str, AfterValidator(_metric)] | None, OptionalText] = Field(
        None, description="A metric detente computes, e.g. completed_exercises:KEN (see README)"
    )
    notes: OptLong = Field(None, description=NOTES)

    @model_validator(mode="after")
    def _check(self) -> IndicatorFields:
        if self.target_date <= self.baseline_date:
            raise ValueError(
                f"target_date ({self.target_date}) must be after baseline_date ({self.baseline_date})"
            )
        if self.target_value == self.baseline_value and self.higher_is_better is None:
            raise ValueError(
                "a target equal to the baseline holds a value: say which side is good (higher_is_better)"
            )
        return self


class ObservationFields(RecordFields):
    """An indicator's value on a day."""

    indicator_id: Ref = Field(description="Its indicator")
    value: Finite = Field(description="Value observed")
    observed_on: date = Field(description="Date observed")
    source: OptShort = Field(None, description="Where the value comes from")
    confidence: Annotated[str, kind_of("confidence_levels")] = Field("medium", description="Confidence")
    notes: OptLong = Field(None, description=NOTES)


class EvaluationFields(RecordFields):
    """An evaluation of an initiative: its kind, independence, findings and rating."""

    initiative_id: Ref = Field(description="Its initiative")
    objective_id: OptRef = Field(None, description="The objective it looks at, if one")
    title: Title = Field(description="Title of the evaluation")
    kind: Annotated[str, kind_of("evaluation_kinds")] = Field(description="Kind of evaluation")
    independence: Annotated[str, kind_of("evaluation_independence")] = Field(
        "internal", description="Independence"
    )
    evaluator: OptShort = Field(None, description="Who evaluated")
    conducted_on: date = Field(description="Date completed")
    questions: OptLong = Field(None, description="The evaluation questions")
    findings: OptLong = Field(None, description="What it found")
    rating: Annotated[Annotated[str, kind_of("evaluation_ratings")] | None, OptionalText] = Field(
        None, description="Rating"
    )
    notes: OptLong = Field(None, description=NOTES)


class LessonFields(RecordFields):
    """A lesson learned and the future engagements it shapes."""

    title: Title = Field(description="The lesson in a line")
    initiative_id: OptRef = Field(None, description="Its initiative")
    evaluation_id: OptRef = Field(None, description="The evaluation it came from")
    observation: LongText = Field(description="What was observed")
    recommendation: OptLong = Field(None, description="What to do about it")
    status: Annotated[str, status_of("lesson")] = Field("identified", description="Status")
    identified_on: date = Field(default_factory=date.today, description="Date identified")
    owner: OptShort = Field(None, description="Who acts on it")
    engagements: list[Ref] = Field(
        default_factory=list, max_length=500, description="Future engagements it shapes"
    )
    notes: OptLong = Field(None, description=NOTES)

    @field_validator("engagements")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return distinct(value)
