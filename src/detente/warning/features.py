"""Country-month features from the outcome's own history, causal by construction: the
features of month t use months up to t only (rolling windows that end at t), so a panel
built from data to the cutoff cannot see past it.

For each country and month t (fatalities y, with unobserved months as 0):

* ``log_lag_1``, ``log_lag_2``, ``log_lag_3``: log1p(y) one to three months back from t
  (``log_lag_1`` is t itself: the last observed month when forecasting from t);
* ``log_sum_3``, ``log_sum_12``, ``log_sum_36``: log1p of the sums over the last 3, 12 and
  36 months;
* ``since_25``: months since the last month with 25 or more deaths (120 when none in the
  data so far) and ``decay_6`` = 2^(-since_25 / 6), ViEWS' decay with a six-month
  half-life;
* ``nb_log_lag_1``, ``nb_log_sum_12``: the same over the country's neighbours together
  (``detente.core.geography``), the spatial lags;
* ``ns_log_sum_12``, ``os_log_sum_12``: log1p of the last 12 months' non-state and
  one-sided fatalities (UCDP GED), missing (NaN) when the lake does not hold them;
* ``arms_imports``, ``un_ideal_point``, ``event_conflict``: the rest of the lake's context
  (``detente.warning.context``), missing when not loaded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from detente.warning.context import CONTEXT
from detente.warning.data import History

__all__ = ["LABELS", "NAMES", "features", "neighbour_matrix"]

NAMES = (
    "log_lag_1",
    "log_lag_2",
    "log_lag_3",
    "log_sum_3",
    "log_sum_12",
    "log_sum_36",
    "since_25",
    "decay_6",
    "nb_log_lag_1",
    "nb_log_sum_12",
    "ns_log_sum_12",
    "os_log_sum_12",
    *CONTEXT,
)
LABELS = {
    "log_lag_1": "deaths in the last month",
    "log_lag_2": "deaths two months back",
    "log_lag_3": "deaths three months back",
    "log_sum_3": "deaths over 3 months",
    "log_sum_12": "deaths over 12 months",
    "log_sum_36": "deaths over 36 months",
    "since_25": "months since a month with 25+ deaths",
    "decay_6": "recency of 25+ deaths (6-month half-life)",
    "nb_log_lag_1": "neighbours' deaths last month",
    "nb_log_sum_12": "neighbours' deaths over 12 months",
    "ns_log_sum_12": "non-state deaths over 12 months",
    "os_log_sum_12": "one-sided deaths over 12 months",
    "arms_imports": "arms ordered last year (SIPRI TIV, millions)",
    "un_ideal_point": "UN General Assembly ideal point last year",
    "event_conflict": "material-conflict events this month",
    "horizon": "months ahead",
}
NEVER = 120


def _rolling_sum(y: np.ndarray, n: int) -> np.ndarray:
    """Sum over the last ``n`` months ending at each month (fewer at the start)."""
    c = np.cumsum(y, axis=1)
    out = c.copy()
    out[:, n:] = c[:, n:] - c[:, :-n]
    return out


def _lag(y: np.ndarray, k: int) -> np.ndarray:
    """``y`` shifted ``k`` >= 1 months later (the first k months are 0)."""
    out = np.zeros_like(y)
    out[:, k:] = y[:, : y.shape[1] - k]
    return out


def neighbour_matrix(
    iso3: Sequence[str | None], near: Mapping[str, Sequence[str]] | None = None
) -> np.ndarray:
    """0/1 matrix [country, country]: 1 where the column is a neighbour of the row."""
    if near is None:
        from detente.core.geography import neighbours

        near = neighbours()
    index = {code: i for i, code in enumerate(iso3) if code}
    m = np.zeros((len(iso3), len(iso3)))
    for i, code in enumerate(iso3):
        for other in near.get(code or "", ()):
            if other in index:
                m[i, index[other]] = 1.0
    return m


def features(history: History, near: Mapping[str, Sequence[str]] | None = None) -> np.ndarray:
    """Array [country, month, feature] in the order of ``NAMES``."""
    y = np.nan_to_num(history.values, nan=0.0)
    n_countries, n_months = y.shape
    since = np.full(y.shape, float(NEVER))
    last = np.full(n_countries, -np.inf)
    for t in range(n_months):
        last = np.where(y[:, t] >= 25, t, last)
        since[:, t] = np.minimum(t - last, NEVER)
    sum12 = _rolling_sum(y, 12)
    neighbour = neighbour_matrix(history.iso3, near)
    columns = [
        np.log1p(y),
        np.log1p(_lag(y, 1)),
        np.log1p(_lag(y, 2)),
        np.log1p(_rolling_sum(y, 3)),
        np.log1p(sum12),
        np.log1p(_rolling_sum(y, 36)),
        since,
        2.0 ** (-since / 6),
        np.log1p(neighbour @ y),
        np.log1p(neighbour @ sum12),
    ]
    for kind in ("ns", "os"):
        other = history.extra.get(kind)
        if other is None:
            columns.append(np.full(y.shape, np.nan))
        else:
            columns.append(np.log1p(_rolling_sum(np.nan_to_num(other, nan=0.0), 12)))
    for name in CONTEXT:  # from the rest of the lake, already per month (missing: NaN)
        columns.append(history.extra.get(name, np.full(y.shape, np.nan)))
    return np.stack(columns, axis=-1)
