"""Typed models of the sharing slice's records, split by direction (secrets never in a
public model: no password hashes, no token hashes)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from detente.registry.fields import clean_line

__all__ = [
    "CoalitionPublic",
    "CoalitionSet",
    "Me",
    "OrganisationCreate",
    "OrganisationPublic",
    "TokenIssued",
    "TokenRequest",
    "UserCreate",
    "UserPublic",
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


class UserPublic(_Out):
    id: str
    username: str
    display_name: str | None
    org_id: str
    role: str
    clearances: dict[str, str]
    active: bool


class CoalitionSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Annotated[Line, Field(max_length=200)] | None = None
    members: list[Annotated[Line, Field(min_length=2, max_length=100)]] = Field(min_length=1, max_length=300)


class CoalitionPublic(BaseModel):
    name: str
    members: list[str]


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
