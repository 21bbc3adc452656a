"""REST routes for federation over TAXII 2.1: your organisation's peers with their last
pull and push, and a pull or push now (``detente.exchange.sync``; the TAXII server itself
is at ``/taxii2/``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from detente.api.deps import Unit, unit
from detente.api.errors import responses

__all__ = ["router"]

router = APIRouter(prefix="/exchange", tags=["exchange"])
Work = Annotated[Unit, Depends(unit)]
PeerName = Annotated[str, Path(min_length=1, max_length=100)]


class PeerOut(BaseModel):
    name: str = Field(description="The peer's short name")
    url: str = Field(description="Its TAXII 2.1 API root")
    partner_user: str | None = Field(description="The peer's account here: what may be pushed to it")
    last_pull_at: datetime | None
    last_push_at: datetime | None
    last_result: str | None = Field(description="What the last pull or push did")
    received: int = Field(description="Objects held that came from this peer (their provenance)")


class SyncOut(BaseModel):
    peer: str
    direction: str = Field(description="pull or push")
    summary: str
    stored: int = Field(description="Objects stored (new or newer versions) by a pull")
    sent: int = Field(description="Objects sent by a push")


@router.get("/peers", response_model=list[PeerOut], summary="Your organisation's peers and their last sync",
            responses=responses(401), operation_id="list_peers")  # fmt: skip
def list_peers(work: Work) -> list[PeerOut]:
    from detente.exchange import sync

    with work.registry() as store:
        held = sync.received_by_origin(store.session, store.principal)
        return [
            PeerOut(
                name=p.name,
                url=p.url,
                partner_user=p.partner_user,
                last_pull_at=p.last_pull_at,
                last_push_at=p.last_push_at,
                last_result=p.last_result,
                received=held.get(p.name, 0),
            )
            for p in sync.peers(store.session, store.principal)
        ]


@router.post("/peers/{name}/pull", response_model=SyncOut, summary="Pull from a peer now",
             responses=responses(401, 403, 404, 413, 422), operation_id="pull_peer")  # fmt: skip
def pull(work: Work, name: PeerName) -> SyncOut:
    from detente.exchange import sync

    with work.registry() as store:
        result = sync.pull(store.session, store.principal, name)
        stored = result.received.stored
        return SyncOut(peer=name, direction="pull", summary=result.summary(), stored=stored, sent=0)


@router.post("/peers/{name}/push", response_model=SyncOut, summary="Push to a peer now",
             responses=responses(401, 403, 404, 422), operation_id="push_peer")  # fmt: skip
def push(work: Work, name: PeerName) -> SyncOut:
    from detente.exchange import sync

    with work.registry() as store:
        result = sync.push(store.session, store.principal, name)
        return SyncOut(peer=name, direction="push", summary=result.summary(), stored=0, sent=result.sent)
