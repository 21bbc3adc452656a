"""The vetting API over a real server, on both stores: candidates with their evidence,
open-data marking, sign-in required, bad input named."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from detente.core.workspace import Workspace
from detente.sources.lake import LAKE_FILE, Lake
from detente.sources.service import load
from tests import factories as f
from tests.api.test_api import base, error, login  # noqa: F401  (the API tests' server and sign-in)

SLOW = 120  # the first screen loads the matcher's name data (the API tests' client waits 5)


@pytest.fixture(scope="module")
def lake_file(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The UN list in a lake, loaded once for the module (each workspace gets its own copy)."""
    folder = tmp_path_factory.mktemp("lake")
    with Lake(folder) as lake:
        load(lake, "un_sanctions", [shared / "un_consolidated" / "un_consolidated_2024-09-26.xml"], user="t")
    return folder / LAKE_FILE


@pytest.fixture
def world(ws: Workspace, lake_file: Path) -> dict[str, Any]:
    with ws.session() as session:
        setup = f.two_organisations(session)
    shutil.copyfile(lake_file, ws.path / LAKE_FILE)
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
        assert "SIRAJUDDIN" in top["name"] and top["base_score"] >= 0.7  # logic-v2's own verdict beside it
        weights = [abs(f["weight"]) for f in top["features"]]
        assert weights == sorted(weights, reverse=True) and top["features"][0]["weight"] > 0
        assert any(f["name"] == "name_match" for f in top["base_features"])
        assert "haqqani" in " ".join(f["detail"] for f in top["features"]).lower()
        scores = [round(c["score"], 2) for c in answer["candidates"]]  # ranked to two decimals
        assert scores == sorted(scores, reverse=True)
        again = analyst.post("/vetting/screen", json={**body, "dob": "1941"}, timeout=SLOW)
        assert again.status_code == 200 and len(again.json()["candidates"]) <= 3
        # a near miss says why it is not a match: the counter-evidence, strongest first
        elder = analyst.post(
            "/vetting/screen", json={"name": "Sirajuddin Haqqani", "dob": "1940", "limit": 1}, timeout=SLOW
        ).json()["candidates"][0]
        against = elder["counter_evidence"]
        assert elder["score"] < top["score"] and against and against[0]["name"] == "dob_conflict"
        assert against[0]["weight"] < 0 and "born 1940 vs" in against[0]["detail"]
        bad = error(analyst.post("/vetting/screen", json={"name": "Kim", "dob": "later"}), 422, "invalid")
        assert "dob" in bad["message"]
        assert analyst.post("/vetting/screen", json={"name": "x" * 501}).status_code == 422
        assert analyst.post("/vetting/screen", json={"name": "Kim", "schema": "Planet"}).status_code == 422


def test_guard_findings_and_an_audited_override(base: str, ws: Workspace) -> None:  # noqa: F811
    from datetime import date

    from detente.sharing.service import Sharing
    from detente.store.service import Store

    with ws.session() as session:
        reg = Store(session, Sharing(session).principal("gbr-planner"))
        gbr = reg.resolve_ref("actors", "GBR")
        militia = reg.create("actors", {"name": "Ruga Militia", "kind": "militia", "marking": "UNCLASSIFIED"})
        eng = reg.create(
            "engagements",
            {"title": "Liaison visit", "kind": "defense_dialogue", "lead_actor_id": gbr,
             "partners": [militia.id], "start_date": date(2030, 1, 5), "status": "planned"},
        )  # fmt: skip
    with login(base, "gbr-planner") as planner, login(base, "ken-analyst") as analyst:
        found = planner.get("/vetting/guard").json()
        assert [(x["actor"], x["problem"]) for x in found] == [("Ruga Militia", "missing")]
        assert analyst.get("/vetting/guard").json() == []  # not KEN's engagement to see
        short = planner.post(f"/vetting/guard/{eng.id}/override", json={"reason": "go"})
        assert short.status_code == 422
        done = planner.post(
            f"/vetting/guard/{eng.id}/override", json={"reason": "Observers only; CDS approval"}
        )
        assert done.status_code == 201 and done.json()[0]["engagement_id"] == eng.id
    with ws.session() as session:
        from sqlalchemy import select

        from detente.core.audit import AuditEntry

        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "vetting.override")).one()
        assert entry.record_id == eng.id and "CDS approval" in entry.detail
