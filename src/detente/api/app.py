"""The HTTP application: the REST API under ``/api/v1`` and the web app at ``/``.

One process serves both over the same workspace and services. ``create_app``
opens the workspace (migrating it like every other entry point) and closes it
at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from detente import __version__
from detente.api import errors
from detente.api.assessment import router as assessment_router
from detente.api.planning import router as planning_router
from detente.api.registry import router as registry_router
from detente.api.relations import router as relations_router
from detente.api.sharing import router as sharing_router
from detente.api.vetting import router as vetting_router
from detente.core.errors import TooLargeError
from detente.core.settings import Settings
from detente.core.workspace import Workspace, open_workspace

__all__ = ["API_PREFIX", "create_app"]

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


def create_app(settings: Settings | None = None, *, workspace: Workspace | None = None) -> FastAPI:
    """The application over ``workspace`` (or the one ``settings`` names, opened at start-up)."""
    settings = settings or (workspace.settings if workspace else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if workspace is not None:
            app.state.workspace = workspace
            yield
            return
        with open_workspace(settings) as ws:
            app.state.workspace = ws
            yield

    app = FastAPI(
        title="detente",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served below from packaged assets, not a CDN
        redoc_url=None,
    )
    if workspace is not None:
        app.state.workspace = workspace
    errors.install(app)
    app.include_router(registry_router, prefix=API_PREFIX)
    app.include_router(sharing_router, prefix=API_PREFIX)
    app.include_router(relations_router, prefix=API_PREFIX)
    app.include_router(vetting_router, prefix=API_PREFIX)
    app.include_router(assessment_router, prefix=API_PREFIX)
    app.include_router(planning_router, prefix=API_PREFIX)

    @app.get(f"{API_PREFIX}/health", tags=["service"], operation_id="health", summary="Liveness")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    _docs(app)

    from detente.web import mount

    mount(app)
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)
    from detente.api.deps import SESSION_COOKIE

    app.add_middleware(SameOrigin, cookie=SESSION_COOKIE)
    return app
