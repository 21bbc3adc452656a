"""The channels pages over HTTP (SQLite): the index, a hotline with its rosters and a
check sent from the page, an incident's timeline with a decision added and its PDF; a
form error is said on the page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from detente.channels.hotlines import create_hotline
from detente.server import create_app
from tests import factories as f
from tests.channels.conftest import SHARED, store_of


def _signed_in(app: Any, username: str) -> TestClient:
    client = TestClient(app, base_url="http://127.0.0.1")
    r = client.post("/login", data={"username": username, "password": f.PASSWORD, "next": "/channels"})
    assert r.status_code == 200 and "Secure channels" in r.text
    return client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_hotline_and_incident_pages(world: dict[str, Any]) -> None:
    ws = world["ws"]
    with ws.session() as session:
        line = create_hotline(
            store_of(session, "gbr-admin"),
            "London-Nairobi hotline",
            other_org="KEN",
            mine=["gbr-planner"],
            theirs=["ken-analyst"],
            marking=SHARED,
            ack_seconds=120,
        )
        incident = store_of(session, "gbr-planner").create(
            "incidents", {"title": "Border post fire", "marking": SHARED}
        )
    with TestClient(create_app(workspace=ws)) as _started:
        admin = _signed_in(_started.app, "gbr-admin")
        index = admin.get("/channels").text
        assert "London-Nairobi hotline" in index and "Border post fire" in index and "Liaison" in index
        page = admin.get(f"/channels/hotlines/{line.id}").text
        assert (
            "gbr-planner → gbr-admin" in page and "ken-analyst → gbr-admin" in page and "No check yet" in page
        )
        r = admin.post(f"/channels/hotlines/{line.id}/check", data={"csrf_token": _csrf(page)})
        assert r.status_code == 200 and r.text.count("<td>open</td>") == 2  # one test call to each side
        planner = _signed_in(_started.app, "gbr-planner")
        page = planner.get(f"/channels/incidents/{incident.id}").text
        assert "Nothing on the timeline yet" in page
        r = planner.post(
            f"/channels/incidents/{incident.id}/link",
            data={"csrf_token": _csrf(page), "kind": "report", "ref_id": "", "note": ""},
        )
        assert "give the id of what to link" in r.text
        r = planner.post(
            f"/channels/incidents/{incident.id}/link",
            data={"csrf_token": _csrf(page), "kind": "decision", "note": "Close the post for 48 h"},
        )
        assert "Close the post for 48 h" in r.text
        pdf = planner.get(f"/api/v1/channels/incidents/{incident.id}/pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert planner.get("/channels/c/" + world["conversation"]).status_code == 200
        assert "channels.js" in planner.get("/channels/keys").text
