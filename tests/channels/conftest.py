"""Fixtures of the channels tests: two organisations (GBR and KEN, as tests/factories.py
makes them), each user's keys generated once per session (Argon2id at its real cost is
0.15 s per lock: made once, published into each test's store), and helpers that do what
a client does (seal, open) beside the store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from detente.channels import keys as keyring
from detente.channels.client import Addressee, seal_message
from detente.channels.crypto import KeyPair, generate
from detente.channels.messages import create_conversation, recipients
from detente.core.workspace import Workspace
from detente.sharing.service import Sharing
from detente.store.service import Store
from tests import factories as f

PASSPHRASE = "a passphrase of the tests"
USERS = ("gbr-admin", "gbr-planner", "ken-admin", "ken-analyst")
SHARED = "UNCLASSIFIED//REL TO GBR, KEN"


@pytest.fixture(scope="session")
def user_keys() -> dict[str, tuple[KeyPair, dict[str, Any]]]:
    out = {}
    for name in USERS:
        pair = generate()
        out[name] = (pair, pair.published(name, PASSPHRASE))
    return out


def store_of(session: Any, username: str) -> Store:
    return Store(session, Sharing(session).principal(username))


@pytest.fixture
def world(ws: Workspace, user_keys: dict[str, tuple[KeyPair, dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    """Two organisations, every user's key published, and a conversation between them."""
    with ws.session() as session:
        f.two_organisations(session)
        for name in USERS:
            keyring.publish(store_of(session, name), user_keys[name][1])
        conv = create_conversation(
            store_of(session, "gbr-planner"), "Liaison", users=["ken-analyst", "gbr-admin"], marking=SHARED
        )
    yield {"ws": ws, "conversation": conv.id, "keys": {n: k for n, (k, _) in user_keys.items()}}


def seal(
    store: Store, pair: KeyPair, conversation: str, text: str, marking: str = SHARED, **kw: Any
) -> dict[str, Any]:
    """What the sender's client sends: sealed for every member who may read ``marking``."""
    to = [
        Addressee(r.username, r.fingerprint or "", r.box_public or "")
        for r in recipients(store, conversation, marking)
        if r.may_read and r.key_id and r.username != store.author
    ]
    return seal_message(
        pair, sender=store.author, conversation_id=conversation, marking=marking, to=to, text=text, **kw
    )


class FakeClock:
    """A clock the tests move by hand (the escalation loop reads it)."""

    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime.now(UTC)

    def __call__(self) -> Any:
        return self.now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)


@contextmanager
def channel_server(ws: Workspace, *, clock: Any = None, log_file: Any = None) -> Iterator[tuple[str, Any]]:
    """Serve ``ws`` on a free loopback port with the escalation loop on ``clock``; every
    log record (uvicorn's access log included) goes to ``log_file``. Yields (URL, app)."""
    import logging
    import threading
    import time

    import httpx
    import uvicorn

    from detente.server import create_app
    from tests.live import free_port

    app = create_app(workspace=ws)
    if clock is not None:
        app.state.channels_clock = clock
    app.state.channels_tick = 0.05
    port = free_port()
    # uvicorn configures logging when its Config is made: the file handler goes on after
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="info", access_log=True, timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    handler = logging.FileHandler(log_file) if log_file else None
    loggers = [logging.getLogger(n) for n in ("", "uvicorn", "uvicorn.access", "uvicorn.error", "detente")]
    if handler:
        for lg in loggers:
            lg.addHandler(handler)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):  # a readiness poll, not a timing assertion
        try:
            if httpx.get(f"{base}/api/v1/health").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    try:
        yield base, app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if handler:
            for lg in loggers:
                lg.removeHandler(handler)
            handler.close()


def token_of(ws: Workspace, username: str) -> str:
    with ws.session() as session:
        sharing = Sharing(session)
        secret, _ = sharing.issue_token(sharing.principal(username), name="test")
    return secret
