"""The vetting API over a real server, on both stores: candidates with their evidence,
open-data marking, sign-in required, bad input named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from detente.core.workspace import Workspace
from detente.sources.lake import Lake
from detente.sources.service import load
from tests import factories as f
from tests.api.test_api import base, error, login  # noqa: F401  (the API tests' server and sign-in)

SLOW = 120  # the first screen loads the matcher's name data (the API tests' client waits 5)


@pytest.fixture
def world(ws: Workspace, shared: Path) -> dict[str, Any]:
    with ws.session() as session:
        setup = f.two_organisations(session)
    with Lake(ws.path) as lake:
        load(lake, "un_sanctions", [shared / "un_consolidated" / "un_consolidated_2024-09-26.xml"], user="t")
    return setup


def test_screen_returns_candidates_with_evidence(base: str) -> None:  # noqa: F811
    body = {"name": "Ким Чен Ир", "schema": "Person", "limit": 3}
    assert httpx.post(f"{base}/api/v1/vetting/screen", json=body).status_code == 401
    with login(base, "ken-analyst") as analyst:
        found = analyst.post("/vetting/screen", json={"name": "Sirajuddin Haqqani"}, timeout=SLOW)
        assert found.status_code == 200, found.text
        answer = found.json()
        assert answer["marking"] == "UNCLASSIFIED//TLP:CLEAR" and answer["listed"] == 875
        assert answer["lists"]["un_sanctions"].startswith("2024-09-26") and answer["threshold"] == 0.7
        top = answer["candidates"][0]
        assert top["matched"] and top["list"] == "un_sanctions" and top["schema"] == "Person"
        assert top["features"][0]["name"] == "name_match" and top["features"][0]["weight"] == 1.0
        assert "haqqani" in top["features"][0]["detail"].lower() and "SIRAJUDDIN" in top["name"]
        scores = [c["score"] for c in answer["candidates"]]
        assert scores == sorted(scores, reverse=True)
        again = analyst.post("/vetting/screen", json={**body, "dob": "1941"}, timeout=SLOW)
        assert again.status_code == 200 and len(again.json()["candidates"]) <= 3
        bad = error(analyst.post("/vetting/screen", json={"name": "Kim", "dob": "later"}), 422, "invalid")
        assert "dob" in bad["message"]
        assert analyst.post("/vetting/screen", json={"name": "x" * 501}).status_code == 422
        assert analyst.post("/vetting/screen", json={"name": "Kim", "schema": "Planet"}).status_code == 422
