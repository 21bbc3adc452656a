"""Load on the REST API over loopback: mixed reads and writes by concurrent clients.

For each store (a SQLite workspace; a fresh PostgreSQL schema owned by an ordinary
role, so row-level security applies) this starts ``detente serve`` in its own process
and runs, from this process, ``--clients`` concurrent clients for ``--seconds``:

- 60% list a page of engagements (filtered by status), 20% get one by id,
- 15% create an engagement, 5% change one of their own (PATCH with If-Match).

It reports requests/s, p50/p95/p99 latency, the error count (anything but the
expected 2xx is an error) and checks that no acknowledged write was lost: every
201 is in the store afterwards and every acknowledged change left its version.
The baseline, run first against the same server with the same clients, is the
health endpoint (no database, no authentication): the mixed load's throughput is
reported as a ratio of it.

    .venv/bin/python benchmarks/bench_api_load.py [--seconds 60] [--clients 50] [--stores sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from detente.core.db import drop_postgres_schema, provision_postgres_schema
from detente.core.settings import Settings
from detente.core.workspace import create_workspace
from detente.sharing.service import Sharing
from detente.store.service import Store

POSTGRES_URL = os.environ.get(
    "DETENTE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "benchmark password 2026"
SEED_ENGAGEMENTS = 2000
MARKINGS = ["UNCLASSIFIED//TLP:CLEAR", "SECRET//REL TO GBR", "CONFIDENTIAL//NOFORN"]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)  # id -> acknowledged version

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def seed(settings: Settings) -> list[str]:
    """Two organisations, a planner, 50 state actors and some engagements to read."""
    with create_workspace(settings) as ws, ws.session() as session:
        sharing = Sharing(session)
        org = sharing.add_org("Ministry of Defence (bench)", "GBR", actor=None)
        sharing.add_user(
            "bench-admin", org.id, role="operator", clearances={"national": "TOP SECRET"},
            password=PASSWORD, actor=None,
        )  # fmt: skip
        admin = sharing.principal("bench-admin")
        sharing.add_user(
            "bench-planner",
            org.id,
            role="planner",
            clearances={"national": "SECRET"},
            password=PASSWORD,
            actor=admin,
        )
        reg = Store(session, sharing.principal("bench-planner"))
        from detente.core.countries import countries

        codes = sorted({c.iso3 for c in countries() if c.iso3})[:50]
        actors = [
            reg.create(
                "actors",
                {"name": f"State {c}", "kind": "state", "country": c, "marking": "UNCLASSIFIED//TLP:CLEAR"},
            ).id
            for c in codes
        ]
        rng = random.Random(7)
        for i in range(SEED_ENGAGEMENTS):
            lead, partner = rng.sample(actors, 2)
            reg.create("engagements", {
                "title": f"Seeded talks {i}", "kind": "defense_dialogue", "lead_actor_id": lead,
                "partners": [partner], "start_date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "status": rng.choice(["proposed", "planned", "approved"]),
                "marking": rng.choice(MARKINGS),
            })  # fmt: skip
        return actors


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(settings: Settings, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DETENTE_DATABASE_URL": settings.database_url}
    cli = Path(sys.executable).with_name("detente")
    proc = subprocess.Popen(
        [str(cli), "--workspace", str(settings.workspace), "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )  # fmt: skip
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


async def client(
    base: str,
    token: str | None,
    actors: list[str],
    until: float,
    tally: Tally,
    rng: random.Random,
    mixed: bool,
) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    mine: list[str] = []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        while time.perf_counter() < until:
            roll = rng.random()
            started = time.perf_counter()
            try:
                if not mixed:
                    r = await http.get("/api/v1/health")
                    ok = r.status_code == 200
                elif roll < 0.60:
                    page = {"status": "planned", "limit": 20, "offset": rng.randrange(0, 200)}
                    r = await http.get("/api/v1/engagements", params=page)
                    ok = r.status_code == 200
                elif roll < 0.80 and mine:
                    r = await http.get(f"/api/v1/engagements/{rng.choice(mine)}")
                    ok = r.status_code == 200
                elif roll < 0.95 or not mine:
                    lead, partner = rng.sample(actors, 2)
                    r = await http.post("/api/v1/engagements", json={
                        "title": f"Load {uuid.uuid4().hex[:8]}", "kind": "senior_visit",
                        "lead_actor_id": lead,
                        "partners": [partner], "start_date": "2027-03-01", "marking": "SECRET//REL TO GBR",
                    })  # fmt: skip
                    ok = r.status_code == 201
                    if ok:
                        mine.append(r.json()["id"])
                        tally.created[r.json()["id"]] = 1
                else:
                    target = rng.choice(mine)
                    version = tally.created[target]
                    r = await http.patch(f"/api/v1/engagements/{target}", json={"notes": f"edit {version}"},
                                         headers={"If-Match": f'"v{version}"'})  # fmt: skip
                    ok = r.status_code == 200
                    if ok:
                        tally.created[target] = r.json()["version"]
            except httpx.HTTPError as exc:
                tally.error(type(exc).__name__)
                continue
            tally.latencies.append(time.perf_counter() - started)
            if not ok:
                tally.error(f"{r.request.method} {r.status_code}")


async def load(
    base: str, token: str | None, actors: list[str], seconds: float, clients: int, mixed: bool
) -> Tally:
    tally = Tally()
    until = time.perf_counter() + seconds
    await asyncio.gather(
        *(client(base, token, actors, until, tally, random.Random(i), mixed) for i in range(clients))
    )
    return tally


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else float("nan")


def lost_writes(base: str, token: str, tally: Tally) -> int:
    """Acknowledged creates missing from the store, or acknowledged changes not there."""
    lost = 0
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        stored: dict[str, int] = {}
        offset = 0
        while True:
            page = http.get(
                "/api/v1/engagements", params={"q": "Load ", "limit": 1000, "offset": offset}
            ).json()
            stored.update({e["id"]: e["version"] for e in page["items"]})
            offset += len(page["items"])
            if not page["items"]:
                break
        for record_id, version in tally.created.items():
            lost += stored.get(record_id) != version
        lost += len(set(stored) - set(tally.created))  # a write stored but reported as failed
    return lost


def run_store(store: str, seconds: float, clients: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        url = provision_postgres_schema(POSTGRES_URL, schema, "detente_app") if store == "postgresql" else ""
        try:
            settings = Settings(workspace=Path(tmp) / "ws", database_url=url)
            actors = seed(settings)
            port = free_port()
            log = Path(tmp) / "server.log"
            server = start_server(settings, port, log)
            base = f"http://127.0.0.1:{port}"
            try:
                login = {"username": "bench-planner", "password": PASSWORD}
                token = httpx.post(f"{base}/api/v1/auth/token", json=login).json()["token"]
                warm = min(10.0, seconds / 4)
                baseline = asyncio.run(load(base, None, actors, warm, clients, mixed=False))
                tally = asyncio.run(load(base, token, actors, seconds, clients, mixed=True))
                lost = lost_writes(base, token, tally)
            finally:
                server.terminate()
                server.wait(timeout=30)
                if tally.errors if "tally" in locals() else False:
                    print(log.read_text()[-3000:], file=sys.stderr)
        finally:
            if store == "postgresql":
                drop_postgres_schema(POSTGRES_URL, schema)
    base_rps = len(baseline.latencies) / warm
    rps = len(tally.latencies) / seconds
    writes = sum(tally.created.values())
    print(
        f"{store:<11} {clients} clients x {seconds:.0f}s: {rps:,.0f} req/s "
        f"({rps / base_rps:.2f}x the health-endpoint baseline of {base_rps:,.0f} req/s); "
        f"latency p50 {pct(tally.latencies, 50):.0f} ms, p95 {pct(tally.latencies, 95):.0f} ms, "
        f"p99 {pct(tally.latencies, 99):.0f} ms; errors {sum(tally.errors.values())} {tally.errors or ''}; "
        f"acknowledged creates {len(tally.created):,}, acknowledged versions {writes:,}, lost {lost}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--stores", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"seeding {SEED_ENGAGEMENTS:,} engagements per store; server: `detente serve` in its own process")
    for store in args.stores.split(","):
        run_store(store.strip(), args.seconds, args.clients)


if __name__ == "__main__":
    main()
