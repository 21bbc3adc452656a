"""Secure channels over HTTP on a live server (SQLite and PostgreSQL): keys published and a
message sealed on the client travel to the other side live (server-sent events); the
plaintext's unique token is nowhere on the server (database files with the WAL or every
PostgreSQL table, the server's log, the audit trail); hostile bodies get clear errors and
store nothing; the escalation loop, on an injected clock, escalates within a second of
the deadline and the webhook hears of it."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from sqlalchemy import create_engine, inspect, select, text

from detente.channels.client import Addressee, open_message, seal_message
from detente.channels.crypto import generate, unlock
from detente.channels.hotlines import create_hotline
from detente.channels.tables import Alert
from detente.core.audit import AuditEntry
from tests.channels.conftest import PASSPHRASE, SHARED, FakeClock, channel_server, store_of, token_of
from tests.conftest import POSTGRES_URL
from tests.live import wait_for


def _client(base: str, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{base}/api/v1/channels", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _seal_via_api(
    api: httpx.Client, sender: str, pair: Any, conversation: str, text: str, **kw: Any
) -> dict[str, Any]:
    """What a client does over HTTP: ask who may read, seal for them locally, send."""
    marking = kw.pop("marking", SHARED)
    found = api.get(f"/conversations/{conversation}/recipients", params={"marking": marking}).json()
    to = [
        Addressee(r["username"], r["fingerprint"], r["box_public"])
        for r in found["recipients"]
        if r["may_read"] and r["key_id"] and r["username"] != sender
    ]
    return seal_message(
        pair, sender=sender, conversation_id=conversation, marking=marking, to=to, text=text, **kw
    )


class _Listener(threading.Thread):
    """An SSE client: collects the events of one user's stream."""

    def __init__(self, base: str, token: str) -> None:
        super().__init__(daemon=True)
        self.base, self.token, self.events, self.ready = base, token, [], threading.Event()
        self.raw = b""

    def run(self) -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server ends the stream when it stops
            self._read()

    def _read(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.stream("GET", f"{self.base}/api/v1/channels/events", headers=headers, timeout=None) as r:
            name = None
            for line in r.iter_lines():
                self.raw += line.encode() + b"\n"
                if line.startswith(": connected"):
                    self.ready.set()
                elif line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    self.events.append((name, json.loads(line[6:])))


def _scan_database(ws: Any, database_url: str, token: bytes) -> int:
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        files = [p for p in path.parent.glob(path.name + "*")]
        assert any(p.name.endswith("-wal") for p in files) or files
        return sum(p.read_bytes().count(token) for p in files)
    schema = (
        database_url.split("search_path%3D")[-1].split("&")[0] if "search_path%3D" in database_url else None
    )
    schema = schema or database_url.split("search_path=")[-1].split("&")[0]
    engine = create_engine(POSTGRES_URL)  # the superuser: row-level security does not hide a row
    found = 0
    try:
        with engine.connect() as conn:
            for table in inspect(engine).get_table_names(schema=schema):
                rows = conn.execute(text(f'SELECT t::text FROM "{schema}"."{table}" t')).scalars()
                found += sum(r.encode().count(token) for r in rows)
    finally:
        engine.dispose()
    return found


def test_plaintext_never_rests_on_the_server(
    world: dict[str, Any], database_url: str, tmp_path: Path
) -> None:
    ws, conv, pairs = world["ws"], world["conversation"], world["keys"]
    token = f"TOKEN-{uuid.uuid4().hex}"
    log = tmp_path / "server.log"
    with channel_server(ws, log_file=log) as (base, _app):
        gbr, ken = _client(base, token_of(ws, "gbr-planner")), _client(base, token_of(ws, "ken-analyst"))
        listener = _Listener(base, token_of(ws, "ken-analyst"))
        listener.start()
        assert listener.ready.wait(10)
        body = _seal_via_api(
            gbr,
            "gbr-planner",
            pairs["gbr-planner"],
            conv,
            f"meet at noon {token}",
            attachment=("notes.txt", token.encode()),
        )
        sent = gbr.post("/messages", json=body)
        assert sent.status_code == 201, sent.text
        wait_for(lambda: any(n == "message" for n, _ in listener.events), "live delivery")
        _name, event = listener.events[0]
        assert event["id"] == body["id"] and event["copy"]["recipient"] == "ken-analyst"
        # the recipient decrypts on their side, with the key they unlock locally
        mine = ken.get("/keys/me").json()[0]
        pair = unlock(mine["locked"], PASSPHRASE)
        sender = gbr.get("/keys/gbr-planner").json()[0]
        listed = ken.get(f"/conversations/{conv}/messages").json()
        att = ken.get(f"/messages/{body['id']}/attachment").json()
        opened = open_message(
            pair,
            listed[-1],
            sender["box_public"],
            sender["sign_public"],
            sender["fingerprint"],
            mine["fingerprint"],
            att,
        )
        assert token in opened.text and opened.attachment == token.encode()
        assert ken.post(f"/messages/{body['id']}/read").status_code == 200
        raw_responses = listener.raw + json.dumps(listed).encode() + json.dumps(att).encode()
        assert token.encode() not in raw_responses
        wait_for(lambda: _audited(ws, "channels.deliver"), "the delivery recorded")
    assert _scan_database(ws, database_url, token.encode()) == 0
    logged = log.read_bytes()
    assert b"/api/v1/channels/messages" in logged and token.encode() not in logged
    with ws.session() as session:
        trail = [e.detail for e in session.scalars(select(AuditEntry))]
        actions = {e.action for e in session.scalars(select(AuditEntry))}
    assert not any(token in d for d in trail)
    assert {"channels.send", "channels.deliver", "channels.read"} <= actions


def _audited(ws: Any, action: str) -> bool:
    with ws.session() as session:
        return session.scalar(select(AuditEntry.seq).where(AuditEntry.action == action).limit(1)) is not None


def test_the_workers_of_one_server_deliver_to_each_others_listeners(world: dict[str, Any]) -> None:
    """Two applications on one database stand for two worker processes (each has its own
    bus): a message sent through the first reaches a listener of the second live, once, and
    the recipient's acknowledgement through the second reaches the sender listening on the
    first; the delivery is recorded."""
    ws, conv, pairs = world["ws"], world["conversation"], world["keys"]
    with channel_server(ws) as (first, _a), channel_server(ws) as (second, _b):
        gbr, ken = _client(first, token_of(ws, "gbr-planner")), _client(second, token_of(ws, "ken-analyst"))
        recipient, sender = (
            _Listener(second, token_of(ws, "ken-analyst")),
            _Listener(first, token_of(ws, "gbr-planner")),
        )
        for listener in (recipient, sender):
            listener.start()
            assert listener.ready.wait(10)
        body = _seal_via_api(gbr, "gbr-planner", pairs["gbr-planner"], conv, "through the other worker")
        assert gbr.post("/messages", json=body).status_code == 201
        wait_for(
            lambda: any(n == "message" for n, _ in recipient.events), "live delivery from the other worker"
        )
        assert ken.post(f"/messages/{body['id']}/ack").status_code == 200
        wait_for(
            lambda: any(n == "ack" for n, _ in sender.events), "the acknowledgement from the other worker"
        )
        wait_for(lambda: _audited(ws, "channels.deliver"), "the delivery recorded")
        for _ in range(10):  # more passes of both loops: nothing is handed out twice
            ticks = _a.state.channels_escalator.ticks + _b.state.channels_escalator.ticks
            wait_for(
                lambda t=ticks: _a.state.channels_escalator.ticks + _b.state.channels_escalator.ticks > t,
                "a pass",
            )
    assert [e["id"] for n, e in recipient.events if n == "message"] == [body["id"]]
    acks = [e for n, e in sender.events if n == "ack"]
    assert [(e["id"], e["by"]) for e in acks] == [(body["id"], "ken-analyst")]


def test_hostile_bodies_get_clear_errors_and_store_nothing(world: dict[str, Any]) -> None:
    ws, conv, pairs = world["ws"], world["conversation"], world["keys"]
    with channel_server(ws) as (base, _app):
        gbr = _client(base, token_of(ws, "gbr-planner"))
        good = _seal_via_api(gbr, "gbr-planner", pairs["gbr-planner"], conv, "hello")
        bad = json.loads(json.dumps(good))
        bad["copies"][0]["ciphertext"] = "%%%"
        r = gbr.post("/messages", json=bad)
        assert r.status_code == 422 and "not base64" in r.json()["error"]["message"]
        big = _seal_via_api(
            gbr, "gbr-planner", pairs["gbr-planner"], conv, "x", attachment=("big.bin", b"0" * (6 << 20))
        )
        r = gbr.post("/messages", json=big)
        assert r.status_code == 413 and "attachment" in r.json()["error"]["message"]
        assert gbr.post("/messages", json={"id": "x"}).status_code == 422
        for odd in ("\x00", f"{conv[:-1]}\x00", "no such conversation"):  # PostgreSQL refuses NUL outright
            r = gbr.post("/messages", json={**good, "conversation_id": odd})
            assert r.status_code == 404 and "no conversation" in r.json()["error"]["message"], r.text
        assert gbr.get(f"/conversations/{conv}/messages").json() == []
        assert gbr.post("/messages", json=good).status_code == 201
        r = gbr.post("/messages", json=good)
        assert r.status_code == 409 and "replay" in r.json()["error"]["message"]
        fresh = generate()
        r = gbr.post("/keys", json=fresh.published("gbr-planner", PASSPHRASE))
        assert r.status_code == 409 and "rotate" in r.json()["error"]["message"]
        r = gbr.post(
            "/keys?rotate=true",
            json={
                **fresh.published("gbr-planner", PASSPHRASE),
                "self_signature": good["copies"][0]["signature"],
            },
        )
        assert r.status_code == 422 and "self-signature" in r.json()["error"]["message"]
        assert len(gbr.get(f"/conversations/{conv}/messages").json()) == 1


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_escalation_loop_on_an_injected_clock(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    ws, pairs = world["ws"], world["keys"]
    hook = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    monkeypatch.setenv("DETENTE_CHANNELS_WEBHOOK_URL", f"http://127.0.0.1:{hook.server_port}/hook")
    _Hook.received = []
    with ws.session() as session:
        line = create_hotline(
            store_of(session, "gbr-admin"),
            "hotline",
            other_org="KEN",
            mine=["gbr-planner"],
            theirs=["ken-analyst"],
            marking=SHARED,
            ack_seconds=30,
        )
        conv = line.conversation_id
    clock = FakeClock()
    try:
        with channel_server(ws, clock=clock) as (base, app):
            gbr = _client(base, token_of(ws, "gbr-planner"))
            body = _seal_via_api(
                gbr, "gbr-planner", pairs["gbr-planner"], conv, "urgent: call back", urgent=True
            )
            assert gbr.post("/messages", json=body).status_code == 201
            with ws.session() as session:
                deadline = session.get(Alert, body["id"]).deadline_at  # type: ignore[union-attr]
            clock.now = deadline - __import__("datetime").timedelta(seconds=0.5)
            escalator = app.state.channels_escalator
            _passes(escalator)
            assert _step(ws, body["id"]) == 0  # before the deadline: nothing
            for _ in range(3):  # the clock moves a quarter second at a time, the loop passes between
                clock.advance(0.25)
                _passes(escalator)
            assert _step(ws, body["id"]) == 1  # the owner's rung, within a second of the deadline
            wait_for(lambda: len(_Hook.received) >= 1, "the webhook notice")
    finally:
        hook.shutdown()
    with ws.session() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "channels.escalate"))
        assert entry is not None and 0 <= json.loads(entry.detail)["late_seconds"] < 1
    notice = _Hook.received[0]
    assert (
        notice["event"] == "escalation"
        and notice["to"] == ["gbr-admin"]
        and "urgent" not in json.dumps(notice)
    )


def _passes(escalator: Any) -> None:
    seen = escalator.ticks
    wait_for(lambda: escalator.ticks > seen + 1, "a whole pass of the loop")


def _step(ws: Any, message_id: str) -> int:
    with ws.session() as session:
        return session.get(Alert, message_id).step  # type: ignore[union-attr]
