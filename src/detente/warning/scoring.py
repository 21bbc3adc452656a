"""Scores of sample forecasts, as the ViEWS prediction challenge 2023/24 computes them.

Forecasts are draws: an array ``draws[..., k]`` of k samples per country-month, scored
against ``observed[...]`` (fatalities, >= 0). Lower is better for all three scores.

* **CRPS** (continuous ranked probability score, the main metric), from the draws'
  empirical distribution: E|X - y| - 1/2 E|X - X'|. With the draws sorted,
  E|X - X'| = 2 / k^2 * sum_i x_(i) (2i - k - 1), so it costs a sort, not k^2 pairs.
  It equals ``properscoring.crps_ensemble`` (the tests check it).
* **Ignorance** (log score on bins): the draws and the observation are put in the bins
  [0, 0.5, 2.5, 5.5, 10.5, 25.5, 50.5, 100.5, 250.5, 500.5, 1000.5, inf); one pseudo-draw
  is added to each of the 11 bins so no outcome has probability 0; the score is
  -log2 of the observation's bin's share. This is the challenge's implementation.
* **MIS** (mean interval score) of the central 90% interval [l, u] of the draws
  (numpy's linear quantiles): (u - l) + 2/alpha (l - y) if y < l, + 2/alpha (y - u) if
  y > u, alpha = 0.1.

Also: average precision of an onset probability, the PIT histogram (randomised for
counts) and the coverage of central intervals for calibration.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "BINS", "average_precision", "bounds", "coverage", "crps", "crps_each", "ignorance", "inside",
    "interval_score", "pit", "pit_histogram",
]  # fmt: skip

BINS = (0, 0.5, 2.5, 5.5, 10.5, 25.5, 50.5, 100.5, 250.5, 500.5, 1000.5)


def _check(draws: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    draws = np.asarray(draws, dtype=float)
    observed = np.asarray(observed, dtype=float)
    if draws.shape[:-1] != observed.shape:
        raise ValueError(f"draws {draws.shape} do not match observations {observed.shape} (draws last)")
    if np.isnan(draws).any() or np.isnan(observed).any():
        raise ValueError("draws and observations must not be missing")
    return draws, observed


def crps(draws: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """CRPS of each forecast (same shape as ``observed``)."""
    draws, observed = _check(draws, observed)
    k = draws.shape[-1]
    x = np.sort(draws, axis=-1)
    spread = (2.0 / k**2) * np.sum(x * (2 * np.arange(1, k + 1) - k - 1), axis=-1)
    return np.mean(np.abs(x - observed[..., None]), axis=-1) - 0.5 * spread


def crps_each(draws: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """CRPS of one forecast per row (``draws[row, k]``) against each of several observations
    of that row (``observed[row, m]``): the same as ``crps`` with the draws repeated for every
    observation, sorting them once."""
    x = np.sort(np.asarray(draws, dtype=float), axis=-1)
    k = x.shape[-1]
    spread = (2.0 / k**2) * np.sum(x * (2 * np.arange(1, k + 1) - k - 1), axis=-1)
    return (
        np.stack(
            [np.mean(np.abs(x - y[:, None]), axis=-1) for y in np.asarray(observed, dtype=float).T], axis=-1
        )
        - 0.5 * spread[:, None]
    )


def ignorance(draws: np.ndarray, observed: np.ndarray, bins: tuple[float, ...] = BINS) -> np.ndarray:
    """Ignorance score (bits) of each forecast on ``bins``, one pseudo-draw per bin."""
    draws, observed = _check(draws, observed)
    edges = np.asarray(bins, dtype=float)
    classes = len(edges)
    binned = np.digitize(draws, edges) - 1
    target = np.digitize(observed, edges) - 1
    hits = np.sum(binned == target[..., None], axis=-1)
    return -np.log2((hits + 1) / (draws.shape[-1] + classes))


def interval_score(draws: np.ndarray, observed: np.ndarray, alpha: float = 0.1) -> np.ndarray:
    """Interval score of the central (1 - alpha) interval of each forecast's draws."""
    draws, observed = _check(draws, observed)
    low = np.quantile(draws, alpha / 2, axis=-1)
    high = np.quantile(draws, 1 - alpha / 2, axis=-1)
    below = (2 / alpha) * np.clip(low - observed, 0, None)
    above = (2 / alpha) * np.clip(observed - high, 0, None)
    return (high - low) + below + above


def average_precision(probability: np.ndarray, onset: np.ndarray) -> float | None:
    """Average precision of ``probability`` for the binary ``onset``; None when no onset."""
    from sklearn.metrics import average_precision_score

    onset = np.asarray(onset, dtype=int)
    if onset.sum() == 0:
        return None
    return float(average_precision_score(onset, np.asarray(probability, dtype=float)))


def pit(draws: np.ndarray, observed: np.ndarray, seed: int = 0) -> np.ndarray:
    """The randomised probability integral transform of each observation under its draws:
    PIT = F(y-1) + u (F(y) - F(y-1)), u uniform, F the draws' empirical distribution. For
    calibrated forecasts of counts it is uniform on [0, 1]."""
    draws, observed = _check(draws, observed)
    below = np.mean(draws < observed[..., None], axis=-1)
    at = np.mean(draws <= observed[..., None], axis=-1)
    u = np.random.default_rng(seed).uniform(size=observed.shape)
    return below + u * (at - below)


def pit_histogram(draws: np.ndarray, observed: np.ndarray, bins: int = 10, seed: int = 0) -> np.ndarray:
    """Shares of the randomised PIT in ``bins`` equal bins: flat when the forecasts are
    calibrated."""
    counts, _ = np.histogram(pit(draws, observed, seed).ravel(), bins=bins, range=(0, 1))
    return counts / max(1, counts.sum())


def coverage(draws: np.ndarray, observed: np.ndarray, level: float | np.ndarray, seed: int = 0) -> np.ndarray:
    """Whether each observation falls in the central ``level`` interval of its forecast,
    counted on the randomised PIT (in [(1 - level) / 2, (1 + level) / 2]): a tie with the
    interval's end (an observed 0 where most draws are 0) counts by the share of the tie
    inside the interval, so a calibrated forecast covers ``level`` of the observations
    even when they are mostly zeros. ``level``: one for all, or one per observation."""
    u = pit(draws, observed, seed)
    return (u >= (1 - level) / 2) & (u <= (1 + level) / 2)


def inside(draws: np.ndarray, observed: np.ndarray, level: float | np.ndarray) -> np.ndarray:
    """Whether each observation lies between the draws' (1 - level) / 2 and (1 + level) / 2
    quantiles (numpy's linear quantiles), ends included; ``level`` one for all, or one per
    observation."""
    draws, observed = _check(draws, observed)
    low, high = bounds(draws, level)
    return (low <= observed) & (observed <= high)


def bounds(draws: np.ndarray, level: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (low, high) ends of the central ``level`` interval of ``draws[..., k]`` (numpy's
    linear quantiles) per cell; ``level`` one for all cells, or one per cell."""
    draws = np.asarray(draws, dtype=float)
    levels = np.broadcast_to(np.asarray(level, dtype=float), draws.shape[:-1])
    low, high = np.empty(draws.shape[:-1]), np.empty(draws.shape[:-1])
    for value in np.unique(levels):
        cells = levels == value
        low[cells], high[cells] = np.quantile(draws[cells], [(1 - value) / 2, (1 + value) / 2], axis=-1)
    return low, high
