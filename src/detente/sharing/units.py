"""Units of work on behalf of a token's holder: who is calling, then the work.

The API, the web app and the TAXII server open one of these per request
(``signed_in``); a change on SQLite learns who is calling first, in a unit of its own
(``identified``), before it queues for the one writer's lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from detente.core.errors import AuthError
from detente.core.markings import Principal
from detente.core.workspace import Workspace
from detente.sharing.service import Sharing

__all__ = ["identified", "signed_in"]


def identified(
    workspace: Workspace, secret: str, refused: Callable[[AuthError], Exception]
) -> tuple[Principal, str | None]:
    """Who holds the token, read in a unit of its own (``Sharing.identify``): what a change
    learns before it queues for the write lock (``signed_in``'s ``known``)."""
    with workspace.session() as session:
        try:
            return Sharing(session).identify(secret)
        except AuthError as exc:
            raise refused(exc) from None


@contextmanager
def signed_in(
    workspace: Workspace,
    secret: str,
    *,
    write: bool,
    refused: Callable[[AuthError], Exception],
    known: tuple[Principal, str | None] | None = None,
) -> Iterator[tuple[Sharing, Principal]]:
    """A unit of work on behalf of a token's holder (a bad token raises ``refused(error)``;
    errors inside the unit pass through as they are).

    Who is calling is read before a writing unit queues for the write lock (SQLite has one
    writer at a time; PostgreSQL one at a time at the audit trail's end), so the lock is held
    for the change alone; the token's last use is recorded inside the change. A token revoked
    between the two counts from the next request, as one revoked during a request does.
    ``known``: what ``identified`` read for this change just before (the server reads it on
    its event loop, then hands the change to a thread). On PostgreSQL, whose changes wait for
    each other only at the audit trail's end, a change reads it inside its own unit (one unit,
    not two, and the principal bound by the same statement: ``Sharing.identify``)."""
    if not write or (known is None and workspace.is_postgres):
        with workspace.session(write=write) as session:
            sharing = Sharing(session)
            try:
                principal, stale = sharing.identify(secret)
            except AuthError as exc:
                raise refused(exc) from None
            if write and stale is not None:
                sharing.touch_token(stale)
            yield sharing, principal
            return
    principal, stale = known or identified(workspace, secret, refused)
    with workspace.session(write=True) as session:
        sharing = Sharing(session)
        if stale is not None:
            sharing.touch_token(stale)
        yield sharing, principal
