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
from tests.warning.conftest import quiet_and_active_fold
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

    folds = [quiet_and_active_fold(rng, 200) for _ in range(5)]
    own, pooled = Calibration.learn(folds), Calibration.learn(folds, pooled=True)
    assert np.array_equal(pooled.maps[(0, 2)], own.maps[(0, 2)])
    assert pooled.level((2, 2), 0.9) > own.level((2, 2), 0.9) > 0.85
    draws, truth, level = quiet_and_active_fold(rng, 600)
    deaths = truth > 0
    for cal, low, high in ((own, 0.78, 0.86), (pooled, 0.87, 0.93)):
        fresh = cal.apply(draws, level)
        assert low <= coverage(fresh, truth, 0.9)[deaths].mean() <= high
        assert np.array_equal(np.median(fresh, axis=-1), np.median(draws, axis=-1))


def test_the_tail_stretch_widens_active_tails_beyond_the_50_interval_only() -> None:
    """Quiet countries' onsets (8% of their months) are months with deaths no interval
    around 0 covers, so calibrated active countries leave all months with deaths covered
    below 90%. The stretch learned on the folds (share 1: aimed at the pooled target) widens
    the active countries' 90% intervals until about 90% of all months with deaths are
    covered on fresh data; the draws inside the 50% interval, quiet countries' draws and, with
    share 0, everything stay as the maps put them."""
    rng = np.random.default_rng(8)

    def fold(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        level = np.where(np.arange(n) < n // 2, 0, 1 + (np.arange(n) % 2))
        centre = rng.uniform(5, 200, n)
        draws = np.round(centre[:, None, None] * np.exp(0.4 * rng.standard_normal((n, 14, 400))))
        truth = np.round(centre[:, None] * np.exp(0.4 * rng.standard_normal((n, 14))))
        draws[level == 0] = 0
        truth[level == 0] = np.where(rng.uniform(size=(n // 2, 14)) < 0.08, 3.0, 0.0)
        return draws, truth, level

    folds = [fold(240) for _ in range(5)]
    plain, half, full = (Calibration.learn(folds, share=s) for s in (0.0, 0.5, 1.0))
    assert plain.delta == 0.0 and 0 < half.delta < full.delta
    assert plain.digest() != full.digest()
    draws, truth, level = fold(600)
    base, wide = plain.apply(draws, level), full.apply(draws, level)
    active = level > 0
    assert np.array_equal(wide[~active], base[~active])
    inner = slice(101, 299)  # draws inside the 50% interval (400 draws) stay, the median with them
    assert np.allclose(np.sort(base, -1)[..., inner], wide[..., inner])
    assert (np.quantile(wide[active], 0.95, axis=-1) >= np.quantile(base[active], 0.95, axis=-1)).all()
    deaths = truth > 0
    before, after = coverage(base, truth, 0.9)[deaths].mean(), coverage(wide, truth, 0.9)[deaths].mean()
    assert before < 0.87 and 0.87 <= after <= 0.93


def test_the_onset_hurdle_gives_quiet_countries_the_folds_onset_share() -> None:
    """Quiet countries whose last deaths were recent (band 0) had deaths in 8% of the folds'
    months, long-quiet ones (band 2) in 1%: the hurdle draws 0 with 1 - that share and the
    folds' onset sizes otherwise; active countries keep their draws."""
    rng = np.random.default_rng(9)
    n = 300
    level = np.where(np.arange(n) < 200, 0, 2)
    band = np.where(np.arange(n) < 100, 0, 2)

    def fold() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        draws = np.zeros((n, 14, 200))
        draws[level == 2] = rng.poisson(50, (100, 14, 200))
        share = np.where(band == 0, 0.08, 0.01)[:, None]
        truth = np.where(rng.uniform(size=(n, 14)) < share, rng.integers(1, 40, (n, 14)), 0).astype(float)
        truth[level == 2] = rng.poisson(50, (100, 14))
        return draws, truth, level

    folds = [fold() for _ in range(6)]
    cal = Calibration.learn(folds, bands=[band] * 6)
    assert cal.onsets is not None and cal.onsets.rate[0, 2] == pytest.approx(0.08, abs=0.015)
    assert cal.onsets.rate[2, 2] == pytest.approx(0.01, abs=0.005)
    draws = fold()[0]
    out = cal.apply(draws, level, band)
    recent = (out[(level == 0) & (band == 0)][:, 10] > 0).mean(axis=-1)
    long_quiet = (out[(level == 0) & (band == 2)][:, 10] > 0).mean(axis=-1)
    assert recent.min() == pytest.approx(cal.onsets.rate[0, 2], abs=0.01) and long_quiet.max() < 0.02
    assert out[(level == 0) & (band == 0)].max() <= 39 and out[(level == 0) & (band == 0)].max() >= 30
    assert np.array_equal(out[level == 2], cal.apply(draws, level)[level == 2])
    assert np.array_equal(cal.apply(draws, level), Calibration.learn(folds).apply(draws, level))  # no band
