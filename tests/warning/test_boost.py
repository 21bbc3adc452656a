"""The boosted model on the shared ViEWS files: contributions that add up to the prediction,
a fan that widens with the horizon, and reproducible draws (a smaller forest than the
default keeps the tests quick; the code is the same)."""

from __future__ import annotations

import numpy as np
import pytest

from detente.core.errors import ValidationError
from detente.sources.lake import Lake
from detente.warning.boost import Boost, Fitted, _base
from detente.warning.data import History, Window, history
from detente.warning.features import NAMES
from tests.warning.test_backtest import lake  # noqa: F401  (module fixture: the lake with the files)


@pytest.fixture(scope="module")
def past(lake: Lake) -> History:  # noqa: F811
    h = history(lake, Window(2019).cutoff)
    return h.rows(~np.isnan(h.values[:, -1]))


SMALL = Boost(trees=80, years=6)


@pytest.fixture(scope="module")
def fitted(past: History) -> Fitted:
    return SMALL.fit(past, 14)


def test_contributions_add_up_to_the_predicted_change(past: History, fitted: Fitted) -> None:
    contrib, expected = fitted.contributions()
    n = len(past.countries)
    assert contrib.shape == (n, 14, len(NAMES) + 1)
    base = _base(fitted.rows[:, : len(NAMES)]).reshape(14, n).T
    change = fitted.prediction - base
    assert np.allclose(contrib.sum(axis=-1) + expected.reshape(14, n).T, change, atol=1e-9)
    # a country at war: its recent deaths matter more than the months-ahead feature
    afg = past.iso3.index("AFG")
    top = np.argsort(-np.abs(contrib[afg, 0]))[:3]
    assert NAMES.index("log_lag_1") in top or NAMES.index("log_sum_3") in top


def test_the_fan_widens_with_the_horizon_and_draws_are_reproducible(past: History, fitted: Fitted) -> None:
    model = SMALL
    draws = model.sample(fitted, 1000)
    assert draws.shape == (len(past.countries), 14, 1000) and (draws >= 0).all()
    assert np.array_equal(draws, model.sample(model.fit(past, 14), 1000))  # same data, same draws
    low, high = np.quantile(np.log1p(draws), [0.05, 0.95], axis=-1)
    active = np.nansum(past.values[:, -12:], axis=1) > 0
    width = (high - low)[active].mean(axis=0)
    assert width[-1] > width[0]  # 14 months ahead is less certain than one
    quiet = past.iso3.index("NOR")
    assert np.mean(draws[quiet] == 0) > 0.95


def test_too_little_history_is_refused() -> None:
    months = np.arange(1, 31)
    short = History(np.array([1, 2]), ["SYR", "IRQ"], months, np.ones((2, 30)))
    with pytest.raises(ValidationError, match="too little history"):
        Boost().fit(short, 14)
