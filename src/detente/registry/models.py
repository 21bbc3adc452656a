"""The registry's record fields: actors, people (attachés), agreements, engagements and
commitments, each field described once (its description is the CLI's help, the API's
documentation and the web form's hint).

Rules that need only the record itself (dates in order, kinds known, a state has its
country) are checked here; rules that need the store (references exist, legal status
moves, an actor's parent chain) in the store and in ``records.py``. The Create,
Update and Public models are built from these by ``detente.store.models``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, field_validator, model_validator

from detente.registry.rules import overdue
from detente.registry.taxonomy import kind_of, status_of
from detente.store.fields import (
    Count,
    Country,
    Currency,
    LongText,
    Money,
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
from detente.store.models import RecordFields, RecordPublic

__all__ = [
    "FORCE_FIELDS",
    "ActorFields",
    "AgreementFields",
    "CommitmentFields",
    "CommitmentPublicBase",
    "EngagementFields",
    "PersonFields",
]

NOTES = "Free-text notes"


def _no_semicolon(value: str) -> str:
    if ";" in value:
        raise ValueError("may not contain ';' (it separates list items in CSV and Excel files)")
    return value


Alias = Annotated[ShortText, AfterValidator(_no_semicolon)]
Abbreviation = Annotated[Annotated[str, StringConstraints(max_length=60)] | None, OptionalText]


class ActorFields(RecordFields):
    """A state, ministry, armed service or unit, international organisation or non-state actor."""

    name: ShortText = Field(description="Name, e.g. 'Ministry of Defence of Ghana'")
    kind: Annotated[str, kind_of("actor_kinds")] = Field(description="Kind of actor")
    country: OptCountry = Field(None, description="Country (a name in any common language, ISO or COW code)")
    abbreviation: Abbreviation = Field(None, description="Short name, e.g. 'MoD', 'ADMM-Plus'")
    parent_id: OptRef = Field(
        None, description="Parent actor: the state of a ministry, the service of a unit"
    )
    aliases: list[Alias] = Field(
        default_factory=list, max_length=100, description="Other names it is known by"
    )
    notes: OptLong = Field(None, description=NOTES)

    @field_validator("aliases")
    @classmethod
    def _unique_aliases(cls, value: list[str]) -> list[str]:
        return distinct(value)

    @model_validator(mode="after")
    def _state_has_country(self) -> ActorFields:
        if self.kind == "state" and not self.country:
            raise ValueError("a state actor needs its country (ISO code or name)")
        return self


class PersonFields(RecordFields):
    """An attaché or liaison officer: their post, accreditation and immunity."""

    name: ShortText = Field(description="Full name")
    rank: OptShort = Field(None, description="Rank, e.g. 'Colonel'")
    role: Annotated[str, kind_of("person_roles")] = Field("defense_attache", description="Role")
    sending_state: Country = Field(description="Sending state (the officer's country)")
    receiving_state: Country = Field(description="Receiving (host) state")
    post: OptShort = Field(None, description="Post, e.g. 'Embassy in Nairobi'")
    organisation_id: OptRef = Field(None, description="Actor they serve in")
    accreditation_status: Annotated[str, status_of("accreditation")] = Field(
        "proposed", description="Accreditation status"
    )
    immunity_basis: Annotated[str, kind_of("immunity_bases")] = Field(
        "diplomatic_agent", description="Immunity basis (Vienna Convention on Diplomatic Relations)"
    )
    start_date: date | None = Field(None, description="Date accredited or arrived")
    end_date: date | None = Field(None, description="Date departed")
    notes: OptLong = Field(None, description=NOTES)

    @model_validator(mode="after")
    def _check(self) -> PersonFields:
        if self.sending_state == self.receiving_state:
            raise ValueError("sending and receiving state must differ")
        in_order(self, ("start_date", "end_date"))
        return self


_AGREEMENT_DATES = (
    ("signed_on", "expires_on"),
    ("in_force_on", "expires_on"),
    ("signed_on", "terminated_on"),
)


class AgreementFields(RecordFields):
    """A defense cooperation agreement, SOFA, MOU, treaty or mandate, between two or more parties."""

    title: Title = Field(description="Title of the agreement")
    kind: Annotated[str, kind_of("agreement_kinds")] = Field(description="Kind of agreement")
    parties: list[Ref] = Field(min_length=2, max_length=500, description="Its parties (at least two actors)")
    signed_on: date | None = Field(None, description="Date signed")
    in_force_on: date | None = Field(None, description="Date it entered into force")
    expires_on: date | None = Field(None, description="Date it expires")
    terminated_on: date | None = Field(None, description="Date it was terminated")
    activity_types: list[Annotated[str, kind_of("engagement_kinds")]] = Field(
        default_factory=list, description="Kinds of engagement it covers"
    )
    notes: OptLong = Field(None, description=NOTES)

    @field_validator("parties", "activity_types")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return distinct(value)

    @model_validator(mode="after")
    def _check(self) -> AgreementFields:
        if len(self.parties) < 2:
            raise ValueError("an agreement needs at least two distinct parties")
        in_order(self, *_AGREEMENT_DATES)
        return self


FORCE_FIELDS = (
    "troops",
    "tanks",
    "armoured_combat_vehicles",
    "artillery",
    "aircraft_sorties",
    "amphibious_airborne_troops",
)


class EngagementFields(RecordFields):
    """An exercise, visit, dialogue, training event, port call or other engagement with partners."""

    title: Title = Field(description="Title, e.g. 'Exercise Blue Horizon 2025'")
    kind: Annotated[str, kind_of("engagement_kinds")] = Field(description="Kind of engagement")
    status: Annotated[str, status_of("engagement")] = Field("proposed", description="Lifecycle status")
    lead_actor_id: Ref = Field(description="Leading actor")
    partners: list[Ref] = Field(default_factory=list, max_length=500, description="Partner actors")
    people: list[Ref] = Field(
        default_factory=list, max_length=200, description="People taking part (attachés, leaders)"
    )
    agreement_id: OptRef = Field(None, description="Agreement it is conducted under")
    start_date: date = Field(description="Start date")
    end_date: date | None = Field(None, description="End date")
    location_country: OptCountry = Field(None, description="Country where it takes place")
    location_place: OptShort = Field(None, description="Place, e.g. 'Port of Mombasa'")
    troops: Count | None = Field(None, description="Number of troops taking part")
    tanks: Count | None = Field(None, description="Battle tanks")
    armoured_combat_vehicles: Count | None = Field(None, description="Armoured combat vehicles")
    artillery: Count | None = Field(None, description="Artillery pieces (100 mm and above)")
    aircraft_sorties: Count | None = Field(None, description="Aircraft sorties (excluding helicopters)")
    amphibious_airborne_troops: Count | None = Field(
        None, description="Troops in an amphibious landing or parachute assault"
    )
    host_consent_on: date | None = Field(None, description="Date the host nation's consent was recorded")
    host_consent_reference: OptShort = Field(None, description="Its reference, e.g. a note verbale's number")
    vd_notified_on: date | None = Field(None, description="Date the Vienna Document notification was sent")
    vd_calendar_on: date | None = Field(
        None, description="Date it was listed in the annual calendar exchanged under the Vienna Document"
    )
    cost: Money | None = Field(None, description="Cost, e.g. 125000.00")
    currency: Currency = Field(None, description="ISO 4217 currency of the cost, e.g. EUR")
    objectives: OptLong = Field(None, description="What the engagement is meant to achieve")
    notes: OptLong = Field(None, description=NOTES)

    @field_validator("partners", "people")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return distinct(value)

    @model_validator(mode="after")
    def _check(self) -> EngagementFields:
        in_order(self, ("start_date", "end_date"))
        if self.lead_actor_id in self.partners:
            raise ValueError("the lead actor cannot also be a partner")
        if self.cost is not None and not self.currency:
            raise ValueError("a cost needs its currency (ISO 4217, e.g. EUR)")
        return self


class CommitmentFields(RecordFields):
    """A promise made in an engagement, tracked to its due date."""

    engagement_id: Ref = Field(description="Engagement where it was made")
    committed_by_id: Ref = Field(description="Actor who made it")
    description: Annotated[LongText, StringConstraints(min_length=1)] = Field(description="What was promised")
    due_on: date | None = Field(None, description="Due date")
    status: Annotated[str, status_of("commitment")] = Field("open", description="Status")
    notes: OptLong = Field(None, description=NOTES)


class CommitmentPublicBase(RecordPublic):
    """A commitment as returned, with whether it is overdue (``rules.overdue``)."""

    @property
    def overdue(self) -> bool:
        return overdue(self.status, self.due_on)  # type: ignore[attr-defined]
