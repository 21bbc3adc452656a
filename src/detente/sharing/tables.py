"""Tables of the sharing slice: coalitions, organisations, users and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from detente.core.db import Base, UTCDateTime, new_id

__all__ = ["ApiToken", "Coalition", "CoalitionMember", "Organisation", "User"]


class Coalition(Base):
    """A named group of countries (NATO, FVEY, AU...) that REL TO lists may name."""

    __tablename__ = "coalitions"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))


class CoalitionMember(Base):
    __tablename__ = "coalition_members"

    coalition: Mapped[str] = mapped_column(
        ForeignKey("coalitions.name", ondelete="CASCADE"), primary_key=True
    )
    country: Mapped[str] = mapped_column(String(3), primary_key=True, index=True)


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    country: Mapped[str] = mapped_column(String(3), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


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
