"""The military cooperation index: one number per pair of countries and month, with its parts.

For an unordered pair {A, B} and a month m (``mi`` = year x 12 + month - 1):

* **events** (the lake's ``events``: GDELT, ICEWS, both directions, A and B both coded):
  ``events_total`` N_m, all events between them; ``mil_events`` and ``mil_goldstein`` G_m,
  the count and the Goldstein-weighted sum of military-cooperation events, CAMEO codes

  - 0312 express intent to cooperate militarily (Goldstein 5.2)
  - 062 cooperate militarily (7.4)
  - 064 share intelligence or information (7.0)
  - 072 provide military aid (8.3)
  - 074 provide military protection or peacekeeping (8.5)

  (and their sub-codes), each also counted on its own (``mil_0312`` ...); and, beside the
  index, the pair's conflict events: ``verbal_conflict`` (CAMEO quad class 3, roots 09-13)
  and ``material_conflict`` (quad class 4, roots 14-20).
* **registry** (only the records the requesting principal may read): ``engagements``, the
  executed or assessed engagements that started in m with a participant of A and one of B
  (lead actor or partner, by the actor's country); ``agreements``, the agreements in force
  during m with a party of A and one of B. Each engagement weighs like a "cooperate
  militarily" event (7.4), each agreement in force like an "intent to cooperate
  militarily" statement (5.2) every month it is in force; each counts once in the volume.

Then
    X_m = G_m + 7.4 x engagements_m + 5.2 x agreements_m          (``numerator``)
    V_m = N_m + engagements_m + agreements_m                       (``volume``)
    S^X_m = sum_{j=0..11} lambda^j X_{m-j},  S^V_m likewise,  lambda = 2^(-1/3)
            (exponential smoothing with a three-month half-life over a year)
    index_m = 100 x S^X_m / (10 x (S^V_m + 5))

so the index is the Goldstein-weighted share of the pair's recent interaction that is
military cooperation, on 0-100 (10 is the top of the Goldstein scale), shrunk towards 0
when there is little interaction (the 5 is a prior of five neutral observations: a single
"cooperate militarily" event gives 12.3, not 74). The yearly index used in dyad-year
panels applies the same formula to the year's sums, without smoothing.

Missing versus zero: a month is covered by the events when the lake holds at least 100
events dated in it (all pairs together); outside covered months the event parts are NULL,
inside them a pair without events has 0. Event files may still be subsets (e.g. GDELT
events located in one country): the lake's provenance says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa

from detente.core.errors import ValidationError
from detente.sources.lake import Lake

__all__ = [
    "AGREEMENT_WEIGHT",
    "ENGAGEMENT_WEIGHT",
    "MILITARY_CODES",
    "RegistryActivity",
    "covered_months_sql",
    "covered_years_sql",
    "dyad_months",
    "dyad_year_sql",
    "explain",
    "latest_events_year",
    "registry_activity",
]

MILITARY_CODES = {
    "0312": "express intent to cooperate militarily",
    "062": "cooperate militarily",
    "064": "share intelligence or information",
    "072": "provide military aid",
    "074": "provide military protection or peacekeeping",
}
ENGAGEMENT_WEIGHT = 7.4  # Goldstein value of CAMEO 062, "cooperate militarily"
AGREEMENT_WEIGHT = 5.2  # Goldstein value of CAMEO 0312, "express intent to cooperate militarily"
HALF_LIFE = 3  # months
WINDOW = 12  # months of history in the smoothing
PRIOR = 5.0  # neutral observations added to the volume
COUNTED_STATUSES = ("executed", "assessed")

PARTS = (
    "events_total",
    "mil_events",
    "mil_goldstein",
    *(f"mil_{c}" for c in MILITARY_CODES),
    "verbal_conflict",
    "material_conflict",
    "engagements",
    "agreements",
)


def _mil_match(column: str = "cameo_code") -> str:
    return "(" + " OR ".join(f"{column} LIKE '{c}%'" for c in MILITARY_CODES) + ")"


MIN_EVENTS = 100  # a month with fewer events loaded in all counts as not covered


def covered_months_sql(lake: Lake) -> str:
    """Month indices the loaded event data covers: those with at least ``MIN_EVENTS``
    events in all (a scattered sample of a few events a month is not a record of that
    month's relations, so its quiet pairs are missing, not 0)."""
    if not lake.has("events"):
        return "SELECT NULL::INTEGER AS mi WHERE FALSE"
    return f"""
        SELECT (year * 12 + month - 1)::INTEGER AS mi FROM events
        WHERE year IS NOT NULL GROUP BY ALL HAVING count(*) >= {MIN_EVENTS}
    """


def event_month_sql(lake: Lake, first_mi: int, last_mi: int, country: str | None = None) -> str:
    """Per unordered ISO3 pair (``lo`` < ``hi``) and month index: the event parts."""
    if not lake.has("events"):
        return (
            "SELECT NULL::VARCHAR AS lo, NULL::VARCHAR AS hi, NULL::INTEGER AS mi, "
            + ", ".join(f"0::DOUBLE AS {p}" for p in PARTS[:-2])
            + " WHERE FALSE"
        )
    by_code = ", ".join(
        f"count(*) FILTER (WHERE cameo_code LIKE '{c}%')::DOUBLE AS mil_{c}" for c in MILITARY_CODES
    )
    mine = f"AND '{country}' IN (source_country, target_country)" if country else ""
    return f"""
        SELECT least(source_country, target_country) AS lo, greatest(source_country, target_country) AS hi,
               (year * 12 + month - 1)::INTEGER AS mi,
               count(*)::DOUBLE AS events_total,
               count(*) FILTER (WHERE {_mil_match()})::DOUBLE AS mil_events,
               coalesce(sum(goldstein) FILTER (WHERE {_mil_match()}), 0)::DOUBLE AS mil_goldstein,
               {by_code},
               count(*) FILTER (WHERE quad_class = 3)::DOUBLE AS verbal_conflict,
               count(*) FILTER (WHERE quad_class = 4)::DOUBLE AS material_conflict
        FROM events
        WHERE source_country IS NOT NULL AND target_country IS NOT NULL
          AND source_country <> target_country
          AND year * 12 + month - 1 BETWEEN {first_mi} AND {last_mi} {mine}
        GROUP BY ALL
    """


# ------------------------------------------------------------------ registry side
@dataclass
class RegistryActivity:
    """What the registry adds, for one principal: per pair and month, engagements and
    agreements in force, and the records used (their markings mark the result)."""

    rows: list[tuple[str, str, int, int, int]] = field(default_factory=list)  # lo, hi, mi, eng, agr
    records: list[Any] = field(default_factory=list)

    def table(self) -> pa.Table:
        cols: list[Any] = list(zip(*self.rows, strict=True)) if self.rows else [[], [], [], [], []]
        return pa.table(
            {
                "lo": pa.array(cols[0], pa.string()),
                "hi": pa.array(cols[1], pa.string()),
                "mi": pa.array(cols[2], pa.int32()),
                "engagements": pa.array(cols[3], pa.float64()),
                "agreements": pa.array(cols[4], pa.float64()),
            }
        )


def _mi(d: date) -> int:
    return d.year * 12 + d.month - 1


def _pairs(countries: Iterable[str | None]) -> list[tuple[str, str]]:
    distinct = sorted({c for c in countries if c})
    return [(a, b) for i, a in enumerate(distinct) for b in distinct[i + 1 :]]


def registry_activity(reg: Any, first: date, last: date, country: str | None = None) -> RegistryActivity:
    """Engagements (executed or assessed) and agreements in force between countries, as
    the principal behind ``reg`` (a ``Store``) may see them: a record it cannot read,
    or a participant it cannot read, adds nothing."""
    from collections import Counter

    from detente.registry.rules import force_span
    from detente.store.service import ListQuery

    countries = {a.id: a.country for a in reg.list("actors", ListQuery(limit=None))}
    first_mi, last_mi = _mi(first), _mi(last)
    counts: Counter[tuple[str, str, int, str]] = Counter()
    used: list[Any] = []
    window = ListQuery(filters={"status": list(COUNTED_STATUSES)}, date_from=first, date_to=last, limit=None)
    for e in reg.list("engagements", window):
        pairs = _pairs(countries.get(a) for a in [e.lead_actor_id, *e.partners])
        pairs = [p for p in pairs if country is None or country in p]
        if pairs:
            used.append(e)
        for lo, hi in pairs:
            counts[(lo, hi, _mi(e.start_date), "e")] += 1
    for a in reg.list("agreements", ListQuery(limit=None)):
        span = force_span(a)  # the registry's one rule of when an agreement is in force
        if span is None:
            continue
        start, end = span
        stop = min(_mi(end), last_mi) if end else last_mi
        pairs = _pairs(countries.get(p) for p in a.parties)
        pairs = [p for p in pairs if country is None or country in p]
        months = range(max(_mi(start), first_mi), stop + 1)
        if pairs and len(months):
            used.append(a)
        for lo, hi in pairs:
            for m in months:
                counts[(lo, hi, m, "a")] += 1
    keys = sorted({(lo, hi, m) for lo, hi, m, _ in counts})
    rows = [(lo, hi, m, counts[(lo, hi, m, "e")], counts[(lo, hi, m, "a")]) for lo, hi, m in keys]
    return RegistryActivity(rows, used)


# ------------------------------------------------------------------ the index
def _lag_weights() -> str:
    lam = 0.5 ** (1 / HALF_LIFE)
    return " UNION ALL ".join(f"SELECT {j} AS lag, {lam**j!r} AS w" for j in range(WINDOW))


def dyad_months(
    lake: Lake,
    first: date,
    last: date,
    *,
    country: str | None = None,
    partner: str | None = None,
    registry: RegistryActivity | None = None,
) -> pa.Table:
    """The index and its parts per unordered pair (``iso3_1`` < ``iso3_2``) and month from
    ``first`` to ``last``, for every pair with any event or registry record in the window
    (or only pairs with ``country``, or only the pair ``country``-``partner``)."""
    if first > last:
        raise ValidationError(f"{first} is after {last}")
    first_mi, last_mi = _mi(first), _mi(last)
    registry = registry or RegistryActivity()
    db = lake.db.cursor()
    try:
        db.register("registry_activity", registry.table())
        events = event_month_sql(lake, first_mi - WINDOW + 1, last_mi, country)
        registry_cols = ", ".join(f"0::DOUBLE AS {p}" for p in PARTS[:-2])
        base = f"""
            SELECT lo, hi, mi, {", ".join(f"sum({p}) AS {p}" for p in PARTS)}
            FROM (
                SELECT *, 0::DOUBLE AS engagements, 0::DOUBLE AS agreements FROM ({events})
                UNION ALL
                SELECT lo, hi, mi, {registry_cols}, engagements, agreements FROM registry_activity
                WHERE mi BETWEEN {first_mi - WINDOW + 1} AND {last_mi}
            ) GROUP BY ALL
        """
        where = []
        if country:
            where.append(f"'{country}' IN (lo, hi)")
        if country and partner:
            lo, hi = sorted((country, partner))
            where.append(f"lo = '{lo}' AND hi = '{hi}'")
        filtered = f"SELECT * FROM base {'WHERE ' + ' AND '.join(where) if where else ''}"
        pairs = "SELECT DISTINCT lo, hi FROM chosen"
        if country and partner:  # the pair asked for, with or without activity
            pairs = f"SELECT '{lo}' AS lo, '{hi}' AS hi"
        value = f"b.mil_goldstein + {ENGAGEMENT_WEIGHT} * b.engagements + {AGREEMENT_WEIGHT} * b.agreements"
        volume = "b.events_total + b.engagements + b.agreements"
        covered = "c.mi IS NOT NULL"
        event_parts = ", ".join(f"CASE WHEN {covered} THEN coalesce(n.{p}, 0) END AS {p}" for p in PARTS[:-2])
        sql = f"""
            WITH base AS ({base}), chosen AS ({filtered}),
            pairs AS ({pairs}),
            months AS (SELECT range::INTEGER AS mi FROM range({first_mi}, {last_mi + 1})),
            grid AS (SELECT p.lo, p.hi, m.mi, (m.mi // 12)::INTEGER AS year, (m.mi % 12 + 1)::INTEGER AS month
                     FROM pairs p, months m),
            lags AS ({_lag_weights()}),
            smooth AS (
                SELECT g.lo, g.hi, g.mi,
                       sum(l.w * ({value})) AS smoothed_numerator,
                       sum(l.w * ({volume})) AS smoothed_volume
                FROM grid g CROSS JOIN lags l
                JOIN chosen b ON b.lo = g.lo AND b.hi = g.hi AND b.mi = g.mi - l.lag
                GROUP BY ALL
            )
            SELECT g.lo AS iso3_1, g.hi AS iso3_2, g.year, g.month, {event_parts},
                   coalesce(n.engagements, 0) AS engagements, coalesce(n.agreements, 0) AS agreements,
                   coalesce(n.mil_goldstein, 0) + {ENGAGEMENT_WEIGHT} * coalesce(n.engagements, 0)
                       + {AGREEMENT_WEIGHT} * coalesce(n.agreements, 0) AS numerator,
                   coalesce(n.events_total, 0) + coalesce(n.engagements, 0) + coalesce(n.agreements, 0)
                       AS volume,
                   coalesce(s.smoothed_numerator, 0) AS smoothed_numerator,
                   coalesce(s.smoothed_volume, 0) AS smoothed_volume,
                   100 * coalesce(s.smoothed_numerator, 0) / (10 * (coalesce(s.smoothed_volume, 0) + {PRIOR}))
                       AS coop_index
            FROM grid g
            LEFT JOIN chosen n ON n.lo = g.lo AND n.hi = g.hi AND n.mi = g.mi
            LEFT JOIN smooth s ON s.lo = g.lo AND s.hi = g.hi AND s.mi = g.mi
            LEFT JOIN ({covered_months_sql(lake)}) c ON c.mi = g.mi
            ORDER BY iso3_1, iso3_2, g.year, g.month
        """
        return db.sql(sql).arrow().read_all()
    finally:
        db.close()


def dyad_year_sql(lake: Lake, first: int, last: int) -> str:
    """Per unordered pair (``lo``, ``hi``) and year: the event parts summed over the
    covered months and the yearly index (the formula above on the year's sums, events
    only: registry records need a principal and join through ``dyad_months``)."""
    events = event_month_sql(lake, first * 12, last * 12 + 11)
    return f"""
        SELECT lo, hi, (mi // 12)::INTEGER AS year,
               sum(events_total) AS events_total, sum(mil_events) AS mil_events,
               sum(mil_goldstein) AS mil_goldstein, sum(verbal_conflict) AS verbal_conflict,
               sum(material_conflict) AS material_conflict,
               100 * sum(mil_goldstein) / (10 * (sum(events_total) + {PRIOR})) AS coop_index
        FROM ({events}) WHERE mi IN ({covered_months_sql(lake)}) GROUP BY ALL
    """


def covered_years_sql(lake: Lake) -> str:
    """Years with at least one covered month, and how many (``event_months``)."""
    months = covered_months_sql(lake)
    return f"SELECT (mi // 12)::INTEGER AS year, count(*) AS event_months FROM ({months}) GROUP BY ALL"


def latest_events_year(lake: Lake) -> int | None:
    """The last year the lake's events cover (at least one covered month), or None."""
    if not lake.has("events"):
        return None
    row = lake.db.execute(f"SELECT max(year) FROM ({covered_years_sql(lake)})").fetchall()[0]
    return int(row[0]) if row[0] is not None else None


def explain(rows: list[dict[str, Any]]) -> str:
    """Why the index moved between the last two months of one pair's rows, in words."""
    if len(rows) < 2:
        return "not enough months to compare"
    before, now = rows[-2], rows[-1]
    delta = now["coop_index"] - before["coop_index"]
    parts = []
    for key, label in (
        ("mil_events", "military-cooperation events"),
        ("events_total", "events in all"),
        ("engagements", "engagements"),
        ("agreements", "agreements in force"),
    ):
        if now.get(key) is not None and (now[key] or 0) != (before.get(key) or 0):
            parts.append(f"{label} {before.get(key) or 0:g} -> {now[key]:g}")
    head = f"{now['year']}-{now['month']:02d}: index {before['coop_index']:.1f} -> {now['coop_index']:.1f}"
    head += f" ({'+' if delta >= 0 else ''}{delta:.1f})"
    return head + ("; " + ", ".join(parts) if parts else "; no new activity (the smoothing decays)")
