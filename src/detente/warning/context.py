"""Country-month context from the rest of the lake, for the forecasting models, under the
same strict cutoff as the outcomes: nothing dated after the cutoff month is read.

* ``arms_imports``: log1p of the trend-indicator value (TIV, millions) of the arms the
  country ordered in the previous calendar year (SIPRI). A year's register is complete at
  its end, so a month of year Y sees year Y-1; 0 inside the register's years, missing
  outside.
* ``un_ideal_point``: the country's UN General Assembly ideal point (Bailey, Strezhnev &
  Voeten) in the previous year; missing where it has none.
* ``event_conflict``: log1p of the month's material-conflict events (CAMEO quad class 4)
  with the country as source or target, in months the loaded event data covers (at least
  100 events in all, as for the cooperation index); missing in months not covered.

Each is missing (NaN) when its source is not loaded: the boosted model treats missing as
its own branch, so it runs on whatever the lake holds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from detente.sources.lake import Lake
from detente.sources.views import month_of

__all__ = ["CONTEXT", "context"]

CONTEXT = ("arms_imports", "un_ideal_point", "event_conflict")


def _yearly(sql: str, months: np.ndarray) -> str:
    """Rows (iso3, month_id, value) spreading a yearly value of year Y over the months of Y+1."""
    return f"""
        SELECT y.iso3, m.month_id, y.value FROM ({sql}) y
        JOIN (SELECT range AS month_id FROM range({int(months[0])}, {int(months[-1]) + 1})) m
          ON 1980 + (m.month_id - 1) // 12 = y.year + 1
    """


def _queries(lake: Lake, iso3: Sequence[str | None], cutoff: int, months: np.ndarray) -> dict[str, str]:
    from detente.relations.index import MIN_EVENTS

    year, month = month_of(cutoff)
    queries: dict[str, str] = {}
    sipri = lake.current("sipri")
    if sipri is not None and sipri.first_year is not None:
        last = min(sipri.last_year or year - 1, year - 1)  # a year is usable after it ends
        codes = sorted({c for c in iso3 if c})
        queries["arms_imports"] = _yearly(
            f"""SELECT i.iso3, r.range AS year, ln(1 + coalesce(sum(s.tiv_total), 0)) AS value
                FROM (SELECT unnest({codes}) AS iso3) i CROSS JOIN range({sipri.first_year}, {last + 1}) r
                LEFT JOIN sipri s ON s.recipient_iso3 = i.iso3 AND s.order_year = r.range
                GROUP BY i.iso3, r.range""",
            months,
        )
    if lake.current("unga_ideal") is not None:
        queries["un_ideal_point"] = _yearly(
            f"""SELECT iso3, year, avg(ideal_point) AS value FROM unga_ideal
                WHERE iso3 IS NOT NULL AND year <= {year - 1} GROUP BY ALL""",
            months,
        )
    if lake.has("events"):
        dated = f"(year < {year} OR (year = {year} AND month <= {month}))"
        queries["event_conflict"] = f"""
            WITH covered AS (
                SELECT (year - 1980) * 12 + month AS month_id FROM events
                WHERE year IS NOT NULL AND {dated} GROUP BY ALL HAVING count(*) >= {MIN_EVENTS}
            ), sides AS (
                SELECT source_country AS iso3, (year - 1980) * 12 + month AS month_id FROM events
                WHERE quad_class = 4 AND {dated} AND source_country IS NOT NULL
                UNION ALL
                SELECT target_country, (year - 1980) * 12 + month FROM events
                WHERE quad_class = 4 AND {dated} AND target_country IS NOT NULL
                  AND target_country IS DISTINCT FROM source_country
            ), counted AS (SELECT iso3, month_id, count(*) AS n FROM sides GROUP BY ALL)
            SELECT i.iso3, c.month_id, ln(1 + coalesce(n.n, 0)) AS value
            FROM covered c CROSS JOIN (SELECT DISTINCT iso3 FROM counted) i
            LEFT JOIN counted n ON n.iso3 = i.iso3 AND n.month_id = c.month_id
        """
    return queries


def context(lake: Lake, iso3: Sequence[str | None], months: np.ndarray, cutoff: int) -> dict[str, np.ndarray]:
    """Matrices [country, month] (NaN where missing) for each context feature whose source
    is loaded; months after ``cutoff`` are never filled."""
    index = {code: i for i, code in enumerate(iso3) if code}
    position = {int(m): j for j, m in enumerate(months.tolist())}
    out: dict[str, np.ndarray] = {}
    for name, sql in _queries(lake, iso3, cutoff, months).items():
        matrix = np.full((len(iso3), len(months)), np.nan)
        for code, m, value in lake.db.execute(
            f"SELECT iso3, month_id, value FROM ({sql}) WHERE month_id <= {int(cutoff)}"
        ).fetchall():
            i, j = index.get(code), position.get(int(m))
            if i is not None and j is not None and value is not None:
                matrix[i, j] = float(value)
        out[name] = matrix
    return out
