"""Published keys: a user publishes their public keys (and their private keys, locked under
their passphrase), rotates them (the old pair is marked revoked for everyone and new
messages go to the new one) or revokes them. Everyone may read anyone's public keys and
fingerprints; only the user themself gets their locked private keys back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from detente.channels.crypto import check_locked, check_published, fingerprint, unb64
from detente.channels.tables import Key
from detente.core import audit
from detente.core.errors import ConflictError, NotFoundError, ValidationError
from detente.store.service import Store

__all__ = ["KeyView", "current_key", "current_keys", "key_by_id", "keys_of", "my_keys", "publish", "revoke"]


@dataclass(frozen=True)
class KeyView:
    """A published key as anyone may see it (never its locked private half)."""

    id: str
    username: str
    box_public: str
    sign_public: str
    fingerprint: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None

    @classmethod
    def of(cls, key: Key) -> KeyView:
        return cls(
            key.id,
            key.username,
            key.box_public,
            key.sign_public,
            key.fingerprint,
            key.created_at,
            key.revoked_at,
            key.revoked_reason,
        )


def _now() -> datetime:
    return datetime.now(UTC)


def current_key(session: Session, username: str) -> Key | None:
    """A user's key in force (None: none published, or revoked without a successor)."""
    return session.scalar(
        select(Key).where(Key.username == username, Key.revoked_at.is_(None)).order_by(Key.created_at.desc())
    )


def current_keys(session: Session, usernames: list[str]) -> dict[str, Key]:
    """The keys in force of several users, by username."""
    if not usernames:
        return {}
    rows = session.scalars(select(Key).where(Key.username.in_(usernames), Key.revoked_at.is_(None)))
    return {k.username: k for k in rows}


def key_by_id(session: Session, key_id: str) -> Key:
    """A published key by its id (revoked ones too: they still verify old messages)."""
    from detente.channels.messages import check_id

    key = session.get(Key, check_id(key_id, "published key"))
    if key is None:
        raise NotFoundError(f"no published key {key_id!r}")
    return key


def keys_of(session: Session, username: str) -> list[Key]:
    """Every key a user ever published, newest first (revoked ones still verify old messages)."""
    if any(ord(c) < 32 for c in username):
        return []
    return list(session.scalars(select(Key).where(Key.username == username).order_by(Key.created_at.desc())))


def my_keys(store: Store) -> list[dict[str, Any]]:
    """The acting user's keys with their locked private halves (for them to unlock locally)."""
    return [
        {**KeyView.of(k).__dict__, "locked": json.loads(k.locked)}
        for k in keys_of(store.session, store.author)
    ]


def publish(store: Store, data: dict[str, Any], *, rotate: bool = False) -> Key:
    """Publish the acting user's public keys and locked private keys. With a key already in
    force, ``rotate`` replaces it (marked revoked: "rotated"); without, it is refused."""
    sign_public = unb64(data.get("sign_public"), "sign_public", 32)
    box_public = unb64(data.get("box_public"), "box_public", 32)
    signature = unb64(data.get("self_signature"), "self_signature", 64)
    check_published(store.author, sign_public, box_public, signature)
    locked = check_locked(data.get("locked"))
    old = current_key(store.session, store.author)
    if old is not None and not rotate:
        raise ConflictError(
            f"you already have a key in force ({old.fingerprint}): rotate it (`detente channels keys rotate`)"
        )
    if old is None and rotate:
        raise ValidationError("you have no key in force to rotate: publish one first", field="rotate")
    stamp = _now()
    print_ = fingerprint(sign_public, box_public)
    if store.session.scalar(select(Key.id).where(Key.fingerprint == print_)) is not None:
        raise ConflictError("this key was published before: generate a new one")
    if old is not None:
        old.revoked_at, old.revoked_reason = stamp, "rotated"
    key = Key(
        username=store.author,
        box_public=data["box_public"],
        sign_public=data["sign_public"],
        fingerprint=print_,
        self_signature=data["self_signature"],
        locked=json.dumps(locked, sort_keys=True),
        created_at=stamp,
    )
    store.session.add(key)
    store.session.flush()
    detail = {"fingerprint": print_, **({"replaces": old.fingerprint} if old else {})}
    _audit(store, "channels.key.rotate" if old else "channels.key.publish", key.id, detail)
    return key


def revoke(store: Store, reason: str) -> Key:
    """Revoke the acting user's key in force: nobody can address a message to it any more."""
    key = current_key(store.session, store.author)
    if key is None:
        raise NotFoundError("you have no key in force to revoke")
    from detente.channels.messages import line

    reason = line(" ".join(reason.split()) or "revoked", "reason", 200)
    key.revoked_at, key.revoked_reason = _now(), reason
    store.session.flush()
    _audit(store, "channels.key.revoke", key.id, {"fingerprint": key.fingerprint, "reason": reason})
    return key


def _audit(store: Store, action: str, record_id: str | None, detail: dict[str, Any]) -> None:
    audit.append(
        store.session,
        actor=store.author,
        org_id=store.principal.org,
        action=action,
        table="channel_keys",
        record_id=record_id,
        detail=detail,
    )
