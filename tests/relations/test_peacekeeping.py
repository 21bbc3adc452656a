"""A country's peacekeeping contributions: one function behind the partner page, the REST
route and the CLI, so the three give the same figures (on SQLite and PostgreSQL: the page and
the routes run through the registry's sign-in), the figures checked against IPI's files,
the empty state naming the command that fills it; and the IPI treatment and outcome in an
effect study."""

from __future__ import annotations

import csv
import html
import json
import math
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from statistics import mean
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from detente.cli.app import app
from detente.core.workspace import Workspace
from detente.sources.lake import LAKE_FILE, Lake
from detente.sources.service import load
from tests import factories as f
from tests.live import live_server

API = "/api/v1"
KINDS = ("troops", "police", "experts", "total")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _n(value: str) -> int:
    return 0 if value in ("", "NA") else int(float(value))


@pytest.fixture(scope="module")
def ipi(shared: Path) -> list[Path]:
    """Kenya's own contributor file and one month of contributor-mission rows."""
    folder = shared / "peacekeeping_ipi"
    return [folder / "countries" / "Kenya.csv", folder / "current_month_current_month.csv"]


@pytest.fixture(scope="module")
def lake_file(ipi: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Loaded once for the module (only read); each store's workspace gets a copy."""
    folder = tmp_path_factory.mktemp("pko")
    with Lake(folder) as lake:
        load(lake, "peacekeeping_ipi", ipi, user="t")
    return folder / LAKE_FILE


def _cli(ws: Workspace, token: str, *args: str) -> str:
    env = {"DETENTE_WORKSPACE": str(ws.path), "DETENTE_DATABASE_URL": ws.settings.database_url,
           "DETENTE_TOKEN": token, "COLUMNS": "200"}  # fmt: skip
    result = CliRunner().invoke(app, ["relations", "peacekeeping", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _page_missions(page: str) -> list[tuple[str, ...]]:
    table = page[page.index('id="pko-missions"') :].split("</table>")[0]
    return [tuple(re.findall(r"<td>(.*?)</td>", row)) for row in re.findall(r"<tr><td>.*?</tr>", table)]


def test_cli_api_and_web_give_the_same_figures(ws: Workspace, ipi: list[Path], lake_file: Path) -> None:
    with ws.session() as session:
        ken = f.two_organisations(session)["states"]["KEN"]
    with live_server(ws) as server:
        token = httpx.post(
            f"{server}{API}/auth/token", json={"username": "ken-analyst", "password": f.PASSWORD}
        )
        secret = token.json()["token"]
        api = httpx.Client(base_url=server + API, headers={"Authorization": f"Bearer {secret}"})
        web = httpx.Client(base_url=server, follow_redirects=True)
        assert web.post("/login", data={"username": "ken-analyst", "password": f.PASSWORD}).status_code == 200
        # no lake yet: each view says which command fills it
        empty = html.unescape(web.get(f"/partners/{ken.id}").text)
        assert (
            "Peacekeeping contributions" in empty
            and "`detente sources load peacekeeping_ipi FILE...`" in empty
        )
        assert "`detente sources load peacekeeping_ipi FILE...`" in " ".join(_cli(ws, secret, "KEN").split())
        nothing = api.get("/relations/peacekeeping/KEN").json()
        assert (
            nothing["data"]["loaded"] is False and "sources load peacekeeping_ipi" in nothing["data"]["hint"]
        )
        shutil.copyfile(lake_file, ws.path / LAKE_FILE)
        answer = api.get("/relations/peacekeeping/KEN").json()
        page = html.unescape(web.get(f"/partners/{ken.id}").text)
        by_name = api.get("/relations/peacekeeping/Kenya").json()
        assert api.get("/relations/peacekeeping/Atlantis").status_code == 422
    cli = json.loads(_cli(ws, secret, "KEN", "--json"))
    assert cli == answer == by_name and answer["marking"] == "UNCLASSIFIED//TLP:CLEAR"
    d = answer["data"]
    # the figures against the file: the latest month and 2013's monthly average
    kenya = _rows(ipi[0])
    last = kenya[-1]
    figures = {k.lower(): _n(last[k]) for k in ("Troops", "Police", "Experts")}
    assert d["latest"] == {"date": last["Date"], **figures, "total": sum(figures.values())}
    y2013 = next(r for r in d["years"] if r["year"] == 2013)
    troops = [_n(r["Troops"]) for r in kenya if r["Date"].startswith("2013-")]
    assert (y2013["months"], y2013["troops"]) == (12, round(mean(troops), 1))
    unmiss = next(r for r in _rows(ipi[1]) if r["Contributor"] == "Kenya" and r["Mission"] == "UNMISS")
    row = next(r for r in d["missions"] if r["mission"] == "UNMISS")
    assert (row["mission_iso3"], row["troops"], row["total"]) == (
        "SSD",
        _n(unmiss["Troops"]),
        _n(unmiss["Total"]),
    )
    # the page shows the same figures: the latest month, the mission table, the chart's data
    latest = d["latest"]
    assert f"{latest['date']}: <strong>{latest['troops']:,}</strong> troops" in page
    assert _page_missions(page) == [
        (r["mission"], r["mission_iso3"], str(r["year"]), f"{r['months']}/{r['months_covered']}",
         *(f"{r[k]:,.1f}" for k in KINDS), f"{r['peak_total']:,}")
        for r in d["missions"]
    ]  # fmt: skip
    assert f"<td>troops</td><td>2013</td><td>{y2013['troops']}</td>" in page.replace("\n", "")
    # and the CLI's table
    text = _cli(ws, secret, "KEN", "--years", "2013-2014")
    assert re.search(rf"UNMISS\s+│\s+SSD\s+│\s+2014\s+│\s+1/1\s+│\s+{row['troops']:,.1f}\s", text), text
    assert re.search(rf"2013\s+│\s+12/12\s+│\s+{y2013['troops']:,.1f}\s", text), text


def test_ipi_treatment_and_outcome_in_an_effect_study(
    cli: Callable[..., str], shared: Path, tmp_path: Path
) -> None:
    """``pko_first`` and ``pko_troops_log`` from the lake: adoption years and values as in the
    file; North Yemen (COW 678, gone in 1990) shares Yemen's ISO3 code and is not counted as
    adopting after it ceased to exist."""
    from detente.assessment.effects import named_outcome, named_treatment
    from detente.assessment.effects_panel import build_panel

    long = shared / "peacekeeping_ipi" / "ipi_contributor_month_long.csv"
    cli("sources", "load", "cow_states", str(shared / "cow" / "states2016.csv"))
    cli("sources", "load", "peacekeeping_ipi", str(long))
    rows = _rows(long)
    first: dict[str, int] = {}
    for r in rows:
        if sum(_n(r[k]) for k in ("Troops", "Police", "Experts")) > 0:
            first[r["contributor"]] = min(first.get(r["contributor"], 9999), int(r["Date"][:4]))
    with Lake(tmp_path / "ws") as lake:
        adoptions = dict(named_treatment(lake, "pko_first").adoptions[["iso3", "first_year"]].values.tolist())
        for name, iso3 in (("Kenya", "KEN"), ("China", "CHN"), ("Yemen", "YEM"), ("Germany", "DEU")):
            assert adoptions[iso3] == first[name]
        panel = build_panel(
            lake, named_treatment(lake, "pko_first"), named_outcome("pko_troops_log"), 1990, 2012
        )
        data: Any = panel.data
        some = data[(data.year == 2012) & (data.y > 0)].iloc[0]  # a state in the sample, contributing
        sql = "SELECT any_value(contributor) FROM peacekeeping_ipi WHERE iso3 = ?"
        name = lake.db.execute(sql, [some.iso3]).fetchall()[0][0]
    months = {r["Date"] for r in rows if r["Date"][:4] == "2012"}  # a month without a row counts as none
    troops = sum(_n(r["Troops"]) for r in rows if r["contributor"] == name and r["Date"][:4] == "2012")
    assert len(months) == 12 and math.isclose(some.y, math.log1p(troops / 12))
    assert 678 not in set(data.unit) and 679 in set(data.unit)
    study = json.loads(
        cli(
            "assess",
            "effect",
            "--treatment",
            "pko_first",
            "--outcome",
            "pko_troops_log",
            "--from",
            "1990",
            "--to",
            "2012",
            "--placebos",
            "0",
            "--json",
        )
    )
    assert study["treatment"]["name"] == "pko_first" and study["outcome"]["name"] == "pko_troops_log"
    assert study["sample"]["treated_units"] == panel.sample.treated_units > 0
    assert study["att"]["estimate"] > 0  # contributing troops after first contributing: by construction
