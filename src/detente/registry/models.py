"""Typed models of registry records, split by direction.

``XCreate`` is what a user may send to create a record, ``XUpdate`` what they
may change (every field optional; only the fields set are changed), ``XPublic``
what detente returns. Rules that need only the record itself (dates in order,
kinds known, lifecycle start) are checked here; rules that need the store
(references exist, legal status moves) are checked in ``service.py``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)

from detente.registry.fields import (
    Country,
    LongText,
    Marking,
    OptionalText,
    Ref,
    ShortText,
    clean_line,
)
from detente.registry.taxonomy import taxonomy

__all__ = [
    "ActorCreate",
    "ActorPublic",
    "ActorUpdate",
    "AgreementCreate",
    "AgreementPublic",
    "AgreementUpdate",
    "CalendarEntryCreate",
    "CalendarEntryPublic",
    "CommitmentCreate",
    "CommitmentPublic",
    "CommitmentUpdate",
    "EngagementCreate",
    "EngagementPublic",
    "EngagementUpdate",
    "EvaluationCreate",
    "EvaluationPublic",
    "IndicatorCreate",
    "IndicatorPublic",
    "InitiativeCreate",
    "InitiativePublic",
    "LessonCreate",
    "LessonPublic",
    "ObjectiveCreate",
    "ObjectivePublic",
    "ObservationCreate",
    "ObservationPublic",
    "PersonCreate",
    "PersonPublic",
    "PersonUpdate",
    "VettingDecisionCreate",
    "VettingDecisionPublic",
    "VettingDecisionUpdate",
]

ExternalId = Annotated[
    Annotated[str, AfterValidator(clean_line), StringConstraints(min_length=1, max_length=200)] | None,
    OptionalText,
]
Abbreviation = Annotated[Annotated[str, StringConstraints(max_length=60)] | None, OptionalText]
OptShort = Annotated[ShortText | None, OptionalText]
OptLong = Annotated[LongText | None, OptionalText]
OptCountry = Annotated[Country | None, OptionalText]
OptRef = Annotated[Ref | None, OptionalText]
Count = Annotated[int, Field(ge=0, le=10_000_000)]
Alias = Annotated[ShortText, AfterValidator(lambda v: v if ";" not in v else _no_semicolon())]


def _no_semicolon() -> str:
    raise ValueError("may not contain ';' (it separates list items in CSV and Excel files)")


def _kind(group: str) -> Any:
    def check(value: str) -> str:
        table = getattr(taxonomy(), group)
        if value not in table:
            raise ValueError(f"unknown value {value!r}; one of {', '.join(table)}")
        return value

    return AfterValidator(check)


def _status(lifecycle: str) -> Any:
    def check(value: str) -> str:
        statuses = taxonomy().lifecycles[lifecycle].statuses
        if value not in statuses:
            raise ValueError(f"unknown status {value!r}; one of {', '.join(statuses)}")
        return value

    return AfterValidator(check)


def _in_order(model: BaseModel, *pairs: tuple[str, str]) -> None:
    for earlier, later in pairs:
        a, b = getattr(model, earlier, None), getattr(model, later, None)
        if a is not None and b is not None and b < a:
            raise ValueError(f"{later} ({b}) is before {earlier} ({a})")


def _distinct(values: list[str]) -> list[str]:
    seen: list[str] = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class _Create(_In):
    # no id: detente assigns every record a random one (a client-chosen id could probe
    # whether a hidden record has it); external_id is the field for a user's own key
    external_id: ExternalId = None
    marking: Marking = "UNCLASSIFIED"


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    external_id: str | None
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str
    version: int
    marking: str
    owner_org_id: str | None = Field(default=None, description="The organisation that owns (and may edit) it")
    withheld: list[str] = Field(
        default_factory=list,
        description="Reference fields naming a record you may not see: null for you (lists of "
        "references hold only the records you may see)",
    )


# ---------------------------------------------------------------- actors
ActorKind = Annotated[str, _kind("actor_kinds")]


class ActorFields(_In):
    name: ShortText
    kind: ActorKind
    country: OptCountry = None
    abbreviation: Abbreviation = None
    parent_id: OptRef = None
    aliases: list[Alias] = Field(default_factory=list, max_length=100)
    notes: OptLong = None

    @field_validator("aliases")
    @classmethod
    def _unique_aliases(cls, value: list[str]) -> list[str]:
        return _distinct(value)

    @model_validator(mode="after")
    def _state_has_country(self) -> ActorFields:
        if self.kind == "state" and not self.country:
            raise ValueError("a state actor needs its country (ISO code or name)")
        return self


class ActorCreate(ActorFields, _Create):
    pass


class ActorUpdate(_In):
    name: ShortText | None = None
    kind: ActorKind | None = None
    country: OptCountry = None
    abbreviation: Abbreviation = None
    parent_id: OptRef = None
    aliases: list[Alias] | None = None
    notes: OptLong = None
    external_id: ExternalId = None
    marking: Marking | None = None


class ActorPublic(_Public):
    name: str
    kind: str
    country: str | None
    abbreviation: str | None
    parent_id: str | None
    aliases: list[str]
    notes: str | None


# ---------------------------------------------------------------- people
class PersonFields(_In):
    name: ShortText
    rank: OptShort = None
    role: Annotated[str, _kind("person_roles")] = "defense_attache"
    sending_state: Country
    receiving_state: Country
    post: OptShort = None
    organisation_id: OptRef = None
    accreditation_status: Annotated[str, _status("accreditation")] = "proposed"
    immunity_basis: Annotated[str, _kind("immunity_bases")] = "diplomatic_agent"
    start_date: date | None = None
    end_date: date | None = None
    notes: OptLong = None

    @model_validator(mode="after")
    def _check(self) -> PersonFields:
        if self.sending_state == self.receiving_state:
            raise ValueError("sending and receiving state must differ")
        _in_order(self, ("start_date", "end_date"))
        return self


class PersonCreate(PersonFields, _Create):
    pass


class PersonUpdate(_In):
    name: ShortText | None = None
    rank: OptShort = None
    role: Annotated[str, _kind("person_roles")] | None = None
    sending_state: OptCountry = None
    receiving_state: OptCountry = None
    post: OptShort = None
    organisation_id: OptRef = None
    accreditation_status: Annotated[str, _status("accreditation")] | None = None
    immunity_basis: Annotated[str, _kind("immunity_bases")] | None = None
    start_date: date | None = None
    end_date: date | None = None
    notes: OptLong = None
    external_id: ExternalId = None
    marking: Marking | None = None


class PersonPublic(_Public):
    name: str
    rank: str | None
    role: str
    sending_state: str
    receiving_state: str
    post: str | None
    organisation_id: str | None
    accreditation_status: str
    immunity_basis: str
    start_date: date | None
    end_date: date | None
    notes: str | None


# ---------------------------------------------------------------- agreements
AgreementKind = Annotated[str, _kind("agreement_kinds")]
ActivityType = Annotated[str, _kind("engagement_kinds")]
_AGREEMENT_DATES = (
    ("signed_on", "expires_on"),
    ("in_force_on", "expires_on"),
    ("signed_on", "terminated_on"),
)


class AgreementFields(_In):
    title: Annotated[ShortText, StringConstraints(max_length=500)]
    kind: AgreementKind
    parties: list[Ref] = Field(min_length=2, max_length=500)
    signed_on: date | None = None
    in_force_on: date | None = None
    expires_on: date | None = None
    terminated_on: date | None = None
    activity_types: list[ActivityType] = Field(default_factory=list)
    notes: OptLong = None

    @field_validator("parties", "activity_types")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return _distinct(value)

    @model_validator(mode="after")
    def _check(self) -> AgreementFields:
        if len(self.parties) < 2:
            raise ValueError("an agreement needs at least two distinct parties")
        _in_order(self, *_AGREEMENT_DATES)
        return self


class AgreementCreate(AgreementFields, _Create):
    pass


class AgreementUpdate(_In):
    title: Annotated[ShortText, StringConstraints(max_length=500)] | None = None
    kind: AgreementKind | None = None
    parties: list[Ref] | None = Field(default=None, min_length=2, max_length=500)
    signed_on: date | None = None
    in_force_on: date | None = None
    expires_on: date | None = None
    terminated_on: date | None = None
    activity_types: list[ActivityType] | None = None
    notes: OptLong = None
    external_id: ExternalId = None
    marking: Marking | None = None


class AgreementPublic(_Public):
    title: str
    kind: str
    parties: list[str]
    signed_on: date | None
    in_force_on: date | None
    expires_on: date | None
    terminated_on: date | None
    activity_types: list[str]
    notes: str | None


# ---------------------------------------------------------------- engagements
EngagementKind = Annotated[str, _kind("engagement_kinds")]
Currency = Annotated[
    str,
    AfterValidator(lambda v: v.strip().upper()),
    StringConstraints(pattern=r"^[A-Z]{3}$"),
]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("9999999999999.99"), decimal_places=2)]
FORCE_FIELDS = (
    "troops",
    "tanks",
    "armoured_combat_vehicles",
    "artillery",
    "aircraft_sorties",
    "amphibious_airborne_troops",
)


class EngagementFields(_In):
    title: Annotated[ShortText, StringConstraints(max_length=500)]
    kind: EngagementKind
    status: Annotated[str, _status("engagement")] = "proposed"
    lead_actor_id: Ref
    partners: list[Ref] = Field(default_factory=list, max_length=500)
    people: list[Ref] = Field(default_factory=list, max_length=200)
    agreement_id: OptRef = None
    start_date: date
    end_date: date | None = None
    location_country: OptCountry = None
    location_place: OptShort = None
    troops: Count | None = None
    tanks: Count | None = None
    armoured_combat_vehicles: Count | None = None
    artillery: Count | None = None
    aircraft_sorties: Count | None = None
    amphibious_airborne_troops: Count | None = None  # in an amphibious landing or parachute assault
    host_consent_on: date | None = None  # when the host nation's consent was recorded
    host_consent_reference: OptShort = None  # e.g. the note verbale's number
    vd_notified_on: date | None = None  # OSCE Vienna Document prior notification sent
    vd_calendar_on: date | None = None  # listed in the annual calendar exchanged under the Vienna Document
    cost: Money | None = None
    currency: Annotated[Currency | None, OptionalText] = None
    objectives: OptLong = None
    notes: OptLong = None

    @field_validator("partners", "people")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return _distinct(value)

    @model_validator(mode="after")
    def _check(self) -> EngagementFields:
        _in_order(self, ("start_date", "end_date"))
        if self.lead_actor_id in self.partners:
            raise ValueError("the lead actor cannot also be a partner")
        if self.cost is not None and not self.currency:
            raise ValueError("a cost needs its currency (ISO 4217, e.g. EUR)")
        return self


class EngagementCreate(EngagementFields, _Create):
    pass


class EngagementUpdate(_In):
    title: Annotated[ShortText, StringConstraints(max_length=500)] | None = None
    kind: EngagementKind | None = None
    status: Annotated[str, _status("engagement")] | None = None
    lead_actor_id: Ref | None = None
    partners: list[Ref] | None = None
    people: list[Ref] | None = None
    agreement_id: OptRef = None
    start_date: date | None = None
    end_date: date | None = None
    location_country: OptCountry = None
    location_place: OptShort = None
    troops: Count | None = None
    tanks: Count | None = None
    armoured_combat_vehicles: Count | None = None
    artillery: Count | None = None
    aircraft_sorties: Count | None = None
    amphibious_airborne_troops: Count | None = None
    host_consent_on: date | None = None
    host_consent_reference: OptShort = None
    vd_notified_on: date | None = None
    vd_calendar_on: date | None = None
    cost: Money | None = None
    currency: Annotated[Currency | None, OptionalText] = None
    objectives: OptLong = None
    notes: OptLong = None
    external_id: ExternalId = None
    marking: Marking | None = None


class EngagementPublic(_Public):
    title: str
    kind: str
    status: str
    lead_actor_id: str | None  # None when withheld
    partners: list[str]
    people: list[str] = Field(default_factory=list)
    agreement_id: str | None
    start_date: date
    end_date: date | None
    location_country: str | None
    location_place: str | None
    troops: int | None
    tanks: int | None
    armoured_combat_vehicles: int | None
    artillery: int | None
    aircraft_sorties: int | None
    amphibious_airborne_troops: int | None = None
    host_consent_on: date | None = None
    host_consent_reference: str | None = None
    vd_notified_on: date | None = None
    vd_calendar_on: date | None = None
    cost: Decimal | None
    currency: str | None
    objectives: str | None
    notes: str | None


# ---------------------------------------------------------------- commitments
class CommitmentFields(_In):
    engagement_id: Ref
    committed_by_id: Ref
    description: Annotated[LongText, StringConstraints(min_length=1)]
    due_on: date | None = None
    status: Annotated[str, _status("commitment")] = "open"
    notes: OptLong = None


class CommitmentCreate(CommitmentFields, _Create):
    pass


class CommitmentUpdate(_In):
    engagement_id: Ref | None = None
    committed_by_id: Ref | None = None
    description: Annotated[LongText, StringConstraints(min_length=1)] | None = None
    due_on: date | None = None
    status: Annotated[str, _status("commitment")] | None = None
    notes: OptLong = None
    external_id: ExternalId = None
    marking: Marking | None = None


class CommitmentPublic(_Public):
    engagement_id: str | None  # None when withheld
    committed_by_id: str | None  # None when withheld
    description: str
    due_on: date | None
    status: str
    notes: str | None

    @property
    def overdue(self) -> bool:
        return (
            self.status in ("open", "in_progress") and self.due_on is not None and self.due_on < date.today()
        )


# ---------------------------------------------------------------- vetting decisions
ANSWERS = ("yes", "no", "unknown")


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
VALIDITY_DAYS = 365  # a decision holds for a year unless the officer says otherwise


class VettingDecisionFields(_In):
    subject_name: ShortText
    actor_id: OptRef = None
    person_id: OptRef = None
    outcome: Annotated[str, _status("vetting")] = "pending"
    checklist: list[ChecklistItem] = Field(default_factory=list, max_length=50)
    conditions: OptLong = None
    decided_on: date = Field(default_factory=date.today)
    valid_until: date | None = None
    officer: OptShort = None
    screened_lists: OptLong = None
    screening: OptLong = None
    notes: OptLong = None

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
        _in_order(self, ("decided_on", "valid_until"))
        if self.outcome == "cleared_with_conditions" and not self.conditions:
            raise ValueError("cleared_with_conditions: say what the conditions are (conditions)")
        return self


class VettingDecisionCreate(VettingDecisionFields, _Create):
    pass


class VettingDecisionUpdate(_In):
    subject_name: ShortText | None = None
    actor_id: OptRef = None
    person_id: OptRef = None
    outcome: Annotated[str, _status("vetting")] | None = None
    checklist: list[ChecklistItem] | None = None
    conditions: OptLong = None
    decided_on: date | None = None
    valid_until: date | None = None
    officer: OptShort = None
    screened_lists: OptLong = None
    screening: OptLong = None
    notes: OptLong = None
    external_id: ExternalId = None
    marking: Marking | None = None


class VettingDecisionPublic(_Public):
    subject_name: str
    actor_id: str | None
    person_id: str | None
    outcome: str
    checklist: list[str]
    conditions: str | None
    decided_on: date
    valid_until: date
    officer: str | None
    screened_lists: str | None
    screening: str | None
    notes: str | None

    def standing(self, on: date | None = None) -> str:
        """valid, expired, refused, suspended or pending on a day (today by default)."""
        day = on or date.today()
        if self.outcome in ("refused", "suspended", "pending"):
            return self.outcome
        return "valid" if day <= self.valid_until else "expired"


# ---------------------------------------------------------------- assessment, monitoring, evaluation
def _update_model(fields: type[_In]) -> type[_In]:
    """The partial-change model of ``fields``: every field optional, plus the external id
    and the marking. Cross-field rules are not repeated here: the service re-checks the
    whole record with ``fields`` after merging the change."""
    spec: dict[str, Any] = {
        name: (info.rebuild_annotation() | None, None) for name, info in fields.model_fields.items()
    }
    return create_model(  # type: ignore[call-overload,no-any-return]
        fields.__name__.replace("Fields", "Update"),
        __base__=_In,
        __module__=__name__,
        external_id=(ExternalId, None),
        marking=(Marking | None, None),
        **spec,
    )


Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1e15, le=1e15)]
OptDate = date | None


class InitiativeFields(_In):
    title: Annotated[ShortText, StringConstraints(max_length=500)]
    partner_country: OptCountry = None
    region: OptShort = None
    lead_actor_id: OptRef = None
    status: Annotated[str, _status("initiative")] = "proposed"
    start_date: OptDate = None
    end_date: OptDate = None
    description: OptLong = None
    notes: OptLong = None

    @model_validator(mode="after")
    def _check(self) -> InitiativeFields:
        if not self.partner_country and not self.region:
            raise ValueError("an initiative is with a partner or a region: give partner_country or region")
        _in_order(self, ("start_date", "end_date"))
        return self


class InitiativeCreate(InitiativeFields, _Create):
    pass


InitiativeUpdate = _update_model(InitiativeFields)


class InitiativePublic(_Public):
    title: str
    partner_country: str | None
    region: str | None
    lead_actor_id: str | None
    status: str
    start_date: date | None
    end_date: date | None
    description: str | None
    notes: str | None


class ObjectiveFields(_In):
    initiative_id: Ref
    title: Annotated[ShortText, StringConstraints(max_length=500)]
    partner_country: OptCountry = None
    line_of_effort: Annotated[str, _kind("lines_of_effort")]
    engagements: list[Ref] = Field(default_factory=list, max_length=1000)
    agreements: list[Ref] = Field(default_factory=list, max_length=200)
    # the logic model: what goes in, what is done, what it produces, what should change, and
    # what must hold for the chain to work
    inputs: OptLong = None
    activities: OptLong = None
    outputs: OptLong = None
    outcomes: OptLong = None
    assumptions: OptLong = None
    notes: OptLong = None

    @field_validator("engagements", "agreements")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return _distinct(value)


class ObjectiveCreate(ObjectiveFields, _Create):
    pass


ObjectiveUpdate = _update_model(ObjectiveFields)


class ObjectivePublic(_Public):
    initiative_id: str | None  # None when withheld
    title: str
    partner_country: str | None
    line_of_effort: str
    engagements: list[str]
    agreements: list[str]
    inputs: str | None
    activities: str | None
    outputs: str | None
    outcomes: str | None
    assumptions: str | None
    notes: str | None


class IndicatorFields(_In):
    objective_id: Ref
    name: Annotated[ShortText, StringConstraints(max_length=500)]
    definition: OptLong = None
    unit: Annotated[ShortText, StringConstraints(max_length=100)]
    baseline_value: Finite
    baseline_date: date
    target_value: Finite
    target_date: date
    higher_is_better: bool | None = None
    data_source: OptLong = None
    frequency: Annotated[str, _kind("indicator_frequencies")] = "quarterly"
    owner: OptShort = None
    computed_from: Annotated[Annotated[str, AfterValidator(lambda v: _metric(v))] | None, OptionalText] = None
    notes: OptLong = None

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


def _metric(value: str) -> str:
    from detente.assessment.metrics import parse_metric

    return parse_metric(value).spec


class IndicatorCreate(IndicatorFields, _Create):
    pass


IndicatorUpdate = _update_model(IndicatorFields)


class IndicatorPublic(_Public):
    objective_id: str | None  # None when withheld
    name: str
    definition: str | None
    unit: str
    baseline_value: float
    baseline_date: date
    target_value: float
    target_date: date
    higher_is_better: bool | None
    data_source: str | None
    frequency: str
    owner: str | None
    computed_from: str | None
    notes: str | None


class ObservationFields(_In):
    indicator_id: Ref
    value: Finite
    observed_on: date
    source: OptShort = None
    confidence: Annotated[str, _kind("confidence_levels")] = "medium"
    notes: OptLong = None


class ObservationCreate(ObservationFields, _Create):
    pass


ObservationUpdate = _update_model(ObservationFields)


class ObservationPublic(_Public):
    indicator_id: str | None  # None when withheld
    value: float
    observed_on: date
    source: str | None
    confidence: str
    notes: str | None


class EvaluationFields(_In):
    initiative_id: Ref
    objective_id: OptRef = None
    title: Annotated[ShortText, StringConstraints(max_length=500)]
    kind: Annotated[str, _kind("evaluation_kinds")]
    independence: Annotated[str, _kind("evaluation_independence")] = "internal"
    evaluator: OptShort = None
    conducted_on: date
    questions: OptLong = None
    findings: OptLong = None
    rating: Annotated[Annotated[str, _kind("evaluation_ratings")] | None, OptionalText] = None
    notes: OptLong = None


class EvaluationCreate(EvaluationFields, _Create):
    pass


EvaluationUpdate = _update_model(EvaluationFields)


class EvaluationPublic(_Public):
    initiative_id: str | None  # None when withheld
    objective_id: str | None
    title: str
    kind: str
    independence: str
    evaluator: str | None
    conducted_on: date
    questions: str | None
    findings: str | None
    rating: str | None
    notes: str | None


class LessonFields(_In):
    title: Annotated[ShortText, StringConstraints(max_length=500)]
    initiative_id: OptRef = None
    evaluation_id: OptRef = None
    observation: LongText
    recommendation: OptLong = None
    status: Annotated[str, _status("lesson")] = "identified"
    identified_on: date = Field(default_factory=date.today)
    owner: OptShort = None
    engagements: list[Ref] = Field(default_factory=list, max_length=500)  # the future engagements it shapes
    notes: OptLong = None

    @field_validator("engagements")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return _distinct(value)


class LessonCreate(LessonFields, _Create):
    pass


LessonUpdate = _update_model(LessonFields)


class LessonPublic(_Public):
    title: str
    initiative_id: str | None
    evaluation_id: str | None
    observation: str
    recommendation: str | None
    status: str
    identified_on: date
    owner: str | None
    engagements: list[str]
    notes: str | None


# ---------------------------------------------------------------- partner calendars
class CalendarEntryFields(_In):
    country: Country
    title: ShortText
    kind: Annotated[str, _kind("calendar_kinds")]
    start_date: date
    end_date: date | None = None
    notes: OptLong = None

    @model_validator(mode="after")
    def _check(self) -> CalendarEntryFields:
        _in_order(self, ("start_date", "end_date"))
        return self


class CalendarEntryCreate(CalendarEntryFields, _Create):
    pass


CalendarEntryUpdate = _update_model(CalendarEntryFields)


class CalendarEntryPublic(_Public):
    country: str
    title: str
    kind: str
    start_date: date
    end_date: date | None
    notes: str | None
