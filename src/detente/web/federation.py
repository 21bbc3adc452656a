"""The federation page (/federation): your organisation's TAXII 2.1 peers, their last pull
and push and what each has sent (provenance), a pull or push now, and adding a peer
(administrators). The rules are in ``detente.exchange.sync``, the same as the CLI's and the API's."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from detente.core.errors import DetenteError
from detente.core.markings import parse
from detente.web.auth import opened

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
FIELDS = ("name", "url", "token", "username", "partner_user")


def _page(
    request: Request, *, status_code: int = 200, error: str | None = None, **extra: Any
) -> HTMLResponse:
    from detente.exchange import sync
    from detente.exchange.taxii.tables import ExchangeObject
    from detente.store.access import visible

    with opened(request) as (store, page):
        held = sync.received_by_origin(store.session, store.principal)
        # the counts derive from the received objects: the page carries their markings
        banners = store.session.scalars(
            select(ExchangeObject.marking).where(visible(ExchangeObject, store.principal)).distinct()
        )
        page.markings.extend(parse(b) for b in banners)
        return page.render(
            "federation.html", status_code=status_code, peers=sync.peers(store.session, store.principal),
            held=held, error=error, done=request.query_params.get("done"), values=extra.get("values", {}),
            root=str(request.base_url).rstrip("/") + "/taxii2/detente/",
        )  # fmt: skip


@router.get("/federation", response_class=HTMLResponse)
def federation_page(request: Request) -> HTMLResponse:
    return _page(request)


@router.post("/federation/sync", response_model=None)
async def federation_sync(request: Request) -> Response:
    """Pull from, or push to, a peer now."""
    from detente.exchange import sync

    form = await request.form()
    peer, direction = str(form.get("peer", "")), str(form.get("direction", ""))
    try:
        with opened(request, write=True, csrf=str(form.get("csrf_token", ""))) as (store, _):
            run = sync.pull if direction == "pull" else sync.push
            result = run(store.session, store.principal, peer)
    except DetenteError as exc:
        return _page(request, status_code=422, error=f"{direction} {peer}: {exc.message}")
    return RedirectResponse(f"/federation?done={result.summary()}", status_code=303)


@router.post("/federation/peers", response_model=None)
async def federation_add_peer(request: Request) -> Response:
    """Add a peer (administrators)."""
    from detente.exchange import sync

    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in FIELDS}
    try:
        with opened(request, write=True, csrf=str(form.get("csrf_token", ""))) as (store, _):
            optional = {k: values[k] or None for k in ("username", "partner_user")}
            sync.add_peer(
                store.session,
                store.principal,
                name=values["name"],
                url=values["url"],
                secret=values["token"],
                **optional,
            )
    except DetenteError as exc:
        shown = {k: v for k, v in values.items() if k != "token"}
        return _page(request, status_code=422, error=exc.message, values=shown)
    return RedirectResponse(f"/federation?done=peer {values['name']} added", status_code=303)
