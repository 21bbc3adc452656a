"""Where the API runs a unit of work (``Unit.run``): small reads on the event loop, every
change on the process's one writer thread, and a writer that has the process to itself."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from detente.api.deps import Credentials, Unit
from detente.api.errors import Unauthenticated
from detente.core.errors import ConflictError
from detente.core.workspace import Workspace
from detente.sharing.service import Sharing
from tests import factories as f


@pytest.fixture
def secret(ws: Workspace) -> str:
    with ws.session() as session:
        f.two_organisations(session)
        sharing = Sharing(session)
        token, _ = sharing.issue_token(sharing.principal("gbr-planner"))
    return token


def _where(unit: Unit, **kw: Any) -> tuple[str, str]:
    """The thread a unit's work ran on, and whom it ran for."""

    def work() -> tuple[str, str]:
        with unit.sharing() as (_, principal):
            return threading.current_thread().name, principal.user

    async def main() -> tuple[str, str]:
        return await unit.run(work, **kw)

    return asyncio.run(main())


def test_small_reads_run_on_the_loop_and_changes_elsewhere(ws: Workspace, secret: str) -> None:
    caller = Credentials(secret, via_cookie=False)
    here = threading.current_thread().name  # asyncio.run's loop runs on this thread
    assert _where(Unit(ws, caller, write=False)) == (here, "gbr-planner")
    big = _where(Unit(ws, caller, write=False), small=False)
    assert big[0] not in (here, "detente-writer") and big[1] == "gbr-planner"  # the thread pool
    assert _where(Unit(ws, caller, write=True)) == ("detente-writer", "gbr-planner")


def test_a_change_reports_its_error_and_a_bad_token_is_refused_before_it_changes_anything(
    ws: Workspace, secret: str
) -> None:
    """On SQLite a bad token is refused on the loop, before the change queues for the one
    writer; on PostgreSQL in the change's own unit, before the route's work inside it."""
    unit = Unit(ws, Credentials(secret, via_cookie=False), write=True)

    def clash() -> None:
        with unit.sharing():
            raise ConflictError("taken")

    with pytest.raises(ConflictError, match="taken"):
        asyncio.run(unit.run(clash))
    ran: list[str] = []
    stranger = Unit(ws, Credentials("dtt_not-a-token", via_cookie=False), write=True)

    def change() -> None:
        ran.append("called")
        with stranger.sharing():
            ran.append("inside")

    with pytest.raises(Unauthenticated):
        asyncio.run(stranger.run(change))
    assert ran == ([] if not ws.is_postgres else ["called"])  # never "inside"


def test_a_read_lets_this_process_writer_finish_first(ws: Workspace) -> None:
    """While a thread holds SQLite's writers' lock, ``let_writer_finish`` waits for it (and
    says so when its time runs out); once the change commits it returns at once."""
    if ws.is_postgres:
        assert ws.let_writer_finish(timeout=0)  # PostgreSQL: no process-wide writer
        return
    inside, leave = threading.Event(), threading.Event()

    def writer() -> None:
        with ws.session(write=True):
            inside.set()
            leave.wait()

    thread = threading.Thread(target=writer)
    thread.start()
    inside.wait()
    assert ws.let_writer_finish(timeout=0.01) is False  # still writing
    leave.set()
    thread.join()
    assert ws.let_writer_finish(timeout=0) is True
