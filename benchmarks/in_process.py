"""CPU per request with no HTTP and no other process: bench_api_load's requests called
straight into detente's ASGI application, on the workspace that benchmark seeded.

Over HTTP, the server's CPU per request includes uvicorn parsing the request and the
load generators taking from the same cores. Here one process calls the application N
times for each kind of request and reads its own CPU time (and, on PostgreSQL, the CPU
time of the database server's processes, from /proc): what detente and its libraries
cost a request. Next to them is the floor under any request that reads the database: one
SQLAlchemy session that reads a page of 20 engagements and does nothing else.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

Headers = list[tuple[bytes, bytes]]
Call = Callable[[str, str, Headers, bytes], Awaitable[tuple[int, bytes]]]


def asgi_caller(app: Any) -> Call:
    """``call(method, path, headers, body) -> (status, body)`` straight into ``app``."""

    async def call(method: str, path: str, headers: Headers, body: bytes) -> tuple[int, bytes]:
        route, _, query = path.partition("?")
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": route, "raw_path": route.encode(), "root_path": "",
            "query_string": query.encode(), "headers": [(b"host", b"127.0.0.1"), *headers],
            "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 50000), "state": {},
        }  # fmt: skip
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    return call


async def _lifespan(app: Any, ready: asyncio.Event, stop: asyncio.Event) -> None:
    """Run the application's start-up (``ready`` once done) and, on ``stop``, its shutdown."""

    async def receive() -> dict[str, str]:
        if not ready.is_set():
            return {"type": "lifespan.startup"}
        await stop.wait()
        return {"type": "lifespan.shutdown"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            ready.set()
        elif message["type"] == "lifespan.startup.failed":
            raise RuntimeError(message.get("message", "the application did not start"))

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)


def measure(settings: Any, password: str, cpu: Callable[[], float], n: int) -> dict[str, dict[str, float]]:
    """Milliseconds of CPU per request of each kind, in this process (``server``) and in
    the database server (``database``, from ``cpu``), as the planner who seeded the data."""
    from detente.core.workspace import open_workspace
    from detente.server import create_app

    with open_workspace(settings) as ws:
        figures = asyncio.run(_measure(create_app(workspace=ws), password, cpu, n))
        figures["one SQLAlchemy session reading 20 rows"] = _floor(ws, cpu, n)
    return figures


async def _measure(app: Any, password: str, cpu: Callable[[], float], n: int) -> dict[str, dict[str, float]]:
    ready, stop = asyncio.Event(), asyncio.Event()
    life = asyncio.create_task(_lifespan(app, ready, stop))
    await ready.wait()
    call = asgi_caller(app)
    form = json.dumps({"username": "bench-planner", "password": password}).encode()
    status, body = await call("POST", "/api/v1/auth/token", [(b"content-type", b"application/json")], form)
    assert status == 201, body
    signed = [(b"authorization", f"Bearer {json.loads(body)['token']}".encode())]
    status, body = await call("GET", "/api/v1/engagements?limit=1", signed, b"")
    one = json.loads(body)["items"][0]["id"]
    rng = random.Random(11)

    def page() -> str:
        query = {"status": "planned", "limit": 20, "offset": rng.randrange(200)}
        return f"/api/v1/engagements?{urlencode(query)}"

    kinds: dict[str, Callable[[], str]] = {
        "health": lambda: "/api/v1/health",
        "a list of 20": page,
        "one record": lambda: f"/api/v1/engagements/{one}",
    }
    figures = {}
    for name, path in kinds.items():
        for _ in range(max(20, n // 10)):  # warm: the statements prepared, the caches filled
            status, body = await call("GET", path(), signed, b"")
            assert status == 200, (name, status, body[:300])
        database, started = cpu(), time.process_time()
        for _ in range(n):
            await call("GET", path(), signed, b"")
        figures[name] = {
            "server": 1000 * (time.process_time() - started) / n, "database": 1000 * (cpu() - database) / n,
        }  # fmt: skip
    stop.set()
    await life
    return figures


def _floor(ws: Any, cpu: Callable[[], float], n: int) -> dict[str, float]:
    from sqlalchemy import select

    from detente.registry.tables import Engagement

    rng = random.Random(12)
    query = select(Engagement.__table__).where(Engagement.status == "planned").order_by(Engagement.start_date)

    def read() -> None:
        with ws.session() as session:
            session.execute(query.limit(20).offset(rng.randrange(200))).all()

    for _ in range(max(20, n // 10)):
        read()
    database, started = cpu(), time.process_time()
    for _ in range(n):
        read()
    return {"server": 1000 * (time.process_time() - started) / n, "database": 1000 * (cpu() - database) / n}


def figures_text(figures: dict[str, dict[str, float]], postgres: bool) -> str:
    """``health 0.05 ms; a list of 20 1.72 ms (+ PostgreSQL 0.98 ms); ...``"""
    parts = []
    for name, f in figures.items():
        extra = f" + PostgreSQL {f['database']:.2f} ms" if postgres else ""
        parts.append(f"{name} {f['server']:.2f} ms{extra}")
    return "; ".join(parts)
