"""The warning scores against a reference: CRPS equals properscoring's on random draws;
ignorance and the interval score follow their definitions on hand-made cases."""

from __future__ import annotations

import numpy as np
import properscoring as ps
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from detente.warning import scoring


@pytest.mark.parametrize("k", [1, 12, 1000])
def test_crps_matches_properscoring_on_random_draws(k: int) -> None:
    rng, n = np.random.default_rng(k), 300 if k < 1000 else 30  # properscoring is slow at 1,000 draws
    draws = rng.negative_binomial(0.3, 0.02, size=(n, k)).astype(float)
    observed = rng.negative_binomial(0.3, 0.02, size=n).astype(float)
    assert np.allclose(scoring.crps(draws, observed), ps.crps_ensemble(observed, draws))


@settings(max_examples=80, deadline=None)
@given(
    draws=arrays(np.float64, (5, 7), elements=st.floats(0, 1e4, allow_nan=False)),
    observed=arrays(np.float64, (5,), elements=st.floats(0, 1e4, allow_nan=False)),
)
def test_crps_matches_properscoring_for_any_values(draws: np.ndarray, observed: np.ndarray) -> None:
    assert np.allclose(scoring.crps(draws, observed), ps.crps_ensemble(observed, draws), atol=1e-6)


def test_crps_of_a_point_forecast_is_the_absolute_error() -> None:
    assert scoring.crps(np.full((1, 10), 3.0), np.array([7.0]))[0] == pytest.approx(4.0)


def test_ignorance_counts_bins_with_one_pseudo_draw_each() -> None:
    # 8 draws: 6 in bin [0, 0.5), 2 in [10.5, 25.5); 11 bins -> 19 in all
    draws = np.array([[0, 0, 0, 0, 0, 0, 12, 20]], dtype=float)
    assert scoring.ignorance(draws, np.array([0.0]))[0] == pytest.approx(-np.log2(7 / 19))
    assert scoring.ignorance(draws, np.array([15.0]))[0] == pytest.approx(-np.log2(3 / 19))
    assert scoring.ignorance(draws, np.array([3.0]))[0] == pytest.approx(-np.log2(1 / 19))  # empty bin
    assert scoring.ignorance(draws, np.array([5000.0]))[0] == pytest.approx(-np.log2(1 / 19))  # top bin


def test_interval_score_penalises_misses_by_two_over_alpha() -> None:
    draws = np.tile(np.arange(101, dtype=float), (3, 1))  # 90% interval = [5, 95]
    scores = scoring.interval_score(draws, np.array([50.0, 0.0, 100.0]))
    assert scores == pytest.approx([90.0, 90.0 + 20 * 5, 90.0 + 20 * 5])


def test_average_precision_and_pit() -> None:
    assert scoring.average_precision(np.array([0.9, 0.1, 0.8]), np.array([1, 0, 1])) == 1.0
    assert scoring.average_precision(np.array([0.9]), np.array([0])) is None
    rng = np.random.default_rng(3)
    draws = rng.poisson(4.0, size=(4000, 500)).astype(float)
    calibrated = scoring.pit_histogram(draws, rng.poisson(4.0, size=4000).astype(float))
    assert calibrated == pytest.approx(np.full(10, 0.1), abs=0.02)
    too_sure = scoring.pit_histogram(draws, rng.poisson(12.0, size=4000).astype(float))
    assert too_sure[-1] > 0.5  # outcomes above the forecasts pile up at the top


def test_shapes_and_missing_values_are_refused() -> None:
    with pytest.raises(ValueError, match="do not match"):
        scoring.crps(np.zeros((3, 4)), np.zeros(4))
    with pytest.raises(ValueError, match="missing"):
        scoring.crps(np.full((1, 2), np.nan), np.zeros(1))
