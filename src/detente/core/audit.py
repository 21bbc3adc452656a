"""The audit trail: an append-only, keyed hash chain of every change, export and login.

Each entry's hash is an HMAC-SHA256, under a secret kept outside the database
(``detente.core.audit_keys``), of its content and the previous entry's hash. So
altering, removing, reordering or truncating entries breaks the chain, and
whoever can write the database but lacks the key can neither recompute the chain
after a change nor append an entry that fits. ``verify`` walks the chain and
names the first entry that does not fit.

Cutting entries off the end leaves a shorter chain that is still consistent; two
things catch it:

- the chain head (last sequence and hash, with an HMAC) kept in the workspace
  folder by ``detente.core.workspace``;
- signed checkpoints: every ``DETENTE_AUDIT_CHECKPOINT_EVERY`` entries, and on
  demand, an Ed25519 signature over (sequence, chain hash, time) is stored in
  ``audit_checkpoints``; exported to a file kept elsewhere
  (``detente.core.audit_export``), they prove truncation, rewriting and forged
  appends even when the head file and the database's triggers are gone.

Entries written before the chain was keyed (detente before 0010) keep their plain
SHA-256 hashes. The first keyed entry of such a log is an ``audit.rekey`` entry
that names how many entries came before and their head: from then on the older
entries are vouched for by the keyed chain as they stood at re-keying, and
``verify`` says how many there are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Insert, Integer, Select, String, Text, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from detente.core.audit_keys import AuditKeys, Keyring, fingerprint, signature_ok
from detente.core.db import Base, UTCDateTime
from detente.core.errors import ConfigError

__all__ = [
    "AuditCheckpoint",
    "AuditEntry",
    "Checkpoint",
    "Head",
    "Verification",
    "append",
    "checkpoint",
    "stored_checkpoints",
    "verify",
]

GENESIS = "0" * 64
REKEY = "audit.rekey"


class AuditEntry(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[str | None] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_table: Mapped[str | None] = mapped_column(String(60))
    record_id: Mapped[str | None] = mapped_column(String(36), index=True)
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # the audit key's id for keyed entries (HMAC-SHA256); NULL: a plain SHA-256 entry from before 0010
    key_id: Mapped[str | None] = mapped_column(String(16))


_COLUMNS = tuple(c.key for c in AuditEntry.__table__.columns)


class AuditCheckpoint(Base):
    """A signed statement that the chain's entry ``seq`` had hash ``hash`` at time ``at``."""

    __tablename__ = "audit_checkpoints"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    public_key: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))


class Head(NamedTuple):
    """The chain head as the workspace folder records it; ``mac`` authenticates it."""

    seq: int
    hash: str
    mac: str | None = None


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _payload(
    seq: int,
    at: datetime,
    actor: str,
    org_id: str | None,
    action: str,
    table: str | None,
    record_id: str | None,
    detail: str,
    prev_hash: str,
    *extra: str,
) -> bytes:
    fields = [seq, _iso(at), actor, org_id, action, table, record_id, detail, prev_hash, *extra]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def _digest(
    seq: int,
    at: datetime,
    actor: str,
    org_id: str | None,
    action: str,
    table: str | None,
    record_id: str | None,
    detail: str,
    prev_hash: str,
) -> str:
    """The plain SHA-256 of an entry from before the chain was keyed."""
    payload = _payload(seq, at, actor, org_id, action, table, record_id, detail, prev_hash)
    return hashlib.sha256(payload).hexdigest()


def _fields(e: AuditEntry) -> tuple[int, datetime, str, str | None, str, str | None, str | None, str, str]:
    return (e.seq, e.at, e.actor, e.org_id, e.action, e.target_table, e.record_id, e.detail, e.prev_hash)


def _keyed_digest(keys: AuditKeys, e: AuditEntry) -> str:
    return keys.mac(_payload(*_fields(e), keys.key_id))


def head_mac(keys: AuditKeys, seq: int, digest: str) -> str:
    return keys.mac(f"detente audit head\n{seq}\n{digest}".encode())


def checkpoint_message(seq: int, digest: str, at: datetime) -> bytes:
    return b"detente-audit-checkpoint/1\n" + json.dumps([seq, digest, _iso(at)]).encode()


def _keyring(session: Session) -> Keyring:
    ring = session.info.get("audit_keyring")
    if not isinstance(ring, Keyring):
        raise ConfigError("the audit trail needs a session from Workspace.session(): it carries the key")
    return ring


class _Tail(NamedTuple):
    seq: int
    hash: str
    key_id: str | None


@cache
def _tail_statement() -> Select[int, str, str | None]:
    """The chain's last entry, locked (PostgreSQL) for the rest of the transaction."""
    return (
        select(AuditEntry.seq, AuditEntry.hash, AuditEntry.key_id)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
        .with_for_update()
    )


@cache
def _insert_statement() -> Insert:
    return insert(AuditEntry.__table__)  # type: ignore[arg-type]


def _writable_tail(session: Session) -> tuple[AuditKeys, Keyring, _Tail | None]:
    """Lock the end of the chain for this transaction; the keys to extend it; its last entry.

    A log still unkeyed (or empty) may get a new key; a keyed one needs its own key. A
    log whose last entry is unkeyed is re-keyed here with an ``audit.rekey`` entry."""
    ring = _keyring(session)
    if session.get_bind().dialect.name == "postgresql":
        # one writer at a time extends the chain (released at commit or rollback)
        session.execute(text("SELECT pg_advisory_xact_lock(7215044)"))
    session.flush()  # what the unit has added goes first (as a query through the session would)
    row = session.connection().execute(_tail_statement()).first()
    last = _Tail(row[0], row[1], row[2]) if row else None
    keyed = last is not None and last.key_id is not None
    keys = ring.get(create=not keyed)
    if keys is None:
        raise ring.missing("cannot write to the audit trail")
    if last is not None and last.key_id is not None and last.key_id != keys.key_id:
        raise ConfigError(
            f"cannot write to the audit trail: its entries are keyed with key {last.key_id} but the "
            f"configured audit key ({ring.location}) is {keys.key_id}; point DETENTE_AUDIT_KEY_FILE "
            "(or DETENTE_AUDIT_KEY) to the key the log was made with"
        )
    if last is not None and last.key_id is None:
        note = "entries before this one were written before the chain was keyed (plain SHA-256)"
        detail = {"legacy_entries": last.seq, "legacy_head": last.hash, "note": note}
        entry = _add(session, keys, ring, last, actor="detente", org_id=None, action=REKEY, detail=detail)
        last = _Tail(entry.seq, entry.hash, entry.key_id)
    return keys, ring, last


def _add(
    session: Session,
    keys: AuditKeys,
    ring: Keyring,
    last: _Tail | None,
    *,
    actor: str,
    org_id: str | None,
    action: str,
    table: str | None = None,
    record_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
    entry = AuditEntry(
        seq=seq,
        at=datetime.now(UTC),
        actor=actor,
        org_id=org_id,
        action=action,
        target_table=table,
        record_id=record_id,
        detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str),
        prev_hash=prev,
        key_id=keys.key_id,
    )
    entry.hash = _keyed_digest(keys, entry)
    # a plain insert on the unit's connection (one statement built once): the entry is
    # written now, without the ORM's flush, which cost more than the insert itself
    session.connection().execute(_insert_statement(), {k: getattr(entry, k) for k in _COLUMNS})
    if seq % ring.checkpoint_every == 0:
        _sign(session, keys, seq, entry.hash)
    # the workspace records the head in its folder after commit
    session.info["audit_head"] = Head(seq, entry.hash, head_mac(keys, seq, entry.hash))
    return entry


def append(
    session: Session,
    *,
    actor: str,
    org_id: str | None,
    action: str,
    table: str | None = None,
    record_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction (so it commits or rolls back with the change)."""
    keys, ring, last = _writable_tail(session)
    return _add(
        session, keys, ring, last,
        actor=actor, org_id=org_id, action=action, table=table, record_id=record_id, detail=detail,
    )  # fmt: skip


def _sign(session: Session, keys: AuditKeys, seq: int, digest: str) -> AuditCheckpoint:
    at = datetime.now(UTC)
    row = AuditCheckpoint(
        seq=seq,
        hash=digest,
        at=at,
        public_key=keys.public_key,
        signature=keys.sign(checkpoint_message(seq, digest, at)),
    )
    session.add(row)
    session.flush()
    return row


def checkpoint(session: Session) -> AuditCheckpoint | None:
    """Sign a checkpoint at the chain's current head now (or return the one already there);
    ``None`` when the log is empty."""
    keys, _ring, last = _writable_tail(session)
    if last is None:
        return None
    existing = session.get(AuditCheckpoint, last.seq)
    return existing or _sign(session, keys, last.seq, last.hash)


@dataclass(frozen=True)
class Checkpoint:
    """A signed checkpoint, from the database or from an exported file (``source`` says which)."""

    seq: int
    hash: str
    at: datetime
    public_key: str
    signature: str
    source: str = "the database"

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def signed(self) -> bool:
        return signature_ok(self.public_key, checkpoint_message(self.seq, self.hash, self.at), self.signature)

    def line(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "hash": self.hash,
            "at": _iso(self.at),
            "public_key": self.public_key,
            "fingerprint": self.fingerprint,
            "signature": self.signature,
        }


def stored_checkpoints(session: Session) -> list[Checkpoint]:
    rows = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq))
    return [Checkpoint(r.seq, r.hash, r.at, r.public_key, r.signature) for r in rows]


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_bad: int | None
    problem: str
    head: str
    legacy: int = 0  # entries from before the chain was keyed
    key_id: str | None = None
    checkpoints: int = 0  # signed checkpoints found to match
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.entries} entries, head {self.head[:16]}"
        return f"audit chain BROKEN at entry {self.first_bad}: {self.problem}"


@dataclass
class _Walk:
    keys: AuditKeys | None
    ring: Keyring | None
    count: int = 0
    head: str = GENESIS
    legacy: int = 0
    keyed: bool = False
    hashes: dict[int, str] = field(default_factory=dict)

    def broken(self, seq: int | None, problem: str) -> Verification:
        key_id = self.keys.key_id if self.keys and self.keyed else None
        return Verification(False, self.count, seq, problem, self.head, self.legacy, key_id)


def _entry_problem(w: _Walk, e: AuditEntry) -> str | None:
    """What is wrong with entry ``e`` given the chain before it (``None``: it fits)."""
    if e.prev_hash != w.head:
        return "does not follow the entry before it"
    if e.key_id is None:
        if w.keyed:
            return "is unkeyed although the chain before it is keyed: forged"
        if _digest(*_fields(e)) != e.hash:
            return "content was altered"
        return None
    if w.keys is None:
        raise (w.ring.missing("cannot verify the audit trail") if w.ring else ConfigError("no audit key"))
    if e.key_id != w.keys.key_id:
        return (
            f"is keyed with key {e.key_id}, not with this workspace's audit key {w.keys.key_id} "
            f"({w.keys.source}): forged, or the wrong key is configured"
        )
    if _keyed_digest(w.keys, e) != e.hash:
        return "content was altered, or the entry was forged (its HMAC does not match)"
    if not w.keyed and w.legacy:
        detail = json.loads(e.detail) if e.action == REKEY else {}
        if detail.get("legacy_entries") != w.legacy or detail.get("legacy_head") != w.head:
            return f"the keyed chain does not start with an {REKEY} entry naming the {w.legacy} before it"
    return None


def _walk(session: Session, w: _Walk, wanted: set[int]) -> Verification | None:
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=2000))
    for e in rows:
        w.count += 1
        if e.seq != w.count:
            return w.broken(w.count, f"entry {w.count} is missing (next is {e.seq})")
        problem = _entry_problem(w, e)
        if problem:
            return w.broken(e.seq, problem)
        if e.key_id is None:
            w.legacy += 1
        else:
            w.keyed = True
        w.head = e.hash
        if e.seq in wanted:
            w.hashes[e.seq] = e.hash
    return None


def _check_head(w: _Walk, head: Head | None) -> Verification | None:
    if head is None:
        return None
    if head.mac is None:
        if head.seq > w.legacy and w.keyed:
            return w.broken(head.seq, "the chain head file has no MAC although the chain is keyed: rewritten")
    elif w.keys is not None and head.mac != head_mac(w.keys, head.seq, head.hash):
        return w.broken(head.seq, "the chain head file was rewritten (its MAC does not match)")
    if w.count < head.seq:
        return w.broken(w.count + 1, f"the log ends at entry {w.count} but reached {head.seq}: truncated")
    if w.hashes.get(head.seq) != head.hash:
        return w.broken(head.seq, "does not match the recorded chain head")
    return None


def _check_checkpoints(
    w: _Walk, stored: list[Checkpoint], given: Iterable[Checkpoint]
) -> Verification | None:
    for c in sorted([*stored, *given], key=lambda c: c.seq):
        when = f"{c.at:%Y-%m-%d %H:%M:%S} UTC"
        if not c.signed():
            return w.broken(c.seq, f"the checkpoint of {when} ({c.source}) has a bad signature: altered")
        if w.keys is not None and c.public_key != w.keys.public_key:
            return w.broken(
                c.seq,
                f"the checkpoint of {when} ({c.source}) is signed by key {c.fingerprint}, not by this "
                f"workspace's key {w.keys.fingerprint}: the audit key was replaced, or another workspace's",
            )
        if c.seq > w.count:
            return w.broken(
                w.count + 1,
                f"the log ends at entry {w.count} but the signed checkpoint of {when} ({c.source}) "
                f"covers entry {c.seq}: truncated",
            )
        if w.hashes.get(c.seq) != c.hash:
            return w.broken(c.seq, f"does not match the signed checkpoint of {when} ({c.source}): rewritten")
    kept = {(c.seq, c.hash) for c in stored}
    for c in given:
        if (c.seq, c.hash) not in kept:
            return w.broken(
                c.seq,
                f"its signed checkpoint ({c.source}) is missing from the database: checkpoints were deleted",
            )
    return None


def _notes(
    w: _Walk, head: Head | None, stored: Sequence[Checkpoint], given: Sequence[Checkpoint]
) -> tuple[str, ...]:
    notes = []
    if w.keyed and w.keys is not None:
        notes.append(f"keyed with HMAC-SHA256, key {w.keys.key_id} ({w.keys.source})")
    if w.legacy:
        notes.append(
            f"entries 1-{w.legacy} predate keying (plain SHA-256): "
            + ("the keyed chain vouches for them as they stood when it began" if w.keyed else "not keyed yet")
        )
    if head is None:
        notes.append("warning: no chain head file in the workspace: only checkpoints show a cut-off end")
    if stored:
        notes.append(
            f"{len(stored)} signed checkpoint(s) in the database match, the latest at entry {stored[-1].seq}"
        )
    if given:
        last = max(given, key=lambda c: c.seq)
        notes.append(
            f"{len(given)} exported checkpoint(s) match, the latest at entry {last.seq} ({last.source}), "
            f"key {last.fingerprint}"
        )
    else:
        notes.append(
            "no exported checkpoints given: pass --checkpoints FILE (kept elsewhere) to rule out "
            "truncation without the head file, or a rewrite by someone holding the key"
        )
    return tuple(notes)


def verify(
    session: Session,
    *,
    expected_head: Head | tuple[int, str] | None = None,
    checkpoints: Sequence[Checkpoint] = (),
    keys: AuditKeys | None = None,
) -> Verification:
    """Walk the chain from the first entry and report the first one that does not fit; then
    hold it against the recorded head and the signed checkpoints (stored and ``checkpoints``).

    Raises ``ConfigError`` when the chain is keyed and there is no key to check it with."""
    ring = session.info.get("audit_keyring")
    ring = ring if isinstance(ring, Keyring) else None
    if keys is None and ring is not None:
        keys = ring.get(create=False)
    head = Head(*expected_head) if expected_head is not None else None
    stored = stored_checkpoints(session)
    w = _Walk(keys, ring)
    wanted = {c.seq for c in [*stored, *checkpoints]} | ({head.seq} if head else set())
    failure = _walk(session, w, wanted) or _check_head(w, head) or _check_checkpoints(w, stored, checkpoints)
    if failure:
        return failure
    checked = [*stored, *checkpoints]
    key_id = keys.key_id if keys and w.keyed else None
    notes = _notes(w, head, stored, checkpoints)
    matched = len({c.seq for c in checked})
    return Verification(True, w.count, None, "", w.head, w.legacy, key_id, matched, notes)
