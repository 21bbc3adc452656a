"""What a TAXII collection holds for one reader, in date-added order, a page at a time.

Three collections (ids fixed, so a peer's cursor stays valid across restarts):

- ``registry``: the registry's engagements, agreements and actors as STIX (the same
  export as ``detente export --format stix``, ``detente.sharing.stix``), computed for
  the reader: only records the store's one access decision lets them see. An object's
  ``date_added`` is its record's last change (its STIX ``modified``), so ``added_after``
  returns what changed since a peer's last pull. Read only.
- ``exchange``: STIX objects received from peers (pulled or pushed), stored with their
  originator's marking (``tables.ExchangeObject``) and read through ``visible``, so a
  partner gets a received object only when its marking names them. Peers push here; what
  an organisation pushed is not served back to it.
- ``reports``: intelligence reports, tear-lined for the reader (when the reports slice
  provides ``report_to_stix``).

Paging: ``limit`` objects (at most ``MAX_PAGE``) per response, ``more`` and an opaque
``next`` cursor (the last entry's date added and id), and the first and last date added
for the ``X-TAXII-Date-Added-First``/``-Last`` headers.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from detente.core.errors import NotFoundError, ValidationError
from detente.core.markings import Principal
from detente.exchange.taxii.tables import ExchangeObject
from detente.sharing.stix import NAMESPACE, stix_bundle
from detente.store.access import bind_principal, visible
from detente.store.service import Store

__all__ = [
    "COLLECTIONS",
    "MAX_PAGE",
    "Collection",
    "Entry",
    "Page",
    "Query",
    "parse_timestamp",
    "read_page",
    "timestamp",
]

MAX_PAGE = 10_000
DEFAULT_PAGE = 1_000


@dataclass(frozen=True)
class Collection:
    key: str
    id: str
    title: str
    description: str
    can_write: bool

    def resource(self) -> dict[str, Any]:
        """The TAXII collection resource."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "can_read": True,
            "can_write": self.can_write,
            "media_types": ["application/stix+json;version=2.1"],
        }


def _collection(key: str, title: str, description: str, can_write: bool = False) -> Collection:
    return Collection(
        key, str(uuid.uuid5(NAMESPACE, f"taxii-collection:{key}")), title, description, can_write
    )


COLLECTIONS = {
    c.id: c
    for c in (
        _collection(
            "registry",
            "Registry",
            "Engagements, agreements and actors releasable to you, as STIX 2.1 (read only).",
        ),
        _collection(
            "exchange",
            "Exchange",
            "STIX objects received from peers, kept under their originator's markings; partners push here.",
            can_write=True,
        ),
        _collection("reports", "Intelligence reports", "Intelligence reports, tear-lined for you."),
    )
}


@dataclass(frozen=True)
class Entry:
    """One object version in a collection."""

    date_added: datetime
    id: str
    version: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Query:
    added_after: datetime | None = None
    next: tuple[datetime, str] | None = None
    limit: int = DEFAULT_PAGE
    ids: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    versions: frozenset[str] = frozenset()  # "first", "last", "all" or timestamps


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    more: bool

    @property
    def next(self) -> str | None:
        """The cursor of the next page (``None`` on the last)."""
        if not self.more or not self.entries:
            return None
        last = self.entries[-1]
        return f"{timestamp(last.date_added)}|{last.id}"


def timestamp(value: datetime) -> str:
    """A TAXII timestamp (UTC, microseconds)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_timestamp(text: str, field: str) -> datetime:
    """A STIX/TAXII timestamp; a bad one is a ``ValidationError`` naming ``field``."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise ValidationError(
            f"{text!r} is not a timestamp (like 2026-12-01T00:00:00Z)", field=field
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_next(text: str) -> tuple[datetime, str]:
    """The cursor ``Page.next`` wrote."""
    stamp, sep, ident = text.partition("|")
    if not sep or not ident:
        raise ValidationError(f"{text!r} is not a cursor this server gave", field="next")
    return parse_timestamp(stamp, "next"), ident


def _version_of(obj: dict[str, Any]) -> str:
    return str(obj.get("modified") or obj.get("created") or "")


def _registry_entries(session: Session, reader: Principal) -> list[Entry]:
    bundle, _ = stix_bundle(Store(session, reader))
    out = []
    for obj in bundle.objects:
        body = json.loads(obj.serialize())
        version = _version_of(body)
        out.append(Entry(parse_timestamp(version, "modified"), body["id"], version, body))
    return out


def _report_entries(session: Session, reader: Principal) -> list[Entry]:
    """The intelligence reports released to the reader's country (or a coalition of it) and
    not withdrawn from it, each tear-lined for the reader (``report_to_stix``): a paragraph
    the reader may not read is not sent, a header it may not read sends nothing."""
    from detente.exchange.service import Exchange
    from detente.exchange.stix import report_to_stix

    exchange = Exchange(Store(session, reader))
    out = []
    for report_id in exchange.released_to(reader.country):
        for obj in report_to_stix(exchange.view(report_id), reader):
            body = json.loads(obj.serialize())
            out.append(
                Entry(parse_timestamp(_version_of(body), "modified"), body["id"], _version_of(body), body)
            )
    return out


def _in_memory(entries: Iterable[Entry], query: Query) -> Page:
    """Filter, order and cut a computed collection as the stored one is in SQL."""
    chosen = sorted(
        (
            e
            for e in entries
            if (not query.ids or e.id in query.ids)
            and (not query.types or e.id.split("--")[0] in query.types)
            and _version_matches(e.version, query.versions)
            and (query.added_after is None or e.date_added > query.added_after)
            and (query.next is None or (e.date_added, e.id) > query.next)
        ),
        key=lambda e: (e.date_added, e.id),
    )
    # the same id twice (an actor both records name) is one object
    unique = list({e.id: e for e in chosen}.values())
    return Page(unique[: query.limit], more=len(unique) > query.limit)


def _version_matches(version: str, wanted: frozenset[str]) -> bool:
    # one version per object is kept, so first, last and all are that one
    explicit = wanted - {"first", "last", "all"}
    return not explicit or version in explicit


def _stored(session: Session, reader: Principal, query: Query) -> Page:
    table = ExchangeObject
    # what the reader's organisation sent (pushed) is not echoed back to it
    statement = select(table).where(visible(table, reader), table.owner_org_id != reader.org)
    if query.ids:
        statement = statement.where(table.stix_id.in_(sorted(query.ids)))
    if query.types:
        statement = statement.where(table.type.in_(sorted(query.types)))
    explicit = query.versions - {"first", "last", "all"}
    if explicit:
        statement = statement.where(table.version.in_(sorted(explicit)))
    if query.added_after is not None:
        statement = statement.where(table.date_added > query.added_after)
    if query.next is not None:
        at, ident = query.next
        statement = statement.where(
            or_(table.date_added > at, and_(table.date_added == at, table.stix_id > ident))
        )
    rows = session.scalars(statement.order_by(table.date_added, table.stix_id).limit(query.limit + 1)).all()
    entries = [Entry(r.date_added, r.stix_id, r.version, json.loads(r.body)) for r in rows[: query.limit]]
    return Page(entries, more=len(rows) > query.limit)


COMPUTED: dict[str, Callable[[Session, Principal], list[Entry]]] = {
    "registry": _registry_entries,
    "reports": _report_entries,
}


def collection(collection_id: str) -> Collection:
    """The collection of ``collection_id``, or ``NotFoundError``."""
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise NotFoundError(f"no collection {collection_id!r} on this server")
    return found


def read_page(session: Session, reader: Principal, collection_id: str, query: Query) -> Page:
    """A page of ``collection_id`` as ``reader`` may see it."""
    found = collection(collection_id)
    bind_principal(session, reader)  # PostgreSQL's row-level security reads it
    if found.key == "exchange":
        return _stored(session, reader, query)
    return _in_memory(COMPUTED[found.key](session, reader), query)
