"""A real HTTP server on loopback for tests: uvicorn serving detente's app in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from detente.core.workspace import Workspace
from detente.server import create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(ws: Workspace, app: Any = None) -> Iterator[str]:
    """Serve ``ws`` (or ``app``, made on it) on 127.0.0.1 at a free port; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app or create_app(workspace=ws), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):  # wait for it to listen (not a timing assertion: a readiness poll)
        try:
            if httpx.get(f"{base}/api/v1/health").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    else:
        raise RuntimeError("the test server did not start")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_for(predicate: Callable[[], bool], what: str) -> None:
    """Poll for something a server does in the background (10 s at most; not a timed assertion)."""
    for _ in range(400):
        if predicate():
            return
        time.sleep(0.025)
    raise AssertionError(f"never happened: {what}")
