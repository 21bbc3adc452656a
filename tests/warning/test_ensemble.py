"""The ensemble: folds from origins before the cutoff only, the quadratic CRPS of a mixture,
weights and their shrinkage chosen on folds, a calibration that makes intervals cover what
they claim on data it did not learn from, and a fold cache shared between windows."""

from __future__ import annotations

import numpy as np
import pytest

from detente.sources.lake import Lake
from detente.warning.data import History, Window, history
from detente.warning.ensemble import Calibration, Ensemble, FoldCache, mean_abs, mix_many
from detente.warning.scoring import coverage, crps
from tests.warning.test_backtest import lake  # noqa: F401  (module fixture: the lake with the files)


@pytest.fixture(scope="module")
def past(lake: Lake) -> History:  # noqa: F811
    h = history(lake, Window(2019).cutoff, context=False)
    return h.rows(~np.isnan(h.values[:, -1]))


def test_mix_takes_each_share_by_quantile() -> None:
    a = np.zeros((2, 3, 1000))
    b = np.arange(1000.0)[None, None, :].repeat(2, 0).repeat(3, 1)
    m = mix_many([a, b, b], np.array([0.25, 0.5, 0.25]))
    assert m.shape == (2, 3, 1000) and np.sum(m[0, 0] == 0) == 250 + 2  # each b's own first draw is 0
    assert m[0, 0, 250:].max() == 999
    assert np.array_equal(mix_many([a, b], np.array([0.0, 1.0])), b)


def test_the_mixture_crps_is_the_quadratic_of_the_members() -> None:
    rng = np.random.default_rng(3)
    x, z = rng.poisson(5, (50, 400)).astype(float), rng.negative_binomial(1, 0.1, (50, 400)).astype(float)
    y = rng.poisson(6, 50).astype(float)
    w = np.array([0.3, 0.7])
    a = np.array([np.mean(np.abs(x - y[:, None])), np.mean(np.abs(z - y[:, None]))])
    b = np.array([[mean_abs(p, q).mean() for q in (x, z)] for p in (x, z)])
    exact = crps(np.concatenate([np.tile(x, 3), np.tile(z, 7)], axis=-1), y).mean()  # 0.3 and 0.7
    assert w @ a - 0.5 * w @ b @ w == pytest.approx(exact, rel=1e-9)
    assert crps(mix_many([x, z], w), y).mean() == pytest.approx(exact, rel=0.01)  # by quantiles


def test_folds_end_at_the_cutoff_and_shares_are_chosen_on_them(past: History) -> None:
    cache = FoldCache()
    model = Ensemble()
    folds = model.fold_data(past, cache, 10)
    assert [f.origin for f in folds] == [past.cutoff - 12 * j for j in range(1, 11)]
    first = folds[0]
    assert np.isnan(first.truth[:, 12:]).all() and not np.isnan(first.truth[:, :12]).all()  # to T only
    weights, chosen = model.choose(folds)
    assert weights.sum() == pytest.approx(1) and (weights > 0).all()
    assert chosen["shrink"] in (0.0, 0.25, 0.5, 0.75, 1.0) and len(chosen["grid_crps"]) == 66
    best = min(chosen["grid_crps"].values())
    picked = ", ".join(
        f"{m.name} {x:g}" for m, x in zip(model.members, chosen["best_on_folds"].values(), strict=True)
    )
    assert chosen["grid_crps"][picked] == best
    # the same folds give the same forecast members: a second window reuses them
    again = model.fold_data(past.until(past.cutoff - 12), cache, 9)
    assert cache.hits == 9 * len(model.members) and cache.misses == 10 * len(model.members)
    assert np.array_equal(again[0].members[1], folds[1].members[1])


def test_calibration_widens_intervals_that_covered_too_little() -> None:
    """Forecasts 0.7 times as wide as the outcomes' spread: the central 90% covers less on
    the folds; calibrated on them, fresh forecasts of the same kind cover about 90%."""
    rng = np.random.default_rng(11)

    def fold(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        level = np.full(n, 2)
        centre = rng.uniform(50, 500, n)
        draws = np.round(centre[:, None, None] * np.exp(0.35 * rng.standard_normal((n, 14, 400))))
        truth = np.round(centre[:, None] * np.exp(0.5 * rng.standard_normal((n, 14))))
        return np.maximum(draws, 0), np.maximum(truth, 0), level

    cal = Calibration.learn([fold(200) for _ in range(5)])
    assert cal.level((2, 2), 0.9) > 0.97 and cal.level((2, 2), 0.5) > 0.6
    draws, truth, level = fold(400)
    before = coverage(draws, truth, 0.9).mean()
    after = coverage(cal.apply(draws, level), truth, 0.9).mean()
    assert before < 0.8 and 0.87 <= after <= 0.93
    assert np.array_equal(
        np.median(cal.apply(draws, level), axis=-1), np.median(draws, axis=-1)
    )  # median kept


def test_pooled_calibration_covers_onsets_share_in_the_active_groups() -> None:
    """Quiet countries (level 0) forecast 0 and now and then have deaths (onsets), which no
    interval around 0 covers; active ones (level 2) are calibrated. Calibrated by group, the
    months with deaths are covered below 90%; pooled, the active groups' intervals widen so
    that all months with deaths are covered about 90% on fresh data, the quiet group's map
    and every median unchanged."""
    rng = np.random.default_rng(5)

    def fold(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        level = np.where(np.arange(n) < n // 2, 0, 2)
        centre = rng.uniform(50, 500, n)
        draws = np.round(centre[:, None, None] * np.exp(0.5 * rng.standard_normal((n, 14, 400))))
        truth = np.round(centre[:, None] * np.exp(0.5 * rng.standard_normal((n, 14))))
        draws[level == 0] = 0
        truth[level == 0] = np.where(rng.uniform(size=(n // 2, 14)) < 0.1, 5.0, 0.0)
        return draws, truth, level

    folds = [fold(200) for _ in range(5)]
    own, pooled = Calibration.learn(folds), Calibration.learn(folds, pooled=True)
    assert np.array_equal(pooled.maps[(0, 2)], own.maps[(0, 2)])
    assert pooled.level((2, 2), 0.9) > own.level((2, 2), 0.9) > 0.85
    draws, truth, level = fold(600)
    deaths = truth > 0
    for cal, low, high in ((own, 0.78, 0.86), (pooled, 0.87, 0.93)):
        fresh = cal.apply(draws, level)
        assert low <= coverage(fresh, truth, 0.9)[deaths].mean() <= high
        assert np.array_equal(np.median(fresh, axis=-1), np.median(draws, axis=-1))
