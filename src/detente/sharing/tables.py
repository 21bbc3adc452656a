"""Tables of the sharing slice: coalitions, organisations, users and API tokens."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from detente.core.db import Base, UTCDateTime, new_id

__all__ = ["ApiToken", "Coalition", "CoalitionChange", "CoalitionMember", "Organisation", "User"]


class Coalition(Base):
    """A named group of countries (NATO, FVEY, AU...) that REL TO lists may name."""

    __tablename__ = "coalitions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))


class CoalitionMember(Base):
    """A country's membership of a coalition, from ``joined_on`` (unknown: a member since
    before the workspace recorded it) until the day before ``left_on``."""

    __tablename__ = "coalition_members"

    coalition: Mapped[str] = mapped_column(
        ForeignKey("coalitions.name", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(String(3), primary_key=True, index=True)
    joined_on: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)


class CoalitionChange(Base):
    """One change of coalition membership, kept for every administrator to see (the audit
    trail has it too): who changed which coalition, how, and from when."""

    __tablename__ = "coalition_changes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    coalition: Mapped[str] = mapped_column(String(32), index=True)
    change: Mapped[str] = mapped_column(String(20))  # created, joined, left, relabelled
    country: Mapped[str | None] = mapped_column(String(3))
    effective_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    country: Mapped[str] = mapped_column(String(3), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the organisation that runs the instance (the first one); only its users may be operators
    runs_instance: Mapped[bool] = mapped_column(Boolean, default=False)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="RESTRICT"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    clearances: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """An API token, stored only as its SHA-256 (tokens are 256-bit random secrets)."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
