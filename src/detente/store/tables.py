"""The columns every record's table has (``RecordColumns``) and the link tables' shape.

A UUID id, an optional external id (the key a user's own spreadsheet uses),
timestamps and authors, a version for optimistic concurrency, the marking, the
owning organisation, and the marking taken apart into the columns the one access
decision reads inside SQL (``detente.store.access``), kept in step by the store.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from detente.core.db import UTCDateTime, new_id

__all__ = ["MarkedColumns", "RecordColumns"]


class MarkedColumns:
    """The marking, the owning organisation, and the marking taken apart into the columns
    the one access decision reads inside SQL: what any table served under markings has
    (every record's, and federation's received objects)."""

    marking: Mapped[str] = mapped_column(String(500), default="UNCLASSIFIED")
    owner_org_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    mk_national: Mapped[int] = mapped_column(Integer, default=0)
    mk_nato: Mapped[int] = mapped_column(Integer, default=-1)
    mk_rel: Mapped[str] = mapped_column(String(1000), default="|")
    mk_tlp: Mapped[str] = mapped_column(String(20), default="")
    mk_recipients: Mapped[str] = mapped_column(String(1000), default="|")
    mk_public: Mapped[bool] = mapped_column(Boolean, default=False)


class RecordColumns(MarkedColumns):
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    external_id: Mapped[str | None] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    updated_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)
