"""Two further steps the ensemble's calibration can take, both learned on the folds before
the cutoff only. Neither is in the default ensemble: over 2010-2019 each kept one acceptance
point and lost another (docs/capabilities/warning.md gives the figures).

**Tail stretch** (``Ensemble(stretch=s)``). After the calibration's maps, the draws of active
countries (deaths in the last twelve months) are stretched in log space beyond their 50%
interval: a draw at level tau moves by delta * r(tau) on the log1p scale, r rising linearly
from 0 at the 50% interval's ends (|tau - 1/2| = 0.25) to 1 at the 90% interval's ends
(0.45) and staying 1 beyond, outwards on both sides (never below 0). The median and the
50% interval stay where the maps put them. delta is read on the folds' months with deaths
of active countries: their distance in log1p from the calibrated 90% interval, at the level
c_a = 0.9 + s (c_pooled - 0.9), c_pooled the level at which the active groups must be
covered for all the folds' months with deaths, quiet countries' onsets included, to be
covered at 90% (``Calibration._target``). s = 1 aims at that; s = 0 changes nothing.

**Onset hurdle** (``Ensemble(onsets=True)``). For countries quiet for a year, the draws are
replaced by a hurdle learned on the folds: for each quiet band (months since the last death
at the origin: up to 24, up to 60, more or never; the regime model's bands) and horizon
group, the share of the folds' quiet country-months that had deaths, and those months'
deaths as the positive part. A quiet country whose band had onsets in the folds gets a
non-degenerate upper tail of that size."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Onsets", "quiet_band", "stretch", "stretch_scores"]

RAMP = (0.25, 0.45)  # |tau - 1/2|: the 50% and the 90% interval's ends
QUIET_EDGES = (24, 60)  # months since the last death (the regime model's quiet bands)
MIN_CELLS = 100  # quiet country-months in a band and horizon group before its hurdle is used


def quiet_band(values: np.ndarray) -> np.ndarray:
    """Per country: months since its last month with deaths, in bands 0 (up to 24), 1 (up
    to 60), 2 (more, or never)."""
    y = np.nan_to_num(values, nan=0.0) > 0
    n = y.shape[1]
    last = np.where(y.any(axis=1), n - 1 - np.argmax(y[:, ::-1], axis=1), -10_000)
    return np.digitize(n - 1 - last, np.array(QUIET_EDGES) + 0.5)


def stretch_scores(draws: np.ndarray, truth: np.ndarray, level: np.ndarray) -> np.ndarray:
    """For the months with deaths of active countries (``level`` > 0): how far (log1p) each
    outcome lies outside its draws' central 90% interval (negative inside)."""
    y = np.nan_to_num(truth, nan=0.0)
    cells = ~np.isnan(truth) & (y > 0) & (level > 0)[:, None]
    low = np.log1p(np.quantile(draws[cells], 0.05, axis=-1))
    high = np.log1p(np.quantile(draws[cells], 0.95, axis=-1))
    ly = np.log1p(y[cells])
    return np.maximum(low - ly, ly - high)


def stretch(draws: np.ndarray, delta: float) -> np.ndarray:
    """Sorted draws [..., k] stretched by ``delta`` (log1p) beyond the 50% interval."""
    k = draws.shape[-1]
    tau = (np.arange(k) + 0.5) / k
    ramp = np.clip((np.abs(tau - 0.5) - RAMP[0]) / (RAMP[1] - RAMP[0]), 0.0, 1.0) * np.sign(tau - 0.5)
    z = np.log1p(np.sort(draws, axis=-1)) + delta * ramp
    return np.maximum(np.expm1(z), 0.0)


@dataclass
class Onsets:
    """Per (quiet band, horizon group): the folds' share of quiet country-months with deaths,
    their deaths (sorted), and the country-months counted."""

    rate: dict[tuple[int, int], float]
    sizes: dict[tuple[int, int], np.ndarray]
    cells: dict[tuple[int, int], int]

    @classmethod
    def learn(cls, folds: list[tuple[np.ndarray, np.ndarray, np.ndarray]], hgroup: np.ndarray) -> Onsets:
        """``folds``: (truth [country, horizon], level group, quiet band) per fold."""
        hits: dict[tuple[int, int], int] = {}
        cells: dict[tuple[int, int], int] = {}
        sizes: dict[tuple[int, int], list[np.ndarray]] = {}
        for truth, level, band in folds:
            for b in range(len(QUIET_EDGES) + 1):
                for h in np.unique(hgroup):
                    pick = ~np.isnan(truth) & ((level == 0) & (band == b))[:, None] & (hgroup == h)[None, :]
                    y = truth[pick]
                    key = (b, int(h))
                    hits[key] = hits.get(key, 0) + int((y > 0).sum())
                    cells[key] = cells.get(key, 0) + len(y)
                    sizes.setdefault(key, []).append(y[y > 0])
        return cls(
            {k: hits[k] / cells[k] for k in cells if cells[k]},
            {k: np.sort(np.concatenate(v)) for k, v in sizes.items()},
            cells,
        )

    def apply(self, draws: np.ndarray, level: np.ndarray, band: np.ndarray, hgroup: np.ndarray) -> np.ndarray:
        """``draws`` [country, horizon, k] with quiet countries' draws replaced by the hurdle
        of their band and horizon group (where it has ``MIN_CELLS`` country-months)."""
        out = draws.copy()
        k = draws.shape[-1]
        for (b, h), p in self.rate.items():
            if self.cells[b, h] < MIN_CELLS:
                continue
            rows, cols = (level == 0) & (band == b), hgroup == h
            if not (rows.any() and cols.any()):
                continue
            zeros = round((1 - p) * k)
            hurdle = np.zeros(k)
            if k - zeros and len(self.sizes[b, h]):
                levels = (np.arange(k - zeros) + 0.5) / (k - zeros)
                hurdle[zeros:] = np.quantile(self.sizes[b, h], levels, method="inverted_cdf")
            out[np.ix_(rows, cols)] = hurdle
        return out

    def update(self, h: Any) -> None:
        """Feed the hurdle into a digest ``h``."""
        for key in sorted(self.rate):
            h.update(repr((key, self.rate[key], self.cells[key])).encode())
            h.update(np.ascontiguousarray(self.sizes[key]).tobytes())

    def summary(self) -> dict[str, Any]:
        names = ("up to 24", "up to 60", "more")
        return {
            f"quiet {names[b]} months, horizons {('1-3', '4-8', '9+')[h]}": {
                "country_months": self.cells[b, h],
                "share_with_deaths": round(p, 4),
            }
            for (b, h), p in sorted(self.rate.items())
        }


def digest(delta: float, onsets: Onsets | None) -> bytes:
    """Bytes for the calibration's digest."""
    h = hashlib.sha256(repr(round(delta, 12)).encode())
    if onsets is not None:
        onsets.update(h)
    return h.digest()
