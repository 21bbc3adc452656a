"""Monitoring over the REST API (a real server, both stores) and the CLI: each caller gets
only what is releasable to them, with the combined marking; the report comes as HTML or
PDF with its marking in a header; bad input is named."""

from __future__ import annotations

from collections.abc import Callable
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
from tests.assessment.test_monitor import SECRET_UK, _chain
from tests.sources.conftest import cli  # noqa: F401


@pytest.fixture
def world(ws: Workspace) -> dict[str, Any]:
    with ws.session() as session:
        setup = f.two_organisations(session)
        made = _chain(Store(session, Sharing(session).principal("gbr-planner")), setup["states"])
    return {**setup, **made}


def test_dashboard_scorecard_and_report_over_the_api(base: str, world: dict[str, Any]) -> None:  # noqa: F811
    initiative = world["initiative"].id
    assert httpx.get(f"{base}/api/v1/assessment/dashboard").status_code == 401
    with login(base, "gbr-planner") as gbr, login(base, "ken-analyst") as ken:
        mine = gbr.get(f"/assessment/initiatives/{initiative}/scorecard", params={"on": "2026-06-30"}).json()
        assert mine["marking"] == SECRET_UK
        assert mine["counts"] == {"off_track": 1, "at_risk": 1, "no_data": 1} and mine["overdue"] == 2
        by_name = {i["name"]: i for i in mine["indicators"]}
        assert by_name["Companies certified"]["overdue_days"] == 81
        last = by_name["Exercises completed"]["points"][-1]
        assert (last["on"], last["value"], last["computed"]) == ("2026-06-30", 3.0, True)
        theirs = ken.get(
            f"/assessment/initiatives/{initiative}/scorecard", params={"on": "2026-06-30"}
        ).json()
        assert theirs["marking"] == "UNCLASSIFIED//TLP:CLEAR"
        assert {i["name"] for i in theirs["indicators"]} == {"Companies certified", "Exercises completed"}
        assert {i["name"]: i for i in theirs["indicators"]}["Exercises completed"]["points"][-1][
            "value"
        ] == 2.0
        assert [c["title"] for c in ken.get("/assessment/dashboard").json()] == [
            "Kenya peacekeeping readiness"
        ]
        error(ken.get(f"/assessment/initiatives/{world['states']['GBR'].id}/scorecard"), 404, "not_found")
        page = gbr.get("/assessment/report", params={"year": 2026})
        assert page.status_code == 200 and page.headers["x-detente-marking"] == SECRET_UK
        assert "Readiness rating (national)" in page.text
        pdf = ken.get("/assessment/report", params={"year": 2026, "format": "pdf"}, timeout=60)
        assert (
            pdf.content.startswith(b"%PDF") and pdf.headers["x-detente-marking"] == "UNCLASSIFIED//TLP:CLEAR"
        )
        error(gbr.get("/assessment/report", params={"year": 2026, "format": "docx"}), 422, "invalid")


def test_the_cli_prints_the_dashboard_and_scorecard_and_writes_the_report(
    cli: Callable[..., str],  # noqa: F811
    tmp_path: Path,
) -> None:
    with open_workspace(Settings(workspace=tmp_path / "ws", database_url="")) as ws, ws.session() as session:
        reg = Store(session, Sharing(session).principal("analyst"))
        states = {c: f.state(reg, c) for c in ("GBR", "KEN")}
        _chain(reg, states)
    cli("login", "analyst")
    board = cli("assess", "dashboard", "--on", "2026-06-30")
    assert "Kenya peacekeeping readiness" in board
    card = cli("assess", "scorecard", "Kenya peacekeeping readiness", "--on", "2026-06-30")
    assert "Companies certified" in card and "overdue 81 d" in card and "off_track" in card
    out = cli("assess", "report", "--year", "2026", "--out", str(tmp_path / "r.pdf"))
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF") and "SECRET//REL TO GBR" in out
    assert "write the report to a .html or .pdf file" in cli(
        "assess", "report", "--year", "2026", "--out", str(tmp_path / "r.doc"), code=2
    )
    assert "not a date" in cli("assess", "dashboard", "--on", "30/06/2026", code=2)
