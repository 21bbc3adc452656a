"""Typed models of the sharing slice's records, split by direction (secrets never in a
public model: no password hashes, no token hashes)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from detente.store.fields import clean_line

__all__ = [
    "CoalitionChangePublic",
    "CoalitionPublic",
    "CoalitionSet",
    "Me",
    "Membership",
    "OrganisationCreate",
    "OrganisationPublic",
    "TokenIssued",
    "TokenRequest",
    "UserCreate",
    "UserPublic",
    "UserUpdate",
]

Line = Annotated[str, AfterValidator(clean_line)]  # one line, no control characters
Name = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Username = Annotated[Line, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    country: Annotated[Line, StringConstraints(min_length=2, max_length=100)]


class OrganisationPublic(_Out):
    id: str
    name: str
    country: str


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Username
    organisation: Annotated[Line, Field(min_length=1, max_length=300, description="Name or id")]
    role: Annotated[Line, Field(min_length=1, max_length=40)] = "viewer"
    clearances: dict[Annotated[Line, Field(max_length=40)], Annotated[Line, Field(max_length=60)]] = Field(
        default_factory=dict, description='Scheme -> level, e.g. {"national": "SECRET"}', max_length=10
    )
    password: Annotated[str, Field(min_length=12, max_length=1000)] | None = None
    display_name: Annotated[Line, Field(max_length=200)] | None = None


class UserUpdate(BaseModel):
    """A change to a user of your own organisation (fields left out stay as they are)."""

    model_config = ConfigDict(extra="forbid")
    role: Annotated[Line, Field(min_length=1, max_length=40)] | None = None
    clearances: dict[Annotated[Line, Field(max_length=40)], Annotated[Line, Field(max_length=60)]] | None = (
        Field(default=None, description="Scheme -> level; none above your own", max_length=10)
    )
    active: bool | None = Field(
        default=None, description="false: the user can no longer sign in or use tokens"
    )
    display_name: Annotated[Line, Field(max_length=200)] | None = None


class UserPublic(_Out):
    id: str
    username: str
    display_name: str | None
    org_id: str
    role: str
    clearances: dict[str, str]
    active: bool


class CoalitionSet(BaseModel):
    """The members a coalition has from ``effective_on``: those not yet members join
    that day, members not named leave it. The operator's alone; every change is audited."""

    model_config = ConfigDict(extra="forbid")
    label: Annotated[Line, Field(max_length=200)] | None = None
    members: list[Annotated[Line, Field(min_length=2, max_length=100)]] = Field(min_length=1, max_length=300)
    effective_on: date | None = Field(
        default=None, description="When the change takes effect (default: today)"
    )


class Membership(_Out):
    country: str
    joined_on: date | None = Field(description="null: a member since before it was recorded")
    left_on: date | None = Field(description="The first day it was no longer a member")


class CoalitionPublic(BaseModel):
    name: str
    label: str = ""
    members: list[str] = Field(description="Members today")
    membership: list[Membership] = Field(default_factory=list, description="Every recorded membership, dated")


class CoalitionChangePublic(_Out):
    at: datetime
    actor: str
    coalition: str
    change: str = Field(description="created, joined, left or relabelled")
    country: str | None
    effective_on: date | None
    note: str | None
    affects_you: bool = Field(
        default=False,
        description="Your country joined or left, or is a member (what you released reaches others)",
    )


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Username
    password: Annotated[str, Field(min_length=1, max_length=1000)]
    name: Annotated[Line, Field(min_length=1, max_length=100)] = "api"
    days: Annotated[int, Field(ge=1, le=365)] = 30


class TokenIssued(BaseModel):
    id: str
    token: str = Field(description="Shown once; detente keeps only its hash")
    expires_at: datetime


class Me(BaseModel):
    username: str
    organisation_id: str
    organisation: str
    country: str
    coalitions: list[str]
    role: str
    clearances: dict[str, str]
