"""REST routes for the sharing slice: tokens, who am I, organisations, users, coalitions.

Rules (who may add users, grant clearances, set coalitions) live in the sharing
service; these routes only parse and render.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from pydantic import AfterValidator

from detente.api.deps import Unit, unit, workspace
from detente.api.errors import Unauthenticated, responses
from detente.core.workspace import Workspace
from detente.registry.fields import clean_line
from detente.sharing.models import (
    CoalitionPublic,
    CoalitionSet,
    Me,
    OrganisationCreate,
    OrganisationPublic,
    TokenIssued,
    TokenRequest,
    UserCreate,
    UserPublic,
)
from detente.sharing.service import Sharing

__all__ = ["router"]

router = APIRouter(tags=["sharing"])
Work = Annotated[Unit, Depends(unit)]


@router.post(
    "/auth/token",
    response_model=TokenIssued,
    status_code=201,
    summary="Exchange a username and password for an API token",
    responses=responses(401, 422),
    operation_id="issue_token",
)
def issue_token(body: TokenRequest, ws: Annotated[Workspace, Depends(workspace)]) -> TokenIssued:
    # the failure bookkeeping (count, lock, audit) must commit even when the login fails
    with ws.session(write=True) as session:
        sharing = Sharing(session)
        outcome = sharing.attempt_login(body.username, body.password)
        if not isinstance(outcome, Exception):
            secret, token = sharing.issue_token(outcome, name=body.name, days=body.days)
    if isinstance(outcome, Exception):
        raise Unauthenticated(outcome.message)
    return TokenIssued(id=token.id, token=secret, expires_at=token.expires_at)


@router.delete(
    "/auth/tokens/{token_id}",
    status_code=204,
    summary="Revoke a token (yours, or as administrator one of your organisation's)",
    responses=responses(401, 404),
    operation_id="revoke_token",
)
def revoke_token(
    token_id: Annotated[str, Path(max_length=64), AfterValidator(clean_line)], work: Work
) -> Response:
    with work.sharing() as (sharing, me):
        sharing.revoke_token(token_id, actor=me)
    return Response(status_code=204)


@router.get("/me", response_model=Me, summary="Who you are", responses=responses(401), operation_id="me")
def who_am_i(work: Work) -> Me:
    with work.sharing() as (sharing, me):
        org = sharing.org(me.org)
        user = sharing.user(me.user)
        return Me(
            username=me.user,
            organisation_id=org.id,
            organisation=org.name,
            country=org.country,
            coalitions=sorted(me.coalitions),
            role=me.role,
            clearances=dict(user.clearances),
        )


@router.get(
    "/organisations",
    response_model=list[OrganisationPublic],
    summary="List organisations",
    responses=responses(401),
    operation_id="list_organisations",
)
def list_organisations(work: Work) -> list[OrganisationPublic]:
    with work.sharing() as (sharing, _me):
        return [OrganisationPublic.model_validate(o) for o in sharing.orgs()]


@router.post(
    "/organisations",
    response_model=OrganisationPublic,
    status_code=201,
    summary="Add an organisation (administrators)",
    responses=responses(401, 403, 409, 422),
    operation_id="create_organisation",
)
def create_organisation(body: OrganisationCreate, work: Work) -> OrganisationPublic:
    with work.sharing() as (sharing, me):
        return OrganisationPublic.model_validate(sharing.add_org(body.name, body.country, actor=me))


@router.get(
    "/users",
    response_model=list[UserPublic],
    summary="List the users of your organisation",
    responses=responses(401),
    operation_id="list_users",
)
def list_users(work: Work) -> list[UserPublic]:
    with work.sharing() as (sharing, me):
        return [UserPublic.model_validate(u) for u in sharing.users(me.org)]


@router.post(
    "/users",
    response_model=UserPublic,
    status_code=201,
    summary="Add a user (administrators, to their own organisation or a new one's first administrator)",
    responses=responses(401, 403, 404, 409, 422),
    operation_id="create_user",
)
def create_user(body: UserCreate, work: Work) -> UserPublic:
    with work.sharing() as (sharing, me):
        user = sharing.add_user(
            body.username,
            body.organisation,
            role=body.role,
            clearances=body.clearances,
            password=body.password,
            actor=me,
            display_name=body.display_name,
        )
        return UserPublic.model_validate(user)


@router.get(
    "/coalitions",
    response_model=list[CoalitionPublic],
    summary="List coalitions and their members",
    responses=responses(401),
    operation_id="list_coalitions",
)
def list_coalitions(work: Work) -> list[CoalitionPublic]:
    with work.sharing() as (sharing, _me):
        return [CoalitionPublic(name=n, members=sorted(m)) for n, m in sorted(sharing.coalitions().items())]


@router.put(
    "/coalitions/{name}",
    response_model=CoalitionPublic,
    summary="Create or replace a coalition (administrators)",
    responses=responses(401, 403, 422),
    operation_id="set_coalition",
)
def set_coalition(
    name: Annotated[str, Path(min_length=2, max_length=32), AfterValidator(clean_line)],
    body: CoalitionSet,
    work: Work,
) -> CoalitionPublic:
    with work.sharing() as (sharing, me):
        sharing.set_coalition(name, body.label or name, body.members, actor=me)
        key = name.strip().upper()
        return CoalitionPublic(name=key, members=sorted(sharing.coalitions()[key]))
