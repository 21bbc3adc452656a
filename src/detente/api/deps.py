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

import asyncio
import contextlib
import contextvars
import hashlib
import hmac
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread
from fastapi import Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from detente.api.errors import Unauthenticated
from detente.core.errors import AuthError
from detente.core.markings import Principal
from detente.core.workspace import Workspace
from detente.sharing.service import Sharing
from detente.sharing.units import identified, signed_in
from detente.store.service import Store

__all__ = [
    "CSRF_HEADER",
    "INLINE_ROWS",
    "SESSION_COOKIE",
    "Credentials",
    "Unit",
    "credentials",
    "csrf_token",
    "unit",
]

SESSION_COOKIE = "detente_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")
INLINE_ROWS = 100  # a page of up to this many records is read on the event loop (Unit.run)
_writers: _Writer | None = None  # made (its thread started) by the first change a process serves

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


def credentials(
    request: Request, token: HTTPAuthorizationCredentials | None, cookie: str | None
) -> Credentials:
    """The caller's token (``Authorization: Bearer``) or, failing that, the sign-in cookie
    (a change with it must carry the CSRF token too)."""
    if token is not None and token.credentials:
        return Credentials(token.credentials, via_cookie=False)
    if cookie:
        if request.method not in SAFE_METHODS:
            check_csrf(cookie, request.headers.get(CSRF_HEADER))
        return Credentials(cookie, via_cookie=True)
    raise Unauthenticated("sign in first: send 'Authorization: Bearer <token>' (see POST /api/v1/auth/token)")


def _refused(exc: AuthError) -> Exception:
    return Unauthenticated(exc.message)


@dataclass(frozen=True)
class Unit:
    """Opens one unit of work for the caller: commits when the route's ``with`` block
    ends without error, before the response is sent (so an acknowledged write is stored)."""

    workspace: Workspace
    credentials: Credentials
    write: bool
    known: list[tuple[Principal, str | None]] = field(default_factory=list)  # see run

    @contextmanager
    def sharing(self, *, write: bool | None = None) -> Iterator[tuple[Sharing, Principal]]:
        """``write`` overrides the request method's guess (a GET that audits, like export)."""
        writing = self.write if write is None else write
        known = self.known.pop() if writing and self.known else None
        with signed_in(
            self.workspace, self.credentials.secret, write=writing, refused=_refused, known=known
        ) as unit:
            yield unit

    @contextmanager
    def registry(self, *, write: bool | None = None) -> Iterator[Store]:
        with self.sharing(write=write) as (sharing, principal):
            yield Store(sharing.session, principal)

    async def run(self, work: Callable[[], T], *, small: bool = True) -> T:
        """Run a route's ``work`` (which opens this unit) where it costs least.

        A small read (a record, a page of up to ``INLINE_ROWS``) runs on the event loop
        itself: it holds no lock and never waits for one (SQLite's readers do not wait in WAL
        mode; PostgreSQL's answer a page in a few milliseconds), and a hand-over to a worker
        thread cost more than the read: the threads of a process contend for the GIL (a page
        of 20 took 2.7-2.9 ms of the server's CPU inline, 4.3-7.2 ms from the thread pool; on
        PostgreSQL the mixed load of bench_api_load came to 205-216 requests a second with
        reads inline, 107-124 with them in the pool). A large read goes to the thread pool,
        so the loop serves others meanwhile. A change (on SQLite, after reading who is calling
        on the loop) queues for this process's one writer thread (``_Writer``), which takes each change as
        the last is done: changes are one at a time anyway (SQLite has one writer; PostgreSQL
        serialises them at the audit trail's end), and one thread does not contend with the
        others for the GIL (PostgreSQL: 165 mixed requests a second against 126 with the
        changes in the thread pool)."""
        if not self.write and small:
            self.workspace.let_writer_finish()
            return work()
        global _writers
        if not self.write:
            return await anyio.to_thread.run_sync(work)
        if _writers is None:
            _writers = _Writer()
        if not self.workspace.is_postgres:
            # who is calling: a small read, on the loop, before the change queues for SQLite's
            # one writer (PostgreSQL's changes read it in their own unit: ``signed_in``)
            self.workspace.let_writer_finish()
            self.known.append(identified(self.workspace, self.credentials.secret, _refused))
        return await _writers.submit(work)


_Job = tuple[contextvars.Context, Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


class _Writer:
    """One thread per server process that makes the SQLite changes, one after the other, as
    they queue: it takes the next as soon as one is done, without waiting for the event loop
    (busy with reads) to hand it over, so the database's writers' lock is seldom idle."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="detente-writer", daemon=True).start()

    async def submit(self, work: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        self.queue.put((contextvars.copy_context(), work, loop, done))
        return await done

    def _serve(self) -> None:
        while True:
            context, work, loop, done = self.queue.get()
            try:
                result, error = context.run(work), None
            except BaseException as exc:  # handed to the request that asked for it
                result, error = None, exc
            with contextlib.suppress(RuntimeError):  # RuntimeError: that loop has stopped
                loop.call_soon_threadsafe(_settle, done, result, error)


def _settle(done: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if done.done():  # the request was cancelled (its client went away): the change stands
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)


async def workspace(request: Request) -> Workspace:
    return request.app.state.workspace  # type: ignore[no-any-return]


async def unit(
    request: Request,
    token: HTTPAuthorizationCredentials | None = Security(bearer),
    cookie: str | None = Security(session_cookie),
) -> Unit:
    """The route's unit of work for its caller: one dependency (each FastAPI resolves costs
    a request more than reading the two headers)."""
    return Unit(
        request.app.state.workspace,
        credentials(request, token, cookie),
        write=request.method not in SAFE_METHODS,
    )
