"""REST routes for vetting: screen a subject against the sanctions lists in the context
lake, every candidate with the features that matched.

The lists are open data, so answers are marked ``UNCLASSIFIED//TLP:CLEAR``; the subject a
caller screens is not stored (a vetting decision, which is a marked record, will be)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from detente.api.deps import Unit, unit
from detente.api.errors import responses
from detente.relations.service import open_lake
from detente.vetting.match import MAX_NAME, Subject
from detente.vetting.report import ScreenResult, result
from detente.vetting.screen import Screener

__all__ = ["router"]

router = APIRouter(prefix="/vetting", tags=["vetting"])
Work = Annotated[Unit, Depends(unit)]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
Short = Annotated[str, Field(min_length=1, max_length=100)]


class ScreenRequest(BaseModel):
    name: Name = Field(description="The name to screen, in any script.")
    schema_: str = Field(
        "Person",
        alias="schema",
        description="Person, Organization, Company, LegalEntity, Vessel or Aircraft.",
    )
    aliases: list[Name] = Field(default_factory=list, max_length=50)
    dob: str | None = Field(None, max_length=10, description="Date of birth: YYYY, YYYY-MM or YYYY-MM-DD.")
    countries: list[Short] = Field(default_factory=list, max_length=20, description="Names or ISO codes.")
    identifiers: list[Short] = Field(default_factory=list, max_length=20)
    limit: int = Field(10, ge=1, le=100)


@router.post(
    "/screen",
    response_model=ScreenResult,
    response_model_by_alias=True,
    summary="Screen a person, organisation, unit or vessel against the loaded sanctions lists",
    responses=responses(401, 422),
    operation_id="vetting_screen",
)
def screen(work: Work, body: ScreenRequest) -> ScreenResult:
    with work.sharing():  # signed in, and nothing else: the lists are open data
        pass
    subject = Subject(
        body.name, body.schema_, tuple(body.aliases), body.dob, tuple(body.countries), tuple(body.identifiers)
    )  # fmt: skip
    with open_lake(work.workspace.path) as lake:
        screener = Screener.cached(lake)
    return result(screener, screener.screen(subject, limit=body.limit))


class FindingOut(BaseModel):
    engagement_id: str
    engagement: str
    actor_id: str
    actor: str
    problem: str = Field(description="missing, expired, refused, suspended or pending")
    decision_id: str | None
    detail: str


class Override(BaseModel):
    reason: str = Field(min_length=10, max_length=2000, description="Why the engagement goes ahead.")


@router.get(
    "/guard",
    response_model=list[FindingOut],
    summary="Engagements being planned whose actors' vetting is missing, expired, refused or pending",
    responses=responses(401, 404, 422),
    operation_id="vetting_guard",
)
def guard(work: Work, engagement: str | None = None) -> list[FindingOut]:
    from detente.vetting.guard import check

    with work.registry() as reg:
        return [FindingOut(**f.__dict__) for f in check(reg, engagement)]


@router.post(
    "/guard/{engagement_id}/override",
    response_model=list[FindingOut],
    status_code=201,
    summary="Go ahead despite the findings: the reason and the findings go to the audit trail",
    responses=responses(401, 404, 422),
    operation_id="vetting_override",
)
def override(work: Work, engagement_id: str, body: Override) -> list[FindingOut]:
    from detente.vetting.guard import override as record

    with work.registry(write=True) as reg:
        return [FindingOut(**f.__dict__) for f in record(reg, engagement_id, body.reason)]
