"""The relations API over a real server: answers from the lake, registry records counted
and marked only for callers who may read them, bad input named."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from detente.core.workspace import Workspace
from detente.sharing.service import Sharing
from detente.sources.lake import LAKE_FILE, Lake
from detente.sources.service import load
from detente.store.service import Store
from tests import factories as f
from tests.api.test_api import base, login  # noqa: F401  (the API tests' server and sign-in)

API = "/api/v1"
SLOW = 120  # seconds: a network and its year before are built per call (the API tests' client waits 5)


@pytest.fixture(scope="module")
def lake_file(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lake the relations API reads, loaded once for the module: it is only read, and
    each test's workspace gets its own copy."""
    folder = tmp_path_factory.mktemp("lake")
    with Lake(folder) as lake:
        load(lake, "cow_states", [shared / "cow" / "states2016.csv"], user="t")
        load(lake, "atop", [shared / "peacesciencer" / "atop_alliance.csv.gz"], user="t")
        load(lake, "unga_ideal", [shared / "unga_votes" / "IdealpointsJuly2025.dta"], user="t")
    return folder / LAKE_FILE


@pytest.fixture
def world(ws: Workspace, lake_file: Path) -> dict[str, Any]:
    with ws.session() as session:
        setup = f.two_organisations(session)
        sharing = Sharing(session)
        f.clerk(session, setup["gbr"])
        reg = Store(session, sharing.principal("gbr-planner"))
        gbr, ken = setup["states"]["GBR"], setup["states"]["KEN"]
        f.engagement(
            reg, gbr, [ken], title="Exercise Askari Storm", kind="joint_exercise", status="executed",
            start_date=date(2010, 6, 7), marking="SECRET//REL TO GBR",
        )  # fmt: skip
    shutil.copyfile(lake_file, ws.path / LAKE_FILE)
    return setup


def test_registry_ties_and_markings_follow_the_caller(base: str) -> None:  # noqa: F811
    with login(base, "gbr-planner") as planner, login(base, "gbr-clerk") as clerk:
        params = {"year": 2010, "layer": ["alliance", "registry"]}
        seen, unseen = (
            planner.get("/relations/network", params=params, timeout=SLOW),
            clerk.get("/relations/network", params=params, timeout=SLOW),
        )
        assert seen.status_code == 200 == unseen.status_code, seen.text
        ties = {(e["a"], e["b"]): e["layers"] for e in seen.json()["data"]["edges"]}
        assert "registry" in ties[("GBR", "KEN")]
        other = {(e["a"], e["b"]): e["layers"] for e in unseen.json()["data"]["edges"]}
        assert "registry" not in other.get(("GBR", "KEN"), [])
        assert seen.json()["marking"].startswith("SECRET") and unseen.json()["marking"].startswith(
            "UNCLASSIFIED"
        )
        window = {"a": "GBR", "b": "KEN", "first": "2010-06-01", "last": "2010-06-30"}
        high = planner.get("/relations/index", params=window, timeout=SLOW).json()
        low = clerk.get("/relations/index", params=window, timeout=SLOW).json()
        assert high["data"]["months"][0]["engagements"] == 1 and high["data"]["months"][0]["coop_index"] > 0
        assert low["data"]["months"][0]["engagements"] == 0 and low["data"]["months"][0]["coop_index"] == 0
        assert "Exercise Askari Storm" not in str(low)


def test_partner_and_alignment(base: str) -> None:  # noqa: F811
    with login(base, "ken-analyst") as ken:
        answer = ken.get("/relations/partners/KEN", params={"year": 2010, "top": 5}, timeout=SLOW)
        assert answer.status_code == 200, answer.text
        data = answer.json()["data"]
        assert data["country"] == "KEN" and data["partners"] and data["node"]["degree"] >= 1
        assert "exercise" in data["missing"] and "dca" in data["missing"]  # not loaded: said so
        aligned = ken.get(
            "/relations/alignment", params={"a": "UKR", "b": "RUS", "first": 2015}, timeout=SLOW
        )
        assert any("2022" in t for t in aligned.json()["data"]["flags"])


def test_bad_input_is_named(base: str) -> None:  # noqa: F811
    with login(base, "ken-analyst") as ken:
        response = ken.get(
            "/relations/index", params={"a": "GB", "b": "KEN", "first": "2010-01-01", "last": "x"}
        )
        assert response.status_code == 422 and "a" in response.text
        response = ken.get("/relations/network", params={"year": 2010, "layer": "nonsense"}, timeout=SLOW)
        assert response.status_code in (400, 422) and "nonsense" in response.text
        response = ken.get("/relations/partners/ATL", params={"year": 2010}, timeout=SLOW)
        assert response.status_code in (400, 422) and "ATL" in response.text
    assert httpx.get(f"{base}{API}/relations/network", params={"year": 2010}).status_code == 401


def test_the_cli_and_the_api_give_the_same_index_and_banner(ws: Workspace, world: dict[str, Any]) -> None:
    """One function behind the three: the same figure in the CLI, the API and the web page,
    and the same banner (coalitions expanded
    in both: a record released to NATO and one released to GBR and KEN share GBR)."""
    import re

    from typer.testing import CliRunner

    from detente.cli.app import app
    from tests.live import live_server

    with ws.session() as session:
        reg = Store(session, Sharing(session).principal("gbr-planner"))
        f.engagement(
            reg, world["states"]["GBR"], [world["states"]["KEN"]], title="Staff talks Nairobi",
            start_date=date(2010, 6, 20), status="executed", marking="CONFIDENTIAL//REL TO NATO",
        )  # fmt: skip
    with live_server(ws) as server:
        token = httpx.post(
            f"{server}{API}/auth/token", json={"username": "gbr-planner", "password": f.PASSWORD}
        )
        secret = token.json()["token"]
        window = {"a": "GBR", "b": "KEN", "first": "2010-06-01", "last": "2010-06-30"}
        api = httpx.get(f"{server}{API}/relations/index", params=window, timeout=SLOW,
                        headers={"Authorization": f"Bearer {secret}"}).json()  # fmt: skip
        with httpx.Client(base_url=server, follow_redirects=True, timeout=SLOW) as web:
            web.post("/login", data={"username": "gbr-planner", "password": f.PASSWORD})
            page = web.get("/relations/dyads", params={"a": "GBR", "b": "KEN", "year": 2010}).text
    # the web's compare-pairs chart (its data table) shows the same figure for the month
    shown = re.search(r"<td>GBR-KEN</td><td>2010-06</td><td>([\d.]+)</td>", page)
    assert shown, page[page.find("h-index") :][:2000]
    env = {"DETENTE_WORKSPACE": str(ws.path), "DETENTE_DATABASE_URL": ws.settings.database_url,
           "DETENTE_TOKEN": secret, "COLUMNS": "200"}  # fmt: skip
    args = ["relations", "index", "GBR", "KEN", "--from", "2010-06", "--to", "2010-06"]
    out = CliRunner().invoke(app, args, env=env).output
    banner = re.search(r"marking of this answer: (.+?) \(as gbr-planner\)", out)
    # without the coalitions expanded, {GBR} and {NATO} would share nothing: SECRET//NOFORN
    assert banner and banner.group(1) == api["marking"] == "SECRET//REL TO GBR"
    row = api["data"]["months"][0]
    assert re.search(rf"2010-06\s+│\s+{row['coop_index']:.2f}\s", out), out
    assert row["coop_index"] > 0 and abs(float(shown.group(1)) - row["coop_index"]) < 0.05
    assert row["engagements"] == 2
