"""Load on the REST API over loopback: mixed reads and writes by concurrent clients.

For each store (a SQLite workspace; a fresh PostgreSQL schema owned by an ordinary
role, so row-level security applies) this starts ``detente serve --workers N`` in its
own processes (N: this machine's cores, unless ``--workers``) and drives it from
``--generators`` separate load-generator processes (this script with ``--generate``, a
minimal asyncio HTTP client, ``Lean``), ``--clients`` keep-alive connections in all:

- the baseline: the health endpoint (no database, no authentication), driven the same
  way: the ceiling of this load generator and this server together on this machine;
- the mixed load: 60% list a page of 20 engagements (filtered by status), 20% get one
  by id, 15% create an engagement, 5% change one of their own (PATCH with If-Match).

Both loads are warmed up first; then ``--rounds`` rounds (5) of the two loads of
``--seconds`` each, the order flipping every round (health first, then the mixed load
first, ...). The generators are started before the clock and all begin at the same
instant; only requests completed before the deadline count (those in flight then are
neither in the throughput nor in the latency; a write acknowledged after it still
counts as acknowledged for the lost-write check). It reports the mixed load's
requests/s, the health endpoint's, the ratio per round (median, min-max), p50/p95/p99
latency, the error count (anything but the expected 2xx), the generators' own CPU use as
a share of the machine, and checks that no acknowledged write was lost: every 201 is in
the store afterwards and every acknowledged change left its version. It also says where
a request's CPU goes: the CPU seconds of the server's processes and of PostgreSQL's,
read from /proc at the start and end of each load, per request answered (Linux only),
and, once the server has stopped, what the same requests cost called straight into the
application in this process (``in_process.py``), with the floor under any database read.

Be fair to what it measures: the generators share the machine's cores with the server
(and, on PostgreSQL, the database). The ratio says how much of the capacity for the
cheapest request a real request keeps on this machine; it is not a throughput figure for
another machine.

    .venv/bin/python benchmarks/bench_api_load.py [--quick] [--seconds 10] [--clients 50]
        [--rounds 5] [--generators 2] [--workers N] [--stores sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import emit, spread, value_row
from in_process import figures_text
from in_process import measure as in_process

POSTGRES_URL = os.environ.get(
    "DETENTE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "benchmark password 2026"
SEED_ENGAGEMENTS = 2000
MARKINGS = ["UNCLASSIFIED//TLP:CLEAR", "SECRET//REL TO GBR", "CONFIDENTIAL//NOFORN"]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # of requests completed in time
    errors: dict[str, int] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)  # id -> acknowledged version
    late: int = 0  # completed after the deadline: not counted
    cpu: float = 0.0  # the generator's own CPU seconds during the load
    seconds: float = 0.0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


def seed(settings: Any) -> list[str]:
    """Two organisations, a planner, 50 state actors and some engagements to read."""
    from detente.core.workspace import create_workspace
    from detente.sharing.service import Sharing
    from detente.store.service import Store

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


def analyze(schema: str) -> None:
    """Vacuum the freshly seeded schema and gather the planner's statistics, as autovacuum
    does within a minute of a bulk load: without them PostgreSQL plans a page's count and
    links for empty tables, and the rounds before and after autovacuum's pass measure
    different plans (one quick run's mixed load ranged 189-391 requests a second)."""
    import psycopg

    with psycopg.connect(POSTGRES_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True) as db:
        db.execute(f'SET search_path = "{schema}"')
        db.execute("VACUUM (ANALYZE)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(server: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the server (``server`` and every process
    under it) and by PostgreSQL's processes, from /proc (Linux; NaN elsewhere). Taken around
    each load, they say where a request's CPU goes: the server's share against the database
    server's, which on one machine take from the same cores."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    stats: dict[int, tuple[int, str, float]] = {}  # pid -> (parent, name, seconds)
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = entry.read_text()
        except OSError:  # the process ended meanwhile
            continue
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        stats[int(entry.parent.name)] = (int(rest[1]), name, (int(rest[11]) + int(rest[12])) / tick)
    if not stats:
        return {"server": float("nan"), "database": float("nan")}
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    used, todo = 0.0, [server]
    while todo:  # the server and its workers (and anything they started)
        pid = todo.pop()
        used += stats[pid][2] if pid in stats else 0.0
        todo += children.get(pid, [])
    database = sum(seconds for _, name, seconds in stats.values() if name == "postgres")
    return {"server": used, "database": database}


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def start_server(settings: Any, port: int, log: Path, workers: int) -> subprocess.Popen[bytes]:
    import httpx

    env = {**os.environ, "DETENTE_DATABASE_URL": settings.database_url}
    cli = Path(sys.executable).with_name("detente")
    proc = subprocess.Popen(
        [str(cli), "--workspace", str(settings.workspace), "serve", "--port", str(port),
         "--workers", str(workers)],
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


class Lean:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: the load generator.

    It shares the machine's cores with the server, so it must cost little per request:
    httpx costs more CPU per request than the server's health endpoint does, which
    caps the baseline and flatters the ratio. It sends a request and reads the status
    line, the headers and a Content-Length body (what detente's API answers), and
    reconnects when the server closes the connection."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"{host}:{port}", **headers}.items())
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        data = b"" if body is None else json.dumps(body).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        if data:
            extra += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        request = f"{method} {path} HTTP/1.1\r\n{self.head}{extra}\r\n".encode() + data
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        try:
            async with asyncio.timeout(60):
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                payload = await reader.readexactly(int(length.group(1))) if length else b""
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            writer.close()
            self.streams = None
            raise
        if re.search(rb"(?i)\r\nconnection: *close", head):
            writer.close()
            self.streams = None
        return int(head[9:12]), payload

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()


async def request(
    http: Lean, tally: Tally, rng: random.Random, mixed: bool, actors: list[str], mine: list[str]
) -> tuple[str, int, bool]:
    """One request of the load: (method, status, whether it is the expected 2xx)."""
    roll = rng.random()
    if not mixed:
        status, _ = await http.send("GET", "/api/v1/health")
        return "GET", status, status == 200
    if roll < 0.60:
        page = urlencode({"status": "planned", "limit": 20, "offset": rng.randrange(0, 200)})
        status, _ = await http.send("GET", f"/api/v1/engagements?{page}")
        return "GET", status, status == 200
    if roll < 0.80 and mine:
        status, _ = await http.send("GET", f"/api/v1/engagements/{rng.choice(mine)}")
        return "GET", status, status == 200
    if roll < 0.95 or not mine:
        lead, partner = rng.sample(actors, 2)
        status, body = await http.send("POST", "/api/v1/engagements", {
            "title": f"Load {uuid.uuid4().hex[:8]}", "kind": "senior_visit", "lead_actor_id": lead,
            "partners": [partner], "start_date": "2027-03-01", "marking": "SECRET//REL TO GBR",
        })  # fmt: skip
        if status == 201:
            created = json.loads(body)["id"]
            mine.append(created)
            tally.created[created] = 1
        return "POST", status, status == 201
    target = rng.choice(mine)
    version = tally.created[target]
    status, body = await http.send(
        "PATCH", f"/api/v1/engagements/{target}", {"notes": f"edit {version}"}, {"If-Match": f'"v{version}"'}
    )
    if status == 200:
        tally.created[target] = json.loads(body)["version"]
    return "PATCH", status, status == 200


async def client(
    base: str,
    token: str | None,
    actors: list[str],
    until: float,
    tally: Tally,
    rng: random.Random,
    mixed: bool,
) -> None:
    address = urlsplit(base)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = Lean(address.hostname or "127.0.0.1", address.port or 80, headers)
    mine: list[str] = []
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            try:
                method, status, ok = await request(http, tally, rng, mixed, actors, mine)
            except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
                tally.error(type(exc).__name__)
                continue
            done = time.perf_counter()
            if done > until:  # in flight at the deadline: not part of this load's figures
                tally.late += 1
                continue
            tally.latencies.append(done - started)
            if not ok:
                tally.error(f"{method} {status}")
    finally:
        http.close()


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else float("nan")


def lost_writes(base: str, token: str, tally: Tally) -> int:
    """Acknowledged creates missing from the store, or acknowledged changes not there."""
    import httpx

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


def generate(argv: list[str]) -> None:
    """A load-generator process: ``--generate SPEC.json``; prints its tally as JSON."""
    spec = json.loads(Path(argv[0]).read_text())
    tally = Tally()
    asyncio.run(generator(spec, tally))
    print(json.dumps({
        "completed": len(tally.latencies), "latencies": tally.latencies, "errors": tally.errors,
        "created": tally.created, "late": tally.late, "cpu": tally.cpu,
    }))  # fmt: skip


async def generator(spec: dict[str, Any], tally: Tally) -> None:
    """Wait for the common start, then run the clients until the common deadline."""
    await asyncio.sleep(max(0.0, spec["start"] - time.time()))
    cpu = time.process_time()
    until = time.perf_counter() + spec["seconds"]
    await asyncio.gather(*(
        client(spec["base"], spec["token"], spec["actors"], until, tally, random.Random(spec["seed"] + i),
               spec["mixed"])
        for i in range(spec["clients"])
    ))  # fmt: skip
    tally.cpu = time.process_time() - cpu


def drive(
    base: str,
    token: str | None,
    actors: list[str],
    mixed: bool,
    seconds: float,
    args: argparse.Namespace,
    folder: Path,
    writes: dict[str, int],
    seed: int,
    server: int,
) -> dict[str, Any]:
    """One load from ``args.generators`` processes started together; their merged tally."""
    # the processes start (and import: about 0.1 s) before the clock; one that starts late
    # still runs its full ``seconds`` from its own start, so its rate is still right
    start = time.time() + 0.75
    procs = []
    for g in range(args.generators):
        spec = folder / f"spec-{g}.json"
        clients = args.clients // args.generators + (g < args.clients % args.generators)
        spec.write_text(json.dumps({
            "base": base, "token": token, "actors": actors, "mixed": mixed, "seconds": seconds,
            "clients": clients, "start": start, "seed": seed * 1000 + g * 100,
        }))  # fmt: skip
        procs.append(subprocess.Popen([sys.executable, __file__, "--generate", str(spec)],
                                      stdout=subprocess.PIPE, text=True))  # fmt: skip
    time.sleep(max(0.0, start - time.time()))
    before = cpu_seconds(server)
    time.sleep(max(0.0, start + seconds - time.time()))
    used = {k: v - before[k] for k, v in cpu_seconds(server).items()}
    merged: dict[str, Any] = {"completed": 0, "latencies": [], "errors": {}, "late": 0, "cpu": 0.0}
    for proc in procs:
        out, _ = proc.communicate(timeout=seconds + 120)
        part = json.loads(out.strip().splitlines()[-1])
        for key in ("completed", "late", "cpu"):
            merged[key] += part[key]
        merged["latencies"] += part["latencies"]
        for what, n in part["errors"].items():
            merged["errors"][what] = merged["errors"].get(what, 0) + n
        writes.update(part["created"])
    merged["rate"] = merged["completed"] / seconds
    # CPU milliseconds per request answered in the load (those in flight at its end used
    # some too, so this slightly overstates)
    merged["cpu_ms"] = {k: 1000 * v / max(1, merged["completed"]) for k, v in used.items()}
    # how busy the machine's cores were: the server, PostgreSQL and the generators
    merged["busy"] = (sum(v for v in used.values() if v == v) + merged["cpu"]) / (cores() * seconds)
    merged["seconds"] = seconds
    return merged


def measure(
    base: str, token: str, actors: list[str], args: argparse.Namespace, folder: Path, server: int
) -> dict[str, Any]:
    """Warm both loads up, then ``args.rounds`` rounds of both, the order flipping."""
    writes: dict[str, int] = {}
    warm = min(3.0, args.seconds / 2)
    warm_up = [drive(base, None, actors, False, warm, args, folder, writes, 1, server),
               drive(base, token, actors, True, warm, args, folder, writes, 2, server)]  # fmt: skip
    health, mixed = [], []
    for r in range(args.rounds):
        for is_mixed in (False, True) if r % 2 == 0 else (True, False):
            t = drive(base, token if is_mixed else None, actors, is_mixed, args.seconds, args, folder, writes,
                      10 + 2 * r + is_mixed, server)  # fmt: skip
            (mixed if is_mixed else health).append(t)
    return {"warm_up": warm_up, "health": health, "mixed": mixed, "writes": writes}


def run_store(store: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    import httpx

    from detente.core.db import drop_postgres_schema, provision_postgres_schema
    from detente.core.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        url = provision_postgres_schema(POSTGRES_URL, schema, "detente_app") if store == "postgresql" else ""
        try:
            settings = Settings(workspace=Path(tmp) / "ws", database_url=url)
            actors = seed(settings)
            if store == "postgresql":
                analyze(schema)
            port = free_port()
            log = Path(tmp) / "server.log"
            server = start_server(settings, port, log, args.workers)
            base = f"http://127.0.0.1:{port}"
            try:
                login = {"username": "bench-planner", "password": PASSWORD}
                token = httpx.post(f"{base}/api/v1/auth/token", json=login, timeout=60).json()["token"]
                result = measure(base, token, actors, args, Path(tmp), server.pid)
                writes = Tally(created=result["writes"])
                result["lost"] = lost_writes(base, token, writes)
            finally:
                server.terminate()
                server.wait(timeout=30)
            result["in_process"] = in_process(
                settings, PASSWORD, lambda: cpu_seconds(os.getpid())["database"], 300 if args.quick else 1000
            )
            if any(t["errors"] for t in (*result["warm_up"], *result["mixed"], *result["health"])):
                print(log.read_text()[-3000:], file=sys.stderr)
        finally:
            if store == "postgresql":
                drop_postgres_schema(POSTGRES_URL, schema)
    return report(store, args, result)


def report(store: str, args: argparse.Namespace, result: dict[str, Any]) -> list[dict[str, Any]]:
    health, mixed = result["health"], result["mixed"]
    latencies = [x for m in mixed for x in m["latencies"]]
    errors: dict[str, int] = {}
    for t in (*result["warm_up"], *health, *mixed):
        for what, n in t["errors"].items():
            errors[what] = errors.get(what, 0) + n
    late = sum(t["late"] for t in (*health, *mixed))
    writes = result["writes"]
    cpu = spread(100 * t["cpu"] / t["seconds"] / cores() for t in (*health, *mixed))
    name = {"sqlite": "SQLite", "postgresql": "PostgreSQL with RLS"}[store]
    mine = [{"seconds": m["rate"], "peak": 0} for m in mixed]
    base = [{"seconds": h["rate"], "peak": 0} for h in health]
    return [
        {**row_rate(f"{name}: mixed load, req/s", mine, base),
         "note": f"{args.clients} clients from {args.generators} generator processes, "
         f"{args.workers} server workers, "
         f"{args.rounds} x {args.seconds:.0f} s a load; the ratio is mixed / health; generators used "
         f"{cpu['median']:.0f}% of the machine (median)"},
        value_row(f"{name}: mixed-load latency",
                  f"p50 {pct(latencies, 50):.0f} ms, p95 {pct(latencies, 95):.0f} ms, "
                  f"p99 {pct(latencies, 99):.0f} ms",
                  f"{late} requests in flight at a deadline, not counted; errors {sum(errors.values())} "
                  f"{errors or ''}; acknowledged creates {len(writes):,}, versions {sum(writes.values()):,}, "
                  f"lost {result['lost']}"),
        cpu_row(name, store, health, mixed),
        value_row(f"{name}: CPU per request in one process",
                  figures_text(result["in_process"], store == "postgresql"),
                  "the same requests called straight into the application, no HTTP, no other process "
                  "(benchmarks/in_process.py), after a warm-up; PostgreSQL's CPU read from /proc; the last "
                  "figure is the floor under any request that reads the database"),
    ]  # fmt: skip


def cpu_row(
    name: str, store: str, health: list[dict[str, Any]], mixed: list[dict[str, Any]]
) -> dict[str, Any]:
    """Where a request's CPU goes (medians of the rounds): the server's processes and, on
    PostgreSQL, the database server's, which take from the same cores."""
    def ms(loads: list[dict[str, Any]], part: str) -> float:
        return statistics.median(t["cpu_ms"][part] for t in loads)

    def busy(loads: list[dict[str, Any]]) -> float:
        return 100 * statistics.median(t["busy"] for t in loads)

    server, base = ms(mixed, "server"), ms(health, "server")
    database = ms(mixed, "database") if store == "postgresql" else 0.0
    shown = f" + PostgreSQL {database:.2f} ms" if store == "postgresql" else ""
    return value_row(
        f"{name}: CPU per request",
        f"mixed load: server {server:.2f} ms{shown}; health endpoint: server {base:.2f} ms; "
        f"health / mixed {base / (server + database):.2f}; cores busy: mixed load "
        f"{busy(mixed):.0f}%, health {busy(health):.0f}%",
        "CPU seconds (user + system) of the server's processes and of PostgreSQL's, read from /proc "
        "at the start and end of each load, over the requests answered in it; medians of the rounds. "
        "Where both loads keep the cores busy, the throughput ratio follows health / mixed",
    )


def row_rate(what: str, mine: list[dict[str, Any]], base: list[dict[str, Any]]) -> dict[str, Any]:
    from harness import row

    return row(
        what, mine, base, "health endpoint (no database, no sign-in)", unit="req/s", higher_is_better=True
    )


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--generate":
        generate(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=None, help="length of each measured load (10; quick 4)"
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5, help="baseline and mixed load, the order flipping")
    parser.add_argument("--generators", type=int, default=2, help="load-generator processes")
    parser.add_argument("--workers", type=int, default=cores(), help="server processes (default: cores)")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    args.seconds = args.seconds or (3.0 if args.quick else 10.0)
    print(
        f"seeding {SEED_ENGAGEMENTS:,} engagements per store; server: `detente serve --workers "
        f"{args.workers}`; {args.generators} generator processes; {cores()} cores; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True,
    )  # fmt: skip
    rows = []
    for store in args.stores.split(","):
        rows += run_store(store.strip(), args)
    emit("api_load", f"the REST API over loopback, {SEED_ENGAGEMENTS:,} seeded engagements, "
         "detente serve in its own processes, load generators in theirs", rows)  # fmt: skip


if __name__ == "__main__":
    main()
