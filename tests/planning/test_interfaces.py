"""Planning over the REST API (a real server, both stores) and the CLI: the findings with
their rule and missing record, the notification draft, and what another organisation sees."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from detente.core.settings import Settings
from detente.core.workspace import Workspace, open_workspace
from detente.sharing.service import Sharing
from detente.store.service import Store
from tests import factories as f
from tests.api.test_api import base, error, login  # noqa: F401  (the API tests' server and sign-in)
from tests.sources.conftest import cli  # noqa: F401

SOON = date.today() + timedelta(days=20)


def _plans(reg: Store, states: dict[str, Any]) -> dict[str, Any]:
    big = f.engagement(reg, states["GBR"], [states["FRA"]], title="Exercise Big Lion", kind="joint_exercise",
                       status="planned", start_date=SOON, end_date=SOON + timedelta(days=9),
                       location_country="FRA", troops=9_000, marking="UNCLASSIFIED//TLP:CLEAR")  # fmt: skip
    quiet = f.engagement(reg, states["GBR"], [states["KEN"]], title="Quiet visit", kind="joint_exercise",
                         status="planned", start_date=SOON, location_country="KEN",
                         marking="SECRET//REL TO GBR")  # fmt: skip
    return {"big": big, "quiet": quiet}


@pytest.fixture
def world(ws: Workspace) -> dict[str, Any]:
    with ws.session() as session:
        setup = f.two_organisations(session)
        plans = _plans(Store(session, Sharing(session).principal("gbr-planner")), setup["states"])
    return {**setup, **plans}


def test_findings_and_drafts_over_the_api(base: str, world: dict[str, Any]) -> None:  # noqa: F811
    assert httpx.get(f"{base}/api/v1/planning/findings").status_code == 401
    with login(base, "gbr-planner") as gbr, login(base, "ken-analyst") as ken:
        mine = gbr.get("/planning/findings").json()
        assert mine["marking"].startswith("SECRET") and mine["engagements"] == 2
        rules = {(x["engagement"], x["rule"]) for x in mine["findings"]}
        assert {("Exercise Big Lion", "vd:notification"), ("Exercise Big Lion", "vd:notice_period"),
                ("Exercise Big Lion", "sofa"), ("Quiet visit", "sofa")} <= rules  # fmt: skip
        sofa = next(
            x for x in mine["findings"] if x["rule"] == "sofa" and x["engagement"] == "Exercise Big Lion"
        )
        assert "GBR and FRA" in sofa["missing"]
        only = gbr.get("/planning/findings", params={"rule": "vd:notification"}).json()["findings"]
        assert [x["engagement"] for x in only] == ["Exercise Big Lion"] and "9,000 ≥ 9,000" in only[0][
            "message"
        ]
        draft = gbr.get(f"/planning/notification/{world['big'].id}")
        assert draft.status_code == 200 and "Exercise Big Lion" in draft.text and "VD2011" in draft.text
        theirs = ken.get("/planning/findings").json()
        assert theirs["engagements"] == 1 and theirs["marking"] == "UNCLASSIFIED//TLP:CLEAR"
        assert "Quiet visit" not in str(theirs)
        error(ken.get(f"/planning/notification/{world['quiet'].id}"), 404, "not_found")
        # the optimiser over the API: no costed engagement yet, so an empty plan and the unmet minimum
        asked = {"budget": 1e6, "year": SOON.year, "priority": {"Kenya": 1}}
        made = gbr.post("/planning/proposal", json=asked)
        assert made.status_code == 200, made.text
        plan = made.json()
        assert plan["chosen"] == [] and plan["unmet"][0].startswith("KEN: 0 of 1")
        error(gbr.post("/planning/proposal", json={"budget": -1, "year": 2027}), 422, "invalid")


def test_the_cli_prints_findings_and_drafts(cli: Callable[..., str], tmp_path: Path) -> None:  # noqa: F811
    with open_workspace(Settings(workspace=tmp_path / "ws", database_url="")) as ws, ws.session() as session:
        reg = Store(session, Sharing(session).principal("analyst"))
        _plans(reg, {c: f.state(reg, c) for c in ("GBR", "FRA", "KEN")})
    cli("login", "analyst")
    out = cli("plan", "check", "--rule", "sofa")
    assert "Exercise Big Lion" in out and "Quiet visit" in out and "by rule:" in out
    assert "Exercise Big Lion" in cli("plan", "notification", "Exercise Big Lion")
    calendar = cli("plan", "calendar", "--year", str(SOON.year))
    assert "annual calendar" in calendar.lower()
    assert "no forces or no location" in cli("plan", "notification", "Quiet visit", code=2)
    # the optimiser: nothing costed in the plan year is a plan of nothing, said plainly
    empty = cli("plan", "optimise", "--budget", "100000", "--year", str(SOON.year), "--priority", "KEN=1")
    assert "0 of 0" in empty and "priority KEN: 0 of 1" in empty
    assert "COUNTRY=NUMBER" in cli(
        "plan", "optimise", "--budget", "1", "--year", "2027", "--priority", "KEN", code=2
    )
