"""Country-month features: hand-checked values, neighbours from the shapes, and causality
(changing months after t leaves the features of t unchanged)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.core.geography import neighbours
from detente.warning.data import History
from detente.warning.features import NAMES, features


def _history(values: list[list[float]], iso3: list[str | None]) -> History:
    v = np.array(values, dtype=float)
    return History(np.arange(len(iso3)), iso3, np.arange(1, v.shape[1] + 1), v)


def test_hand_checked_values() -> None:
    h = _history([[0, 30, 0, 5, np.nan], [1, 1, 1, 1, 1]], ["SYR", "IRQ"])
    f = features(h, {"SYR": ("IRQ",), "IRQ": ("SYR",)})
    col = {n: i for i, n in enumerate(NAMES)}
    syr = f[0]
    assert syr[3, col["log_lag_1"]] == pytest.approx(np.log1p(5))
    assert syr[3, col["log_lag_3"]] == pytest.approx(np.log1p(30))
    assert syr[4, col["log_lag_1"]] == 0  # unobserved month counts as 0
    assert syr[3, col["log_sum_3"]] == pytest.approx(np.log1p(35))
    assert syr[0, col["since_25"]] == 120 and syr[1, col["since_25"]] == 0 and syr[4, col["since_25"]] == 3
    assert syr[3, col["decay_6"]] == pytest.approx(2 ** (-2 / 6))
    assert syr[3, col["nb_log_lag_1"]] == pytest.approx(np.log1p(1))  # Iraq's month
    assert f[1, 3, col["nb_log_sum_12"]] == pytest.approx(np.log1p(35))  # Syria's 12 months
    assert np.isnan(f[..., col["os_log_sum_12"]]).all()  # one-sided deaths not loaded: missing
    h.extra["os"] = np.array([[2, np.nan, 3, 0, 0], [0, 0, 0, 0, 0]], dtype=float)
    f = features(h, {"SYR": ("IRQ",), "IRQ": ("SYR",)})
    assert f[0, 4, col["os_log_sum_12"]] == pytest.approx(np.log1p(5)) and f[1, 4, col["os_log_sum_12"]] == 0
    assert np.isnan(f[..., col["ns_log_sum_12"]]).all()


def test_neighbours_from_the_shapes() -> None:
    near = neighbours()
    assert set(near["SYR"]) >= {"IRQ", "JOR", "LBN", "TUR"}
    assert "NGA" in near["NER"] and "NER" in near["NGA"]  # symmetric
    assert "FRA" in near["GBR"]  # the Channel is narrower than half a degree
    assert near["AUS"] == () or "NZL" not in near["AUS"]


@settings(max_examples=40, deadline=None)
@given(
    t=st.integers(0, 23),
    seed=st.integers(0, 10_000),
)
def test_features_of_a_month_do_not_see_later_months(t: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.negative_binomial(0.5, 0.05, size=(3, 24)).astype(float)
    h = _history(values.tolist(), ["SYR", "IRQ", "JOR"])
    later = values.copy()
    later[:, t + 1 :] = rng.integers(0, 5000, size=later[:, t + 1 :].shape)
    before = features(h)[:, : t + 1]
    after = features(_history(later.tolist(), ["SYR", "IRQ", "JOR"]))[:, : t + 1]
    assert np.array_equal(before, after, equal_nan=True)
