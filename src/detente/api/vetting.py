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
from detente.vetting.match import MAX_NAME, THRESHOLD, Match, Subject
from detente.vetting.screen import Screener

__all__ = ["router"]

router = APIRouter(prefix="/vetting", tags=["vetting"])
Work = Annotated[Unit, Depends(unit)]
OPEN = "UNCLASSIFIED//TLP:CLEAR"
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


class Feature(BaseModel):
    name: str
    score: float = Field(description="The feature's value.")
    weight: float = Field(
        description="How much it moved the score, in log-odds (negative: counter-evidence); for "
        "logic-v2's features, the feature's weight in logic-v2's total."
    )
    detail: str


Strings = list[str]  # spelled once here: Candidate has a field named ``list``
Features = list[Feature]


def _no_features() -> Features:
    return []


class Candidate(BaseModel):
    key: str
    list: str
    name: str
    schema_: str = Field(alias="schema")
    aliases: Strings
    birth_dates: Strings
    countries: Strings
    programs: Strings
    score: float = Field(description="The learned matcher's score (a match at the threshold or more).")
    matched: bool
    features: Features = Field(description="What raised or lowered the score, strongest first.")
    counter_evidence: Features = Field(
        description="The features that lowered the score, strongest first: why a near miss is not a match."
    )
    base_score: float | None = Field(None, description="logic-v2's own score of the same pair.")
    base_features: Features = Field(default_factory=_no_features, description="logic-v2's explanation.")
    subject_name: str | None = Field(None, description="The subject's name that matched best.")
    listed_name: str | None = Field(None, description="The listed name (primary or alias) it matched.")


class ScreenResult(BaseModel):
    marking: str
    threshold: float
    lists: dict[str, str]
    listed: int
    candidates: list[Candidate]


def _candidate(m: Match) -> Candidate:
    listed = m.listed
    shown = sorted(((n, v) for n, v in m.features.items() if n != "base"), key=lambda x: -abs(x[1][1]))
    return Candidate(
        key=listed.key, list=listed.source, name=listed.name, schema=listed.schema,
        aliases=list(listed.aliases), birth_dates=list(listed.birth_dates), countries=list(listed.countries),
        programs=list(listed.programs), score=m.score, matched=m.matched,
        features=[Feature(name=n, score=s, weight=w, detail=d) for n, (s, w, d) in shown],
        counter_evidence=[
            Feature(name=n, score=m.features[n][0], weight=c, detail=d) for n, c, d in m.counter_evidence
        ],
        base_score=m.base_score,
        base_features=[
            Feature(name=n, score=s, weight=w, detail=d) for n, (s, w, d) in m.base_features.items()
        ],
        subject_name=m.names[0] if m.names else None, listed_name=m.names[1] if m.names else None,
    )  # fmt: skip


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
    found = screener.screen(subject, limit=body.limit)
    return ScreenResult(
        marking=OPEN,
        threshold=THRESHOLD,
        lists=screener.versions,
        listed=len(screener.listed),
        candidates=[_candidate(m) for m in found],
    )


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
