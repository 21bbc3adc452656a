"""Effect studies on the real shared data: DCAD agreements and UCDP outcomes in a workspace
loaded through the CLI. The estimator recovers an effect injected into a synthetic
outcome on the real panel, its pre-trend test catches an injected pre-trend, random
placebo dates reject at about the nominal 5%, registry treatments follow the caller's
markings, and bad input names what is missing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from detente.assessment import effects as fx
from detente.cli.app import app
from detente.sharing.service import Sharing
from detente.sources.lake import Lake
from detente.store.service import Store
from tests import factories as f
from tests.sources.conftest import cli  # noqa: F401  (fixture, shared)

FILES = {
    "cow_states": "cow/states2016.csv",
    "dcad": "dcad/DCAD-v1.0-main.csv",
    "ucdp_brd": "ucdp_small/BattleDeaths_v23_1_to2019.csv",
    "ucdp_acd": "ucdp_acd/ucdp-prio-acd-221.csv",
}
ENV = {"COLUMNS": "200", "DETENTE_PASSWORD": "correct horse battery", "DETENTE_DATABASE_URL": ""}


def _runner(folder: Path) -> Callable[..., str]:
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, ["--workspace", str(folder), *args], env=ENV)
        assert result.exit_code == code, result.output
        return result.output

    return run


@pytest.fixture(scope="module")
def workspace(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("effects") / "ws"
    run = _runner(folder)
    run("init", "--org", "Ministry of Defence of Ghana", "--country", "GHA", "--admin", "analyst")
    for name, file in FILES.items():
        run("sources", "load", name, str(shared / file))
    return folder


@pytest.fixture(scope="module")
def panel(workspace: Path) -> fx.Panel:
    with Lake(workspace) as lake:
        treatment = fx.named_treatment(lake, "dcad_first")
        return fx.build_panel(lake, treatment, fx.named_outcome("brd_log"), 1990, 2010)


def _synthetic(panel: fx.Panel, effect: float = 0.0, pre_slope: float = 0.0, seed: int = 3) -> fx.Panel:
    """Unit and year effects plus noise on the real panel and treatment timing, with
    ``effect`` added from adoption on and, for treated states, ``pre_slope`` per year of
    catching up before it (a pre-trend)."""
    rng = np.random.default_rng(seed)
    d = panel.data
    units, years = d["unit"].unique(), d["year"].unique()
    y = (
        d["unit"].map(dict(zip(units, rng.normal(0, 1, len(units)), strict=True)))
        + d["year"].map(dict(zip(years, rng.normal(0, 0.5, len(years)), strict=True)))
        + rng.normal(0, 1, len(d))
        + effect * d["treated"]
    )
    ahead = (d["first_year"] > 0) & (d["year"] < d["first_year"])
    y += pre_slope * np.where(ahead, d["year"] - d["first_year"], 0)
    return fx.with_outcome(panel, y)


def test_the_dcad_study_on_real_data_through_the_cli(workspace: Path, tmp_path: Path) -> None:
    run = _runner(workspace)
    args = ["assess", "effect", "--treatment", "dcad_first", "--outcome", "brd_log", "--from", "1990"]
    args += ["--to", "2010", "--placebos", "200", "--seed", "1"]
    study = json.loads(run(*args, "--json"))
    s = study["sample"]
    # 62 states signed before 1990 and 22 have fewer than two untreated years: dropped
    assert (s["units"], s["treated_units"], s["never_treated_units"]) == (115, 79, 36)
    assert (s["dropped_already_treated"], s["dropped_short"], s["country_years"]) == (62, 22, 2319)
    assert sum(s["cohorts"].values()) == 79 and min(map(int, s["cohorts"])) >= 1992
    att = study["att"]
    assert att["estimate"] == pytest.approx(-0.864, abs=0.002) and att["ci_high"] < 0 and att["df"] == 114
    assert [c["term"] for c in study["event"]][:4] == ["pre5", "pre4", "pre3", "pre2"]
    assert study["pretrend"]["df1"] == 4 and study["pretrend"]["p_value"] > 0.05
    placebo = study["placebo"]
    assert placebo["draws"] == 200 and 3 <= placebo["rejections"] <= 18  # Binomial(200, 0.05), 99.5%
    assert placebo["ci_low"] <= 0.05 <= placebo["ci_high"]
    assert any("Causation" in c for c in study["cannot"]) and study["marking"] == "UNCLASSIFIED//TLP:CLEAR"
    assert not any("effect of" in c for c in study["can"])  # an association, never an effect
    assert {p["source"] for p in study["provenance"]} == {"dcad", "ucdp_brd", "cow_states"}
    out = tmp_path / "study.md"
    text = run(*args[:-4], "--placebos", "20", "--out", str(out))
    assert "What it cannot claim" in text and "pre-trend F(4, 114)" in text
    page = out.read_text()
    assert page.startswith("# Effect study") and "| +5 or later |" in page and "## Data" in page


def test_incidence_and_general_agreements_run_too(workspace: Path) -> None:
    with Lake(workspace) as lake:
        study = fx.run_study(lake, "dcad_first_general", "conflict", 1990, 2010, placebos=50)
    assert study.sample.treated_units > 50 and study.outcome["unit"].startswith("share")
    assert -1 <= study.att.ci_low < study.att.ci_high <= 1  # a probability difference


def test_an_injected_effect_is_recovered(panel: fx.Panel) -> None:
    study = fx.estimate(_synthetic(panel, effect=1.0), placebos=0)
    assert study.att.ci_low < 1 < study.att.ci_high and study.att.ci_low > 0
    after = [c for c in study.event if c.term.startswith("post")]
    assert all(c.ci_low < 1 < c.ci_high for c in after)
    assert study.pretrend is not None and study.pretrend.p_value > 0.01
    # the estimator is linear in the outcome: adding 1 after adoption to the real outcome adds 1
    real = fx.estimate(panel, placebos=0).att.estimate
    shifted = fx.estimate(fx.with_outcome(panel, panel.data["y"] + panel.data["treated"]), placebos=0)
    assert shifted.att.estimate - real == pytest.approx(1.0, abs=1e-4)


def test_the_pre_trend_test_detects_an_injected_pre_trend(panel: fx.Panel) -> None:
    study = fx.estimate(_synthetic(panel, pre_slope=0.15), placebos=0)
    assert study.pretrend is not None and study.pretrend.p_value < 0.001
    assert any(c.startswith("Parallel trends are doubtful") for c in study.cannot)
    leads = [c.estimate for c in study.event if c.term.startswith("pre")]
    assert leads[0] < -0.1 and leads[-1] > 0.1  # rising toward adoption


def test_placebo_dates_reject_at_about_five_percent(panel: fx.Panel) -> None:
    draws = 1000
    result = fx.placebo(panel, draws=draws, seed=7)
    low, high = stats.binom.ppf([0.0025, 0.9975], draws, 0.05)  # a 99.5% band around 5%
    assert low <= result.rejections <= high
    assert abs(result.mean_estimate) < 3 * result.sd_estimate / np.sqrt(draws) + 0.01
    assert fx.placebo(panel, draws=30, seed=7) == fx.placebo(panel, draws=30, seed=7)
    assert fx.placebo(panel, draws=30, seed=8) != fx.placebo(panel, draws=30, seed=7)


def test_the_placebo_fits_equal_pyfixest(panel: fx.Panel) -> None:
    """The placebo study's fast fits are Gardner's estimator exactly (dense least squares
    agrees to rounding) and pyfixest's did2s to its precision (it recovers the fixed
    effects iteratively), standard errors included."""
    rng = np.random.default_rng(11)
    data = panel.data[["unit", "year", "y"]].copy()
    fast = fx._TwoStage(data)
    entry = data.groupby("unit")["year"].min()
    units = entry[entry == 1990].index.to_numpy()  # every one keeps untreated years
    dummies = np.hstack([pd.get_dummies(data["unit"]), pd.get_dummies(data["year"]).iloc[:, 1:]]).astype(
        float
    )
    for _ in range(3):
        chosen = rng.choice(units, 40, replace=False)
        first = dict(zip(chosen, rng.integers(1993, 2011, 40), strict=True))
        treated = (data["year"] >= data["unit"].map(first).fillna(9999)).to_numpy(float)
        b, var = fast.fit(treated)
        untreated = treated == 0
        coef = np.linalg.lstsq(dummies[untreated], data["y"].to_numpy()[untreated], rcond=None)[0]
        assert b == pytest.approx(treated @ (data["y"] - dummies @ coef) / treated.sum(), abs=1e-10)
        data["treated"] = treated
        pb, pv, clusters, _ = fx._fit(data, ["treated"])
        assert b == pytest.approx(pb[0], abs=1e-3 * np.sqrt(var)) and var == pytest.approx(pv[0, 0], rel=1e-3)
        assert clusters == fast.clusters == 115


def test_registry_treatments_follow_the_callers_markings(ws, workspace: Path, panel: fx.Panel) -> None:  # type: ignore[no-untyped-def]
    with ws.session() as session:
        setup = f.two_organisations(session)
        f.clerk(session, setup["gbr"])
        reg = Store(session, Sharing(session).principal("gbr-planner"))
        gbr, ken, fra = (setup["states"][c] for c in ("GBR", "KEN", "FRA"))
        f.agreement(reg, gbr, ken, signed_on=date(1996, 3, 1), marking="SECRET//REL TO GBR")
        f.agreement(reg, gbr, fra, signed_on=date(2001, 6, 1), marking="UNCLASSIFIED//TLP:CLEAR")
    seen = {}
    for user in ("gbr-planner", "gbr-clerk"):
        with ws.session() as session:
            seen[user] = fx.registry_treatment(Store(session, Sharing(session).principal(user)))
    planner, clerk = seen["gbr-planner"], seen["gbr-clerk"]
    assert dict(zip(planner.adoptions["iso3"], planner.adoptions["first_year"], strict=True)) == {
        "GBR": 1996, "KEN": 1996, "FRA": 2001,
    }  # fmt: skip
    assert dict(zip(clerk.adoptions["iso3"], clerk.adoptions["first_year"], strict=True)) == {
        "GBR": 2001, "FRA": 2001,
    }  # fmt: skip
    with Lake(workspace) as lake:
        marked = fx.estimate(fx.build_panel(lake, planner, panel.outcome, 1990, 2010), placebos=0)
        open_ = fx.estimate(fx.build_panel(lake, clerk, panel.outcome, 1990, 2010), placebos=0)
    assert "SECRET" in marked.marking and "GBR" in marked.marking
    assert open_.marking == "UNCLASSIFIED//TLP:CLEAR" and open_.sample.treated_units == 2
    assert any("only 3 treated" in c for c in marked.cannot)


def test_bad_input_names_what_is_missing(cli: Callable[..., str], shared: Path, tmp_path: Path) -> None:  # noqa: F811
    out = cli("assess", "effect", code=2)
    assert "dcad (Defense Cooperation Agreement Dataset" in out and "detente sources load dcad FILE" in out
    cli("sources", "load", "dcad", str(shared / FILES["dcad"]))
    assert "ucdp_brd (UCDP battle-related deaths" in cli("assess", "effect", code=2)
    assert "detente sources load ucdp_onesided FILE" in cli(
        "assess", "effect", "--outcome", "osv_log", code=2
    )
    assert "no event data in the lake" in cli("assess", "effect", "--outcome", "conflict_events_log", code=2)
    cli("sources", "load", "ucdp_brd", str(shared / FILES["ucdp_brd"]))
    assert "COW state system is not in the lake" in cli("assess", "effect", code=2)
    out = cli("assess", "effect", "--treatment", "dca_first", code=2)
    assert "unknown treatment 'dca_first'; one of dcad_first, dcad_first_general" in out
    assert "unknown outcome 'deaths'; one of brd_log, conflict" in cli(
        "assess", "effect", "--outcome", "deaths", code=2
    )
    cli("sources", "load", "cow_states", str(shared / FILES["cow_states"]))
    out = cli("assess", "effect", "--to", "2015", code=2)
    assert "adoption is observed only in 1980-2010; the window 1990-2015 is outside it" in out
    assert "ucdp_brd covers 1989-2019" in cli("assess", "effect", "--from", "1985", code=2)
    bad = tmp_path / "bad.csv"
    bad.write_text("state,year\nGhana,1999\n")
    assert "must name the columns country and year" in cli(
        "assess", "effect", "--treatment-file", str(bad), code=2
    )
    bad.write_text("country,year\nGhana,1999\nAtlantis,2001\n")
    assert "unknown country 'Atlantis'" in cli("assess", "effect", "--treatment-file", str(bad), code=2)
    bad.write_text("country,year\nGhana,late\n")
    assert "line 2, field year" in cli("assess", "effect", "--treatment-file", str(bad), code=2)
    good = tmp_path / "adoptions.csv"
    good.write_text("country,year\n" + "".join(f"{c},{y}\n" for c, y in _PAIRS))
    out = cli("assess", "effect", "--treatment-file", str(good), "--placebos", "50")
    assert "first year listed in adoptions.csv" in out and "only 12 treated" in out
    assert "brd_log" in cli("assess", "designs")


_PAIRS = [
    ("GHA", 1995), ("KEN", 1997), ("NGA", 1999), ("SEN", 2001), ("Mali", 1996), ("Niger", 2003),
    ("Chad", 1998), ("UGA", 2000), ("TZA", 2002), ("ZMB", 2004), ("MOZ", 1994), ("AGO", 2005),
]  # fmt: skip
