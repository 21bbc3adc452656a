"""detente's default forecast: a mixture of simple members with weights and interval
calibration chosen by rolling-origin evaluation inside the data before the cutoff.

**Folds.** For a cutoff T, fold j (j = 1, 2, ...) forecasts from origin T - 12j, using the
data up to that origin only, and is scored on the months after it up to T (horizons 1-14;
the first fold sees horizons 1-12). Every member forecasts every fold with exactly the
code it uses at T, so the folds measure what the members would have done.

**Weights.** The ensemble's draws are a share w_m of each member's draws. For draws X_m and
an outcome y, the CRPS of the mixture is sum_m w_m E|X_m - y| - 1/2 sum_mn w_m w_n
E|X_m - X_n|, so the folds' mean CRPS is a quadratic in w computed once per fold. The
best point of the simplex grid (steps of ``step``) over the last ``folds`` folds (each
weighing the same) is then shrunk towards equal shares by a share s chosen out of sample:
the rule "best grid point on the ``folds`` folds before, shrunk by s" is tried on each of
the last ``nested`` folds (seeing outcomes up to that fold's origin only), and the most
shrunk s within one standard error of the best is kept. Equal shares are the default a
fitted mixture has to beat, not the other way round.

**Calibration.** With those weights, the mixture's forecasts on the last ``calibration``
folds give randomised PIT values. For each group of country-months (the country's level at
the origin: no deaths in twelve months, up to 10 a month, more; and the horizon: 1-3, 4-8,
9 or more) the central interval that should cover c is widened or narrowed to the one
that covered c of the country-months *with deaths* in those folds (a conformal
recalibration: the score is the distance of the PIT from one half, so the median stays
where the members put it). Country-months with deaths are where intervals matter; those
without are mostly quiet countries whose PIT is uniform anyway. Two optional further steps,
a tail stretch for active countries and an onset hurdle for quiet ones, are learned on the
same folds (``detente.warning.tails``); neither is in the default ensemble.

**Intervals shown.** The draws' central c interval covers about c of each group's months
with deaths, but none of the onsets of quiet countries, so less than c of all months with
deaths. Rather than widen the draws (``pooled``, which cost CRPS where conflicts ended),
the interval shown as c is read from the same draws at the level c_a(c) the pooled rule
learns on the same folds, for the active groups (``Calibration.reported``,
``detente.warning.intervals``); the draws are the same either way.

Member forecasts at fold origins are the same for every later cutoff, so a ``FoldCache``
shared by several windows (a backtest over years) computes each once. Its key includes a
digest of the history up to the origin, so a changed history is never served stale
draws."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from detente.core.errors import ValidationError
from detente.warning.data import History
from detente.warning.intervals import NOMINAL, Intervals, group_key, horizon_group
from detente.warning.models import Conflictology, Model, Recency, Run, run_model
from detente.warning.regime import Regime
from detente.warning.scoring import pit
from detente.warning.tails import Onsets, quiet_band, stretch, stretch_scores
from detente.warning.tails import digest as tails_digest

__all__ = ["Calibration", "Ensemble", "FoldCache", "mix_many"]

FOLD_DRAWS = 100  # quantile draws per member and fold country-month
FOLD_HORIZONS = 14
LEVEL_EDGES = (0.0, 10.0)  # m12 bands of the calibration groups: none, up to 10, more
MIN_GROUP = 100
MIN_FOLD_MONTHS = 48  # a fold's origin needs four years of outcomes before it
SHRINK = (0.0, 0.25, 0.5, 0.75, 1.0)  # towards equal weights


def digest(history: History) -> str:
    """A digest of everything a model can read from ``history``."""
    h = hashlib.sha256()
    for array in (history.countries, history.months, history.values):
        h.update(np.ascontiguousarray(array).tobytes())
    for name in sorted(history.extra):
        h.update(name.encode())
        h.update(np.ascontiguousarray(history.extra[name]).tobytes())
    return h.hexdigest()


@dataclass
class FoldCache:
    """Member draws at fold origins, shared by the windows of one backtest run."""

    runs: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0

    def draws(self, model: Model, fold: History, horizons: int) -> np.ndarray:
        key = (repr(model), digest(fold))
        found = self.runs.get(key)
        if found is None:
            self.misses += 1
            found = np.sort(
                run_model(model, fold, horizons, FOLD_DRAWS, np.random.default_rng(0)).draws, axis=-1
            )
            self.runs[key] = found
        else:
            self.hits += 1
        return found


def mix_many(draws: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
    """Draws with a share ``weights[m]`` taken evenly (by quantile) from ``draws[m]``."""
    k = draws[0].shape[-1]
    counts = np.floor(np.asarray(weights) * k + 1e-9).astype(int)
    counts[int(np.argmax(weights))] += k - counts.sum()
    parts = []
    for d, m in zip(draws, counts, strict=True):
        if m:
            ordered = np.sort(d, axis=-1)
            parts.append(ordered[..., np.linspace(0, d.shape[-1] - 1, m).round().astype(int)])
    return np.concatenate(parts, axis=-1)


def mean_abs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """E|X - Y| for independent X, Y given by samples (last axis), per leading cell."""
    kx, ky = x.shape[-1], y.shape[-1]
    z = np.concatenate([x, y], axis=-1)
    label = np.concatenate([np.ones(x.shape), np.zeros(y.shape)], axis=-1)
    order = np.argsort(z, axis=-1)  # ties between the samples add nothing to the integral
    z = np.take_along_axis(z, order, -1)
    label = np.take_along_axis(label, order, -1)
    f = np.cumsum(label, axis=-1)[..., :-1] / kx
    g = np.cumsum(1 - label, axis=-1)[..., :-1] / ky
    return np.sum(np.diff(z, axis=-1) * (f * (1 - g) + g * (1 - f)), axis=-1)


@dataclass
class Fold:
    origin: int  # month_id
    members: list[np.ndarray]  # sorted draws [country, horizon, FOLD_DRAWS]
    truth: np.ndarray  # [country, horizon], NaN where not scored
    level: np.ndarray  # calibration level group per country at the origin
    cells: tuple[np.ndarray, np.ndarray] | None = None  # per scored cell: E|X_m - y|, E|X_m - X_n|
    band: np.ndarray | None = None  # quiet band per country at the origin (``tails.quiet_band``)

    def until(self, month: int) -> Fold:
        """The fold with outcomes after ``month`` unscored (its cell scores shared)."""
        truth = self.truth.copy()
        truth[:, max(0, month - self.origin) :] = np.nan
        return Fold(self.origin, self.members, truth, self.level, self.cell_scores(), self.band)

    def cell_scores(self) -> tuple[np.ndarray, np.ndarray]:
        """E|X_m - y| [member, country, horizon] and E|X_m - X_n| [member, member, country,
        horizon], NaN where not scored; computed once per fold."""
        if self.cells is None:
            m = len(self.members)
            scored = ~np.isnan(self.truth)
            y = self.truth[scored]
            a = np.full((m, *self.truth.shape), np.nan)
            b = np.full((m, m, *self.truth.shape), np.nan)
            xs = [d[scored] for d in self.members]
            for p, x in enumerate(xs):
                a[p][scored] = np.mean(np.abs(x - y[:, None]), axis=-1)
            for p, q in itertools.combinations_with_replacement(range(m), 2):
                b[p, q][scored] = b[q, p][scored] = mean_abs(xs[p], xs[q])
            self.cells = (a, b)
        return self.cells

    def scores(self) -> Scores:
        """Means over the scored cells: the fold's CRPS of weights w is w.a - w.b.w / 2."""
        a, b = self.cell_scores()
        scored = ~np.isnan(self.truth)
        return a[:, scored].mean(axis=-1), b[:, :, scored].mean(axis=-1)


def level_group(values: np.ndarray) -> np.ndarray:
    """Calibration level group per country from its last twelve months."""
    m12 = np.nanmean(np.nan_to_num(values[:, -12:], nan=0.0), axis=1)
    return np.where(m12 <= 0, 0, np.where(m12 <= LEVEL_EDGES[1], 1, 2))


def _levels(n: int) -> np.ndarray:
    return (np.arange(n) + 0.5) / n


@dataclass
class Calibration:
    """Per (level group, horizon group): the central level c' to read for each central
    level c (on a grid of ``GRID`` levels), learned from fold PITs of months with deaths."""

    maps: dict[tuple[int, int], np.ndarray]
    counts: dict[tuple[int, int], int]
    delta: float = 0.0  # log1p tail stretch of active countries (``tails.stretch``)
    onsets: Onsets | None = None  # quiet countries' hurdle (``tails.Onsets``)
    target: np.ndarray | None = None  # the pooled rule's c_a(c) on the grid (``_target``)

    GRID = 1000

    @classmethod
    def learn(
        cls, folds: list[tuple[np.ndarray, np.ndarray, np.ndarray]], pooled: bool = False,
        share: float = 0.0, bands: list[np.ndarray] | None = None,
    ) -> Calibration:  # fmt: skip
        """``folds``: (mixture draws [country, horizon, k], truth [country, horizon], level
        group [country]). Deterministic: the PIT's randomisation has a fixed seed. With
        ``pooled``, the active groups' nominal c is read at the level c_a(c) that makes the
        folds' months with deaths *of every group* (quiet countries' onsets included, which
        their own intervals around 0 miss) covered at c: see ``_target``. A ``share`` > 0
        adds the tail stretch aimed at 0.9 + share (c_a(0.9) - 0.9), and ``bands`` (each
        fold's quiet band per country) the onset hurdle: see ``detente.warning.tails``."""
        devs: dict[tuple[int, int], list[np.ndarray]] = {}
        onsets: dict[int, list[np.ndarray]] = {}  # quiet countries' months with deaths
        for seed, (draws, truth, level) in enumerate(folds):
            y = np.nan_to_num(truth, nan=0.0)
            dev = np.abs(pit(draws, y, seed) - 0.5)
            # active countries: months with deaths; quiet ones: all months (their months
            # with deaths are onsets, which a central interval around 0 cannot cover)
            deaths = ~np.isnan(truth) & ((y > 0) | (level == 0)[:, None])
            hg = horizon_group(truth.shape[1])
            for lv, h in itertools.product(np.unique(level), np.unique(hg)):
                cell = deaths & (level == lv)[:, None] & (hg == h)[None, :]
                devs.setdefault((int(lv), int(h)), []).append(dev[cell])
                if lv == 0:
                    onsets.setdefault(int(h), []).append(dev[cell & (y > 0)])
        maps, counts = {}, {}
        for key, parts in devs.items():
            d = np.concatenate(parts)
            counts[key] = len(d)
            if len(d) >= MIN_GROUP:
                maps[key] = np.minimum(2 * np.quantile(d, _levels(cls.GRID)), 1.0)
        quiet = {h: np.concatenate(v) for h, v in onsets.items()}
        target = cls._target(maps, counts, quiet)
        if pooled and target is not None:
            grid = _levels(cls.GRID)
            maps = {key: (m if key[0] == 0 else np.interp(target, grid, m)) for key, m in maps.items()}
        out = cls(maps, counts, target=target)
        if share and target is not None:
            aim = 0.9 + share * (float(np.interp(0.9, _levels(cls.GRID), target)) - 0.9)
            scores = np.concatenate([stretch_scores(out.apply(d, lv), t, lv) for d, t, lv in folds])
            out.delta = max(0.0, float(np.quantile(scores, min(aim, 1.0)))) if len(scores) else 0.0
        if bands is not None:
            hg = horizon_group(folds[0][1].shape[1])
            out.onsets = Onsets.learn([(t, lv, b) for (_, t, lv), b in zip(folds, bands, strict=True)], hg)
        return out

    @classmethod
    def _target(
        cls, maps: dict[tuple[int, int], np.ndarray], counts: dict[tuple[int, int], int],
        onsets: dict[int, np.ndarray],
    ) -> np.ndarray | None:  # fmt: skip
        """The level c_a(c) = (c (n_a + n_q) - q(c)) / n_a at which the active groups' maps
        are read when pooled: n_a months with deaths in active groups, n_q onsets, q(c) the
        onsets the quiet groups' own calibrated intervals cover. Nothing but the folds sets
        c_a. None when no active group has a map."""
        grid = _levels(cls.GRID)
        active = sum(n for (lv, _), n in counts.items() if lv != 0 and (lv, _) in maps)
        if not active:
            return None
        quiet = sum(len(d) for d in onsets.values())
        covered = np.zeros(cls.GRID)
        for h, d in onsets.items():
            wide = maps.get((0, h), grid)
            covered += np.searchsorted(np.sort(2 * d), wide, side="right")
        return np.maximum.accumulate(np.clip((grid * (active + quiet) - covered) / active, 0.0, 1.0))

    def reported(self, c: float) -> dict[str, float]:
        """The central level of the calibrated draws reported as the ``c`` interval, for each
        active group with a map: c_a(c), the pooled rule's level, at which c of all the
        folds' months with deaths (onsets included) were covered. Quiet and thin groups are
        left out: their c interval is the draws' central c."""
        if self.target is None:
            return {}
        read = float(np.interp(c, _levels(self.GRID), self.target))
        return {group_key(lv, h): read for (lv, h) in sorted(self.maps) if lv != 0}

    def level(self, key: tuple[int, int], c: float) -> float:
        """The central level read for nominal ``c`` in group ``key``."""
        found = self.maps.get(key)
        return c if found is None else float(np.interp(c, _levels(self.GRID), found))

    def apply(self, draws: np.ndarray, level: np.ndarray, band: np.ndarray | None = None) -> np.ndarray:
        """Recalibrated draws [country, horizon, k]: each draw read at its mapped level; then
        the tail stretch and the onset hurdle (for quiet countries in ``band``) if learned."""
        out = self._mapped(draws, level)
        if self.delta:
            out[level > 0] = stretch(out[level > 0], self.delta)
        if self.onsets is not None and band is not None:
            out = self.onsets.apply(out, level, band, horizon_group(draws.shape[1]))
        return out

    def _mapped(self, draws: np.ndarray, level: np.ndarray) -> np.ndarray:
        _, horizons, k = draws.shape
        x = np.sort(draws, axis=-1)
        tau = (np.arange(k) + 0.5) / k
        hg = horizon_group(horizons)
        out = x.copy()
        for (lv, h), found in self.maps.items():
            wide = np.interp(np.abs(2 * tau - 1), _levels(self.GRID), found)
            position = np.clip(np.floor((0.5 + np.sign(tau - 0.5) * wide / 2) * k), 0, k - 1).astype(int)
            rows, cols = level == lv, hg == h
            if rows.any() and cols.any():
                out[np.ix_(rows, cols)] = x[np.ix_(rows, cols)][..., position]
        return out

    def digest(self) -> str:
        """A digest of every group's map (equal digests: the same calibration)."""
        h = hashlib.sha256()
        for key in sorted(self.maps):
            h.update(repr(key).encode())
            h.update(np.ascontiguousarray(self.maps[key]).tobytes())
        if self.delta or self.onsets is not None:
            h.update(tails_digest(self.delta, self.onsets))
        return h.hexdigest()

    def summary(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"tail stretch (log1p)": round(self.delta, 4)} if self.delta else {}
        if self.onsets is not None:
            extra["onset hurdle"] = self.onsets.summary()
        return extra | {
            f"level {lv}, horizons {('1-3', '4-8', '9+')[h]}": {
                "months_with_deaths": self.counts.get((lv, h), 0),
                "reads_50_as": round(self.level((lv, h), 0.5), 3),
                "reads_90_as": round(self.level((lv, h), 0.9), 3),
            }
            for (lv, h) in sorted(self.counts)
        }


Scores = tuple[np.ndarray, np.ndarray]  # a fold's (E|X_m - y|, E|X_m - X_n|)


def _one_se(trials: dict[float, list[float]]) -> float:
    """The most shrunk share whose mean is within one standard error (of its difference
    from the best) of the best; all the way (1) when nothing was tried."""
    tried = {s: float(np.mean(v)) for s, v in trials.items() if v}
    if not tried:
        return 1.0
    top = min(tried, key=lambda s: (round(tried[s], 9), -s))
    if len(trials[top]) < 2:
        return top
    ok = []
    for s in tried:
        diff = np.subtract(trials[s], trials[top])
        if tried[s] <= tried[top] + float(np.std(diff, ddof=1) / np.sqrt(len(diff))):
            ok.append(s)
    return max(ok)


def _grid(members: int, step: float) -> list[np.ndarray]:
    n = round(1 / step)
    return [
        np.bincount(c, minlength=members) / n
        for c in itertools.combinations_with_replacement(range(members), n)
    ]


@dataclass(frozen=True)
class Ensemble:
    members: tuple[Model, ...] = field(default_factory=lambda: (Conflictology(), Recency(), Regime()))
    folds: int = 5
    calibration: int = 10
    nested: int = 5
    step: float = 0.1
    name: str = "ensemble"
    pooled: bool = False  # calibrate months with deaths of all groups together (onsets too)
    stretch: float = 0.0  # share of the pooled target the tail stretch aims at (``tails``)
    onsets: bool = False  # quiet countries' draws from the folds' onset hurdle (``tails``)
    learned: bool = True  # report intervals at the levels learned on the folds (``intervals``)
    takes_cache = True

    def fold_data(self, history: History, cache: FoldCache, count: int) -> list[Fold]:
        """Up to ``count`` folds: member draws from origins T - 12j on their own data."""
        out: list[Fold] = []
        c = len(history.months) - 1
        seen = np.cumsum((~np.isnan(history.values)).any(axis=0))  # months with outcomes so far
        for j in range(1, count + 1):
            at = c - 12 * j
            if at < 0 or seen[at] < MIN_FOLD_MONTHS:
                break
            origin = int(history.months[at])
            fold = history.until(origin)
            fold = fold.rows(~np.isnan(fold.values[:, -1]))
            keep = np.isin(history.countries, fold.countries)
            truth = np.full((len(fold.countries), FOLD_HORIZONS), np.nan)
            later = history.values[keep, at + 1 : at + 1 + FOLD_HORIZONS]
            truth[:, : later.shape[1]] = later
            try:
                members = [cache.draws(m, fold, FOLD_HORIZONS) for m in self.members]
            except ValidationError:
                break  # too little history this far back
            out.append(Fold(origin, members, truth, level_group(fold.values), band=quiet_band(fold.values)))
        return out

    def fold_scores(self, folds: list[Fold]) -> list[Scores]:
        """Per fold: (E|X_m - y| per member, E|X_m - X_n| per pair), means over the fold's
        scored country-months: the fold's CRPS of weights w is w.a - w.b.w / 2."""
        return [fold.scores() for fold in folds]

    def best(
        self, scores: list[tuple[np.ndarray, np.ndarray]]
    ) -> tuple[np.ndarray, dict[tuple[float, ...], float]]:
        """The grid point with the lowest mean CRPS over ``scores``, and every point's mean."""
        a = np.mean([s[0] for s in scores], axis=0)
        b = np.mean([s[1] for s in scores], axis=0)
        table = {tuple(w): float(w @ a - 0.5 * w @ b @ w) for w in _grid(len(self.members), self.step)}
        return np.array(min(table, key=lambda w: (round(table[w], 9), w))), table

    def choose(self, folds: list[Fold]) -> tuple[np.ndarray, dict[str, Any]]:
        """The weights from ``folds`` (the most recent first): see ``combine``."""
        scores = self.fold_scores(folds)
        n = self.folds
        nested = [
            (scores[j], self.fold_scores([f.until(folds[j].origin) for f in folds[j + 1 : j + 1 + n]]))
            for j in range(min(self.nested, len(scores) - n))
        ]  # each nested choice sees outcomes up to its own fold's origin only
        return self.combine(scores[:n], nested)

    def combine(
        self, recent: list[Scores], nested: list[tuple[Scores, list[Scores]]]
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """The best grid point over the ``recent`` folds, shrunk towards equal weights by the
        share (of ``SHRINK``) that did best out of sample: for each of the ``nested`` folds,
        the same rule applied to the folds before it forecast it. The most shrunk share within
        one standard error of the best is taken (the one-standard-error rule)."""
        m = len(self.members)
        equal = np.full(m, 1.0 / m)
        if not recent:
            return equal, {"note": "no fold before the cutoff: equal weights", "shrink": 1.0}
        raw, table = self.best(recent)
        trials: dict[float, list[float]] = {s: [] for s in SHRINK}
        for (a, b), before in nested:
            w = self.best(before)[0]
            for s in SHRINK:
                v = (1 - s) * w + s * equal
                trials[s].append(float(v @ a - 0.5 * v @ b @ v))
        shrink = _one_se(trials)
        names = [mm.name for mm in self.members]
        return (1 - shrink) * raw + shrink * equal, {
            "best_on_folds": {n: float(x) for n, x in zip(names, raw, strict=True)},
            "shrink": shrink,
            "shrink_crps": {str(s): float(np.mean(v)) for s, v in trials.items() if v},
            "grid_crps": {
                ", ".join(f"{n} {x:g}" for n, x in zip(names, w, strict=True)): v for w, v in table.items()
            },
        }

    def calibrate(self, folds: list[Fold], weights: np.ndarray) -> Calibration:
        bands = [f.band for f in folds if f.band is not None]
        return Calibration.learn(
            [(mix_many(f.members, weights), f.truth, f.level) for f in folds], pooled=self.pooled,
            share=self.stretch, bands=bands if self.onsets and len(bands) == len(folds) else None,
        )  # fmt: skip

    def run(
        self, history: History, horizons: int, k: int, rng: np.random.Generator, done: dict[str, Run],
        cache: FoldCache | None = None,
    ) -> Run:  # fmt: skip
        cache = cache if cache is not None else FoldCache()
        folds = self.fold_data(history, cache, max(self.folds + self.nested, self.calibration))
        weights, table = self.choose(folds[: self.folds + self.nested])
        calibration = self.calibrate(folds[: self.calibration], weights)
        runs = {m.name: done.get(m.name) or run_model(m, history, horizons, k, rng) for m in self.members}
        mixed = mix_many([runs[m.name].draws for m in self.members], weights)
        groups = level_group(history.values)
        draws = calibration.apply(mixed, groups, quiet_band(history.values))
        widened = self.pooled or self.stretch or self.onsets  # the draws carry the widening
        intervals = Intervals(
            {c: {} if widened or not self.learned else calibration.reported(c) for c in NOMINAL}, groups,
            int(history.cutoff), tuple(f.origin for f in folds[: self.calibration]),
        )  # fmt: skip
        shares = ", ".join(f"{w:.0%} {m.name}" for m, w in zip(self.members, weights, strict=True) if w)
        choice = (
            f"{shares}: the best mixture over {len(folds[: self.folds])} folds before the cutoff, "
            f"{table.get('shrink', 1.0):.0%} of the way to equal shares (chosen on earlier folds); "
            f"intervals calibrated on {len(folds[: self.calibration])} folds"
        )
        params = {
            "weights": {m.name: float(w) for m, w in zip(self.members, weights, strict=True)},
            "folds": [f.origin for f in folds[: self.folds]],
            "calibration_folds": [f.origin for f in folds[: self.calibration]],
            "selection": table,
            "calibration": calibration.summary(),
            "calibration_digest": calibration.digest(),
            "intervals": {k: v for k, v in intervals.meta().items() if k != "groups"},
            "members": {n: r.params for n, r in runs.items()},
            "member_choices": {n: r.choice for n, r in runs.items() if r.choice},
        }
        return Run(draws, choice, params, intervals=intervals)

    def draws(self, history: History, horizons: int, k: int, rng: np.random.Generator) -> np.ndarray:
        return self.run(history, horizons, k, rng, {}).draws
