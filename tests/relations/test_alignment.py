"""UN alignment: vote agreement checked against the raw unvotes files read by hand, ideal-point
distance against the Stata file, and change-point flags on constructed series."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.relations import alignment as align
from detente.sources.lake import Lake
from detente.sources.service import load


@pytest.fixture(scope="module")
def lake(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    folder = shared / "unga_votes"
    with Lake(tmp_path_factory.mktemp("lake")) as lake:
        load(
            lake, "unga_votes",
            [folder / f"unvotes_un_{n}.csv.gz" for n in ("votes", "roll_calls", "roll_call_issues")],
            user="t",
        )  # fmt: skip
        load(lake, "unga_ideal", [folder / "IdealpointsJuly2025.dta"], user="t")
        yield lake


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(gzip.decompress(path.read_bytes()).decode("utf-8"))))


def test_vote_agreement_matches_the_raw_files(lake: Lake, shared: Path) -> None:
    folder = shared / "unga_votes"
    years = {
        r["rcid"].split(".")[0]: int(r["date"][:4]) for r in _csv(folder / "unvotes_un_roll_calls.csv.gz")
    }
    votes: dict[str, dict[str, str]] = {"US": {}, "RU": {}}
    for r in _csv(folder / "unvotes_un_votes.csv.gz"):
        rcid = r["rcid"].split(".")[0]
        if r["country_code"] in votes and years[rcid] == 2014:
            votes[r["country_code"]][rcid] = r["vote"]
    common = set(votes["US"]) & set(votes["RU"])
    expected = sum(votes["US"][c] == votes["RU"][c] for c in common) / len(common)
    rows = align.alignment(lake, "USA", 2014, 2014, partner="RUS")
    assert len(rows) == 1
    assert rows[0]["votes_common"] == len(common) > 50
    assert rows[0]["vote_agreement"] == pytest.approx(expected)
    assert rows[0]["vote_agreement"] < 0.5  # the two rarely vote together


def test_ideal_distance_matches_the_stata_file(lake: Lake, shared: Path) -> None:
    frame = pd.read_stata(shared / "unga_votes" / "IdealpointsJuly2025.dta")
    pick = frame[(frame.year == 2014) & frame.ccode.isin([2, 365])].set_index("ccode")["idealpointfp"]
    rows = align.alignment(lake, "RUS", 2014, 2014, partner="USA")
    assert rows[0]["ideal_distance"] == pytest.approx(abs(pick[2] - pick[365]), abs=1e-6)


def test_russia_ukraine_2022_is_flagged_and_quiet_pairs_are_not(lake: Lake) -> None:
    rows = align.alignment(lake, "UKR", 2000, 2024)
    flags = align.flags_for(rows)
    texts = [f.text for f in flags if f.partner == "RUS"]
    assert any(t.startswith("alignment with RUS fell sharply in 2022") for t in texts)
    # a stable partnership: no flag in the last decade between the US and the UK
    quiet = align.flags_for(align.alignment(lake, "USA", 2010, 2019, partner="GBR"))
    assert quiet == []


def test_a_step_is_flagged_once_and_in_the_right_direction() -> None:
    series = [(y, 0.8 + 0.01 * (y % 2)) for y in range(2000, 2014)] + [(y, 0.5) for y in range(2014, 2020)]
    flags = align.change_points("RUS", "agreement", series)
    assert [f.year for f in flags] == [2014]
    assert not flags[0].rose and "fell sharply in 2014" in flags[0].text
    rising = align.change_points("RUS", "distance", [(y, 3 * v) for y, v in series])
    assert [f.year for f in rising] == [2014] and rising[0].rose  # distance down: alignment up


@settings(max_examples=60, deadline=None)
@given(
    start=st.floats(0.2, 0.8),
    slope=st.floats(-0.02, 0.02),
    wiggle=st.lists(st.floats(-0.005, 0.005), min_size=12, max_size=12),
)
def test_a_steady_trend_is_not_a_break(start: float, slope: float, wiggle: list[float]) -> None:
    series = [(2000 + i, start + slope * i + w) for i, w in enumerate(wiggle)]
    assert align.change_points("X", "agreement", series) == []
    value = align.trend(series)
    assert value is not None and value == pytest.approx(10 * slope, abs=0.02)


def test_missing_years_and_short_series_are_not_judged() -> None:
    assert align.change_points("X", "agreement", [(2000, 0.9), (2001, None), (2002, 0.1)]) == []
    assert align.trend([(2000, None), (2001, 0.5)]) is None
