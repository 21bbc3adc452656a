"""Operational forecasts: the latest data in the lake, up to 36 months ahead, saved with the
model and its inputs' provenance so a forecast can be reproduced and audited.

The cutoff is the latest month with outcomes for at least 100 countries. A forecast is
saved in the workspace's ``forecasts/`` folder as Parquet in the challenge's layout
(``month_id``, ``country_id``, ``draw``, ``outcome``) with the model, its parameters, the
seed and the lake's provenance of the data (file hashes, versions) in the file's
metadata and in a JSON file beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from detente.core.errors import ValidationError
from detente.sources.lake import Lake
from detente.sources.views import month_of
from detente.warning.catalog import DEFAULT, MODELS
from detente.warning.data import history, outcome_sql
from detente.warning.features import NAMES
from detente.warning.models import run_model

__all__ = ["Forecast", "forecast", "latest", "load_forecast", "save", "summary"]

MIN_COUNTRIES = 100
ONSET = 25


@dataclass
class Forecast:
    cutoff: int
    model: str
    countries: np.ndarray
    iso3: list[str | None]
    draws: np.ndarray  # [country, horizon, draw]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def months(self) -> list[int]:
        return list(range(self.cutoff + 1, self.cutoff + 1 + self.draws.shape[1]))


def _latest_cutoff(lake: Lake) -> int:
    row = lake.db.execute(
        f"SELECT max(month_id) FROM (SELECT month_id FROM views WHERE {outcome_sql(lake)} IS NOT NULL "
        f"GROUP BY month_id HAVING count(*) >= {MIN_COUNTRIES})"
    ).fetchall()[0]
    if row[0] is None:
        raise ValidationError(f"no month in the lake has outcomes for {MIN_COUNTRIES} countries")
    return int(row[0])


def forecast(
    lake: Lake, model: str = DEFAULT, *, horizons: int = 36, k: int = 1000, seed: int = 2024
) -> Forecast:
    if model not in MODELS:
        raise ValidationError(f"unknown model {model!r}; one of {', '.join(MODELS)}", field="model")
    if not 1 <= horizons <= 36:
        raise ValidationError("horizons: 1 to 36 months", field="horizons")
    cutoff = _latest_cutoff(lake)
    past = history(lake, cutoff)
    observed = ~np.isnan(past.values[:, -1])
    past = past.subset(past.countries[observed])
    done = run_model(MODELS[model], past, horizons, k, np.random.default_rng(seed))
    draws, params = done.draws, {**done.params, "choice": done.choice}
    drivers = _drivers(done.fitted, past.iso3) if done.fitted is not None else {}
    views = lake.current("views")
    year, month = month_of(cutoff)
    meta = {
        "model": model,
        "params": params,
        "seed": seed,
        "draws": k,
        "horizons": horizons,
        "cutoff_month_id": cutoff,
        "cutoff": f"{year}-{month:02d}",
        "drivers": drivers,
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs": {
            "views": {
                "version": views.version,
                "files": views.files,
                "sha256": views.sha256,
                "rows": views.rows,
                "loaded_at": views.loaded_at.isoformat(),
            }
            if views
            else None
        },
    }
    return Forecast(cutoff, model, past.countries, past.iso3, draws, meta)


def _drivers(fitted: Any, iso3: list[str | None], months: int = 3, top: int = 6) -> dict[str, Any]:
    """Per country, the boosted model's feature contributions averaged over the first
    ``months`` horizons, largest first: [feature, its value, contribution to log deaths]."""
    from detente.warning.boost import _base

    contrib, expected = fitted.contributions()
    names = [*NAMES, "horizon"]
    n = len(iso3)
    rows = fitted.rows.reshape(-1, n, len(names))[:months]
    out: dict[str, Any] = {}
    for i, code in enumerate(iso3):
        if not code:
            continue
        mean = contrib[i, :months].mean(axis=0)
        order = [j for j in np.argsort(-np.abs(mean)) if names[j] != "horizon"][:top]
        values = rows[:, i, :].mean(axis=0)
        out[code] = {
            "level": float(np.expm1(_base(rows[0, i, : len(NAMES)]))),
            "expected_change": float(expected[0]),
            "features": [
                [names[j], None if np.isnan(values[j]) else float(values[j]), float(mean[j])] for j in order
            ],
        }
    return out


def summary(fc: Forecast, months: int = 3) -> list[dict[str, Any]]:
    """Per country, over the next ``months`` months: the probability of a month with >= 25
    battle deaths (the share of draws, averaged over the months), and the median and 90%
    interval of monthly deaths. Highest risk first."""
    window = fc.draws[:, :months, :]
    p = np.mean(window >= ONSET, axis=(1, 2))
    flat = window.reshape(len(fc.countries), -1)
    low, median, high = np.quantile(flat, [0.05, 0.5, 0.95], axis=1)
    rows = [
        {
            "country_id": int(c),
            "iso3": iso,
            "p25": float(p[i]),
            "median": float(median[i]),
            "low": float(low[i]),
            "high": float(high[i]),
        }
        for i, (c, iso) in enumerate(zip(fc.countries, fc.iso3, strict=True))
    ]
    return sorted(rows, key=lambda r: (-r["p25"], -r["median"], r["iso3"] or ""))


def save(fc: Forecast, folder: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    n, h, k = fc.draws.shape
    stamp = fc.meta["made_at"].replace(":", "").replace("-", "")[:15]
    path = folder / f"{stamp}_{fc.model}_{fc.meta['cutoff']}.parquet"
    table = pa.table(
        {
            "month_id": np.repeat(np.tile(np.array(fc.months), n), k).astype(np.int64),
            "country_id": np.repeat(fc.countries, h * k).astype(np.int64),
            "draw": np.tile(np.arange(k), n * h).astype(np.int64),
            "outcome": fc.draws.reshape(-1).astype(np.float64),
        }
    )
    meta = {**fc.meta, "iso3": {str(int(c)): i for c, i in zip(fc.countries, fc.iso3, strict=True)}}
    table = table.replace_schema_metadata({"detente": json.dumps(meta)})
    pq.write_table(table, path)
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1))
    return path


def latest(folder: Path) -> Path | None:
    found = sorted(folder.glob("*.parquet")) if folder.exists() else []
    return found[-1] if found else None


def load_forecast(path: Path) -> Forecast:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    raw = (table.schema.metadata or {}).get(b"detente")
    if raw is None:
        raise ValidationError(f"{path}: not a forecast saved by detente (no metadata)")
    meta = json.loads(raw)
    k, h = int(meta["draws"]), int(meta["horizons"])
    countries = np.array(sorted({int(c) for c in table.column("country_id").to_pylist()}))
    draws = table.column("outcome").to_numpy().reshape(len(countries), h, k)
    iso = [meta["iso3"].get(str(int(c))) for c in countries]
    return Forecast(int(meta["cutoff_month_id"]), meta["model"], countries, iso, draws, meta)
