"""Sync with a peer over TAXII 2.1: ``pull`` what it releases to us, ``push`` what we may
release to it. The client is the stock ``taxii2-client`` library.

- **Pull** reads every readable collection of the peer's API root, a page at a time from
  where the last pull stopped (``added_after`` = the last ``X-TAXII-Date-Added-Last`` it
  answered), and stores the objects with their originator's marking and the peer as
  provenance (``detente.exchange.taxii.ingest``: idempotent, newer replaces older, a replay
  or a marking the peer may not assign refuses the pull). One transaction: a refused pull
  stores nothing. A response over ``MAX_RESPONSE_BYTES`` is refused while it is read.
- **Push** sends what the peer's own account here (``partner_user``) may read, chosen by
  the same collections the server serves it (the store's one access decision): so a
  received object goes on to a third peer only when its originator's marking names that
  peer. Objects that came from the peer itself are not echoed back.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from taxii2client.common import TokenAuth  # type: ignore[import-untyped]
from taxii2client.exceptions import TAXIIServiceException  # type: ignore[import-untyped]
from taxii2client.v21 import ApiRoot, as_pages  # type: ignore[import-untyped]

from detente.core import credentials
from detente.core.db import new_id
from detente.core.errors import ConflictError, NotFoundError, TooLargeError, ValidationError
from detente.core.markings import Principal
from detente.exchange.taxii import objects as collections
from detente.exchange.taxii.ingest import Received, receive
from detente.exchange.taxii.tables import ExchangeObject, Peer
from detente.sharing.service import Sharing
from detente.store.access import bind_principal, visible
from detente.store.reads import now
from detente.store.service import Store

__all__ = [
    "MAX_RESPONSE_BYTES",
    "PeerError",
    "SyncResult",
    "add_peer",
    "peers",
    "pull",
    "push",
    "received_by_origin",
    "remove_peer",
]

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
PAGE = 2_000  # objects per request
PUSH_BATCH = 2_000  # objects per POST


class PeerError(ValidationError):
    """The peer could not be reached or answered something unusable (nothing was stored)."""


@dataclass
class SyncResult:
    peer: str
    direction: str
    received: Received = field(default_factory=Received)
    sent: int = 0
    collections: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the CLI, the API and the peers page."""
        if self.direction == "push":
            return f"pushed {self.sent:,} objects to {self.peer}"
        read = ", ".join(self.collections) or "no collection"
        return f"pulled from {self.peer} ({read}): {self.received.summary()}"


# ------------------------------------------------------------------ peers
def peers(session: Session, principal: Principal) -> list[Peer]:
    """The peers of ``principal``'s organisation, by name."""
    bind_principal(session, principal)
    return list(session.scalars(select(Peer).where(Peer.owner_org_id == principal.org).order_by(Peer.name)))


def received_by_origin(session: Session, principal: Principal) -> dict[str, int]:
    """How many objects ``principal`` may read came from each origin (peer)."""
    bind_principal(session, principal)
    rows = session.execute(
        select(ExchangeObject.origin, func.count())
        .where(visible(ExchangeObject, principal))
        .group_by(ExchangeObject.origin)
    )
    return {origin: int(count) for origin, count in rows}


def peer(session: Session, principal: Principal, name: str) -> Peer:
    """The peer called ``name`` of ``principal``'s organisation."""
    bind_principal(session, principal)
    found = session.scalar(select(Peer).where(Peer.owner_org_id == principal.org, Peer.name == name))
    if found is None:
        known = ", ".join(p.name for p in peers(session, principal)) or "none yet: detente exchange add-peer"
        raise NotFoundError(f"no peer {name!r} (peers: {known})")
    return found


def add_peer(
    session: Session,
    principal: Principal,
    *,
    name: str,
    url: str,
    secret: str,
    username: str | None = None,
    partner_user: str | None = None,
) -> Peer:
    """Record a peer: its TAXII API root ``url``, the token (or with ``username``, the
    password) it gave us, and ``partner_user``, the account it reads as here (what we may
    push to it is what that account may read)."""
    store = Store(session, principal)
    store.require("admin", "add a peer")
    if not url.startswith(("http://", "https://")):
        raise ValidationError(f"{url!r} is not an http(s) URL of a TAXII API root", field="url")
    if not name.strip() or len(name) > 100:
        raise ValidationError("a peer needs a short name", field="name")
    if not secret or len(secret) > 300:
        raise ValidationError("a peer's token (or password) is 1 to 300 characters", field="token")
    if session.scalar(select(Peer.id).where(Peer.owner_org_id == principal.org, Peer.name == name)):
        raise ConflictError(f"there is already a peer called {name!r}")
    if partner_user is not None:
        account = Sharing(session).principal(partner_user)
        if account.org == principal.org:
            raise ValidationError(
                f"{partner_user} is one of your own users, not the peer's account", field="partner_user"
            )
    row = Peer(
        id=new_id(),
        owner_org_id=principal.org,
        name=name.strip(),
        url=url if url.endswith("/") else url + "/",
        username=username,
        secret="",
        partner_user=partner_user,
        created_at=now(),
    )
    session.add(row)
    store.record("peer", None, {"peer": row.name, "url": row.url, "partner_user": partner_user})
    row.secret = credentials.seal(session, secret)  # never in the database in clear
    return row


def remove_peer(session: Session, principal: Principal, name: str) -> None:
    """Forget a peer (what was received from it stays, with its provenance)."""
    store = Store(session, principal)
    store.require("admin", "remove a peer")
    session.delete(peer(session, principal, name))
    store.record("peer-removed", None, {"peer": name})


# ------------------------------------------------------------------ the wire
class _Wire:
    """taxii2-client's connection to a peer, with a size limit on every response and the
    ``X-TAXII-Date-Added-Last`` of each answer kept."""

    def __init__(self, session: Session, row: Peer, max_bytes: int) -> None:
        secret = credentials.unseal(session, row.secret)
        if not credentials.is_sealed(row.secret):  # stored before credentials were sealed
            row.secret = credentials.seal(session, secret)
        auth = {"user": row.username, "password": secret} if row.username else {"auth": TokenAuth(secret)}
        self.root = ApiRoot(row.url, **auth)
        self.max_bytes = max_bytes
        self.last_added: str | None = None
        self.root._conn.session.hooks["response"].append(self._hook)

    def _hook(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> requests.Response:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            limit = f"the limit of {self.max_bytes:,} bytes"
            raise TooLargeError(f"the peer's response of {int(declared):,} bytes is over {limit}")
        body = bytearray()
        for chunk in response.raw.stream(65536, decode_content=True):
            body += chunk
            if len(body) > self.max_bytes:
                response.close()
                raise TooLargeError(f"the peer's response is over the limit of {self.max_bytes:,} bytes")
        response._content = bytes(body)
        response._content_consumed = True
        self.last_added = response.headers.get("X-TAXII-Date-Added-Last") or self.last_added
        return response


def _guarded(peer_name: str, work: Callable[[], Any]) -> Any:
    """Run ``work``, turning the client library's failures into a ``PeerError`` naming the peer."""
    try:
        return work()
    except (TooLargeError, ValidationError):
        raise
    except requests.HTTPError as exc:
        detail = exc.response.text[:300] if exc.response is not None else ""
        raise PeerError(f"peer {peer_name}: {exc} {detail}".strip()) from None
    except (requests.ConnectionError, requests.Timeout):
        raise PeerError(
            f"peer {peer_name} does not answer (connection refused or timed out): check its URL "
            "with detente exchange peers"
        ) from None
    except (requests.RequestException, TAXIIServiceException, ValueError, KeyError) as exc:
        raise PeerError(f"peer {peer_name}: {type(exc).__name__}: {exc}") from None


# ------------------------------------------------------------------ pull
def _pages(wire: _Wire, collection: Any, after: str | None) -> Iterator[dict[str, Any]]:
    filters = {"added_after": after} if after else {}
    yield from as_pages(collection.get_objects, per_request=PAGE, **filters)


def pull(
    session: Session, principal: Principal, name: str, *, max_bytes: int = MAX_RESPONSE_BYTES,
    progress: Callable[[int], None] | None = None,
) -> SyncResult:  # fmt: skip
    """Pull from peer ``name`` what it releases to us (see the module). Raises with nothing
    stored when the peer misbehaves."""
    Store(session, principal).require("write", "pull from a peer")
    row = peer(session, principal, name)
    cursors: dict[str, str] = json.loads(row.cursor or "{}")
    wire = _Wire(session, row, max_bytes)
    result = SyncResult(row.name, "pull")
    for collection in _guarded(row.name, lambda: [c for c in wire.root.collections if c.can_read]):
        result.collections.append(collection.title)
        wire.last_added = None
        pages = _pages(wire, collection, cursors.get(collection.id))
        while (envelope := _guarded(row.name, functools.partial(next, pages, None))) is not None:
            got = receive(session, envelope, origin=row.name, owner_org=principal.org, receiver=principal)
            for outcome in ("created", "updated", "unchanged", "skipped"):
                getattr(result.received, outcome).extend(getattr(got, outcome))
            if progress:
                progress(len(envelope.get("objects", [])))
        if wire.last_added:
            cursors[collection.id] = wire.last_added
    _reports(session, principal, row.name, [*result.received.created, *result.received.updated])
    row.cursor = json.dumps(cursors)
    row.last_pull_at = now()
    row.last_result = result.summary()
    Store(session, principal).record("pull", None, {"peer": row.name, "stored": result.received.stored})
    return result


def _reports(session: Session, principal: Principal, origin: str, changed: list[str]) -> None:
    """Intelligence reports among the objects a pull stored become reports here (with the
    peer's markings, grading and provenance), through the reports slice's ``receive``."""
    from detente.exchange.service import Exchange
    from detente.exchange.stix import REPORT_EXTENSION_ID, report_from_stix

    ids = [i for i in changed if i.startswith("report--")]
    if not ids:
        return
    rows = session.scalars(
        select(ExchangeObject.body).where(ExchangeObject.type.in_(("report", "note", "marking-definition")))
    )
    bodies = [json.loads(b) for b in rows]
    definitions = [b for b in bodies if b["type"] == "marking-definition"]
    exchange = Exchange(Store(session, principal))
    for report in (b for b in bodies if b["id"] in ids):
        if REPORT_EXTENSION_ID not in (report.get("extensions") or {}):
            continue  # another kind of STIX report (an engagement): kept as STIX only
        notes = [b for b in bodies if b["type"] == "note" and report["id"] in b.get("object_refs", [])]
        exchange.receive(report_from_stix([report, *notes, *definitions], origin), origin)


# ------------------------------------------------------------------ push
def releasable_to(
    session: Session, partner: Principal, *, skip_origin: str | None = None
) -> Iterator[dict[str, Any]]:
    """Every object ``partner`` may read here, from every collection (what the server
    would give it), less what came from ``skip_origin``."""
    skipped: set[str] = set()
    if skip_origin:
        skipped = set(
            session.scalars(select(ExchangeObject.stix_id).where(ExchangeObject.origin == skip_origin))
        )
    for collection_id in collections.COLLECTIONS:
        query = collections.Query(limit=collections.MAX_PAGE)
        while True:
            page = collections.read_page(session, partner, collection_id, query)
            yield from (e.body for e in page.entries if e.id not in skipped)
            if not page.more:
                break
            query = collections.Query(
                limit=collections.MAX_PAGE, next=collections.parse_next(page.next or "")
            )


def push(session: Session, principal: Principal, name: str) -> SyncResult:
    """Push to peer ``name`` what its account here may read (see the module)."""
    Store(session, principal).require("export", "push to a peer")
    row = peer(session, principal, name)
    if not row.partner_user:
        raise ValidationError(
            f"peer {name} has no account here (add-peer --partner-user): what may be pushed to a peer "
            "is what its account may read",
            field="partner_user",
        )
    partner = Sharing(session).principal(row.partner_user)
    wire = _Wire(session, row, MAX_RESPONSE_BYTES)
    target = _guarded(row.name, lambda: next((c for c in wire.root.collections if c.can_write), None))
    if target is None:
        raise PeerError(f"peer {name} offers no collection we may write to")
    result = SyncResult(row.name, "push", collections=[target.title])
    objects = releasable_to(session, partner, skip_origin=row.name)
    while batch := list(itertools.islice(objects, PUSH_BATCH)):
        envelope = json.dumps({"objects": batch})
        send = functools.partial(target.add_objects, envelope, wait_for_completion=False)
        status = _guarded(row.name, send)
        if getattr(status, "failure_count", 0):
            raise PeerError(f"peer {name} refused {status.failure_count} objects: {status.failures[:3]}")
        result.sent += len(batch)
    bind_principal(session, principal)  # the partner's reads rebound it
    row.last_push_at = now()
    row.last_result = result.summary()
    Store(session, principal).record(
        "push", None, {"peer": row.name, "sent": result.sent, "as": row.partner_user}
    )
    return result
