"""Secure channels' live delivery (#15): 200 clients connected by server-sent events, 10
sealed messages a second for 60 s, each to a group of 10 (so 9 deliveries a message);
delivered count (0 lost) and delivery latency p50/p95/p99, against a bare SSE echo server
measured in the same run with the same clients and the same bodies.

How it is fair: both servers run as their own process (one uvicorn worker each) on
loopback; the clients (one asyncio process: 200 event streams and the sender) are the same
code for both sides. The messages are sealed before the clock starts (sealing is the
sender's client's work, not the server's), so both servers receive the same bytes. A
message's latency runs from the moment its POST starts to the moment a recipient's stream
yields its event; a message not delivered within 10 s of the last send counts as lost.

What the baseline does not do (said next to the ratio): the echo parses the body and
pushes each copy to its recipient's stream; detente also authenticates the sender,
verifies every copy's Ed25519 signature against the sender's published key, checks the
recipients' keys and markings, stores ciphertext and metadata in SQLite, appends the send
to the audit chain, and records every delivery in the audit trail.

The users' keys are generated per user; the locked private halves the workspace holds are
random stand-ins of the right shape (nothing here unlocks them, and locking 200 keys
with Argon2id would add 30 s of setup). The workspace is built once and copied per run.

    .venv/bin/python benchmarks/channels.py            # 5 rounds of 60 s per side
    .venv/bin/python benchmarks/channels.py --quick    # 5 rounds of 5 s per side
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import alternate, child_main, emit, quick, row, value_row

CLIENTS = 200
GROUP = 10  # members per conversation: each message reaches 9 streams
RATE = 10  # messages a second
SECONDS = 5 if quick() else 60  # quick: 50 messages, 450 deliveries a run
GRACE = 10.0  # seconds after the last send before a missing delivery counts as lost
MARKING = "UNCLASSIFIED"  # the users are of one organisation: its own records


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ the workspace, once
def build(folder: Path) -> None:
    """A workspace with CLIENTS users in groups of GROUP, their keys published, a token each,
    and every message of the run sealed in advance (``plan.json``)."""
    import nacl.utils

    from detente.channels.client import Addressee, seal_message
    from detente.channels.crypto import b64, generate
    from detente.channels.keys import publish
    from detente.channels.messages import create_conversation
    from detente.core.settings import Settings
    from detente.core.workspace import create_workspace
    from detente.sharing.service import Sharing
    from detente.store.service import Store

    ws = create_workspace(Settings(workspace=folder / "ws"))
    names = [f"user{i:03d}" for i in range(CLIENTS)]
    pairs = {n: generate() for n in names}
    tokens: dict[str, str] = {}
    groups: list[tuple[str, list[str]]] = []
    with ws.session() as session:
        sharing = Sharing(session)
        org = sharing.add_org("Bench Ministry", "GBR", actor=None)
        sharing.add_user(
            "bench-admin",
            org.id,
            role="operator",
            clearances={"national": "SECRET"},
            password=None,
            actor=None,
        )
        boss = sharing.principal("bench-admin")
        for n in names:
            sharing.add_user(
                n, org.id, role="planner", clearances={"national": "RESTRICTED"}, password=None, actor=boss
            )
        for n in names:
            who = sharing.principal(n)
            tokens[n] = sharing.issue_token(who, name="bench", days=2)[0]
            locked = {
                "kdf": "argon2id13",
                "opslimit": 2,
                "memlimit": 64 << 20,
                "salt": b64(nacl.utils.random(16)),
                "nonce": b64(nacl.utils.random(24)),
                "ciphertext": b64(nacl.utils.random(80)),
            }
            claim = json.dumps(
                ["detente-channels/1", "key", n, b64(pairs[n].sign_public), b64(pairs[n].box_public)],
                separators=(",", ":"),
            ).encode()
            body = {
                "box_public": b64(pairs[n].box_public),
                "sign_public": b64(pairs[n].sign_public),
                "self_signature": b64(pairs[n].sign.sign(claim).signature),
                "locked": locked,
            }
            publish(Store(session, who), body)
        for g in range(CLIENTS // GROUP):
            members = names[g * GROUP : (g + 1) * GROUP]
            conv = create_conversation(
                Store(session, sharing.principal(members[0])), f"group {g}", users=members, marking=MARKING
            )
            groups.append((conv.id, members))
    ws.close()
    fingerprints = {n: pairs[n].fingerprint for n in names}
    messages = []
    body_text = "x" * 400  # a short message: about what a hotline call says
    for i in range(RATE * SECONDS):
        conv, members = groups[i % len(groups)]
        sender = members[(i // len(groups)) % GROUP]
        to = [
            Addressee(m, fingerprints[m], base64.b64encode(pairs[m].box_public).decode())
            for m in members
            if m != sender
        ]
        messages.append(
            {
                "sender": sender,
                "to": [a.username for a in to],
                "body": seal_message(
                    pairs[sender], sender=sender, conversation_id=conv, marking=MARKING, to=to, text=body_text
                ),
            }
        )
    (folder / "plan.json").write_text(json.dumps({"tokens": tokens, "messages": messages}))


# ------------------------------------------------------------------ the bare SSE echo
def echo_app() -> Any:
    """The baseline: POST /send pushes each copy to its recipient's stream; GET /events/{user}."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, StreamingResponse
    from starlette.routing import Route

    queues: dict[str, set[asyncio.Queue[bytes]]] = {}

    async def send(request: Request) -> JSONResponse:
        body = await request.json()
        for copy in body["copies"]:
            payload = {
                "id": body["id"],
                "conversation_id": body["conversation_id"],
                "sender": body["sender"],
                "marking": body["marking"],
                "copy": copy,
            }
            data = f"event: message\ndata: {json.dumps(payload)}\n\n".encode()
            for q in queues.get(copy["recipient"], ()):
                q.put_nowait(data)
        return JSONResponse({"id": body["id"]}, status_code=201)

    async def events(request: Request) -> StreamingResponse:
        user = request.path_params["user"]
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        queues.setdefault(user, set()).add(queue)

        async def stream() -> Any:
            try:
                yield b": connected\n\n"
                while True:
                    yield await queue.get()
            finally:
                queues[user].discard(queue)

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/send", send, methods=["POST"]),
            Route("/events/{user}", events),
            Route("/api/v1/health", health),
        ]
    )


# ------------------------------------------------------------------ the clients
async def _listen(
    client: Any,
    url: str,
    headers: dict[str, str],
    user: str,
    got: dict[Any, float],
    ready: asyncio.Event,
    counter: list[int],
) -> None:
    async with client.stream("GET", url, headers=headers) as response:
        async for line in response.aiter_lines():
            if line.startswith(": connected"):
                counter[0] += 1
                if counter[0] == CLIENTS:
                    ready.set()
            elif line.startswith("data: "):
                got[(json.loads(line[6:])["id"], user)] = time.perf_counter()


async def drive(base: str, plan: dict[str, Any], side: str) -> dict[str, Any]:
    import httpx

    tokens = plan["tokens"]
    got: dict[Any, float] = {}
    sent: dict[str, float] = {}
    ready, counter = asyncio.Event(), [0]
    limits = httpx.Limits(max_connections=CLIENTS + 50, max_keepalive_connections=CLIENTS + 50)
    async with httpx.AsyncClient(base_url=base, timeout=None, limits=limits) as client:
        streams = []
        for user, token in tokens.items():
            url = "/api/v1/channels/events" if side == "detente" else f"/events/{user}"
            headers = {"Authorization": f"Bearer {token}"}
            streams.append(asyncio.create_task(_listen(client, url, headers, user, got, ready, counter)))
        await asyncio.wait_for(ready.wait(), 120)
        failures: list[str] = []

        async def post(message: dict[str, Any]) -> None:
            body = message["body"]
            sent[body["id"]] = time.perf_counter()
            url = "/api/v1/channels/messages" if side == "detente" else "/send"
            r = await client.post(
                url, json=body, headers={"Authorization": f"Bearer {tokens[message['sender']]}"}
            )
            if r.status_code != 201:
                failures.append(r.text[:200])

        start = time.perf_counter()
        posts = []
        for i, message in enumerate(plan["messages"]):
            await asyncio.sleep(max(0.0, start + i / RATE - time.perf_counter()))
            posts.append(asyncio.create_task(post(message)))
        await asyncio.gather(*posts)
        expected = {(m["body"]["id"], u) for m in plan["messages"] for u in m["to"]}
        deadline = time.perf_counter() + GRACE
        while time.perf_counter() < deadline and len(expected - got.keys()) > 0:
            await asyncio.sleep(0.05)
        for task in streams:
            task.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    latencies = sorted((got[k] - sent[k[0]]) * 1000 for k in expected if k in got)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "expected": len(expected),
        "delivered": len(expected & got.keys()),
        "lost": len(expected - got.keys()),
        "refused": len(failures),
        "p50": q[49],
        "p95": q[94],
        "p99": q[98],
        "first_failure": failures[0] if failures else "",
    }


def run(name: str, folder: Path) -> dict[str, Any]:
    """One run of one side: copy the workspace, start its server, drive it, stop it."""
    work = Path(tempfile.mkdtemp(prefix="bench-channels-", dir=folder))
    try:
        shutil.copytree(folder / "ws", work / "ws")
        port = _free_port()
        env = {**os.environ, "DETENTE_WORKSPACE": str(work / "ws"), "DETENTE_DATABASE_URL": ""}
        if name == "detente":
            command = [sys.executable, "-m", "uvicorn", "detente.server:create_app", "--factory"]
        else:
            command = [sys.executable, __file__, "--serve-echo"]
        server = subprocess.Popen(
            [*command, "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            _wait_up(port, server)
            plan = json.loads((folder / "plan.json").read_text())
            return asyncio.run(drive(f"http://127.0.0.1:{port}", plan, name))
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _wait_up(port: int, server: subprocess.Popen[bytes]) -> None:
    import httpx

    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError((server.stderr.read() if server.stderr else b"").decode()[-2000:])
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def main() -> None:
    if len(sys.argv) >= 2 and sys.argv[1] == "--serve-echo":
        import uvicorn

        port = int(sys.argv[sys.argv.index("--port") + 1])
        uvicorn.run(echo_app(), host="127.0.0.1", port=port, log_level="warning")
        return
    if child_main(run):
        return
    with tempfile.TemporaryDirectory(prefix="bench-channels-") as tmp:
        folder = Path(tmp)
        print(f"building {CLIENTS} users, {RATE * SECONDS} sealed messages...", file=sys.stderr)
        build(folder)
        runs = alternate(__file__, ["detente", "echo"], folder, args=["--quick"] if quick() else [])
    det, echo = runs["detente"], runs["echo"]
    note = "the echo verifies, stores and audits nothing"
    emit(
        "channels",
        f"{CLIENTS} SSE clients, {RATE} sealed messages/s for {SECONDS} s, 9 recipients each: "
        "delivery latency against a bare SSE echo",
        [
            value_row(
                "delivered (detente)",
                " / ".join(f"{r['delivered']}/{r['expected']}" for r in det),
                note=f"lost {sum(r['lost'] for r in det)}, refused {sum(r['refused'] for r in det)}",
            ),
            value_row(
                "delivered (echo)",
                " / ".join(f"{r['delivered']}/{r['expected']}" for r in echo),
                note=f"lost {sum(r['lost'] for r in echo)}",
            ),
            row("latency p50", det, echo, baseline="bare SSE echo", unit="ms", key="p50", note=note),
            row("latency p95", det, echo, baseline="bare SSE echo", unit="ms", key="p95", note=note),
            row("latency p99", det, echo, baseline="bare SSE echo", unit="ms", key="p99", note=note),
        ],
    )


if __name__ == "__main__":
    main()
