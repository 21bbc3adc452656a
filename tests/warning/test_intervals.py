"""The intervals detente reports: the draws stay as the group calibration makes them, and
the c interval is the draws' central interval at the level the pooled rule learned on the
folds before the cutoff, so that c of all months with deaths (onsets included) are covered."""

from __future__ import annotations

import numpy as np
import pytest

from detente.sources.lake import Lake
from detente.warning.data import History, Window, history
from detente.warning.ensemble import Calibration, Ensemble, FoldCache
from detente.warning.intervals import Intervals, horizon_group
from detente.warning.scoring import bounds, coverage, inside
from tests.warning.conftest import quiet_and_active_fold
from tests.warning.test_backtest import lake  # noqa: F401  (module fixture: the lake with the files)


def test_the_reported_interval_covers_all_months_with_deaths_and_leaves_the_draws() -> None:
    """Calibrated by group, the draws' central 90% covers about 90% of the active countries'
    months with deaths and none of the onsets, so under 90% of all months with deaths. The
    level learned on the folds (above 90%, the pooled rule's) covers about 90% of them on
    fresh data; the draws are the same as without it, and quiet countries keep 90%."""
    rng = np.random.default_rng(5)
    folds = [quiet_and_active_fold(rng, 200) for _ in range(5)]
    cal = Calibration.learn(folds)
    read = cal.reported(0.9)
    assert set(read) == {"2,0", "2,1", "2,2"}  # the active groups only
    assert all(0.92 < v < 0.99 for v in read.values())
    assert cal.reported(0.5)["2,0"] > 0.5
    draws, truth, level = quiet_and_active_fold(rng, 600)
    fresh = cal.apply(draws, level)
    assert cal.digest() == Calibration.learn(folds).digest()  # the draws' calibration as before
    learned = Intervals({0.9: read}, level, 0)
    deaths = truth > 0
    central = coverage(fresh, truth, 0.9)[deaths].mean()
    shown = coverage(fresh, truth, learned.level(0.9, 14))[deaths].mean()
    assert central < 0.86 and 0.87 <= shown <= 0.93
    assert np.all(learned.level(0.9, 14)[level == 0] == 0.9)


def test_levels_by_group_round_trip_and_subset() -> None:
    learned = Intervals({0.9: {"1,0": 0.93, "2,2": 0.97}, 0.5: {}}, np.array([0, 1, 2, 2]), 600, (588, 576))
    grid = learned.level(0.9, 12)
    hg = horizon_group(12)
    assert list(hg) == [0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2]
    assert np.all(grid[0] == 0.9) and np.all(grid[1, :3] == 0.93) and np.all(grid[1, 3:] == 0.9)
    assert np.all(grid[2:, 8:] == 0.97) and np.all(grid[2:, :8] == 0.9)
    assert np.all(learned.level(0.5, 12) == 0.5)
    back = Intervals.from_meta(learned.meta())
    assert back.levels == learned.levels and np.array_equal(back.groups, learned.groups)
    assert back.cutoff == 600 and back.folds == (588, 576)
    assert np.array_equal(learned.rows(np.array([False, True, False, True])).groups, [1, 2])
    told = learned.describe(0.9)
    assert "central 93.0%/97.0% of the draws" in told and "learned on 2 folds to 2029-12" in told
    with pytest.raises(KeyError):
        learned.level(0.8, 12)


def test_bounds_and_coverage_take_one_level_per_cell() -> None:
    rng = np.random.default_rng(2)
    draws = rng.poisson(20, (6, 4, 500)).astype(float)
    y = rng.poisson(20, (6, 4)).astype(float)
    level = np.where(np.arange(6)[:, None] < 3, 0.5, 0.9) * np.ones((6, 4))
    low, high = bounds(draws, level)
    for i in range(6):
        lo, hi = bounds(draws[i], level[i, 0])
        assert np.array_equal(low[i], lo) and np.array_equal(high[i], hi)
    narrow, wide = bounds(draws, 0.5), bounds(draws, 0.9)
    assert np.all(wide[0] <= narrow[0]) and np.all(narrow[1] <= wide[1]) and np.any(wide[1] > narrow[1])
    assert np.array_equal(inside(draws, y, level)[:3], inside(draws[:3], y[:3], 0.5))
    assert np.array_equal(coverage(draws, y, level)[3:], coverage(draws, y, 0.9)[3:])


@pytest.fixture(scope="module")
def past(lake: Lake) -> History:  # noqa: F811
    h = history(lake, Window(2019).cutoff, context=False)
    return h.rows(~np.isnan(h.values[:, -1]))


def test_the_ensemble_learns_its_levels_on_folds_before_the_cutoff_only(past: History) -> None:
    """The levels the ensemble reports are the pooled rule's on its own calibration folds,
    each ending by the cutoff; at least the nominal level; and the draws are exactly those of
    the ensemble that reports its draws' central intervals."""
    cache = FoldCache()
    run = Ensemble().run(past, 14, 200, np.random.default_rng(1), {}, cache=cache)
    plain = Ensemble(learned=False).run(past, 14, 200, np.random.default_rng(1), {}, cache=cache)
    assert np.array_equal(run.draws, plain.draws)
    assert plain.intervals is not None and plain.intervals.levels == {0.5: {}, 0.9: {}}
    learned = run.intervals
    assert learned is not None and learned.cutoff == past.cutoff
    assert learned.folds == tuple(past.cutoff - 12 * j for j in range(1, 11))
    model = Ensemble()
    folds = model.fold_data(past, cache, 10)
    weights, _ = model.choose(folds)
    again = model.calibrate(folds, weights)
    for c in (0.5, 0.9):
        assert learned.levels[c] == again.reported(c) and learned.levels[c]
        assert all(v >= c for v in learned.levels[c].values())
    # an earlier cutoff: other folds, other levels
    earlier = Ensemble().run(past.until(past.cutoff - 24), 14, 200, np.random.default_rng(1), {}, cache=cache)
    assert earlier.intervals is not None and earlier.intervals.levels[0.9] != learned.levels[0.9]
    assert max(earlier.intervals.folds) == past.cutoff - 36
