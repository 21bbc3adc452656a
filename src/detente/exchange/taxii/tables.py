"""Tables of federation: STIX objects received from peers, the peers, push statuses.

``exchange_objects`` holds one row per STIX object (its latest version), with the
originator's marking taken apart into the columns the store's one access decision
(``detente.store.access.visible``) reads, so a stored object is served to, or pushed on
to, only those its marking allows. ``origin`` is its provenance: the peer it came from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from detente.core.db import Base, UTCDateTime
from detente.store.tables import MarkedColumns

__all__ = ["ExchangeObject", "Peer", "PushStatus"]


class ExchangeObject(MarkedColumns, Base):
    __tablename__ = "exchange_objects"

    stix_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    type: Mapped[str] = mapped_column(String(60), index=True)
    version: Mapped[str] = mapped_column(String(40))  # the STIX ``modified`` (or ``created``) as sent
    modified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    date_added: Mapped[datetime] = mapped_column(UTCDateTime())
    origin: Mapped[str] = mapped_column(String(200), index=True)  # provenance: the peer
    body: Mapped[str] = mapped_column(Text)  # the object's JSON, as received

    # pages are read in (date_added, stix_id) order from a cursor
    __table_args__ = (Index("ix_exchange_objects_added", "date_added", "stix_id"),)


class Peer(Base):
    """Another detente (or any TAXII 2.1 server) this organisation syncs with."""

    __tablename__ = "exchange_peers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(500))  # the API root
    username: Mapped[str | None] = mapped_column(String(200))  # basic authentication (medallion)
    secret: Mapped[str] = mapped_column(String(500))  # the peer's token (or password) for us
    partner_user: Mapped[str | None] = mapped_column(String(200))  # our account the peer reads as
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cursor: Mapped[str | None] = mapped_column(Text)  # JSON: collection id -> last date_added
    last_result: Mapped[str | None] = mapped_column(Text)


class PushStatus(Base):
    """The TAXII status resource of a POST to a collection."""

    __tablename__ = "exchange_status"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    body: Mapped[str] = mapped_column(Text)
