"""Country-month conflict histories from the context lake, with a strict cutoff.

The outcome is UCDP state-based fatalities per country-month in ViEWS' ids
(``month_id`` 121 = January 1990; ViEWS ``country_id``), read from the lake's ``views``
table: the challenge's ``ged_sb`` where the loaded files have it (features and actuals),
else ``ged_best_sb`` (UCDP's GED country-month file). Everything a model sees comes from
``history(lake, cutoff)``, whose SQL keeps only months up to the cutoff: a forecast made at
month T cannot read any value dated after T.

The challenge protocol for a window Y: data to October of Y-1 (the cutoff), forecasts for
the fourteen months November Y-1 to December Y (horizons 1-14), scored on January to
December of Y for the countries the actuals cover.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detente.core.errors import ValidationError
from detente.sources.lake import Lake
from detente.sources.views import month_id, month_of

__all__ = ["History", "Window", "history", "truth"]

HORIZONS = 14


@dataclass(frozen=True)
class Window:
    """The challenge window for ``year``."""

    year: int

    @property
    def cutoff(self) -> int:
        return month_id(self.year - 1, 10)

    @property
    def forecast_months(self) -> list[int]:
        return list(range(self.cutoff + 1, self.cutoff + HORIZONS + 1))

    @property
    def scored_months(self) -> list[int]:
        return list(range(month_id(self.year, 1), month_id(self.year, 12) + 1))


@dataclass
class History:
    """Outcomes up to ``cutoff``: ``values[country, month]`` (NaN where not observed)."""

    countries: np.ndarray  # ViEWS country_id
    iso3: list[str | None]
    months: np.ndarray  # month_id, ascending, the last is the cutoff
    values: np.ndarray

    @property
    def cutoff(self) -> int:
        return int(self.months[-1])

    def last(self, n: int) -> np.ndarray:
        return self.values[:, -n:]

    def subset(self, countries: np.ndarray) -> History:
        index = {c: i for i, c in enumerate(self.countries.tolist())}
        rows = [index.get(c, -1) for c in countries.tolist()]
        values = np.full((len(countries), len(self.months)), np.nan)
        for out, row in enumerate(rows):
            if row >= 0:
                values[out] = self.values[row]
        iso = [self.iso3[r] if r >= 0 else None for r in rows]
        return History(countries, iso, self.months, values)


def _outcome(lake: Lake) -> str:
    if not lake.has("views"):
        raise ValidationError(
            "no country-month data in the lake: `detente sources load views FILE...` "
            "(ViEWS features/actuals, or UCDP's GED country-month file with its country table)"
        )
    columns = {r[0] for r in lake.db.execute("SELECT column_name FROM (DESCRIBE views)").fetchall()}
    present = [c for c in ("ged_sb", "ged_best_sb") if c in columns]
    if not present:
        raise ValidationError("the lake's views table has no ged_sb or ged_best_sb column")
    return f"coalesce({', '.join(present)})" if len(present) > 1 else present[0]


def _matrix(lake: Lake, where: str) -> tuple[np.ndarray, list[str | None], np.ndarray, np.ndarray]:
    rows = lake.db.execute(
        f"SELECT country_id, any_value(iso3), month_id, max({_outcome(lake)}) FROM views WHERE {where} "
        "GROUP BY country_id, month_id ORDER BY country_id, month_id"
    ).fetchall()
    countries = np.array(sorted({r[0] for r in rows}), dtype=int)
    months = np.array(sorted({r[2] for r in rows}), dtype=int)
    ci = {c: i for i, c in enumerate(countries.tolist())}
    mi = {m: i for i, m in enumerate(months.tolist())}
    values = np.full((len(countries), len(months)), np.nan)
    iso: list[str | None] = [None] * len(countries)
    for c, i3, m, v in rows:
        if v is not None:
            values[ci[c], mi[m]] = float(v)
        iso[ci[c]] = iso[ci[c]] or i3
    return countries, iso, months, values


def history(lake: Lake, cutoff: int, first: int = 1) -> History:
    """Outcomes from month ``first`` up to and including ``cutoff``: nothing later is read."""
    countries, iso, months, values = _matrix(lake, f"month_id BETWEEN {int(first)} AND {int(cutoff)}")
    if not len(months) or months[-1] != cutoff:
        y, m = month_of(cutoff)
        raise ValidationError(f"the lake has no country-month outcomes for {y}-{m:02d} (month_id {cutoff})")
    return History(countries, iso, months, values)


def truth(lake: Lake, window: Window) -> History:
    """The scored months' outcomes, for the countries observed in all of them."""
    months = window.scored_months
    countries, iso, got, values = _matrix(lake, f"month_id BETWEEN {months[0]} AND {months[-1]}")
    if len(got) != len(months):
        raise ValidationError(
            f"window {window.year}: the lake has outcomes for {len(got)} of its 12 months; "
            f"load the actuals (e.g. cm_actuals_{window.year}.parquet)"
        )
    complete = ~np.isnan(values).any(axis=1)
    return History(
        countries[complete], [i for i, k in zip(iso, complete, strict=True) if k], got, values[complete]
    )
