"""REST routes for secure channels: published keys, conversations, sealed messages, hotlines
and their checks, the crisis log's timeline, and the live stream (server-sent events).

Every body a client sends is ciphertext plus metadata: the routes pass it to the channels
service, which checks signatures, keys, markings, sizes and replays before it stores
anything. The router's lifespan runs the escalation loop beside the application.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from detente.api.deps import Unit, unit
from detente.api.errors import responses
from detente.channels import crisis, hotlines, keys, messages
from detente.channels.live import Bus, ChannelSettings, Escalator, Notifier, utc_now
from detente.store.access import system_access

__all__ = ["router"]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the escalation loop (with the clock a test may have put in ``app.state``)."""
    bus = bus_of(app)
    settings = ChannelSettings()
    escalator = Escalator(
        app.state.workspace,
        bus,
        clock=getattr(app.state, "channels_clock", None) or utc_now,
        notifier=Notifier(settings),
        tick=getattr(app.state, "channels_tick", None) or settings.tick_seconds,
    )
    app.state.channels_escalator = escalator
    task = asyncio.create_task(escalator.run())
    try:
        yield
    finally:
        task.cancel()


router = APIRouter(prefix="/channels", tags=["channels"], lifespan=lifespan)
Work = Annotated[Unit, Depends(unit)]
Text = Annotated[str, Field(min_length=1, max_length=300)]


def bus_of(app: Any) -> Bus:
    bus = getattr(app.state, "channels_bus", None)
    if bus is None:
        bus = app.state.channels_bus = Bus()
    return bus


class LockedKey(BaseModel):
    kdf: str = Field(max_length=20)
    opslimit: int
    memlimit: int
    salt: str = Field(max_length=100)
    nonce: str = Field(max_length=100)
    ciphertext: str = Field(max_length=200)


class KeyPublish(BaseModel):
    box_public: str = Field(max_length=100, description="X25519 public key, base64")
    sign_public: str = Field(max_length=100, description="Ed25519 public key, base64")
    self_signature: str = Field(max_length=200, description="Ed25519 signature binding both keys to you")
    locked: LockedKey = Field(
        description="The private keys sealed under an Argon2id key from your passphrase"
    )


class KeyOut(BaseModel):
    id: str
    username: str
    box_public: str
    sign_public: str
    fingerprint: str
    created_at: str
    revoked_at: str | None
    revoked_reason: str | None


def _key(view: keys.KeyView) -> KeyOut:
    return KeyOut(
        **{
            **view.__dict__,
            "created_at": view.created_at.isoformat(),
            "revoked_at": view.revoked_at.isoformat() if view.revoked_at else None,
        }
    )


@router.get(
    "/keys/me",
    responses=responses(401),
    summary="Your keys, with their locked private halves",
    operation_id="channels_my_keys",
)
def my_keys(work: Work) -> list[dict[str, Any]]:
    with work.registry() as reg:
        return [
            {
                **k,
                "created_at": k["created_at"].isoformat(),
                "revoked_at": k["revoked_at"] and k["revoked_at"].isoformat(),
            }
            for k in keys.my_keys(reg)
        ]


@router.get(
    "/keys/{username}",
    response_model=list[KeyOut],
    summary="A user's published keys, newest first",
    responses=responses(401),
    operation_id="channels_keys",
)
def user_keys(work: Work, username: str) -> list[KeyOut]:
    with work.registry() as reg:
        return [_key(keys.KeyView.of(k)) for k in keys.keys_of(reg.session, username.strip().lower())]


@router.get(
    "/key-ids/{key_id}",
    response_model=KeyOut,
    summary="One published key by id",
    responses=responses(401, 404),
    operation_id="channels_key",
)
def key_by_id(work: Work, key_id: str) -> KeyOut:
    with work.registry() as reg:
        return _key(keys.KeyView.of(keys.key_by_id(reg.session, key_id)))


@router.post(
    "/keys",
    response_model=KeyOut,
    status_code=201,
    responses=responses(401, 409, 422),
    summary="Publish your keys (rotate=true replaces the key in force)",
    operation_id="channels_publish",
)
def publish(work: Work, body: KeyPublish, rotate: bool = False) -> KeyOut:
    with work.registry(write=True) as reg:
        return _key(keys.KeyView.of(keys.publish(reg, body.model_dump(), rotate=rotate)))


class Revoke(BaseModel):
    reason: str = Field("revoked", max_length=200)


@router.post(
    "/keys/revoke",
    response_model=KeyOut,
    responses=responses(401, 404),
    summary="Revoke your key in force",
    operation_id="channels_revoke",
)
def revoke(work: Work, body: Revoke) -> KeyOut:
    with work.registry(write=True) as reg:
        return _key(keys.KeyView.of(keys.revoke(reg, body.reason)))


class ConversationCreate(BaseModel):
    title: Text
    users: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=200)
    orgs: list[Annotated[str, Field(max_length=300)]] = Field(default_factory=list, max_length=50)
    marking: str = Field(max_length=500, description="The conversation's default marking")


def _conversation(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "kind": row.kind,
        "marking": row.marking,
        "created_at": row.created_at.isoformat(),
        "created_by": row.created_by,
    }


@router.get(
    "/conversations",
    responses=responses(401),
    summary="Your conversations",
    operation_id="channels_conversations",
)
def conversation_list(work: Work) -> list[dict[str, Any]]:
    with work.registry() as reg:
        return [_conversation(c) for c in messages.conversations(reg)]


@router.post(
    "/conversations",
    status_code=201,
    responses=responses(401, 403, 404, 422),
    summary="Start a conversation with users and organisations",
    operation_id="channels_start",
)
def conversation_create(work: Work, body: ConversationCreate) -> dict[str, Any]:
    with work.registry(write=True) as reg:
        row = messages.create_conversation(
            reg, body.title, users=body.users, orgs=body.orgs, marking=body.marking
        )
        return _conversation(row)


@router.get(
    "/conversations/{conversation_id}/recipients",
    responses=responses(401, 404, 422),
    summary="Who a message under a marking reaches: keys, and whether each may read it",
    operation_id="channels_recipients",
)
def recipient_list(
    work: Work, conversation_id: str, marking: Annotated[str, Query(max_length=500)]
) -> dict[str, Any]:
    with work.registry() as reg:
        conv = messages.conversation(reg, conversation_id)
        found = messages.recipients(reg, conversation_id, marking)
        line = hotlines.line_of(reg.session, conv.id)
        return {
            "conversation": _conversation(conv),
            "hotline": line.id if line else None,
            "recipients": [r.__dict__ for r in found],
        }


@router.get(
    "/conversations/{conversation_id}/messages",
    responses=responses(401, 404),
    summary="Messages: metadata and your sealed copy (fetching it is its delivery)",
    operation_id="channels_messages",
)
def message_list(work: Work, conversation_id: str) -> list[dict[str, Any]]:
    with work.registry(write=True) as reg:
        listed = messages.message_list(reg, conversation_id)
        alerts = hotlines.alerts_of(reg, conversation_id)
        for item in listed:
            alert = alerts.get(item["id"])
            item["alert"] = alert and {
                "status": alert.status,
                "step": alert.step,
                "steps": alert.steps,
                "deadline_at": alert.deadline_at.isoformat(),
            }
        return listed


class CopyIn(BaseModel):
    recipient: str = Field(max_length=100)
    recipient_key: str = Field(max_length=100)
    nonce: str = Field(max_length=100)
    ciphertext: str
    signature: str = Field(max_length=200)


class AttachmentIn(BaseModel):
    nonce: str = Field(max_length=100)
    ciphertext: str


class MessageIn(BaseModel):
    id: str = Field(max_length=36, description="A fresh UUID made by the client")
    conversation_id: str = Field(max_length=36)
    sender: str = Field(max_length=100)
    sender_key: str = Field(max_length=100, description="Fingerprint of the signing key")
    marking: str = Field(max_length=500)
    urgent: bool = False
    kind: str = Field("message", max_length=20)
    attachment_sha256: str | None = Field(None, max_length=64)
    attachment: AttachmentIn | None = None
    copies: list[CopyIn] = Field(max_length=messages.MAX_RECIPIENTS)


def publish_events(request: Request, session: Any) -> None:
    bus_of(request.app).publish(messages.events_of(session))


@router.post(
    "/messages",
    status_code=201,
    responses=responses(401, 403, 404, 409, 413, 422),
    summary="Send a message sealed by your client",
    operation_id="channels_send",
)
def send(work: Work, request: Request, body: MessageIn) -> dict[str, Any]:
    with work.registry(write=True) as reg:
        row = hotlines.send_on_hotline(reg, body.model_dump(exclude_none=True))
        out = messages.message_payload(row, None)
        session = reg.session
    publish_events(request, session)
    return out


@router.get(
    "/messages/{message_id}/attachment",
    responses=responses(401, 404),
    summary="A message's encrypted attachment",
    operation_id="channels_attachment",
)
def attachment(work: Work, message_id: str) -> dict[str, Any]:
    with work.registry() as reg:
        message, _copy = messages.my_copy(reg, message_id)
        return {
            "nonce": message.attachment_nonce,
            "ciphertext": message.attachment,
            "size": message.attachment_size,
        }


@router.post(
    "/messages/{message_id}/read",
    responses=responses(401, 404),
    summary="Say you have read it",
    operation_id="channels_read",
)
def read(work: Work, message_id: str) -> dict[str, Any]:
    with work.registry(write=True) as reg:
        copy = messages.mark_read(reg, message_id)
        return {"id": message_id, "read_at": copy.read_at and copy.read_at.isoformat()}


@router.post(
    "/messages/{message_id}/ack",
    responses=responses(401, 404),
    summary="Acknowledge an urgent message or a check",
    operation_id="channels_ack",
)
def acknowledge(work: Work, request: Request, message_id: str) -> dict[str, Any]:
    with work.registry(write=True) as reg:
        alert = hotlines.ack(reg, message_id)
        out = {"id": message_id, "status": alert.status if alert else "acknowledged"}
        session = reg.session
    publish_events(request, session)
    return out


class HotlineCreate(BaseModel):
    name: Text
    other_org: str = Field(
        max_length=300, description="The other side: organisation id, name or country code"
    )
    mine: list[Annotated[str, Field(max_length=100)]] = Field(
        max_length=50, description="Your duty roster, in order"
    )
    theirs: list[Annotated[str, Field(max_length=100)]] = Field(
        max_length=50, description="Their duty roster"
    )
    marking: str = Field(max_length=500)
    ack_seconds: int = Field(300, ge=1, le=86400)
    check_every_minutes: int | None = Field(None, ge=1)
    owner: str | None = Field(None, max_length=100)


def _hotline(reg: Any, line: Any) -> dict[str, Any]:
    return {
        "id": line.id,
        "name": line.name,
        "conversation_id": line.conversation_id,
        "owner": line.owner,
        "ack_seconds": line.ack_seconds,
        "check_every_minutes": line.check_every_minutes,
        "marking": line.marking,
        "rosters": {
            org: hotlines.roster(reg.session, line.id, org) for org in (line.org_a_id, line.org_b_id)
        },
    }


@router.get(
    "/hotlines",
    responses=responses(401),
    summary="Your organisation's hotlines",
    operation_id="channels_hotlines",
)
def hotline_list(work: Work) -> list[dict[str, Any]]:
    with work.registry() as reg:
        return [_hotline(reg, h) for h in hotlines.hotlines(reg)]


@router.post(
    "/hotlines",
    status_code=201,
    responses=responses(401, 403, 404, 422),
    summary="Open a hotline to another organisation",
    operation_id="channels_open_hotline",
)
def hotline_create(work: Work, body: HotlineCreate) -> dict[str, Any]:
    with work.registry(write=True) as reg:
        return _hotline(reg, hotlines.create_hotline(reg, **body.model_dump()))


@router.get(
    "/hotlines/{hotline_id}/checks",
    responses=responses(401, 404),
    summary="Communications checks: time to acknowledge per side",
    operation_id="channels_checks",
)
def checks(work: Work, hotline_id: str) -> dict[str, Any]:
    with work.registry() as reg:
        return hotlines.check_report(reg, hotline_id)


@router.post(
    "/hotlines/{hotline_id}/checks",
    status_code=201,
    responses=responses(401, 403, 404),
    summary="Send a communications check to both sides now",
    operation_id="channels_check_now",
)
def check_now(work: Work, request: Request, hotline_id: str) -> dict[str, Any]:
    with work.registry(write=True) as reg:
        reg.require("admin", "send a communications check")
        hotlines.hotline(reg, hotline_id)
        system_access(reg.session)
        sent = hotlines.run_checks(reg.session, messages.now(), only=hotline_id)
        session = reg.session
    publish_events(request, session)
    return {"sent": [m.id for m in sent]}


class EntryIn(BaseModel):
    kind: str = Field(max_length=20, description="message, report, engagement or decision")
    ref_id: str | None = Field(None, max_length=36)
    note: str | None = Field(None, max_length=5000)


@router.get(
    "/incidents/{incident_id}/timeline",
    responses=responses(401, 404),
    summary="An incident's timeline",
    operation_id="channels_timeline",
)
def timeline(work: Work, incident_id: str) -> dict[str, Any]:
    with work.registry() as reg:
        return crisis.timeline(reg, incident_id).as_dict()


@router.post(
    "/incidents/{incident_id}/entries",
    status_code=201,
    responses=responses(401, 403, 404, 422),
    summary="Link a message, report or engagement to an incident, or log a decision",
    operation_id="channels_link",
)
def link(work: Work, incident_id: str, body: EntryIn) -> dict[str, Any]:
    with work.registry(write=True) as reg:
        entry = crisis.add_entry(reg, incident_id, body.kind, ref_id=body.ref_id, note=body.note)
        return {"id": entry.id, "at": entry.at.isoformat(), "kind": entry.kind}


@router.get(
    "/incidents/{incident_id}/pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The PDF"}, **responses(401, 404)},
    summary="The incident's timeline as PDF, for the after-action review",
    operation_id="channels_pdf",
)
def pdf(work: Work, incident_id: str) -> Response:
    with work.registry() as reg:
        line = crisis.timeline(reg, incident_id)
    return Response(
        crisis.pdf(line),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="incident-{incident_id}.pdf"'},
    )


@router.get(
    "/events",
    summary="Your live stream (server-sent events): messages, escalations, checks",
    response_class=StreamingResponse,
    operation_id="channels_events",
    include_in_schema=False,  # a stream that never ends: documented in docs/capabilities/channels.md
)
async def events(work: Work, request: Request) -> StreamingResponse:
    with work.registry() as reg:
        username = reg.author
    bus = bus_of(request.app)

    async def stream() -> AsyncIterator[bytes]:
        yield b": connected\n\n"
        async for name, payload in _with_keepalive(bus.listen(username)):
            if name == "":
                yield b": keepalive\n\n"
                continue
            copy = payload.get("copy")
            if copy:
                bus.record_delivery(copy["id"], username)
            yield f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


async def _with_keepalive(
    source: AsyncIterator[tuple[str, dict[str, Any]]], every: float = 15.0
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The source's events, and an empty one when it is quiet for ``every`` seconds."""
    pending = asyncio.ensure_future(anext(source))
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=every)
            if not done:
                yield "", {}
                continue
            yield pending.result()
            pending = asyncio.ensure_future(anext(source))
    finally:
        pending.cancel()
