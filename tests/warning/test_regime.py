"""The regime model: states hand-checked, a war that stopped forecast as stopped (the
probabilities learned from the history before the cutoff), and onsets after a few quiet
years likelier than in countries that never saw deaths."""

from __future__ import annotations

import numpy as np
import pytest

from detente.sources.lake import Lake
from detente.sources.views import month_id
from detente.warning.data import History, history
from detente.warning.models import Conflictology
from detente.warning.regime import Regime, states
from detente.warning.scoring import crps
from tests.warning.test_backtest import lake  # noqa: F401  (module fixture: the lake with the files)


def test_states_hand_checked() -> None:
    y = np.zeros((2, 30))
    y[0, :12] = 500  # a year at 500 a month, then quiet
    y[1, 26:] = [5, 0, 0, 40]  # quiet, then a jump
    s = states(y)
    assert s.level[0, 11] == 4 and s.trend[0, 11] == 2  # 100-1000 a month, steady
    assert s.level[0, 14] == 4 and s.trend[0, 14] == 0  # three quiet months after it: falling fast
    assert s.level[0, 23] == 0 and s.quiet[0, 23] == 0  # twelve quiet months: the quiet bands
    assert s.quiet[0, 29] == 0 and s.level[0, 29] == 0
    assert s.level[1, 29] == 2 and s.jump[1, 29] == 2  # 45 in 12 months; the last month far above
    assert s.base[1, 29] == pytest.approx(np.log1p(40 / 3))


@pytest.fixture(scope="module")
def sri_lanka(lake: Lake) -> tuple[History, int]:  # noqa: F811
    """Data to October 2009: Sri Lanka's war ended in May 2009 after months of hundreds of
    deaths; three months without any since, two with a handful before."""
    past = history(lake, month_id(2009, 10), context=False)
    past = past.rows(~np.isnan(past.values[:, -1]))
    return past, past.iso3.index("LKA")


def test_a_war_that_stopped_is_forecast_as_stopped(lake: Lake, sri_lanka: tuple[History, int]) -> None:  # noqa: F811
    past, lka = sri_lanka
    assert np.nanmean(past.values[lka, -12:]) > 100 and np.nansum(past.values[lka, -3:]) == 0
    draws, explained = Regime().sample(past, 14, 1000)
    # conflictology still draws the war's months; the regime model learned from the decade
    # before how often a run of quiet months after a high level stays quiet
    boxed = Conflictology().draws(past, 14, 1000, np.random.default_rng(0))
    assert np.median(boxed[lka], axis=-1).min() > 100
    assert np.mean(draws[lka] == 0) > 2 * np.mean(boxed[lka] == 0)
    assert np.median(draws[lka], axis=-1).max() == 0
    assert explained[lka]["trend"] == "falling fast" and explained[lka]["cases"] >= 50
    # Sri Lanka had no more battle deaths in the fourteen months after: the regime model's
    # forecast scores far better than the benchmark's
    after = history(lake, month_id(2010, 12), context=False)
    actual = after.values[after.iso3.index("LKA"), -14:]
    assert np.nansum(actual) < 10
    assert crps(draws[lka], actual).mean() < 0.2 * crps(boxed[lka], actual).mean()
    # and a war going on is not forecast to stop
    afg = past.iso3.index("AFG")
    assert np.mean(draws[afg] == 0) < 0.05 and np.median(draws[afg, 0]) > 100


def test_onsets_after_quiet_years_are_likelier_than_in_countries_never_at_war(
    sri_lanka: tuple[History, int],
) -> None:
    past, _ = sri_lanka
    draws, explained = Regime().sample(past, 14, 1000)
    y = np.nan_to_num(past.values)
    since = np.array([len(row) - 1 - np.flatnonzero(row > 0)[-1] if (row > 0).any() else 999 for row in y])
    recent = (since >= 12) & (since <= 24)
    never = since == 999
    assert recent.sum() >= 3 and never.sum() >= 20
    p_recent = np.mean(draws[recent] > 0)
    p_never = np.mean(draws[never] > 0)
    assert p_recent > 2 * p_never and p_never < 0.02
    quiet = [e for e, n in zip(explained, never, strict=True) if n]
    assert {e["level"] for e in quiet} == {"none"}
