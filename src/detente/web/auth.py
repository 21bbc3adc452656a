"""Signing in and out of the web app, and opening a unit of work for a page.

Signing in issues a short-lived API token (``DETENTE_SESSION_HOURS``) that lives
in an HttpOnly, SameSite cookie; signing out revokes it. Every form that changes
something carries the CSRF token derived from that secret (``api.deps``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from detente.api.deps import SESSION_COOKIE, check_csrf, csrf_token
from detente.core.errors import AuthError
from detente.core.workspace import Workspace
from detente.sharing.service import Sharing
from detente.sharing.units import signed_in
from detente.store.fields import Line
from detente.store.service import Store
from detente.web.render import Page

__all__ = ["SignInRequired", "opened", "router"]

router = APIRouter(include_in_schema=False)


class SignInRequired(Exception):
    """The page needs a signed-in user: the handler redirects to the sign-in page."""


def _ws(request: Request) -> Workspace:
    return request.app.state.workspace  # type: ignore[no-any-return]


@contextmanager
def opened(request: Request, *, write: bool = False, csrf: str | None = None) -> Iterator[tuple[Store, Page]]:
    """The registry and page of the signed-in viewer (raises ``SignInRequired``).

    ``csrf`` is the form's token; a page that changes something passes it and it is
    checked against the session before anything runs.
    """
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise SignInRequired
    if write:
        check_csrf(secret, csrf)
    with signed_in(_ws(request), secret, write=write, refused=lambda _: SignInRequired()) as (sharing, who):
        page = Page(request, who, sharing.coalitions(), csrf_token(secret))
        yield Store(sharing.session, who), page


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    return Page(request, None).render("login.html", next=_safe_next(next), error=None, username="")


@router.post("/login", response_model=None)
def login(
    request: Request,
    username: Annotated[Line, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[Line, Form(max_length=2000)] = "/",
) -> Response:
    ws = _ws(request)
    with ws.session(write=True) as session:  # failures are counted and audited: commit either way
        sharing = Sharing(session)
        outcome = sharing.attempt_login(username, password)
        if not isinstance(outcome, AuthError):
            secret, _ = sharing.issue_token(outcome, name="web", hours=ws.settings.session_hours)
    if isinstance(outcome, AuthError):
        return Page(request, None).render(
            "login.html", status_code=401, next=_safe_next(next), error=outcome.message, username=username
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=ws.settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=ws.settings.secure_cookies,
        path="/",
    )
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, csrf_token: Annotated[Line, Form(max_length=200)] = "") -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        check_csrf(secret, csrf_token)
        with _ws(request).session(write=True) as session:
            Sharing(session).revoke_secret(secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
