"""The exchange through the API and the CLI, on SQLite and PostgreSQL: a partner's view
through both, a release no in-force agreement covers refused with the reason (403), the
misinformation guard (422 without a reason; the override on the audit trail), originator
control for a recipient, the dissemination list and the STIX a partner would receive."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select
from stix2validator import ValidationOptions, validate_string
from typer.testing import CliRunner

from detente.cli.app import app
from detente.core.audit import AuditEntry
from detente.core.workspace import Workspace
from tests import factories as f
from tests.exchange.test_reports import SECRET_WORD, world
from tests.live import live_server


def _api(base: str, user: str) -> httpx.Client:
    token = httpx.post(f"{base}/api/v1/auth/token", json={"username": user, "password": f.PASSWORD})
    return httpx.Client(
        base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token.json()['token']}"}
    )


def _cli(ws: Workspace, token: str) -> Any:
    env = {"DETENTE_WORKSPACE": str(ws.path), "DETENTE_DATABASE_URL": ws.settings.database_url,
           "COLUMNS": "200", "DETENTE_TOKEN": token}  # fmt: skip

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(app, list(args), env=env)
        out = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert result.exit_code == code, f"{args}: exit {result.exit_code}: {out}\n{result.exception!r}"
        return out

    return run


def test_api_and_cli_release_view_and_guard(ws: Workspace) -> None:
    with ws.session() as session:
        report_id = world(session)["report"].id
    with live_server(ws) as base:
        gbr, ken = _api(base, "gbr-planner"), _api(base, "ken-admin")
        seen = gbr.get(f"/exchange/reports/{report_id}", params={"partner": "KEN"})
        assert seen.status_code == 200 and SECRET_WORD not in seen.text
        body = seen.json()
        assert [p.get("withheld", False) for p in body["portions"]] == [False, True, False]
        assert body["banner"] == "CONFIDENTIAL//REL TO GBR, KEN"
        refused = gbr.post(
            f"/exchange/reports/{report_id}/releases", json={"partner": "FRA", "portions": [3]}
        )
        assert refused.status_code == 403
        assert "no intelligence-sharing arrangement between GBR and FRA" in refused.text
        done = gbr.post(f"/exchange/reports/{report_id}/releases", json={"partner": "KEN"})
        assert done.status_code == 201 and done.json()["portions"] == [1, 3]
        assert [r["partner"] for r in gbr.get(f"/exchange/reports/{report_id}/releases").json()] == ["KEN"]
        orcon = ken.post(f"/exchange/reports/{report_id}/releases", json={"partner": "GBR", "portions": [1]})
        assert orcon.status_code == 403 and "originator control" in orcon.text
        stix = gbr.get(f"/exchange/reports/{report_id}/stix", params={"partner": "KEN"})
        assert SECRET_WORD not in stix.text
        assert validate_string(stix.text, ValidationOptions(version="2.1")).is_valid
        # the guard: an unverified report graded 5 needs a reason to leave, and the reason is audited
        marked = "RESTRICTED//REL TO GBR, KEN"
        header = {"title": "Rumour", "source_reliability": "F", "info_credibility": 5, "marking": marked}
        paragraphs = [{"marking": marked, "text": "Heard in a market."}]
        rumour = gbr.post("/exchange/reports", json={"header": header, "paragraphs": paragraphs})
        assert rumour.status_code == 201 and "CAUTION" in rumour.json()["caution"]
        rumour_id = rumour.json()["report"]["id"]
        assert "CAUTION" in gbr.get(f"/intel_reports/{rumour_id}").json()["caution"]  # the record too
        guarded = gbr.post(f"/exchange/reports/{rumour_id}/releases", json={"partner": "KEN"})
        assert guarded.status_code == 422 and "misinformation guard" in guarded.text
        ok = gbr.post(
            f"/exchange/reports/{rumour_id}/releases", json={"partner": "KEN", "override": "asked raw"}
        )
        assert ok.status_code == 201 and ok.json()["override_reason"] == "asked raw"
        login = {"username": "gbr-planner", "password": f.PASSWORD}
        cli = _cli(ws, httpx.post(f"{base}/api/v1/auth/token", json=login).json()["token"])
        shown = cli("intel", "view", report_id, "--partner", "KEN")
        assert (
            "[portion withheld]" in shown
            and SECRET_WORD not in shown
            and "CONFIDENTIAL//REL TO GBR, KEN" in shown
        )
        out = cli(
            "intel", "release", report_id, "--to", "FRA", "--portion", "3", code=6
        )  # refused: AuthError
        assert "no intelligence-sharing arrangement between GBR and FRA" in " ".join(out.split())
        assert "KEN" in cli("intel", "disseminations", report_id)
        written = cli(
            "intel", "write", "Convoy sighted", "--marking", marked,
            "--para", f"{marked}::A convoy of six trucks.", "--para", "SECRET::Seen by an agent.",
            "--reliability", "C", "--credibility", "3",
        )  # fmt: skip
        assert "SECRET" in written.splitlines()[1] and "CAUTION: not verified" in written
    with ws.session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.record_id == rumour_id)).all()
        overrides = [json.loads(e.detail) for e in entries if e.action == "guard_override"]
        assert [o["reason"] for o in overrides] == ["asked raw"]
