"""Conversations and messages: who may take part, what the server checks before it stores
a message (signatures, keys, markings, sizes, replays), and what it hands back.

The server receives ciphertext only: one copy per recipient, sealed and signed by the
sender's client. It refuses the whole message, storing nothing, when any copy fails a
check: a signature that does not verify under the sender's key in force (a tampered
ciphertext, a forged sender), a recipient key that is not their key in force (revoked
or rotated), a recipient who may not read the marking (``may_read``: the one rule,
which ``visible`` applies inside SQL), a nonce seen before (a replay), or a size over
the limits. Listings go through ``visible`` like every record.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from detente.channels.crypto import NONCE_BYTES, unb64, verify_copy
from detente.channels.keys import current_key, current_keys
from detente.channels.tables import Conversation, Copy, Member, Message
from detente.core import audit
from detente.core.db import new_id
from detente.core.errors import AuthError, ConflictError, NotFoundError, TooLargeError, ValidationError
from detente.core.markings import check_marking_change, may_read, normalise, parse
from detente.sharing.service import Sharing
from detente.sharing.tables import Organisation, User
from detente.store.access import marking_columns
from detente.store.fields import clean_line
from detente.store.service import Store

__all__ = [
    "MAX_ATTACHMENT_BYTES",
    "MAX_COPY_BYTES",
    "MAX_RECIPIENTS",
    "Recipient",
    "conversation",
    "conversations",
    "create_conversation",
    "events_of",
    "message_list",
    "recipients",
    "send",
]

MAX_COPY_BYTES = 64 * 1024  # one recipient's sealed message
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024  # an attachment's ciphertext
MAX_RECIPIENTS = 200
EVENTS = "channels.events"  # what the unit of work has to deliver once it commits


def now() -> datetime:
    return datetime.now(UTC)


def check_id(value: Any, what: str) -> str:
    """An id as the store makes them (a UUID); anything else is found nowhere, without
    asking the database (PostgreSQL refuses some strings outright, NUL among them)."""
    try:
        if isinstance(value, str) and str(uuid.UUID(value)) == value.lower():
            return value
    except ValueError:
        pass
    raise NotFoundError(f"no {what} {str(value)[:60]!r}")


def line(value: Any, field: str, max_length: int = 300) -> str:
    """One line of user text: no control characters, within ``max_length``."""
    try:
        text = clean_line(str(value))
    except ValueError as exc:
        raise ValidationError(str(exc), field=field) from None
    if not text or len(text) > max_length:
        raise ValidationError(f"give 1 to {max_length} characters", field=field)
    return text


def _audit(store: Store, action: str, table: str, record_id: str | None, detail: dict[str, Any]) -> None:
    audit.append(
        store.session,
        actor=store.author,
        org_id=store.principal.org,
        action=action,
        table=table,
        record_id=record_id,
        detail=detail,
    )


def _record_columns(store: Store, banner: str) -> dict[str, Any]:
    marking = parse(banner)
    decision = check_marking_change(store.principal, None, marking, store.principal.org)
    if not decision:
        raise AuthError(f"marking {marking.render()!r} refused: {decision.reason}")
    stamp = now()
    return {
        "marking": marking.render(),
        **marking_columns(marking),
        "owner_org_id": store.principal.org,
        "created_at": stamp,
        "updated_at": stamp,
        "created_by": store.author,
        "updated_by": store.author,
        "version": 1,
    }


def create_conversation(
    store: Store,
    title: str,
    *,
    users: Sequence[str] = (),
    orgs: Sequence[str] = (),
    marking: str,
    kind: str = "conversation",
) -> Conversation:
    """A conversation of the acting user with other users and whole organisations."""
    store.require("read", "take part in conversations")
    title = line(" ".join(title.split()), "title")
    sharing = Sharing(store.session)
    row = Conversation(id=new_id(), title=title, kind=kind, **_record_columns(store, marking))
    store.session.add(row)
    store.session.flush()
    members: list[Member] = [Member(conversation_id=row.id, username=store.author)]
    for name in dict.fromkeys(line(u, "users", 100).lower() for u in users if u.strip()):
        if name != store.author:
            members.append(Member(conversation_id=row.id, username=sharing.user(name).username))
    for org in dict.fromkeys(orgs):
        members.append(Member(conversation_id=row.id, org_id=find_org(store.session, org).id))
    store.session.add_all(members)
    store.session.flush()
    _audit(store, "channels.conversation", "channel_conversations", row.id, {"marking": row.marking})
    return row


def find_org(session: Session, name: str) -> Organisation:
    """An organisation by id, name or, when it is the only one there, its country's code."""
    sharing = Sharing(session)
    name = line(name, "org")
    try:
        return sharing.org(name)
    except NotFoundError:
        found = [o for o in sharing.orgs() if o.country == name.strip().upper()]
        if len(found) == 1:
            return found[0]
        raise


def _member_filter(store: Store) -> Any:
    mine = select(Member.conversation_id).where(
        or_(Member.username == store.author, Member.org_id == store.principal.org)
    )
    return Conversation.id.in_(mine)


def conversations(store: Store) -> list[Conversation]:
    """The conversations the acting user takes part in and may see, newest first."""
    stmt = (
        select(Conversation)
        .where(store.visible(Conversation), _member_filter(store))
        .order_by(Conversation.created_at.desc())
    )
    return list(store.session.scalars(stmt))


def conversation(store: Store, conversation_id: str) -> Conversation:
    """One conversation of the acting user (a hidden one is "not found", as any record)."""
    check_id(conversation_id, "conversation")
    row = store.session.scalar(
        select(Conversation).where(
            Conversation.id == conversation_id, store.visible(Conversation), _member_filter(store)
        )
    )
    if row is None:
        raise NotFoundError(f"no conversation {conversation_id!r}")
    return row


def find_conversation(store: Store, ref: str) -> Conversation:
    """A conversation of the acting user by its id or its title (for people at a
    terminal: a title they read in the list); an ambiguous title names the ids to pick from."""
    try:
        return conversation(store, check_id(ref.strip(), "conversation"))
    except NotFoundError:
        pass
    rows = list(
        store.session.scalars(
            select(Conversation).where(
                func.lower(Conversation.title) == ref.strip().lower(),
                store.visible(Conversation),
                _member_filter(store),
            )
        )
    )
    if len(rows) > 1:
        raise ValidationError(
            f"{len(rows)} conversations are called {ref!r}: give the id, one of "
            + ", ".join(r.id for r in rows),
            field="conversation",
        )
    if not rows:
        raise NotFoundError(f"no conversation {ref[:60]!r} (give its id or its title: detente channels list)")
    return rows[0]


@dataclass(frozen=True)
class Recipient:
    """A member who would receive a message under a marking: their key, and whether they may read it."""

    username: str
    org_id: str
    key_id: str | None
    fingerprint: str | None
    box_public: str | None
    may_read: bool
    reason: str


def member_users(session: Session, conversation_id: str) -> list[User]:
    """Every active user a conversation reaches (its users, and the users of its organisations)."""
    members = list(session.scalars(select(Member).where(Member.conversation_id == conversation_id)))
    names = [m.username for m in members if m.username]
    orgs = [m.org_id for m in members if m.org_id]
    stmt = select(User).where(User.active.is_(True), or_(User.username.in_(names), User.org_id.in_(orgs)))
    return list(session.scalars(stmt.order_by(User.username)))


def recipients(store: Store, conversation_id: str, banner: str) -> list[Recipient]:
    """Who a message under ``banner`` would go to, with each one's key and whether they may read it."""
    row = conversation(store, conversation_id)
    marking = parse(banner)
    users = member_users(store.session, row.id)
    keys = current_keys(store.session, [u.username for u in users])
    sharing = Sharing(store.session)
    out = []
    for user in users:
        decision = may_read(sharing.principal(user.username), marking, store.principal.org)
        key = keys.get(user.username)
        out.append(
            Recipient(
                user.username,
                user.org_id,
                key.id if key else None,
                key.fingerprint if key else None,
                key.box_public if key else None,
                bool(decision),
                decision.reason,
            )
        )
    return out


def _check_head(store: Store, body: dict[str, Any]) -> tuple[Conversation, str, Any]:
    for name in ("id", "conversation_id", "marking", "sender", "sender_key"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise ValidationError("required", field=name)
    try:
        check_id(body["id"], "message")
    except NotFoundError:
        raise ValidationError("must be a fresh UUID made by the client", field="id") from None
    if body["sender"] != store.author:
        raise AuthError(f"forged sender: you are {store.author}, the message says {body['sender']}")
    if normalise(body["marking"]) != body["marking"]:
        raise ValidationError(
            f"give the marking in its canonical form {normalise(body['marking'])!r}", field="marking"
        )
    row = conversation(store, body["conversation_id"])
    key = current_key(store.session, store.author)
    if key is None:
        raise ValidationError("you have no key in force: publish one first", field="sender_key")
    if body["sender_key"] != key.fingerprint:
        raise AuthError(
            f"the message is signed with key {body['sender_key']}, not your key in force ({key.fingerprint})"
        )
    if body.get("kind", "message") not in ("message", "check"):
        raise ValidationError("must be message or check", field="kind")
    if store.session.get(Message, body["id"]) is not None:
        raise ConflictError(f"message {body['id']} was sent before: a replay is refused")
    return row, key.id, key


def _check_attachment(body: dict[str, Any]) -> dict[str, Any]:
    att = body.get("attachment")
    if att is None:
        if body.get("attachment_sha256"):
            raise ValidationError("names an attachment it does not carry", field="attachment_sha256")
        return {}
    if not isinstance(att, dict):
        raise ValidationError("must be an object with nonce and ciphertext", field="attachment")
    text = att.get("ciphertext")
    if isinstance(text, str) and len(text) > (MAX_ATTACHMENT_BYTES + 16) * 4 // 3 + 8:
        raise TooLargeError(
            f"attachment over the limit of {MAX_ATTACHMENT_BYTES:,} bytes", field="attachment"
        )
    data = unb64(text, "attachment.ciphertext")
    unb64(att.get("nonce"), "attachment.nonce", NONCE_BYTES)
    import hashlib

    if hashlib.sha256(data).hexdigest() != body.get("attachment_sha256"):
        raise ValidationError(
            "does not match the attachment's ciphertext (tampered)", field="attachment_sha256"
        )
    return {
        "attachment": text,
        "attachment_nonce": att["nonce"],
        "attachment_size": len(data) - 16,
        "attachment_sha256": body["attachment_sha256"],
    }


def _check_copies(store: Store, body: dict[str, Any], conv: Conversation, sign_public: bytes) -> list[Copy]:
    copies = body.get("copies")
    if not isinstance(copies, list) or not copies:
        raise ValidationError("give one sealed copy per recipient", field="copies")
    if len(copies) > MAX_RECIPIENTS:
        raise TooLargeError(f"at most {MAX_RECIPIENTS} recipients", field="copies")
    marking = parse(body["marking"])
    allowed = {r.username: r for r in recipients(store, conv.id, body["marking"])}
    keys = current_keys(store.session, list(allowed))
    seen: set[str] = set()
    out: list[Copy] = []
    for copy in copies:
        if not isinstance(copy, dict):
            raise ValidationError("each copy is an object", field="copies")
        name = copy.get("recipient")
        if not isinstance(name, str) or name not in allowed:
            raise ValidationError(f"{name!r} is not a member of this conversation", field="copies.recipient")
        if name in seen:
            raise ValidationError(f"{name} has two copies", field="copies.recipient")
        seen.add(name)
        if not allowed[name].may_read:
            raise AuthError(f"{name} may not read {marking.render()}: {allowed[name].reason}")
        key = keys.get(name)
        if key is None or copy.get("recipient_key") != key.fingerprint:
            raise ValidationError(
                f"{name}'s key {copy.get('recipient_key')} is revoked or not theirs: "
                f"their key in force is {key.fingerprint if key else 'none (revoked)'}",
                field="copies.recipient_key",
            )
        text = copy.get("ciphertext")
        if isinstance(text, str) and len(text) > MAX_COPY_BYTES * 4 // 3 + 8:
            raise TooLargeError(
                f"the message is over the limit of {MAX_COPY_BYTES:,} bytes", field="ciphertext"
            )
        out.append(
            Copy(
                recipient=name,
                recipient_org_id=allowed[name].org_id,
                recipient_key_id=key.id,
                nonce=copy["nonce"],
                ciphertext=copy["ciphertext"],
                signature=copy["signature"],
                step=0,
            )
        )
    for copy in copies:  # the costly check once every recipient may be addressed
        verify_copy(body, copy, sign_public)
    nonces = [c.nonce for c in out]
    if len(set(nonces)) != len(nonces) or store.session.scalar(select(Copy.id).where(Copy.nonce.in_(nonces))):
        raise ConflictError("a nonce was used before: a replayed message is refused")
    return out


def send(store: Store, body: dict[str, Any], *, steps: dict[str, int] | None = None) -> Message:
    """Check and store a message sealed by the sender's client. ``steps`` puts recipients on
    an escalation ladder (a hotline's urgent message): step 0 is released now, the others
    when the ladder reaches them; a recipient on the ladder without a copy is refused."""
    store.require("read", "send messages")
    conv, key_id, key = _check_head(store, body)
    from base64 import b64decode

    sign_public = b64decode(key.sign_public)
    attachment = _check_attachment(body)
    copies = _check_copies(store, body, conv, sign_public)
    covered = {c.recipient for c in copies}
    missing = [n for n in (steps or {}) if n not in covered]
    if missing:
        raise ValidationError(
            f"the duty officer {missing[0]} (escalation step {(steps or {})[missing[0]]}) has no copy: "
            "seal the message for every officer on the roster",
            field="copies",
        )
    for copy in copies:
        copy.step = (steps or {}).get(copy.recipient, 0)
    stamp = now()
    row = Message(
        id=body["id"],
        conversation_id=conv.id,
        sender=store.author,
        sender_key_id=key_id,
        kind=body.get("kind", "message"),
        urgent=bool(body.get("urgent", False)),
        body_bytes=sum(len(c.ciphertext) * 3 // 4 for c in copies),
        **attachment,
        **_record_columns(store, body["marking"]),
    )
    store.session.add(row)
    store.session.flush()
    for copy in copies:
        copy.message_id = row.id
        copy.released_at = stamp if copy.step == 0 else None
    store.session.add_all(copies)
    store.session.flush()
    detail = {
        "conversation": conv.id,
        "marking": row.marking,
        "urgent": row.urgent,
        "kind": row.kind,
        "recipients": [c.recipient for c in copies],
        "bytes": row.body_bytes,
        "attachment_bytes": row.attachment_size,
    }
    _audit(store, "channels.send", "channel_messages", row.id, detail)
    queue(store.session, [c for c in copies if c.released_at is not None], row)
    return row


def queue(session: Session, copies: Sequence[Copy], message: Message, event: str = "message") -> None:
    """Events to deliver once the unit of work commits (``events_of`` collects them)."""
    pending = session.info.setdefault(EVENTS, [])
    for copy in copies:
        pending.append((copy.recipient, event, message_payload(message, copy)))


def events_of(session: Session) -> list[tuple[str, str, dict[str, Any]]]:
    """The events a committed unit of work queued: (recipient, event, payload)."""
    return list(session.info.pop(EVENTS, []))


def message_payload(message: Message, copy: Copy | None) -> dict[str, Any]:
    """A message as its reader gets it: the metadata and, for a recipient, their sealed copy."""
    out: dict[str, Any] = {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "sender": message.sender,
        "sender_key_id": message.sender_key_id,
        "marking": message.marking,
        "urgent": message.urgent,
        "kind": message.kind,
        "sent_at": message.created_at.isoformat(),
        "bytes": message.body_bytes,
        "attachment_size": message.attachment_size,
        "attachment_sha256": message.attachment_sha256,
    }
    if copy is not None:
        out["copy"] = {
            "id": copy.id,
            "recipient": copy.recipient,
            "recipient_key_id": copy.recipient_key_id,
            "nonce": copy.nonce,
            "ciphertext": copy.ciphertext,
            "signature": copy.signature,
            "step": copy.step,
            "released_at": copy.released_at.isoformat() if copy.released_at else None,
            "read_at": copy.read_at.isoformat() if copy.read_at else None,
            "acked_at": copy.acked_at.isoformat() if copy.acked_at else None,
        }
    return out


def message_list(store: Store, conversation_id: str, *, limit: int = 200) -> list[dict[str, Any]]:
    """A conversation's messages the acting user may see (newest last): for each, the
    metadata and the user's own released copy; handing a copy over is its delivery."""
    conv = conversation(store, conversation_id)
    stmt = (
        select(Message)
        .where(Message.conversation_id == conv.id, store.visible(Message))
        .order_by(Message.created_at.desc())
        .limit(limit)
    )
    messages = list(store.session.scalars(stmt))
    copies = {
        c.message_id: c
        for c in store.session.scalars(
            select(Copy).where(
                Copy.message_id.in_([m.id for m in messages]),
                Copy.recipient == store.author,
                Copy.released_at.is_not(None),
            )
        )
    }
    rows = [(m, copies.get(m.id)) for m in messages if m.id in copies or m.sender == store.author]
    delivered = [c for _, c in rows if c is not None and c.delivered_at is None]
    if delivered:
        mark_delivered(store, delivered)
    return [message_payload(m, c) for m, c in reversed(rows)]


def markings_of(store: Store, conversation_id: str) -> list[str]:
    """The markings of a conversation's messages the acting user may see (for a page's banner)."""
    conv = conversation(store, conversation_id)
    stmt = (
        select(Message.marking).where(Message.conversation_id == conv.id, store.visible(Message)).distinct()
    )
    return list(store.session.scalars(stmt))


def mark_delivered(store: Store, copies: Sequence[Copy]) -> None:
    stamp = now()
    for copy in copies:
        copy.delivered_at = stamp
    store.session.flush()
    detail = {"copies": [{"message": c.message_id, "recipient": c.recipient} for c in copies]}
    _audit(store, "channels.deliver", "channel_copies", None, detail)


def my_copy(store: Store, message_id: str) -> tuple[Message, Copy]:
    """The acting user's released copy of a message they may see."""
    check_id(message_id, "message")
    row = store.session.execute(
        select(Message, Copy)
        .join(Copy, Copy.message_id == Message.id)
        .where(
            Message.id == message_id,
            store.visible(Message),
            Copy.recipient == store.author,
            Copy.released_at.is_not(None),
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no message {message_id!r} for you")
    return row[0], row[1]


def mark_read(store: Store, message_id: str) -> Copy:
    """The acting user has decrypted and read a message (their client says so)."""
    message, copy = my_copy(store, message_id)
    if copy.read_at is None:
        copy.read_at = now()
        if copy.delivered_at is None:
            copy.delivered_at = copy.read_at
        store.session.flush()
        _audit(store, "channels.read", "channel_messages", message.id, {"recipient": copy.recipient})
    return copy
