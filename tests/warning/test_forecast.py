"""Operational forecasts: the latest data, 36 months, saved with the model and the inputs'
provenance and read back the same; alerts for the user's registry partners above a
threshold; and the web page with its risk map, in Chromium."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from playwright.sync_api import Browser, expect

from detente.core.workspace import Workspace
from detente.sources.lake import Lake
from detente.warning.forecast import Forecast, bands, forecast, load_forecast, save, summary
from tests import factories as f
from tests.live import live_server
from tests.warning.conftest import lake_copy
from tests.web.test_browser import accessible, browser, page_banner, shoot, sign_in_with_keyboard  # noqa: F401


@pytest.fixture(scope="module")
def made(views_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Forecast, str]:
    """One 36-month forecast for the module (the default model), with the views file's hash."""
    with Lake(lake_copy(views_lake, tmp_path_factory.mktemp("lake"))) as lake:
        return forecast(lake, horizons=36, k=200, seed=5), lake.current("views").sha256  # type: ignore[union-attr]


def test_forecast_saves_draws_and_provenance_and_reads_back(
    made: tuple[Forecast, str], tmp_path: Path
) -> None:
    fc, sha = made
    assert fc.meta["cutoff"] == "2019-12" and fc.draws.shape[1:] == (36, 200)
    params = fc.meta["params"]
    assert fc.model == "ensemble" and set(params["weights"]) == {"conflictology", "recency", "regime"}
    assert sum(params["weights"].values()) == pytest.approx(1)
    assert params["members"]["recency"]["lambda"] in (0.75, 0.8, 0.85, 0.9, 0.95)
    nga = str(int(fc.countries[fc.iso3.index("NGA")]))
    assert params["members"]["regime"]["states"][nga]["level"] == "100-1000"  # its state, explained
    assert "of the way to equal shares" in params["choice"] and params["calibration"]
    assert fc.meta["inputs"]["views"]["sha256"] == sha
    path = save(fc, tmp_path / "forecasts")
    table = pq.read_table(path)
    assert table.column_names == ["month_id", "country_id", "draw", "outcome"]
    assert json.loads(path.with_suffix(".json").read_text())["seed"] == 5
    back = load_forecast(path)
    assert np.array_equal(back.draws, fc.draws) and back.iso3 == fc.iso3
    rows = summary(back)
    assert [r["p25"] for r in rows] == sorted((r["p25"] for r in rows), reverse=True)
    top = rows[0]
    assert top["iso3"] in {"AFG", "SYR"} and top["low"] <= top["median"] <= top["high"]
    quiet = next(r for r in rows if r["iso3"] == "NOR")
    assert quiet["p25"] == 0 and quiet["high"] == 0


def test_the_intervals_shown_are_read_at_the_levels_learned_before_the_cutoff(
    made: tuple[Forecast, str], tmp_path: Path
) -> None:
    """The forecast keeps the levels of its draws shown as the 50% and 90% intervals, says
    what they are, and reads them back; the summary's and the fan chart's 90% interval of an
    active country is the draws' wider central interval, a quiet country's their central 90%."""
    fc, _ = made
    stored = fc.meta["intervals"]
    assert stored["cutoff"] == fc.cutoff and max(stored["folds"]) <= fc.cutoff - 12
    assert len(stored["groups"]) == len(fc.countries)
    assert (
        "90% interval = central 9" in stored["described"][1]
        and "learned on 10 folds to 2019-12" in (stored["described"][1])
    )
    back = load_forecast(save(fc, tmp_path / "forecasts"))
    assert back.intervals is not None and fc.intervals is not None
    assert back.intervals.levels == fc.intervals.levels
    i = fc.iso3.index("AFG")
    level = fc.intervals.level(0.9, 36)[i]
    assert np.all(level > 0.9)
    fan = bands(back, i)
    assert len(fan) == 36 and fan[0]["month"] == "2020-01"
    plain = np.quantile(fc.draws[i], [0.05, 0.95], axis=-1)
    assert all(f["q05"] <= plain[0, h] and f["q95"] >= plain[1, h] for h, f in enumerate(fan))
    assert any(f["q95"] > plain[1, h] for h, f in enumerate(fan))
    assert all(f["q05"] <= f["q25"] <= f["q50"] <= f["q75"] <= f["q95"] for f in fan)
    afg = next(r for r in summary(back) if r["iso3"] == "AFG")
    flat = fc.draws[i, :3].ravel()
    assert afg["high"] >= np.quantile(flat, 0.95) and afg["low"] <= np.quantile(flat, 0.05)
    nor = fc.iso3.index("NOR")
    assert np.all(fc.intervals.level(0.9, 36)[nor] == 0.9)


def test_the_partner_page_fan_chart_shows_the_learned_intervals(
    made: tuple[Forecast, str], tmp_path: Path
) -> None:
    """The web page's fan chart draws the same bands as ``bands`` (the levels learned before
    the cutoff), not the draws' plain central 90%."""
    from types import SimpleNamespace

    from detente.web.warning import country_section

    fc, _ = made
    save(fc, tmp_path / "forecasts")
    state = SimpleNamespace(workspace=SimpleNamespace(path=tmp_path))
    request = SimpleNamespace(app=SimpleNamespace(state=state))
    section = country_section(request, "AFG")  # type: ignore[arg-type]
    assert section is not None
    i = fc.iso3.index("AFG")
    shown = [{k: r[k] for k in ("month", "q05", "q25", "q50", "q75", "q95")} for r in section["chart"].rows]
    assert shown == bands(fc, i)
    plain = np.quantile(fc.draws[i], 0.95, axis=-1)
    assert any(r["q95"] > plain[h] for h, r in enumerate(shown))


def test_cli_forecast_and_alerts_for_registry_partners(
    cli: Callable[..., str], views_lake: Path, tmp_path: Path
) -> None:
    lake_copy(views_lake, tmp_path / "ws")  # the files as `sources load views` leaves them
    assert "no saved forecast" in cli("warning", "alerts", code=2)
    out = cli("warning", "forecast", "--horizons", "6", "--draws", "200", "--top", "5")
    assert "ensemble forecast from data to 2019-12" in out and "AFG" in out and "-> " in out
    assert "ensemble: " in out and "% regime" in out
    for name, iso in (("Nigeria", "NGA"), ("Norway", "NOR")):
        cli(
            "actors", "add", name, "--kind", "state", "--country", iso, "--marking", "UNCLASSIFIED//TLP:CLEAR"
        )
    out = cli("warning", "alerts", "--threshold", "0.5")
    assert "NGA" in out and "NOR" not in out.split("Partners at or above")[1]
    assert "1 of 2 partner states alerted" in out


@pytest.fixture(scope="module")
def saved(made: tuple[Forecast, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's forecast, saved once for both stores' sites (it is open data)."""
    return save(made[0], tmp_path_factory.mktemp("forecast"))


@pytest.fixture
def site(ws: Workspace, saved: Path) -> Iterator[str]:
    with ws.session() as session:
        world = f.two_organisations(session)
        reg = f.Store(session, f.Sharing(session).principal("gbr-planner"))
        f.state(reg, "NGA", name="Nigeria", marking="UNCLASSIFIED//TLP:CLEAR")
        f.state(reg, "AFG", name="Afghanistan", marking="SECRET//REL TO GBR")
        del world
    (ws.path / "forecasts").mkdir()
    for path in (saved, saved.with_suffix(".json")):
        shutil.copy(path, ws.path / "forecasts" / path.name)
    with live_server(ws) as base:
        yield base


def test_the_warning_page_maps_risk_and_alerts_partners_by_marking(
    browser: Browser,  # noqa: F811
    site: str,
    database_url: str,
) -> None:
    store = database_url.split(":")[0].split("+")[0]
    gbr = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_with_keyboard(gbr, site, "gbr-planner")
    gbr.goto(f"{site}/warning")
    expect(gbr.get_by_role("heading", level=1)).to_have_text("Early warning")
    assert gbr.locator("figure.chart svg").count() == 1
    assert gbr.locator("#top-risk tbody tr").count() == 25
    alerts = gbr.locator("#alerts tbody").inner_text()
    assert "Nigeria" in alerts and "Afghanistan" in alerts
    assert page_banner(gbr).startswith("SECRET")  # an alert names a SECRET actor
    accessible(gbr)
    shoot(gbr, "30-warning", store)
    gbr.get_by_label("Alert at a probability of").fill("1")
    gbr.get_by_role("button", name="Apply").click()
    expect(gbr.locator("#alert-count")).to_contain_text("at or above 1")
    # a partner's page: the fan chart, the risk and what drives it
    gbr.goto(f"{site}/warning")
    gbr.locator("#alerts").get_by_role("link", name="Nigeria").click()
    expect(gbr.locator("#h-risk")).to_have_text("Conflict risk")
    fan = gbr.locator("figure.chart", has_text="Forecast battle deaths per month, NGA")
    assert fan.locator("svg").count() == 1 and fan.locator("tbody tr").count() == 36
    why = gbr.locator("#why li")  # each member's share and what it draws from
    assert why.count() == 3
    text = gbr.locator("#why").inner_text()
    assert "recency, this country's own last three years" in text and "decay" in text
    assert (
        "regime, how country-months in the same state went on" in text and "100-1000 deaths a month" in text
    )
    accessible(gbr)
    shoot(gbr, "31-partner-risk", store)
    ken = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_with_keyboard(ken, site, "ken-analyst")
    ken.goto(f"{site}/warning")
    assert "Afghanistan" not in ken.locator("#alerts tbody").inner_text()  # not releasable to KEN
    assert "SECRET" not in page_banner(ken)
    assert "AFG" in ken.locator("#top-risk tbody").inner_text()  # the open forecast itself is shown
