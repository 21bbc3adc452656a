"""detente's client against other servers: it pulls from medallion (the OASIS reference
TAXII 2.1 server), and it refuses what a hostile peer sends (a malformed bundle, a marking
the peer may not assign, a replayed older version, a redefined TLP marking, an oversized
response) with a clear error, storing nothing and overwriting nothing."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import func, select
from taxii2client.v21 import ApiRoot

from detente.core.errors import DetenteError, TooLargeError
from detente.exchange import sync
from detente.exchange.taxii.objects import COLLECTIONS
from detente.exchange.taxii.tables import ExchangeObject, Peer
from detente.sharing.service import Sharing
from detente.sharing.stix import MARKING_EXTENSION_ID
from tests.exchange import peers
from tests.exchange.peers import MEDALLION_PASSWORD, MEDALLION_USER, TAXII, Instance, indicator, medallion
from tests.live import free_port

pair = peers.pair  # London and Paris, served once for the session's federation tests
TLP = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
}
KEYS = {c.key: c.id for c in COLLECTIONS.values()}
FAKE_COLLECTION = "0b5f3c1e-6a43-4d8e-9f0e-6c1a2b3c4d5e"


class FakePeer:
    """A TAXII 2.1 server that answers whatever the test sets (``body``)."""

    def __init__(self) -> None:
        self.body: bytes = b'{"objects": []}'
        self.streamed = False
        self.app = FastAPI()
        self.app.get("/taxii2/fake/")(self._root)
        self.app.get("/taxii2/fake/collections/")(self._collections)
        self.app.get("/taxii2/fake/collections/{cid}/objects/")(self._objects)

    def _json(self, body: Any) -> Response:
        return Response(json.dumps(body), media_type=TAXII)

    def _root(self) -> Response:
        return self._json({"title": "fake", "versions": [TAXII], "max_content_length": 10_000_000})

    def _collections(self) -> Response:
        collection = {"id": FAKE_COLLECTION, "title": "Hostile", "can_read": True, "can_write": False}
        return self._json({"collections": [collection]})

    def _objects(self, cid: str) -> Response:
        if self.streamed:  # chunked: no Content-Length to refuse it by
            parts = [self.body[i : i + 4096] for i in range(0, len(self.body), 4096)]
            return StreamingResponse(iter(parts), media_type=TAXII)
        return Response(self.body, media_type=TAXII)

    def send(self, objects: list[dict[str, Any]]) -> None:
        self.body = json.dumps({"objects": objects, "more": False}).encode()


@pytest.fixture(scope="module")
def fake(pair: tuple[Instance, Instance]) -> Iterator[FakePeer]:
    peer = FakePeer()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(peer.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):  # readiness poll
        try:
            httpx.get(f"http://127.0.0.1:{port}/taxii2/fake/")
            break
        except httpx.TransportError:
            time.sleep(0.05)
    _, paris = pair
    with paris.workspace() as ws, ws.session() as session:
        me = Sharing(session).principal("fra-admin")
        sync.add_peer(session, me, name="hostile", url=f"http://127.0.0.1:{port}/taxii2/fake/", secret="x")
        sync.pull(session, me, "london")  # Paris holds London's objects before the hostile peer speaks
    try:
        yield peer
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _snapshot(paris: Instance) -> dict[str, tuple[str, str, str]]:
    with paris.workspace() as ws, ws.session() as session:
        return {r.stix_id: (r.version, r.marking, r.body) for r in session.scalars(select(ExchangeObject))}


def _pull(paris: Instance, peer: str, **kw: Any) -> sync.SyncResult:
    with paris.workspace() as ws, ws.session() as session:
        return sync.pull(session, Sharing(session).principal("fra-admin"), peer, **kw)


def _held_talks(paris: Instance) -> dict[str, Any]:
    with paris.workspace() as ws, ws.session() as session:
        rows = session.scalars(select(ExchangeObject).where(ExchangeObject.type == "report"))
        return next(json.loads(r.body) for r in rows if "Channel staff talks" in r.body)


def _refused(paris: Instance, fake: FakePeer, objects: list[dict[str, Any]], *words: str) -> None:
    before = _snapshot(paris)
    fake.send(objects)
    with pytest.raises(DetenteError) as caught:
        _pull(paris, "hostile")
    assert all(w in caught.value.message for w in words), caught.value.message
    assert _snapshot(paris) == before  # nothing stored, nothing overwritten


def test_a_malformed_bundle_is_refused(pair: tuple[Instance, Instance], fake: FakePeer) -> None:
    _, paris = pair
    good = indicator("fine", TLP["CLEAR"])
    broken = {"type": "report", "spec_version": "2.1", "id": "report--not-a-uuid", "name": "x"}
    _refused(paris, fake, [good, broken], "objects[1]", "report--not-a-uuid", "not valid STIX 2.1")
    fake.body = b"<html>not json</html>"
    before = _snapshot(paris)
    with pytest.raises(DetenteError) as caught:
        _pull(paris, "hostile")
    assert "hostile" in caught.value.message and _snapshot(paris) == before
    # a malformed push is refused the same way, over the wire
    headers = {**paris.headers("gbr-peer"), "Content-Type": TAXII}
    url = f"{paris.root}collections/{KEYS['exchange']}/objects/"
    response = httpx.post(url, content=json.dumps({"objects": [good, broken]}), headers=headers)
    assert response.status_code == 400 and "not valid STIX 2.1" in response.json()["description"]
    assert _snapshot(paris) == before


def test_a_marking_the_peer_may_not_assign_is_refused(
    pair: tuple[Instance, Instance], fake: FakePeer
) -> None:
    _, paris = pair
    talks = _held_talks(paris)
    # an object marked for Germany only, sent to France
    foreign = copy.deepcopy(talks)
    foreign["id"] = "report--1f3b1a4e-2c55-4d6a-8f0e-9a7b6c5d4e3f"
    foreign["extensions"][MARKING_EXTENSION_ID].update(
        banner="CONFIDENTIAL//REL TO DEU//TLP:AMBER", rel_to=["DEU"]
    )
    _refused(paris, fake, [foreign], foreign["id"], "not release to FRA")
    # London's object, re-marked public by another peer
    remarked = copy.deepcopy(talks)
    remarked["extensions"][MARKING_EXTENSION_ID].update(banner="UNCLASSIFIED//TLP:CLEAR", tlp="CLEAR")
    remarked["object_marking_refs"] = [TLP["CLEAR"]]
    _refused(paris, fake, [remarked], talks["id"], "came from london", "may not re-mark")
    # an extension that contradicts the TLP marking the object refers to
    mismatched = copy.deepcopy(talks)
    mismatched["object_marking_refs"] = [TLP["CLEAR"]]
    _refused(paris, fake, [mismatched], "refers to TLP:CLEAR")
    # the OASIS TLP:CLEAR marking-definition, redefined
    tlp = {
        "type": "marking-definition", "spec_version": "2.1", "id": TLP["CLEAR"], "name": "TLP:CLEAR",
        "created": "2022-10-01T00:00:00.000Z",
        "extensions": {"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
            "extension_type": "property-extension", "tlp_2_0": "red"}},
    }  # fmt: skip
    _refused(paris, fake, [tlp], "redefines the OASIS TLP 2.0 marking TLP:CLEAR")


def test_a_replayed_older_version_is_refused(pair: tuple[Instance, Instance], fake: FakePeer) -> None:
    _, paris = pair
    talks = _held_talks(paris)
    older = copy.deepcopy(talks)
    older["modified"] = "2020-01-01T00:00:00.000Z"
    older["created"] = "2020-01-01T00:00:00.000Z"
    older["name"] = "Channel staff talks (stale)"
    _refused(paris, fake, [older], talks["id"], "older than the one held", "never overwrites")


def test_an_oversized_response_is_refused_while_it_is_read(
    pair: tuple[Instance, Instance], fake: FakePeer
) -> None:
    _, paris = pair
    fake.send([indicator(f"bulk {i}", TLP["CLEAR"]) for i in range(200)])
    before = _snapshot(paris)
    with pytest.raises(TooLargeError, match="of 88,... bytes is over the limit of 20,000 bytes"):
        _pull(paris, "hostile", max_bytes=20_000)
    fake.streamed = True
    with pytest.raises(TooLargeError, match="response is over the limit of 20,000 bytes"):
        _pull(paris, "hostile", max_bytes=20_000)
    fake.streamed = False
    assert _snapshot(paris) == before
    # the same answer within the limit is stored
    assert len(_pull(paris, "hostile").received.created) == 200
    assert len(_snapshot(paris)) == len(before) + 200


def test_detente_pulls_from_medallion(pair: tuple[Instance, Instance], tmp_path: Path) -> None:
    london, paris = pair
    exported = httpx.get(
        f"{london.root}collections/{KEYS['registry']}/objects/", params={"limit": 10_000},
        headers=london.headers("fra-peer"),
    ).json()["objects"]  # fmt: skip
    # medallion keeps an object's own "version" property in its manifest's place and then
    # fails on it: extension-definitions (whose "version" is 1.0.0) cannot be stored there
    shared = [o for o in exported if o["type"] != "extension-definition"]
    green, clear = (
        indicator("Partner indicator (green)", TLP["GREEN"]),
        indicator("Open indicator", TLP["CLEAR"]),
    )
    with medallion(tmp_path / "medallion") as root:
        collection = ApiRoot(root, user=MEDALLION_USER, password=MEDALLION_PASSWORD).collections[0]
        status = collection.add_objects(json.dumps({"objects": [*shared, green, clear]}))
        assert status.status == "complete" and status.failure_count == 0
        with paris.workspace() as ws, ws.session() as session:
            me = Sharing(session).principal("fra-admin")
            sync.add_peer(
                session, me, name="medallion", url=root, username=MEDALLION_USER, secret=MEDALLION_PASSWORD
            )
        first = _pull(paris, "medallion")
        assert first.received.stored + len(first.received.unchanged) == len(shared) + 2
        again = _pull(paris, "medallion")
        assert again.received.stored == 0
    with paris.workspace() as ws, ws.session() as session:
        rows = {r.stix_id: r for r in session.scalars(select(ExchangeObject))}
        count = session.scalar(select(func.count()).select_from(ExchangeObject))
        stored = session.scalar(select(Peer.secret).where(Peer.name == "medallion"))
    # the peer's password is sealed at rest (the pulls above opened it to sign in)
    assert stored.startswith("sealed:v1:") and MEDALLION_PASSWORD not in stored
    assert count == len(rows)
    # another platform's TLP label: CLEAR is public, GREEN stays with the receiving organisation
    assert rows[clear["id"]].marking == "UNCLASSIFIED//TLP:CLEAR" and rows[clear["id"]].origin == "medallion"
    assert rows[green["id"]].marking == "UNCLASSIFIED//TLP:GREEN"
    talks = next(o for o in shared if o.get("name") == "Channel staff talks")
    assert rows[talks["id"]].marking == talks["extensions"][MARKING_EXTENSION_ID]["banner"]
    seen = httpx.get(
        f"{paris.root}collections/{KEYS['exchange']}/objects/", params={"limit": 10_000},
        headers=paris.headers("deu-peer"),
    ).text  # fmt: skip
    assert clear["id"] in seen and green["id"] not in seen
