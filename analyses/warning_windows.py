"""Early warning on many challenge windows, not only the two the ViEWS files score.

Question: is detente's default model (the ensemble) ever worse than the best ViEWS
benchmark? The challenge scores 2018 and 2019; UCDP's GED country-month file (to October
2019) lets the same protocol run on every year from 2010 (data to October of Y-1, predict
November Y-1 to December Y, score January-December Y), with the GED ``best`` estimate as
the outcome. Every model chooses its settings by cross-validation on windows before each
cutoff, so no window's actuals touch its own forecast.

    .venv/bin/python analyses/warning_windows.py [--years 2010-2019] [--draws 1000]

It prints one row per window: each model's CRPS, the best benchmark, the ensemble's
margin over it, and what the ensemble chose.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from detente.sources.lake import Lake
from detente.sources.service import load
from detente.warning.backtest import backtest
from detente.warning.catalog import MODELS
from detente.warning.models import BENCHMARKS

ROOT = Path(__file__).resolve().parents[1]


def _years(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", default="2010-2019")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated model names")
    args = parser.parse_args()
    shared = Path(os.environ.get("DETENTE_SHARED_DATA", ROOT.parent / "shared" / "data"))
    files = [
        shared / "ucdp_ged_cm" / "ged_cm_postpatch_to_oct2019.parquet",
        shared / "ucdp_ged_cm" / "country.parquet",
        *sorted((shared / "views_cm").glob("cm_*201[89].parquet")),
    ]
    models = {n: MODELS[n] for n in args.models.split(",")}
    table = Table(title=f"CRPS per window ({args.draws} draws)")
    console = Console(width=220)
    for column in ("window", *models, "best benchmark", "margin", "ensemble chose"):
        table.add_column(column, justify="left" if column in ("ensemble chose",) else "right")
    with tempfile.TemporaryDirectory() as tmp, Lake(Path(tmp)) as lake:
        load(lake, "views", files, user="analysis")
        for year in _years(args.years):
            result = backtest(lake, year, models=models, k=args.draws)
            crps = {s.model: s.crps for s in result.scores}
            best = min((v, n) for n, v in crps.items() if n in BENCHMARKS)
            mine = crps.get("ensemble", float("nan"))
            chose = result.choices.get("ensemble", "").split(", chosen")[0]
            table.add_row(
                str(year), *(f"{crps[n]:.3f}" for n in models), f"{best[1]} {best[0]:.3f}",
                f"{best[0] - mine:+.3f}", chose,
            )  # fmt: skip
            console.print(f"{year}: " + ", ".join(f"{n} {v:.3f}" for n, v in crps.items()) + f" | {chose}")
    console.print(table)


if __name__ == "__main__":
    main()
