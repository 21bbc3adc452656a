"""Operational forecasts, up to 36 months ahead, saved with the model and its inputs'
provenance so a forecast can be reproduced and audited.

The user steers two things, and both are recorded:

* the **cutoff**: a month given as ``YYYY-MM`` (nothing after it is read), or by default the
  latest month with outcomes for at least 100 countries;
* the **countries**: ISO 3166 alpha-3 codes or ViEWS country ids. Every one must have an
  outcome in the cutoff month, or the forecast is refused naming those that do not: a
  forecast never quietly covers fewer or other countries because of which files are
  loaded. Without a list, every country with an outcome in the cutoff month. The models
  learn from every country the lake holds at the cutoff either way, so a country's
  forecast does not depend on which others are asked for.

A forecast is saved in the workspace's ``forecasts/`` folder as Parquet in the challenge's
layout (``month_id``, ``country_id``, ``draw``, ``outcome``) with the model, its parameters,
the seed, the detente version and the provenance of every lake source it read (files,
their sha256 digest, version, rows) in the file's metadata and in a JSON file beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from detente import __version__
from detente.core.errors import ValidationError
from detente.sources.lake import Lake
from detente.sources.views import month_of
from detente.warning.catalog import DEFAULT, MODELS
from detente.warning.data import History, history, label, outcome_sql
from detente.warning.features import NAMES
from detente.warning.intervals import Intervals
from detente.warning.models import run_model
from detente.warning.scoring import bounds

__all__ = ["Forecast", "bands", "forecast", "latest", "load_forecast", "save", "summary"]

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
    def intervals(self) -> Intervals | None:
        """The levels of the draws shown as the 50% and 90% intervals, learned on the folds
        before the cutoff (None: the draws' own central intervals)."""
        found = self.meta.get("intervals")
        return Intervals.from_meta(found) if found else None

    def interval(self, c: float) -> tuple[np.ndarray, np.ndarray]:
        """The (low, high) ends of the ``c`` interval shown, [country, horizon]: the draws'
        central interval at the level learned for ``c`` (``intervals``)."""
        learned = self.intervals
        if learned is not None and c in learned.levels:
            return learned.bounds(self.draws, c)
        return bounds(self.draws, c)

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


CONTEXT_SOURCES = ("views", "sipri", "unga_ideal", "gdelt", "icews")  # what ``history`` reads


def inputs(lake: Lake) -> dict[str, Any]:
    """The provenance of every lake source a forecast reads: files, their digest, version."""
    out: dict[str, Any] = {}
    for name in CONTEXT_SOURCES:
        p = lake.current(name)
        if p is not None:
            out[name] = {
                "version": p.version,
                "files": p.files,
                "sha256": p.sha256,
                "rows": p.rows,
                "loaded_at": p.loaded_at.isoformat(),
            }
    return out


def pick(past: History, countries: list[str] | None) -> np.ndarray:
    """Row mask of ``past`` for the countries asked for (ISO3 codes or ViEWS ids), each
    of which must have an outcome in the cutoff month; every observed one without a list."""
    observed = ~np.isnan(past.values[:, -1])
    if countries is None:
        return observed
    by_iso = {code: i for i, code in enumerate(past.iso3) if code}
    by_id = {int(c): i for i, c in enumerate(past.countries.tolist())}
    rows, unknown, silent = [], [], []
    for item in countries:
        text = item.strip()
        row = by_id.get(int(text)) if text.isdigit() else by_iso.get(text.upper())
        if row is None:
            unknown.append(text)
        elif not observed[row]:
            silent.append(text)
        else:
            rows.append(row)
    cutoff = label(past.cutoff)
    if unknown:
        raise ValidationError(
            f"not in the lake's country-month data up to {cutoff}: {', '.join(unknown)}", field="countries"
        )
    if silent:
        raise ValidationError(
            f"no outcome in the cutoff month {cutoff} for: {', '.join(silent)}; choose an earlier "
            "cutoff or leave them out",
            field="countries",
        )
    keep = np.zeros(len(past.countries), dtype=bool)
    keep[rows] = True
    return keep


def forecast(
    lake: Lake,
    model: str = DEFAULT,
    *,
    horizons: int = 36,
    k: int = 1000,
    seed: int = 2024,
    cutoff: int | None = None,
    countries: list[str] | None = None,
) -> Forecast:
    if model not in MODELS:
        raise ValidationError(f"unknown model {model!r}; one of {', '.join(MODELS)}", field="model")
    if not 1 <= horizons <= 36:
        raise ValidationError("horizons: 1 to 36 months", field="horizons")
    chosen = _latest_cutoff(lake) if cutoff is None else cutoff
    past = history(lake, chosen)
    keep = pick(past, countries)
    pool = past.rows(~np.isnan(past.values[:, -1]))
    done = run_model(MODELS[model], pool, horizons, k, np.random.default_rng(seed))
    rows = np.isin(pool.countries, past.countries[keep])
    out = pool.rows(rows)
    params = {**done.params, "choice": done.choice}
    drivers = _drivers(done.fitted, pool.iso3) if done.fitted is not None else {}
    year, month = month_of(chosen)
    meta = {
        "model": model,
        "params": params,
        "seed": seed,
        "draws": k,
        "horizons": horizons,
        "cutoff_month_id": chosen,
        "cutoff": f"{year}-{month:02d}",
        "cutoff_given": cutoff is not None,
        "countries_given": countries is not None,
        "countries": [str(c) for c in countries] if countries is not None else None,
        "drivers": {c: v for c, v in drivers.items() if c in set(out.iso3)},
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "detente_version": __version__,
        "inputs": inputs(lake),
    }
    if done.intervals is not None:
        meta["intervals"] = done.intervals.rows(rows).meta()
    return Forecast(chosen, model, out.countries, out.iso3, done.draws[rows], meta)


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
    interval of monthly deaths (the draws of the months together, read at the level learned
    for the first month's 90% interval). Highest risk first."""
    window = fc.draws[:, :months, :]
    p = np.mean(window >= ONSET, axis=(1, 2))
    flat = window.reshape(len(fc.countries), -1)
    learned = fc.intervals
    level = learned.level(0.9, 1)[:, 0] if learned is not None and 0.9 in learned.levels else 0.9
    low, high = bounds(flat, level)
    median = np.median(flat, axis=1)
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


def bands(fc: Forecast, row: int) -> list[dict[str, Any]]:
    """The fan chart of country ``row``: per month, the median and the ends of the 50% and
    90% intervals shown (the levels learned for them, as ``Forecast.interval``) as q25/q75
    and q05/q95."""
    learned, horizons = fc.intervals, fc.draws.shape[1]
    ends = {}
    for c in (0.5, 0.9):
        level = learned.level(c, horizons)[row] if learned is not None and c in learned.levels else c
        ends[c] = bounds(fc.draws[row], level)
    median = np.median(fc.draws[row], axis=-1)
    columns = {
        "q05": ends[0.9][0], "q25": ends[0.5][0], "q50": median, "q75": ends[0.5][1], "q95": ends[0.9][1]
    }  # fmt: skip
    return [
        {"month": label(m), **{name: float(v[h]) for name, v in columns.items()}}
        for h, m in enumerate(fc.months)
    ]


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
