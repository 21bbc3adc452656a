"""The audit trail: an append-only, hash-chained log of every change, export and login.

Each entry's hash covers its content and the previous entry's hash, so altering,
removing, reordering or truncating entries breaks the chain; ``verify`` walks it
and names the first entry that does not fit. The chain head (last sequence and
hash) is also kept in the workspace folder, so cutting entries off the end is
detected too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from detente.core.db import Base, UTCDateTime

__all__ = ["AuditEntry", "Verification", "append", "verify"]

GENESIS = "0" * 64


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
    payload = json.dumps(
        [
            seq,
            at.astimezone(UTC).isoformat(timespec="microseconds"),
            actor,
            org_id,
            action,
            table,
            record_id,
            detail,
            prev_hash,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


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
    if session.get_bind().dialect.name == "postgresql":
        # one writer at a time extends the chain (released at commit or rollback)
        session.execute(text("SELECT pg_advisory_xact_lock(7215044)"))
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1).with_for_update()
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = datetime.now(UTC)
    body = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        org_id=org_id,
        action=action,
        target_table=table,
        record_id=record_id,
        detail=body,
        prev_hash=prev,
        hash=_digest(seq, at, actor, org_id, action, table, record_id, body, prev),
    )
    session.add(entry)
    session.flush()
    session.info["audit_head"] = (seq, entry.hash)  # the workspace records it after commit
    return entry


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_bad: int | None
    problem: str
    head: str

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.entries} entries, head {self.head[:16]}"
        return f"audit chain BROKEN at entry {self.first_bad}: {self.problem}"


def verify(session: Session, *, expected_head: tuple[int, str] | None = None) -> Verification:
    """Walk the chain from the first entry; report the first one that does not fit."""
    prev, expected_seq, count, head = GENESIS, 1, 0, GENESIS
    for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
        count += 1
        if e.seq != expected_seq:
            return Verification(
                False, count, expected_seq, f"entry {expected_seq} is missing (next is {e.seq})", head
            )
        if e.prev_hash != prev:
            return Verification(False, count, e.seq, "does not follow the entry before it", head)
        digest = _digest(
            e.seq, e.at, e.actor, e.org_id, e.action, e.target_table, e.record_id, e.detail, e.prev_hash
        )
        if digest != e.hash:
            return Verification(False, count, e.seq, "content was altered", head)
        prev, head, expected_seq = e.hash, e.hash, expected_seq + 1
    if expected_head is not None:
        seq, digest = expected_head
        if count < seq:
            return Verification(
                False, count, count + 1, f"the log ends at entry {count} but reached {seq}: truncated", head
            )
        if count >= seq:
            stored = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq))
            if stored != digest:
                return Verification(False, count, seq, "does not match the recorded chain head", head)
    return Verification(True, count, None, "", head)
