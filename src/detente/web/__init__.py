"""detente's web app: server-rendered pages over the same services as the API.

No third-party JavaScript: pages are HTML forms and links, charts are SVG rendered
on the server (``charts.py``), so the app works offline and without scripts.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from detente.web.auth import SignInRequired, login_redirect

__all__ = ["mount"]

STATIC = Path(__file__).with_name("static")


def _error_page(request: Request, status: int, code: str, message: str) -> Response:
    from detente.web.render import Page

    if status == 401:
        return login_redirect(request)
    return Page(request, None).render(
        "error.html", status_code=status, status=status, code=code, message=message
    )


def mount(app: FastAPI) -> None:
    """Add the web app's pages and static files to ``app``."""
    from detente.web import (
        admin,
        assessment,
        auth,
        channels,
        federation,
        pages,
        planning,
        records,
        relations,
        vetting,
        warning,
    )
    from detente.web import exchange as intel

    app.state.html_error = _error_page

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _exc: SignInRequired) -> RedirectResponse:
        return login_redirect(request)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> HTMLResponse:
        return HTMLResponse(status_code=204)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(auth.router)
    app.include_router(admin.router)
    app.include_router(relations.router)
    app.include_router(warning.router)
    app.include_router(vetting.router)
    app.include_router(federation.router)
    app.include_router(intel.router)
    app.include_router(assessment.router)
    app.include_router(planning.router)
    app.include_router(channels.router)
    app.include_router(records.router)
    app.include_router(pages.router)  # last: it ends with the catch-all for sections to come
