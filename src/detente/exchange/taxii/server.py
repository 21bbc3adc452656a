"""The TAXII 2.1 server, mounted at ``/taxii2/``: discovery, one API root (``detente``),
its collections, objects (``added_after`` paging, ``next``/``more``, the
``X-TAXII-Date-Added-First``/``-Last`` headers), one object, its versions, the manifest,
POST of an envelope to the ``exchange`` collection (a partner's push) and its status.

Every request authenticates as the API does, with a detente token of the partner's user
(``Authorization: Bearer <token>``; ``Token <token>`` is accepted too, as ``taxii2-client``
sends it), and reads only what the store's one access decision releases to that user.
Requests and responses are ``application/taxii+json;version=2.1``; errors are TAXII error
messages (``title``, ``description``, ``http_status``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from detente.core.errors import AuthError, DetenteError, NotFoundError, TooLargeError, ValidationError
from detente.core.markings import Principal
from detente.core.workspace import Workspace
from detente.exchange.taxii import objects as collections
from detente.exchange.taxii.ingest import receive
from detente.exchange.taxii.objects import MAX_PAGE, Page, Query, parse_next, parse_timestamp, timestamp
from detente.exchange.taxii.tables import Peer, PushStatus
from detente.sharing.units import signed_in
from detente.store.access import bind_principal
from detente.store.reads import now

__all__ = ["MEDIA_TYPE", "ROOT", "router"]

MEDIA_TYPE = "application/taxii+json;version=2.1"
PREFIX = "/taxii2"
ROOT = f"{PREFIX}/detente"
router = APIRouter(prefix=PREFIX, include_in_schema=False)


class TaxiiError(Exception):
    def __init__(self, status: int, title: str, description: str = "") -> None:
        super().__init__(title)
        self.status, self.title, self.description = status, title, description


def _respond(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _error(exc: TaxiiError) -> Response:
    body = {"title": exc.title, "description": exc.description, "http_status": str(exc.status)}
    extra = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return _respond(body, exc.status, extra)


def _accepts(request: Request) -> None:
    accept = request.headers.get("accept", "*/*").replace(" ", "").lower()
    if not any(a in accept for a in ("application/taxii+json", "*/*", "application/*")):
        raise TaxiiError(406, "Not Acceptable", f"this server answers {MEDIA_TYPE}")


def _secret(request: Request) -> str:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() not in ("bearer", "token") or not secret.strip():
        raise TaxiiError(401, "Unauthorized", "send 'Authorization: Bearer <token>' (a detente API token)")
    return secret.strip()


@contextmanager
def _caller(request: Request, *, write: bool = False) -> Iterator[tuple[Session, Principal]]:
    """The authenticated partner and a unit of work (committed when the block ends)."""
    _accepts(request)
    secret = _secret(request)
    ws: Workspace = request.app.state.workspace
    refused = lambda exc: TaxiiError(401, "Unauthorized", exc.message)  # noqa: E731
    with signed_in(ws, secret, write=write, refused=refused) as (sharing, principal):
        bind_principal(sharing.session, principal)  # PostgreSQL's row-level security reads it
        yield sharing.session, principal


def _as_taxii(exc: Exception) -> TaxiiError:
    if isinstance(exc, TaxiiError):
        return exc
    message = getattr(exc, "message", str(exc))
    if isinstance(exc, NotFoundError):
        return TaxiiError(404, "Not Found", message)
    if isinstance(exc, TooLargeError):
        return TaxiiError(413, "Request Entity Too Large", message)
    if isinstance(exc, AuthError):
        return TaxiiError(403, "Forbidden", message)
    return TaxiiError(400, "Bad Request", message)


def _guard(handler: Any) -> Any:
    """Turn detente's errors into TAXII error messages (the handler runs in the thread pool)."""
    import functools

    @functools.wraps(handler)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        try:
            return handler(*args, **kwargs)  # type: ignore[no-any-return]
        except (TaxiiError, DetenteError) as exc:
            return _error(_as_taxii(exc))

    return wrapped


@router.get("/")
@_guard
def discovery(request: Request) -> Response:
    with _caller(request):
        return _respond(
            {
                "title": "detente",
                "description": "Defense-diplomacy records and intelligence under markings, over TAXII 2.1.",
                "default": f"{ROOT}/",
                "api_roots": [f"{ROOT}/"],
            }
        )


@router.get("/detente/")
@_guard
def api_root(request: Request) -> Response:
    with _caller(request):
        limit = request.app.state.workspace.settings.max_upload_bytes
        return _respond(
            {
                "title": "detente",
                "description": "Collections of this detente instance.",
                "versions": [MEDIA_TYPE],
                "max_content_length": limit,
            }
        )


@router.get("/detente/collections/")
@_guard
def list_collections(request: Request) -> Response:
    with _caller(request):
        return _respond({"collections": [c.resource() for c in collections.COLLECTIONS.values()]})


@router.get("/detente/collections/{collection_id}/")
@_guard
def get_collection(request: Request, collection_id: str) -> Response:
    with _caller(request):
        return _respond(collections.collection(collection_id).resource())


def _query(request: Request, object_id: str | None = None) -> Query:
    params = request.query_params
    limit = params.get("limit", str(collections.DEFAULT_PAGE))
    if not limit.isdigit() or int(limit) < 1:
        raise ValidationError(f"limit {limit!r} is not a positive whole number", field="limit")

    def listed(name: str) -> frozenset[str]:
        return frozenset(v.strip() for v in params.get(name, "").split(",") if v.strip())

    after = params.get("added_after")
    cursor = params.get("next")
    return Query(
        added_after=parse_timestamp(after, "added_after") if after else None,
        next=parse_next(cursor) if cursor else None,
        limit=min(int(limit), MAX_PAGE),
        ids=frozenset({object_id}) if object_id else listed("match[id]"),
        types=listed("match[type]"),
        versions=listed("match[version]"),
    )


def _paged(body: dict[str, Any], page: Page) -> Response:
    headers = {}
    if page.entries:
        headers["X-TAXII-Date-Added-First"] = timestamp(page.entries[0].date_added)
        headers["X-TAXII-Date-Added-Last"] = timestamp(page.entries[-1].date_added)
    body["more"] = page.more
    if page.next:
        body["next"] = page.next
    return _respond(body, headers=headers)


def _read(request: Request, collection_id: str, object_id: str | None = None) -> Page:
    with _caller(request) as (session, reader):
        page = collections.read_page(session, reader, collection_id, _query(request, object_id))
    if object_id and not page.entries:
        raise NotFoundError(f"no object {object_id!r} in this collection for you")
    return page


@router.get("/detente/collections/{collection_id}/objects/")
@_guard
def get_objects(request: Request, collection_id: str) -> Response:
    page = _read(request, collection_id)
    return _paged({"objects": [e.body for e in page.entries]}, page)


@router.get("/detente/collections/{collection_id}/objects/{object_id}/")
@_guard
def get_object(request: Request, collection_id: str, object_id: str) -> Response:
    page = _read(request, collection_id, object_id)
    return _paged({"objects": [e.body for e in page.entries]}, page)


@router.get("/detente/collections/{collection_id}/objects/{object_id}/versions/")
@_guard
def get_versions(request: Request, collection_id: str, object_id: str) -> Response:
    page = _read(request, collection_id, object_id)
    return _paged({"versions": [e.version for e in page.entries]}, page)


@router.get("/detente/collections/{collection_id}/manifest/")
@_guard
def get_manifest(request: Request, collection_id: str) -> Response:
    page = _read(request, collection_id)
    rows = [
        {
            "id": e.id,
            "date_added": timestamp(e.date_added),
            "version": e.version,
            "media_type": "application/stix+json;version=2.1",
        }
        for e in page.entries
    ]
    return _paged({"objects": rows}, page)


@router.post("/detente/collections/{collection_id}/objects/")
async def add_objects(request: Request, collection_id: str) -> Response:
    try:
        raw = await request.body()
    except TooLargeError as exc:
        return _error(_as_taxii(exc))
    return await run_in_threadpool(_add_objects, request, collection_id, raw)


@_guard
def _add_objects(request: Request, collection_id: str, raw: bytes) -> Response:
    found = collections.collection(collection_id)
    if "application/taxii+json" not in request.headers.get("content-type", ""):
        raise TaxiiError(415, "Unsupported Media Type", f"send the envelope as {MEDIA_TYPE}")
    try:
        envelope = json.loads(raw)
    except ValueError as exc:
        raise ValidationError(f"the body is not JSON: {exc}", field="body") from None
    with _caller(request, write=True) as (session, partner):
        if not found.can_write:
            raise TaxiiError(403, "Forbidden", f"the {found.title} collection is read only: push to Exchange")
        origin = _origin(session, partner)
        received = receive(session, envelope, origin=origin, owner_org=partner.org, receiver=None)
        accepted = [*received.created, *received.updated, *received.unchanged, *received.skipped]
        stamp = now()
        status = {
            "id": str(uuid.uuid4()),
            "status": "complete",
            "request_timestamp": timestamp(stamp),
            "total_count": len(accepted),
            "success_count": len(accepted),
            "successes": [{"id": i} for i in accepted],
            "failure_count": 0,
            "pending_count": 0,
        }
        session.add(
            PushStatus(id=status["id"], owner_org_id=partner.org, created_at=stamp, body=json.dumps(status))
        )
    return _respond(status, 202)


def _origin(session: Session, partner: Principal) -> str:
    """The provenance of a push: the peer this partner's account belongs to, else the account."""
    name = session.scalar(select(Peer.name).where(Peer.partner_user == partner.user))
    return name or f"push:{partner.user}"


@router.get("/detente/status/{status_id}/")
@_guard
def get_status(request: Request, status_id: str) -> Response:
    with _caller(request) as (session, partner):
        row = session.get(PushStatus, status_id)
        if row is None or row.owner_org_id != partner.org:
            raise NotFoundError(f"no status {status_id!r} for you")
        return _respond(json.loads(row.body))
