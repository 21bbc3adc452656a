"""A forecast a user can steer (issue #17, point 4), each shown on a file or lake that the
warning slice mishandled before:

* ``warning forecast --cutoff YYYY-MM --countries ...``: the same forecast whichever later
  files are loaded, and a clear refusal for a country the data lacks at the cutoff;
* the backtest names the months of outcomes it needs and those missing;
* a ViEWS-layout file with text and index columns loads with a note (they are left out),
  and its ``outcome`` column is the outcome;
* a saved forecast records its input files' digest and the detente version;
* the CLI shows a Rich progress bar."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detente import __version__
from detente.sources.lake import Lake
from detente.sources.views import month_id
from detente.warning.data import history
from detente.warning.forecast import load_forecast

GED = ("ucdp_ged_cm/ged_cm_postpatch_to_oct2019.parquet", "ucdp_ged_cm/country.parquet")
ACTUALS_2019 = "views_cm/cm_actuals_2019.parquet"


def _saved(ws: Path) -> Path:
    found = sorted((ws / "forecasts").glob("*.parquet"))
    assert found, "no forecast saved"
    return found[-1]


def test_forecast_with_a_cutoff_and_countries_does_not_change_with_later_files(
    cli: Callable[..., str], shared: Path, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    cli("sources", "load", "views", *(str(shared / f) for f in GED))
    listed = tmp_path / "countries.txt"
    listed.write_text("AFG\nsyr  # Syria\n\nNGA\n50\n")  # 50: ViEWS' id for Mali
    args = ("warning", "forecast", "--cutoff", "2018-10", "--countries", f"@{listed}")
    out = cli(*args, "--horizons", "3", "--draws", "100", "--model", "regime")
    assert "from data to 2018-10" in out and "4 countries (as listed)" in out
    first = load_forecast(_saved(ws))
    assert sorted(first.iso3) == ["AFG", "MLI", "NGA", "SYR"]
    assert first.meta["cutoff_given"] and first.meta["countries"] == ["AFG", "syr", "NGA", "50"]
    # the challenge's 2019 actuals loaded as well: the default cutoff would move to 2019-12
    # and the country set to the 191 they cover; this forecast does not move
    cli("sources", "load", "views", *(str(shared / f) for f in (*GED, ACTUALS_2019)))
    cli(*args, "--horizons", "3", "--draws", "100", "--model", "regime")
    second = load_forecast(_saved(ws))
    assert second.meta["inputs"]["views"]["sha256"] != first.meta["inputs"]["views"]["sha256"]
    assert np.array_equal(first.countries, second.countries) and np.array_equal(first.draws, second.draws)
    # countries the data lacks are named, not dropped
    err = cli("warning", "forecast", "--cutoff", "2018-10", "--countries", "AFG,ATA,XYZ", code=2)
    assert "not in the lake's country-month data up to 2018-10: ATA, XYZ" in err
    err = cli(
        "warning", "forecast", "--cutoff", "2011-05", "--countries", "SSD", code=2
    )  # before South Sudan
    assert "SSD" in err and ("no outcome in the cutoff month 2011-05" in err or "not in the lake" in err)
    assert "YYYY-MM" in cli("warning", "forecast", "--cutoff", "2018/10", code=2)


def test_the_backtest_names_the_months_it_needs_and_those_missing(
    cli: Callable[..., str], shared: Path
) -> None:
    cli("sources", "load", "views", *(str(shared / f) for f in GED))  # GED stops at October 2019
    out = cli("warning", "backtest", "--window", "2019", "--model", "zero", code=2)
    assert "window 2019 needs outcomes for 2018-10 and earlier" in out
    assert "2019-01 to 2019-12 (scored); missing: 2019-11, 2019-12" in out
    assert "no outcomes for 2019-11, 2019-12" in out and "cm_actuals_2019" in out
    out = cli("warning", "backtest", "--window", "2018", "--model", "zero", "--draws", "20")
    assert "2018-01 to 2018-12 (scored); all present" in out and "Window 2018" in out


def test_a_views_file_with_text_columns_loads_with_a_note_and_its_outcome_is_used(
    cli: Callable[..., str], shared: Path, tmp_path: Path
) -> None:
    actuals = pd.read_parquet(shared / ACTUALS_2019).reset_index()  # the 2019 actuals, real
    names = pd.read_parquet(shared / GED[1])["name"]
    frame = actuals.rename(columns={"ged_sb": "outcome"})
    frame.insert(0, "Unnamed: 0", range(len(frame)))  # a saved index
    frame["name"] = frame.country_id.map(names)  # text
    syr = int(names[names == "Syria"].index[0])
    may = month_id(2019, 5)
    frame.loc[(frame.month_id == may) & (frame.country_id == syr), "outcome"] = 12345.0
    path = tmp_path / "actuals_2019_outcome.csv"
    frame.to_csv(path, index=False)
    out = cli("sources", "load", "views", *(str(shared / f) for f in GED), str(path))
    assert "actuals_2019_outcome.csv: column(s) name hold text, not numbers: not loaded" in out
    with Lake(tmp_path / "ws") as lake:
        columns = {r[0] for r in lake.db.execute("DESCRIBE views").fetchall()}
        assert "outcome" in columns and "name" not in columns and "Unnamed: 0" not in columns
        h = history(lake, month_id(2019, 12), context=False)
    row = list(h.countries).index(syr)
    assert h.values[row, list(h.months).index(may)] == 12345.0  # the outcome column wins
    assert (~np.isnan(h.values[:, -1])).sum() == 191  # December 2019 from the outcome column
    # a Parquet file with a text column: the same note
    frame.drop(columns=["Unnamed: 0"]).to_parquet(tmp_path / "actuals.parquet", index=False)
    out = cli("sources", "load", "views", *(str(shared / f) for f in GED), str(tmp_path / "actuals.parquet"))
    assert "actuals.parquet: column(s) name are not numeric: not loaded" in out


def test_a_saved_forecast_records_its_inputs_digest_and_the_detente_version(
    cli: Callable[..., str], shared: Path, tmp_path: Path
) -> None:
    files = [shared / f for f in GED]
    cli("sources", "load", "views", *map(str, files))
    out = cli("warning", "forecast", "--model", "conflictology", "--horizons", "2")
    assert f"detente {__version__}" in out and "input views:" in out
    meta = json.loads(_saved(tmp_path / "ws").with_suffix(".json").read_text())
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    views = meta["inputs"]["views"]
    assert meta["detente_version"] == __version__ and views["sha256"] == digest.hexdigest()
    assert [Path(p).name for p in views["files"].splitlines()] == [p.name for p in files]
    assert load_forecast(_saved(tmp_path / "ws")).meta["detente_version"] == __version__  # in the Parquet too


@pytest.mark.parametrize("command", ["backtest", "forecast"])
def test_the_cli_shows_a_progress_bar(cli: Callable[..., str], shared: Path, command: str) -> None:
    cli("sources", "load", "views", *(str(shared / f) for f in GED))
    if command == "backtest":
        out = cli("warning", "backtest", "--window", "2017", "--model", "zero", "--model", "poisson")
        assert "Window 2017: done" in out and "2/2" in out
    else:
        out = cli("warning", "forecast", "--model", "zero", "--horizons", "1", "--draws", "10")
        assert "Forecast: done" in out and "2/2" in out
