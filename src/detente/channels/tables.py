"""Tables of the channels slice: published keys, conversations, messages (ciphertext and
the metadata the server needs), hotlines with their duty rosters, urgent-message alerts
and (the crisis log's incidents and their timelines are in ``records``).

Conversations, messages and hotlines carry the store kernel's record columns (marking,
owning organisation and the marking's parts), so every listing of them goes through the
one access decision (``detente.store.access.visible``) and, on PostgreSQL, the same
row-level security as every record (migration 0014). What recipients change (delivery,
reading, acknowledgement) lives in tables of their own, written only by the service.
Nothing here holds a plaintext or a usable private key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from detente.core.db import Base, UTCDateTime, new_id
from detente.store.tables import RecordColumns

__all__ = [
    "ALL",
    "Alert",
    "Conversation",
    "Copy",
    "Hotline",
    "Key",
    "Member",
    "Message",
    "RosterEntry",
]


class Key(Base):
    """A user's published public keys, their fingerprint, and the private keys locked
    under the user's passphrase (a blob the server cannot open)."""

    __tablename__ = "channel_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(100), index=True)
    box_public: Mapped[str] = mapped_column(String(64))
    sign_public: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    self_signature: Mapped[str] = mapped_column(String(100))
    locked: Mapped[str] = mapped_column(Text)  # JSON: argon2id parameters, salt, nonce, sealed keys
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(200))


class Conversation(RecordColumns, Base):
    """A conversation between users and organisations; its marking is the default of its messages."""

    __tablename__ = "channel_conversations"

    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="conversation")  # or "hotline"


class Member(Base):
    """A member of a conversation: one user, or every user of one organisation."""

    __tablename__ = "channel_members"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("channel_conversations.id", ondelete="CASCADE"), index=True
    )
    username: Mapped[str | None] = mapped_column(String(100), index=True)
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)


class Message(RecordColumns, Base):
    """A message's metadata: who sent it where, when, under which marking, how large.
    The attachment, if any, is ciphertext (its key travels inside each recipient's copy)."""

    __tablename__ = "channel_messages"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("channel_conversations.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[str] = mapped_column(String(100), index=True)
    sender_key_id: Mapped[str | None] = mapped_column(ForeignKey("channel_keys.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(20), default="message")  # message or check (a test call)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    body_bytes: Mapped[int] = mapped_column(Integer, default=0)
    attachment_size: Mapped[int | None] = mapped_column(Integer)
    attachment: Mapped[str | None] = mapped_column(Text)  # base64 ciphertext
    attachment_nonce: Mapped[str | None] = mapped_column(String(64))
    attachment_sha256: Mapped[str | None] = mapped_column(String(64))


class Copy(Base):
    """One recipient's copy of a message: sealed to their key, signed by the sender; when it
    was released to them (an escalation releases the next officer's), delivered, read, acknowledged."""

    __tablename__ = "channel_copies"
    __table_args__ = (
        UniqueConstraint("message_id", "recipient", name="uq_channel_copies_message_recipient"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(ForeignKey("channel_messages.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(100), index=True)
    recipient_org_id: Mapped[str] = mapped_column(String(36), index=True)
    # none for a communications check: a test call carries no content, only a demand to answer
    recipient_key_id: Mapped[str | None] = mapped_column(ForeignKey("channel_keys.id", ondelete="RESTRICT"))
    nonce: Mapped[str] = mapped_column(String(64), unique=True)  # a nonce used twice is a replay
    ciphertext: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(100))
    step: Mapped[int] = mapped_column(Integer, default=0)  # escalation step that releases it
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Hotline(RecordColumns, Base):
    """A standing channel between two organisations, with a duty roster on each side, an
    acknowledgement deadline for urgent messages, an owner, and optional scheduled checks."""

    __tablename__ = "channel_hotlines"

    name: Mapped[str] = mapped_column(String(300))
    conversation_id: Mapped[str] = mapped_column(ForeignKey("channel_conversations.id", ondelete="RESTRICT"))
    org_a_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    org_b_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"))
    owner: Mapped[str] = mapped_column(String(100))
    ack_seconds: Mapped[int] = mapped_column(Integer, default=300)
    check_every_minutes: Mapped[int | None] = mapped_column(Integer)


class RosterEntry(Base):
    """One duty officer on one side of a hotline, in the order escalation follows."""

    __tablename__ = "channel_roster"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    hotline_id: Mapped[str] = mapped_column(ForeignKey("channel_hotlines.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[str] = mapped_column(String(36))
    position: Mapped[int] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(100))


class Alert(Base):
    """An urgent hotline message awaiting acknowledgement: its step on the escalation
    ladder (the receiving side's roster, then the hotline's owner), the deadline of that
    step, and how it ended (acknowledged, or the ladder ran out)."""

    __tablename__ = "channel_alerts"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("channel_messages.id", ondelete="CASCADE"), primary_key=True
    )
    hotline_id: Mapped[str] = mapped_column(ForeignKey("channel_hotlines.id", ondelete="CASCADE"), index=True)
    to_org_id: Mapped[str] = mapped_column(String(36))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    step: Mapped[int] = mapped_column(Integer, default=0)
    steps: Mapped[int] = mapped_column(Integer)  # how many steps the ladder has
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)  # acknowledged, exhausted
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acked_by: Mapped[str | None] = mapped_column(String(100))


ALL = (Key, Conversation, Member, Message, Copy, Hotline, RosterEntry, Alert)
