"""The REST API under ``/api/v1``: its routers, error format, documentation and request
guards, installed into the application ``detente.server.create_app`` builds (the web
app shares the process, and is added there: the API never imports the web app)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from detente import __version__
from detente.api import errors
from detente.api.assessment import router as assessment_router
from detente.api.channels import router as channels_router
from detente.api.exchange import router as exchange_router
from detente.api.federation import router as federation_router
from detente.api.planning import router as planning_router
from detente.api.registry import router as registry_router
from detente.api.relations import router as relations_router
from detente.api.search import router as search_router
from detente.api.sharing import router as sharing_router
from detente.api.vetting import router as vetting_router
from detente.core.errors import TooLargeError
from detente.core.settings import Settings
from detente.exchange.taxii.server import router as taxii_router

__all__ = ["API_PREFIX", "DESCRIPTION", "install_api"]

API_PREFIX = "/api/v1"

DESCRIPTION = """\
The registry of defense engagements, agreements, actors, attachés and commitments,
under markings: every response holds only what is releasable to the caller.

Authenticate with `Authorization: Bearer <token>` (POST /api/v1/auth/token, or
`detente tokens issue`). Records carry an ETag (their version); send it back in
`If-Match` to change or delete one, and a stale one gets 412. Errors always have
the shape `{"error": {"code", "message", "field"?, "rows"?}}`.
"""


class BodyLimit:
    """Refuse request bodies over a size (by Content-Length, or while streaming)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            response = errors.error_response(
                413,
                "too_large",
                f"request body of {int(declared):,} bytes is over the limit of {self.limit:,}",
            )
            await response(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise TooLargeError(f"request body is over the limit of {self.limit:,} bytes")
            return message

        await self.app(scope, limited, send)


class LostConnection:
    """What a request that meets a lost database connection gets.

    A pooled PostgreSQL connection is tested before use only once it has been idle a while
    (``core.workspace.PING_IDLE_SECONDS``). One that the server dropped within that time (a
    restart, a killed backend) fails the request's first statement, and the pool then
    replaces every connection it holds. A GET or HEAD changes nothing, so it runs again, on a
    new connection, if nothing of its answer has been sent yet. A change is never repeated,
    since it may have been committed before the connection went: it gets 503 with an error
    that says to check before sending it again.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        read = scope["method"] in ("GET", "HEAD")
        received: list[Message] = []  # a read's request messages, to replay (no upload: small)
        started = False

        async def receiving() -> Message:
            message = await receive()
            if read:
                received.append(message)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(dict(scope), receiving, sending)
            return
        except DBAPIError as exc:
            if started or not exc.connection_invalidated:
                raise
        if not read:
            lost = errors.error_response(
                503,
                "unavailable",
                "the connection to the database was lost during this change: check whether it "
                "was made before sending it again",
            )
            await lost(scope, receive, send)
            return

        async def replay() -> Message:  # what the first attempt read, then the rest
            return received.pop(0) if received else await receive()

        await self.app(dict(scope), replay, send)


class SameOrigin:
    """Refuse a change sent by a page of another site: a second line behind the CSRF token.

    A browser names the page a request comes from in ``Origin`` (or, failing that,
    ``Referer``). A POST, PUT, PATCH or DELETE that carries the web app's session cookie,
    or goes to a web page rather than the API (the sign-in form has no session yet), must
    come from this server's own host; a request that names no origin (curl, the CLI, an
    API client with a token) is left to the CSRF token and the token check.
    """

    def __init__(self, app: ASGIApp, cookie: str) -> None:
        self.app = app
        self.cookie = cookie.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            headers = dict(scope.get("headers") or [])
            web = not scope["path"].startswith(API_PREFIX + "/")
            if web or self.cookie + b"=" in headers.get(b"cookie", b""):
                sender = headers.get(b"origin") or headers.get(b"referer")
                if sender is not None and not _same_host(sender, headers.get(b"host", b"")):
                    response = errors.error_response(
                        403, "cross_origin", "refused: the request came from a page of another site"
                    )
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _same_host(sender: bytes, host: bytes) -> bool:
    from urllib.parse import urlsplit

    try:
        netloc = urlsplit(sender.decode("latin-1")).netloc
    except ValueError:
        return False
    return bool(netloc) and netloc.lower() == host.decode("latin-1").lower()


def _docs(app: FastAPI) -> None:
    """Swagger UI for the API at /api/v1/docs, its assets from the fastapi-offline package."""
    import fastapi_offline
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    assets = Path(fastapi_offline.__file__).with_name("static")
    app.mount(f"{API_PREFIX}/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get(f"{API_PREFIX}/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{API_PREFIX}/openapi.json",
            title="detente API",
            swagger_js_url=f"{API_PREFIX}/docs-assets/swagger-ui-bundle.js",
            swagger_css_url=f"{API_PREFIX}/docs-assets/swagger-ui.css",
            swagger_favicon_url=f"{API_PREFIX}/docs-assets/favicon.png",
        )


def install_api(app: FastAPI, settings: Settings) -> None:
    """Add the REST API to ``app``: its error format, its routers, the health check, its
    documentation, and the request guards (body size, same origin for cookie changes, a lost
    database connection)."""
    errors.install(app)

    # First, and on the event loop: FastAPI tries routes in order, and after every other
    # router a liveness probe paid 0.35 ms to be matched and 0.3 ms more to be handed to a
    # worker thread (0.71 ms of CPU a call, now 0.06; docs/reference/benchmarks.md).
    @app.get(f"{API_PREFIX}/health", tags=["service"], operation_id="health", summary="Liveness")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    for router in (
        registry_router,
        sharing_router,
        relations_router,
        vetting_router,
        assessment_router,
        planning_router,
        search_router,
        exchange_router,
        federation_router,
        channels_router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(taxii_router)  # TAXII 2.1 at /taxii2/ (federation between instances)

    _docs(app)
    app.add_middleware(LostConnection)
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)
    from detente.api.deps import SESSION_COOKIE

    app.add_middleware(SameOrigin, cookie=SESSION_COOKIE)
