"""The federation's store on SQLite and PostgreSQL (row-level security on): received
objects are one row per object, a newer version replaces the older and an older one is
refused, and each partner reads (and would be pushed) only what the originator's marking
releases to it, through the store's one access decision."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import func, select

from detente.core.workspace import Workspace
from detente.exchange import sync
from detente.exchange.taxii.ingest import RefusedError, receive
from detente.exchange.taxii.objects import COLLECTIONS, Query, read_page
from detente.exchange.taxii.tables import ExchangeObject
from detente.sharing.service import Sharing
from detente.sharing.stix import MARKING_EXTENSION_ID, marking_refs
from detente.store.access import bind_principal
from tests import factories as f

EXCHANGE = next(c.id for c in COLLECTIONS.values() if c.key == "exchange")
STAMP = "2026-03-01T00:00:00.000Z"


def _note(n: int, banner: str, modified: str = STAMP) -> dict[str, Any]:
    ext = {"extension_type": "property-extension", "banner": banner}
    return {
        "type": "note", "spec_version": "2.1", "id": f"note--00000000-0000-4000-8000-{n:012d}",
        "created": STAMP, "modified": modified, "content": f"note {n} under {banner}",
        "object_refs": ["identity--00000000-0000-4000-8000-000000000001"],
        "object_marking_refs": marking_refs(banner), "extensions": {MARKING_EXTENSION_ID: ext},
    }  # fmt: skip


BATCH = [
    _note(1, "CONFIDENTIAL//REL TO FRA//TLP:AMBER"),
    _note(2, "RESTRICTED//REL TO DEU//TLP:AMBER"),
    _note(3, "UNCLASSIFIED//TLP:CLEAR"),
    _note(4, "SECRET//TLP:AMBER+STRICT"),
]


@pytest.fixture
def parties(ws: Workspace) -> dict[str, Any]:
    with ws.session() as session:
        sharing = Sharing(session)
        gbr = sharing.add_org("Ministry of Defence (United Kingdom)", "GBR", actor=None)
        sharing.add_user("gbr-admin", gbr.id, role="operator", clearances=f.FULL, password=None, actor=None)
        boss = sharing.principal("gbr-admin")
        for name, country, user in (("France", "FRA", "fra-peer"), ("Germany", "DEU", "deu-peer")):
            org = sharing.add_org(name, country, actor=boss)
            sharing.add_user(user, org.id, role="administrator", clearances={"national": "SECRET"},
                             password=None, actor=boss)  # fmt: skip
        got = receive(session, {"objects": BATCH}, origin="paris", owner_org=gbr.id, receiver=None)
        assert len(got.created) == 4
    return {"gbr": gbr.id}


def _seen(ws: Workspace, user: str) -> set[int]:
    with ws.session() as session:
        who = Sharing(session).principal(user)
        served = read_page(session, who, EXCHANGE, Query(limit=100)).entries
        pushed = [o["id"] for o in sync.releasable_to(session, who) if o["type"] == "note"]
    assert sorted(e.id for e in served) == sorted(pushed)  # one decision for both
    return {int(e.id[-12:]) for e in served}


def test_partners_read_what_the_marking_releases_and_versions_replace(
    ws: Workspace, parties: dict[str, Any]
) -> None:
    assert _seen(ws, "fra-peer") == {1, 3}
    assert _seen(ws, "deu-peer") == {2, 3}
    with ws.session() as session:
        counts = sync.received_by_origin(session, Sharing(session).principal("fra-peer"))
    assert counts == {"paris": 2}
    newer = copy.deepcopy(BATCH[0])
    newer["modified"], newer["content"] = "2026-04-01T00:00:00.000Z", "revised"
    with ws.session() as session:
        bind_principal(session, Sharing(session).principal("gbr-admin"))  # as a push to GBR would run
        again = receive(session, {"objects": BATCH}, origin="paris", owner_org=parties["gbr"], receiver=None)
        assert (len(again.created), len(again.unchanged)) == (0, 4)
        updated = receive(
            session, {"objects": [newer]}, origin="paris", owner_org=parties["gbr"], receiver=None
        )
        assert updated.updated == [newer["id"]]
    with ws.session() as session, pytest.raises(RefusedError, match="older than the one held"):
        bind_principal(session, Sharing(session).principal("gbr-admin"))
        receive(session, {"objects": BATCH[:1]}, origin="paris", owner_org=parties["gbr"], receiver=None)
    with ws.session() as session:
        bind_principal(session, Sharing(session).principal("gbr-admin"))  # its own: all four
        assert session.scalar(select(func.count()).select_from(ExchangeObject)) == 4
        row = session.get(ExchangeObject, newer["id"])
        assert row is not None and "revised" in row.body and row.version == "2026-04-01T00:00:00.000Z"
