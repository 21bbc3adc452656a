"""The challenge protocol on the shared ViEWS files: the benchmarks reproduce the published
2019 figures, forecasts (and the ensemble's weights and calibration) never read past the
cutoff, and the CLI writes and re-scores draws in the challenge's layout."""

from __future__ import annotations

import runpy
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from detente.sources.lake import Lake
from detente.warning.backtest import Backtest, backtest
from detente.warning.boost import Boost
from detente.warning.catalog import MODELS
from detente.warning.data import Window, history
from detente.warning.ensemble import Ensemble, FoldCache
from detente.warning.models import BENCHMARKS, Model, Recency
from tests.conftest import ROOT
from tests.warning.conftest import lake_copy


@pytest.fixture(scope="module")
def lake(views_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    with Lake(lake_copy(views_lake, tmp_path_factory.mktemp("lake"))) as lake:
        yield lake


# every model, the boosted one with a smaller forest than its default (the same code), and
# the ensemble with both optional calibration steps (detente.warning.tails)
TAILS = Ensemble(name="tails", stretch=1.0, onsets=True)
EVERY: dict[str, Model] = {**MODELS, "boost": Boost(trees=60, years=6), "tails": TAILS}
WITHOUT_BOOST: dict[str, Model] = {n: m for n, m in MODELS.items() if n != "boost"}


@pytest.fixture(scope="module")
def backtest_2019(lake: Lake) -> Backtest:
    """Every model's 2019 window, run once for the module (its scores, and its draws as the
    unperturbed side of the cutoff test)."""
    return backtest(lake, 2019, models=EVERY)


def test_benchmarks_reproduce_the_published_2019_figures(lake: Lake, shared: Path) -> None:
    published = shared / "views_cm" / "benchmarks" / "Conflictology_2019.csv"
    result = backtest(lake, 2019, models=BENCHMARKS, published={"conflictology (published)": published})
    crps = {s.model: s.crps for s in result.scores}
    assert round(crps["zero"], 2) == 22.64  # exactly: the mean of the actuals
    assert crps["poisson"] == pytest.approx(9.64, rel=0.03)
    assert crps["bootstrap"] == pytest.approx(22.07, rel=0.05)
    assert round(crps["conflictology (published)"], 2) == 9.27
    assert all(s.countries == 191 and s.months == 12 for s in result.scores)
    assert {s.model: s.draws for s in result.scores}["conflictology (published)"] == 12


@pytest.mark.parametrize("year", [2018, 2019])
def test_the_default_model_beats_every_benchmark_on_crps(
    lake: Lake, year: int, request: pytest.FixtureRequest
) -> None:
    result = (
        request.getfixturevalue("backtest_2019")
        if year == 2019
        else backtest(lake, year, models=WITHOUT_BOOST)
    )
    crps = {s.model: s.crps for s in result.scores}
    best = min(v for name, v in crps.items() if name in BENCHMARKS)
    assert crps["recency"] < best and crps["regime"] < best and crps["ensemble"] < best
    if year == 2019:
        assert crps["ensemble"] < 9.27  # the challenge's bar (conflictology as published)
        assert "held-out rows" in result.choices["boost"]
    ign = {s.model: s.ign for s in result.scores}
    assert ign["ensemble"] < min(v for name, v in ign.items() if name in BENCHMARKS)
    assert "of the way to equal shares (chosen on earlier folds)" in result.choices["ensemble"]
    own = next(s for s in result.scores if s.model == "ensemble")
    assert 0.45 <= own.cover50 <= 0.55 and 0.85 <= own.cover90 <= 0.95  # calibrated, all months
    assert 0.45 <= own.central50 <= 0.55 and 0.85 <= own.central90 <= 0.95  # the draws' own, too
    # the 90% interval shown (a wider central interval of the same draws) covers more of the
    # months with deaths than the draws' central 90%
    assert own.cover90_deaths > own.central90_deaths and own.cover90 >= own.central90
    assert own.deaths > 300 and 0.0 < own.cover90_deaths <= 1 and len(own.pit) == 10


def test_recency_chooses_its_decay_by_cross_validation_before_the_cutoff(lake: Lake) -> None:
    window = Window(2019)
    lam, folds = Recency().choose(history(lake, window.cutoff))
    assert set(folds) == set(Recency().candidates) and folds[lam] == min(folds.values())
    # with the last fold's December after the cutoff, that fold is not used
    short = Recency(folds=1).choose(history(lake, window.cutoff - 11))[1]
    longer = Recency(folds=1).choose(history(lake, window.cutoff))[1]
    assert short != longer  # October 2017 cutoff: its last full window is 2016, not 2017


def test_no_forecast_reads_past_the_cutoff(views_lake: Path, tmp_path: Path, backtest_2019: Backtest) -> None:
    """Every model's draws for the 2019 window are the same after every value dated after
    the cutoff changes (the unperturbed draws: the module's backtest on the same files), and
    so are the ensemble's folds, weights and calibration, computed again (a fresh cache), the
    optional tail stretch and onset hurdle included."""
    window = Window(2019)
    with Lake(lake_copy(views_lake, tmp_path)) as lake:
        described = lake.db.execute("SELECT column_name, column_type FROM (DESCRIBE views)").fetchall()
        keys = {"month_id", "country_id", "year", "month", "gwcode"}
        values = [f'"{c}"' for c, t in described if c not in keys and t in ("DOUBLE", "BIGINT", "INTEGER")]
        assert len(values) > 100  # every feature column, not only the outcome
        perturb = ", ".join(f"{c} = {c} * 7 + 13" for c in values)
        changed = lake.db.execute(f"UPDATE views SET {perturb} WHERE month_id > {window.cutoff}").fetchall()[
            0
        ][0]
        assert changed > 1000
        cache = FoldCache()
        after = backtest(lake, 2019, models=EVERY, cache=cache)
    # each member's forecast at each of the ten folds computed here once, for the weights,
    # their nested shrinkage and the calibration alike (the second ensemble reuses them)
    assert cache.misses == 10 * 3 and cache.hits == 10 * 3
    assert set(after.draws) == set(backtest_2019.draws) == set(EVERY)
    assert np.array_equal(after.countries, backtest_2019.countries)
    for name in EVERY:
        assert np.array_equal(backtest_2019.draws[name], after.draws[name]), name
    parts = ("weights", "folds", "calibration_folds", "selection", "calibration", "calibration_digest")
    for model in ("ensemble", "tails"):
        chose, again = backtest_2019.params[model], after.params[model]
        for part in (*parts, "intervals"):
            assert chose[part] == again[part], (model, part)
    # the levels of the draws reported as the 50% and 90% intervals too, learned (wider)
    learned, relearned = backtest_2019.intervals["ensemble"], after.intervals["ensemble"]
    assert learned.levels == relearned.levels and np.array_equal(learned.groups, relearned.groups)
    assert learned.levels[0.9] and min(learned.levels[0.9].values()) > 0.9
    assert max(learned.folds) <= window.cutoff - 12 and learned.cutoff == window.cutoff
    assert backtest_2019.intervals["tails"].levels == {0.5: {}, 0.9: {}}  # its draws carry the widening
    tails, chose = backtest_2019.params["tails"], backtest_2019.params["ensemble"]
    assert tails["calibration"]["tail stretch (log1p)"] > 0 and len(tails["calibration"]["onset hurdle"]) == 9
    assert tails["calibration_digest"] != chose["calibration_digest"]
    assert max(chose["folds"]) <= window.cutoff - 12  # every fold ends by the cutoff
    assert any(g["reads_90_as"] > 0.92 for g in chose["calibration"].values())  # a real calibration
    # and the perturbation is real: the scored months moved
    moved = next(s.crps for s in after.scores if s.model == "zero")
    assert moved > 100  # the zero model's CRPS is the mean actual, now 7x + 13


def test_cli_backtest_writes_the_challenge_layout_and_scores_it_again(
    cli: Callable[..., str], views_lake: Path, tmp_path: Path
) -> None:
    lake_copy(views_lake, tmp_path / "ws")  # the files as `sources load views` leaves them
    models = ("zero", "poisson", "conflictology", "recency", "regime", "ensemble")
    chosen = [x for m in models for x in ("--model", m)]
    out = cli(
        "warning", "backtest", "--window", "2019", "--draws", "100", "--out", str(tmp_path / "draws"), *chosen
    )
    assert "Window 2019" in out and "191 countries x 12 months" in out
    assert "recency: decay 0.85, chosen by mean CRPS over the five earlier windows" in out
    assert "PIT histograms" in out and "cover 50/90" in out
    for name in models:
        assert f"│ {name}" in out
    table = pq.read_table(tmp_path / "draws" / "poisson_2019.parquet")
    assert table.column_names == ["month_id", "country_id", "draw", "outcome"]
    assert table.num_rows == 191 * 14 * 100
    assert sorted(set(table.column("month_id").to_pylist())) == list(range(467, 481))
    rescored = cli("warning", "score", str(tmp_path / "draws" / "poisson_2019.parquet"), "--window", "2019")
    line = next(x for x in out.splitlines() if x.startswith("│ poisson"))
    assert line.split("│")[2].strip() in rescored  # the same CRPS from the file
    assert "unknown model" in cli("warning", "backtest", "--window", "2019", "--model", "oracle", code=2)
    bad = tmp_path / "bad.csv"
    bad.write_text("month_id,country_id,draw\n469,1,0\n")
    assert "no column 'outcome'" in cli("warning", "score", str(bad), "--window", "2019", code=2)
    assert "no outcomes for 2021-01" in cli("warning", "backtest", "--window", "2021", code=2)


def test_the_many_windows_analysis_runs_on_the_ged_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = [
        "warning_windows.py",
        "--years",
        "2016-2017",
        "--models",
        "zero,conflictology,recency",
        "--draws",
        "50",
    ]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(ROOT / "analyses" / "warning_windows.py"), run_name="__main__")
    out = capsys.readouterr().out
    lines = {int(x[:4]): x for x in out.splitlines() if x[:4] in ("2016", "2017") and ": zero" in x}
    assert set(lines) == {2016, 2017}
    scores = {
        int(y): dict(p.rsplit(" ", 1) for p in x.split(": ", 1)[1].split(" | ")[0].split(", "))
        for y, x in lines.items()
    }
    for row in scores.values():  # the zero model scores the mean outcome, far above the others
        assert float(row["zero"]) > 2 * float(row["conflictology"]) > 0 and float(row["recency"]) > 0
    assert "CRPS per window" in out
