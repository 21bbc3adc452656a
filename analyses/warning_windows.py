"""Early warning on many challenge windows, not only the two the ViEWS files score.

Question: is detente's default model (the ensemble) ever worse than the best ViEWS
benchmark, and do its intervals cover what they claim? The challenge scores 2018 and 2019;
UCDP's GED country-month file (to October 2019) lets the same protocol run on every year
from 2003 (data to October of Y-1, predict November Y-1 to December Y, score January-December
Y), with the GED ``best`` estimate as the outcome where the challenge's actuals are not
loaded. Every choice the ensemble makes (its members' shares, how far to shrink them
towards equal shares, the recency model's decay, the intervals' calibration) is made on
folds that end at each window's cutoff, so no window's actuals touch its own forecast. The
windows share one ``FoldCache``: a member's forecast from an earlier origin is computed once.

    .venv/bin/python analyses/warning_windows.py [--years 2010-2019] [--draws 1000] [--models ...]
        [--pooled] [--stretch S] [--onsets]

It prints one row per window (each model's CRPS, the best benchmark, the ensemble's margin
over it, its ignorance, interval score and coverage), then the coverage and PIT histogram
over all the windows together (of the intervals detente shows, read at the levels learned
on the folds before each cutoff, ``detente.warning.intervals``, and of the draws' own
central intervals: the draws are the same either way), the coverage of the months with deaths by the country's
level at the cutoff (quiet for a year: onsets; up to 10 deaths a month; more), and what the
ensemble chose in each. ``--pooled`` runs the ensemble whose calibration covers the folds'
months with deaths of all levels together (``Ensemble(pooled=True)``), onsets included;
``--stretch S`` the one whose active countries' tails are stretched towards S of that target
(``Ensemble(stretch=S)``), and ``--onsets`` the one whose quiet countries draw from the
folds' onset hurdle (``Ensemble(onsets=True)``): see ``detente.warning.tails``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from detente.sources.lake import Lake
from detente.sources.service import load
from detente.warning.backtest import Backtest, Score, backtest
from detente.warning.catalog import MODELS
from detente.warning.data import HORIZONS, history, truth
from detente.warning.ensemble import Ensemble, FoldCache, level_group
from detente.warning.models import BENCHMARKS
from detente.warning.scoring import coverage

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = "ensemble"


def _years(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def _pct(x: float) -> str:
    return "-" if x != x else f"{x:.1%}"


def _pooled(scores: list[Score]) -> dict[str, float]:
    """Coverage over every scored country-month of the windows together."""
    months = np.array([s.countries * s.months for s in scores], dtype=float)
    deaths = np.array([s.deaths for s in scores], dtype=float)

    def avg(values: list[float], weights: np.ndarray) -> float:
        return float(np.sum(np.array(values) * weights) / weights.sum())

    return {
        "cover50": avg([s.cover50 for s in scores], months),
        "cover90": avg([s.cover90 for s in scores], months),
        "cover50_deaths": avg([s.cover50_deaths for s in scores], deaths),
        "cover90_deaths": avg([s.cover90_deaths for s in scores], deaths),
        "inside50_deaths": avg([s.inside50_deaths for s in scores], deaths),
        "inside90_deaths": avg([s.inside90_deaths for s in scores], deaths),
        "central50": avg([s.central50 for s in scores], months),
        "central90": avg([s.central90 for s in scores], months),
        "central50_deaths": avg([s.central50_deaths for s in scores], deaths),
        "central90_deaths": avg([s.central90_deaths for s in scores], deaths),
    }


LEVELS = ("quiet a year (onsets)", "up to 10 a month", "more than 10 a month")


def _by_level(lake: Lake, result: Backtest, tally: np.ndarray) -> None:
    """Add the ensemble's months with deaths, and those its reported 50% and 90% intervals
    cover, to ``tally[level group, (months, covered 50, covered 90)]``."""
    window = result.window
    first = window.forecast_months.index(window.scored_months[0])
    draws = result.draws[DEFAULT][:, first:, :]
    learned = result.intervals.get(DEFAULT)
    at = {c: learned.level(c, HORIZONS)[:, first:] if learned else c for c in (0.5, 0.9)}
    past = history(lake, window.cutoff, context=False).subset(result.countries)
    y = truth(lake, window).subset(result.countries).values
    level = np.repeat(level_group(past.values)[:, None], y.shape[1], axis=1)
    deaths = y > 0
    for lv in range(len(LEVELS)):
        rows = deaths & (level == lv)
        covered = [coverage(draws, y, at[c])[rows].sum() for c in (0.5, 0.9)]
        tally[lv] += [rows.sum(), *covered]


def _files(shared: Path) -> list[Path]:
    return [
        shared / "ucdp_ged_cm" / "ged_cm_postpatch_to_oct2019.parquet",
        shared / "ucdp_ged_cm" / "country.parquet",
        *sorted((shared / "views_cm").glob("cm_*201[89].parquet")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--years", default="2010-2019")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated model names")
    parser.add_argument("--pooled", action="store_true", help="calibrate on all months with deaths")
    parser.add_argument("--stretch", type=float, default=0.0, help="tail stretch: share of the pooled target")
    parser.add_argument("--onsets", action="store_true", help="quiet countries: the folds' onset hurdle")
    args = parser.parse_args()
    shared = Path(os.environ.get("DETENTE_SHARED_DATA", ROOT.parent / "shared" / "data"))
    models = {n: MODELS[n] for n in args.models.split(",")}
    if (args.pooled or args.stretch or args.onsets) and DEFAULT in models:
        models[DEFAULT] = Ensemble(pooled=args.pooled, stretch=args.stretch, onsets=args.onsets)
    console = Console(width=240)
    table = Table(title=f"CRPS per window ({args.draws} draws); the ensemble's other scores")
    for column in (
        "window",
        *models,
        "best benchmark",
        "margin",
        "IGN",
        "MIS",
        "cover 50/90",
        "deaths 50/90",
        "draws' own deaths 50/90",
    ):
        table.add_column(column, justify="right")
    mine: list[Score] = []
    chose: list[str] = []
    margins: list[float] = []
    cache = FoldCache()
    tally = np.zeros((len(LEVELS), 3))
    with tempfile.TemporaryDirectory() as tmp, Lake(Path(tmp)) as lake:
        load(lake, "views", _files(shared), user="analysis")
        for year in _years(args.years):
            result = backtest(lake, year, models=models, k=args.draws, cache=cache)
            scores = {s.model: s for s in result.scores}
            best = min((s.crps, n) for n, s in scores.items() if n in BENCHMARKS)
            own = scores.get(DEFAULT)
            line = f"{year}: " + ", ".join(f"{n} {s.crps:.3f}" for n, s in scores.items())
            if own is None:
                table.add_row(
                    str(year), *(f"{scores[n].crps:.3f}" for n in models), f"{best[1]} {best[0]:.3f}"
                )
                console.print(line)
                continue
            mine.append(own)
            _by_level(lake, result, tally)
            margin = own.crps / best[0] - 1
            margins.append(margin)
            learned = result.intervals.get(DEFAULT)
            told = "; ".join(learned.describe(c) for c in sorted(learned.levels)) if learned else ""
            chose.append(f"{year}: {result.choices.get(DEFAULT, '')}; {told}")
            table.add_row(
                str(year), *(f"{scores[n].crps:.3f}" for n in models), f"{best[1]} {best[0]:.3f}",
                f"{margin:+.1%}", f"{own.ign:.3f}", f"{own.mis:.2f}",
                f"{_pct(own.cover50)}/{_pct(own.cover90)}",
                f"{_pct(own.cover50_deaths)}/{_pct(own.cover90_deaths)}",
                f"{_pct(own.central50_deaths)}/{_pct(own.central90_deaths)}",
            )  # fmt: skip
            console.print(f"{line} | ensemble {margin:+.2%} against {best[1]}")
    console.print(table)
    if mine:
        pooled = _pooled(mine)
        console.print(
            f"ensemble at or below the best benchmark's CRPS in {sum(m <= 0 for m in margins)} of "
            f"{len(margins)} windows; its largest margin {max(margins):+.2%}, mean {np.mean(margins):+.2%}"
        )
        console.print(
            "coverage over all these windows' country-months (randomised PIT): "
            f"50% interval {_pct(pooled['cover50'])}, 90% interval {_pct(pooled['cover90'])}; "
            f"country-months with deaths: {_pct(pooled['cover50_deaths'])} and "
            f"{_pct(pooled['cover90_deaths'])} "
            f"(inside the intervals' quantiles: {_pct(pooled['inside50_deaths'])} and "
            f"{_pct(pooled['inside90_deaths'])})"
        )
        console.print(
            "the draws' own central 50% and 90% intervals (the draws are the same either way): "
            f"{_pct(pooled['central50'])} and {_pct(pooled['central90'])}; with deaths "
            f"{_pct(pooled['central50_deaths'])} and {_pct(pooled['central90_deaths'])}"
        )
        months = np.array([s.countries * s.months for s in mine], dtype=float)
        pit = np.sum(np.array([s.pit for s in mine]) * months[:, None], axis=0) / months.sum()
        console.print("ensemble PIT histogram (ten bins, all windows): " + " ".join(f"{x:.3f}" for x in pit))
        shares = [
            (name, int(n), a / max(n, 1), b / max(n, 1))
            for name, (n, a, b) in zip(LEVELS, tally.tolist(), strict=True)
        ]
        console.print(
            "months with deaths (50% / 90% covered) by the country's level at the cutoff: "
            + "; ".join(f"{name} {n}: {_pct(a)} / {_pct(b)}" for name, n, a, b in shares)
        )
        for line in chose:
            console.print(line)
    console.print(f"fold cache: {cache.misses} member forecasts computed, {cache.hits} reused")


if __name__ == "__main__":
    main()
