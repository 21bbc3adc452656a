"""Alignment in the UN General Assembly: vote agreement and ideal-point distance per
dyad-year, their trend, and change-point flags.

* **Vote agreement** of A and B in a year: the share of the year's roll calls on which both
  voted (yes, no or abstain; absence is not a vote) and voted the same way. The votes in
  common are reported with it: a share over a handful of votes means little.
* **Ideal-point distance** |a - b| (Bailey, Strezhnev & Voeten's one-dimensional ideal
  points, from ``unga_ideal``): 0 is identical positions; missing when either has none.
* **Trend**: the least-squares slope of agreement per decade over the last ten years.
* **Change points**: a year is flagged when its step from the year before is unusual for
  the series (more than three robust standard deviations, 1.4826 x the median absolute
  deviation of the year-to-year changes, from their median) and its value stands at least
  0.1 in agreement (0.5 in distance) away from the median of the five years before; in
  words: "alignment with RUS fell sharply in 2014 (vote agreement 0.55 against 0.71 in
  2009-2013)". At least three earlier years are needed to judge, and agreement shares
  over fewer than 10 roll calls in common are not judged.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass
from typing import Any

from detente.core.errors import ValidationError
from detente.sources.lake import Lake

__all__ = ["Flag", "alignment", "change_points", "pair_agreement_sql", "trend"]

FLOORS = {"agreement": 0.1, "distance": 0.5}
MIN_VOTES = 10  # fewer roll calls in common: no agreement share is judged
LOOKBACK = 5
MIN_HISTORY = 3
THRESHOLD = 3.0


def _quote(code: str) -> str:
    if not code.isalnum():
        raise ValidationError(f"{code!r} is not a country code", field="country")
    return code.upper()


def pair_agreement_sql(country: str | None = None, first: int | None = None, last: int | None = None) -> str:
    """Per unordered ISO3 pair (``lo`` < ``hi``) and year: ``votes_common`` and
    ``vote_agreement`` (``country`` limits it to that country's pairs)."""
    years = []
    if first is not None:
        years.append(f"year >= {int(first)}")
    if last is not None:
        years.append(f"year <= {int(last)}")
    where = ("WHERE " + " AND ".join(years)) if years else ""
    mine = f"AND '{_quote(country)}' IN (a.iso3, b.iso3)" if country else ""
    return f"""
        WITH v AS (SELECT rcid, year, iso3, vote FROM unga_votes {where})
        SELECT a.iso3 AS lo, b.iso3 AS hi, a.year,
               count(*) AS votes_common,
               avg(CASE WHEN a.vote = b.vote THEN 1.0 ELSE 0.0 END) AS vote_agreement
        FROM v a JOIN v b ON a.rcid = b.rcid AND a.iso3 < b.iso3 {mine}
        GROUP BY ALL
    """


def alignment(
    lake: Lake, country: str, first: int | None = None, last: int | None = None, partner: str | None = None
) -> list[dict[str, Any]]:
    """For ``country`` (ISO3) and each partner (or one ``partner``) and year: the votes in
    common, vote agreement, and ideal-point distance, ordered by partner and year."""
    country = _quote(country)
    have_votes, have_points = lake.has("unga_votes"), lake.has("unga_ideal")
    if not have_votes and not have_points:
        raise ValidationError(
            "no UN General Assembly data in the lake: `detente sources load unga_votes FILE...` "
            "or `detente sources load unga_ideal FILE`"
        )
    years = []
    if first is not None:
        years.append(f"year >= {int(first)}")
    if last is not None:
        years.append(f"year <= {int(last)}")
    year_filter = " AND ".join(years) or "TRUE"
    votes = (
        f"""SELECT CASE WHEN lo = '{country}' THEN hi ELSE lo END AS partner, year, votes_common,
                   vote_agreement FROM ({pair_agreement_sql(country, first, last)})"""
        if have_votes
        else "SELECT NULL::VARCHAR AS partner, NULL::BIGINT AS year, NULL::BIGINT AS votes_common, "
        "NULL::DOUBLE AS vote_agreement WHERE FALSE"
    )
    points = (
        f"""SELECT b.iso3 AS partner, a.year, abs(a.ideal - b.ideal) AS ideal_distance
            FROM (SELECT iso3, year, avg(ideal_point) AS ideal FROM unga_ideal GROUP BY ALL) a
            JOIN (SELECT iso3, year, avg(ideal_point) AS ideal FROM unga_ideal GROUP BY ALL) b
              ON a.year = b.year AND a.iso3 = '{country}' AND b.iso3 <> a.iso3 AND b.iso3 IS NOT NULL
            WHERE {year_filter.replace("year", "a.year")}"""
        if have_points
        else "SELECT NULL::VARCHAR AS partner, NULL::BIGINT AS year, NULL::DOUBLE AS ideal_distance "
        "WHERE FALSE"
    )
    chosen = f"WHERE partner = '{_quote(partner)}'" if partner else ""
    sql = f"""
        SELECT partner, year::INTEGER AS year, v.votes_common, v.vote_agreement, p.ideal_distance
        FROM ({votes}) v FULL OUTER JOIN ({points}) p USING (partner, year)
        {chosen}
        ORDER BY partner, year
    """
    cursor = lake.db.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def trend(series: list[tuple[int, float | None]], years: int = 10) -> float | None:
    """Least-squares slope per decade over the last ``years`` years with a value."""
    points = [(y, v) for y, v in series if v is not None][-years:]
    if len(points) < 3:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    return 10 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


@dataclass(frozen=True)
class Flag:
    partner: str
    measure: str  # "agreement" or "distance"
    year: int
    value: float
    baseline: float
    since: tuple[int, int]
    rose: bool  # alignment rose (agreement up or distance down)

    @property
    def text(self) -> str:
        word = "rose" if self.rose else "fell"
        label = "vote agreement" if self.measure == "agreement" else "ideal-point distance"
        return (
            f"alignment with {self.partner} {word} sharply in {self.year} ({label} {self.value:.2f} against "
            f"{self.baseline:.2f} in {self.since[0]}-{self.since[1]})"
        )


def change_points(partner: str, measure: str, series: list[tuple[int, float | None]]) -> list[Flag]:
    """Years where ``series`` (year, value) breaks from its recent past (see the module)."""
    if measure not in FLOORS:
        raise ValueError(measure)
    points = [(y, v) for y, v in sorted(series) if v is not None]
    if len(points) < MIN_HISTORY + 1:
        return []
    changes = [b[1] - a[1] for a, b in itertools.pairwise(points)]
    centre = statistics.median(changes)
    scale = 1.4826 * statistics.median(abs(c - centre) for c in changes)
    flags = []
    for i in range(MIN_HISTORY, len(points)):
        year, value = points[i]
        before = points[max(0, i - LOOKBACK) : i]
        baseline = statistics.median(v for _, v in before)
        step = value - points[i - 1][1]
        # a break, not the continuation of a trend: this year's step is unusual for the
        # series, and the value is well away from where the last five years stood
        if abs(step - centre) > THRESHOLD * scale and abs(value - baseline) >= FLOORS[measure]:
            change = value - baseline
            rose = change > 0 if measure == "agreement" else change < 0
            flags.append(Flag(partner, measure, year, value, baseline, (before[0][0], before[-1][0]), rose))
    return flags


def flags_for(rows: list[dict[str, Any]]) -> list[Flag]:
    """Change-point flags for every partner in ``alignment`` rows, newest first."""
    by_partner: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_partner.setdefault(r["partner"], []).append(r)
    out: list[Flag] = []
    for partner, items in by_partner.items():
        agreement = [(r["year"], r["vote_agreement"]) for r in items if (r["votes_common"] or 0) >= MIN_VOTES]
        out += change_points(partner, "agreement", agreement)
        out += change_points(partner, "distance", [(r["year"], r["ideal_distance"]) for r in items])
    return sorted(out, key=lambda f: (-f.year, f.partner, f.measure))
