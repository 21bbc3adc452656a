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
from detente.sharing import coalitions
from detente.sharing.models import (
    CoalitionChangePublic,
    CoalitionPublic,
    CoalitionSet,
    Me,
    Membership,
    OrganisationCreate,
    OrganisationPublic,
    TokenIssued,
    TokenRequest,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from detente.sharing.service import Sharing
from detente.store.fields import clean_line

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
    summary="Add an organisation (the workspace's operator)",
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
    summary="Add a user (administrators: to their own organisation; the operator: an organisation's first)",
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


@router.patch(
    "/users/{username}",
    response_model=UserPublic,
    summary="Change a user of your organisation (administrators; no clearance above your own)",
    responses=responses(401, 403, 404, 422),
    operation_id="update_user",
)
def update_user(
    username: Annotated[str, Path(min_length=1, max_length=100), AfterValidator(clean_line)],
    body: UserUpdate,
    work: Work,
) -> UserPublic:
    with work.sharing() as (sharing, me):
        user = sharing.update_user(username, actor=me, **body.model_dump(exclude_unset=True))
        return UserPublic.model_validate(user)


def _coalitions(sharing: Sharing, only: str | None = None) -> list[CoalitionPublic]:
    today = sharing.coalitions()
    return [
        CoalitionPublic(
            name=name,
            label=label,
            members=sorted(today.get(name, set())),
            membership=[Membership.model_validate(m) for m in rows],
        )
        for name, (label, rows) in coalitions.membership(sharing.session).items()
        if only is None or name == only
    ]


@router.get(
    "/coalitions",
    response_model=list[CoalitionPublic],
    summary="List coalitions: their members today and every dated membership",
    responses=responses(401),
    operation_id="list_coalitions",
)
def list_coalitions(work: Work) -> list[CoalitionPublic]:
    with work.sharing() as (sharing, _me):
        return _coalitions(sharing)


@router.get(
    "/coalitions/changes",
    response_model=list[CoalitionChangePublic],
    summary="Changes of coalition membership, newest first (administrators)",
    responses=responses(401, 403),
    operation_id="list_coalition_changes",
)
def list_coalition_changes(work: Work) -> list[CoalitionChangePublic]:
    with work.sharing() as (sharing, me):
        return [
            CoalitionChangePublic.model_validate(c).model_copy(update={"affects_you": affects})
            for c, affects in sharing.coalition_changes(actor=me)
        ]


@router.put(
    "/coalitions/{name}",
    response_model=CoalitionPublic,
    summary="Set a coalition's members from a date (the workspace's operator; every change audited)",
    responses=responses(401, 403, 422),
    operation_id="set_coalition",
)
def set_coalition(
    name: Annotated[str, Path(min_length=2, max_length=32), AfterValidator(clean_line)],
    body: CoalitionSet,
    work: Work,
) -> CoalitionPublic:
    with work.sharing() as (sharing, me):
        sharing.set_coalition(name, body.label, body.members, actor=me, effective_on=body.effective_on)
        return _coalitions(sharing, name.strip().upper())[0]
