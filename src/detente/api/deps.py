"""Who is calling, and a unit of work on their behalf.

Two ways to authenticate, both resolved by the sharing service to the same
principal: an API token (``Authorization: Bearer``) and the web app's session
cookie, which holds a short-lived token issued at sign-in. A request that
changes something with the cookie must also carry the CSRF token (header
``X-CSRF-Token`` or form field ``csrf_token``), derived from the session secret
so a page of another site cannot know it. Routes never check markings
themselves: they receive a ``Store`` bound to the principal.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from detente.api.errors import Unauthenticated
from detente.core.errors import AuthError
from detente.core.markings import Principal
from detente.core.workspace import Workspace
from detente.sharing.service import Sharing, signed_in
from detente.store.service import Store

__all__ = ["CSRF_HEADER", "SESSION_COOKIE", "Credentials", "Unit", "credentials", "csrf_token", "unit"]

SESSION_COOKIE = "detente_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token: `detente tokens issue`, or POST /api/v1/auth/token.",
)
session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description="The web app's sign-in cookie; changes also need the X-CSRF-Token header.",
)


def csrf_token(session_secret: str) -> str:
    """The CSRF token that goes with a session: only a holder of the cookie can compute it."""
    return hmac.new(session_secret.encode(), b"detente-csrf-v1", hashlib.sha256).hexdigest()


def check_csrf(session_secret: str, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(sent, csrf_token(session_secret)):
        raise AuthError("missing or wrong CSRF token: reload the page and try again")


@dataclass(frozen=True)
class Credentials:
    secret: str
    via_cookie: bool


async def credentials(
    request: Request,
    token: HTTPAuthorizationCredentials | None = Security(bearer),
    cookie: str | None = Security(session_cookie),
) -> Credentials:
    if token is not None and token.credentials:
        return Credentials(token.credentials, via_cookie=False)
    if cookie:
        if request.method not in SAFE_METHODS:
            check_csrf(cookie, request.headers.get(CSRF_HEADER))
        return Credentials(cookie, via_cookie=True)
    raise Unauthenticated("sign in first: send 'Authorization: Bearer <token>' (see POST /api/v1/auth/token)")


@dataclass(frozen=True)
class Unit:
    """Opens one unit of work for the caller: commits when the route's ``with`` block
    ends without error, before the response is sent (so an acknowledged write is stored)."""

    workspace: Workspace
    credentials: Credentials
    write: bool

    @contextmanager
    def sharing(self, *, write: bool | None = None) -> Iterator[tuple[Sharing, Principal]]:
        """``write`` overrides the request method's guess (a GET that audits, like export)."""
        writing = self.write if write is None else write
        refused = lambda exc: Unauthenticated(exc.message)  # noqa: E731
        with signed_in(self.workspace, self.credentials.secret, write=writing, refused=refused) as unit:
            yield unit

    @contextmanager
    def registry(self, *, write: bool | None = None) -> Iterator[Store]:
        with self.sharing(write=write) as (sharing, principal):
            yield Store(sharing.session, principal)


async def workspace(request: Request) -> Workspace:
    return request.app.state.workspace  # type: ignore[no-any-return]


async def unit(
    request: Request,
    creds: Credentials = Depends(credentials),
    ws: Workspace = Depends(workspace),
) -> Unit:
    return Unit(ws, creds, write=request.method not in SAFE_METHODS)
