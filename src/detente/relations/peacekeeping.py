"""A country's contributions to UN peacekeeping, from the IPI Peacekeeping Database in the lake:
one function (``contributions``) behind the partner page, the REST route and the CLI, so
the three show the same figures.

Figures are personnel (troops, police, experts on mission) as IPI reports them at each
month's end. A year's figure is the monthly average over the months IPI covers that year
(a month without the country's row counts as none), beside the year's peak month; the same
holds per mission, over the months the per-mission files cover. The answer is open data:
it uses no registry record, so its marking is ``UNCLASSIFIED//TLP:CLEAR``.
"""

from __future__ import annotations

from typing import Any

from detente.core.countries import iso3 as to_iso3
from detente.core.errors import ValidationError
from detente.relations.service import Answer
from detente.sources.lake import Lake

__all__ = ["LOAD_HINT", "MISSIONS_HINT", "contributions"]

TOTALS, MISSIONS = "peacekeeping_ipi", "peacekeeping_ipi_missions"
LOAD_HINT = (
    "No IPI peacekeeping data in the context lake: `detente sources load peacekeeping_ipi FILE...` "
    "(the IPI Peacekeeping Database's contributor files) fills this."
)
MISSIONS_HINT = (
    "Contributions per mission need IPI's contributor-mission files (full_data.csv or the monthly "
    "current_month.csv): `detente sources load peacekeeping_ipi FILE...` with them."
)
KINDS = ("troops", "police", "experts", "total")


def _years(first: int | None, last: int | None) -> tuple[int, int]:
    lo, hi = first or 1900, last or 2100
    if lo > hi:
        raise ValidationError(f"years {lo}-{hi}: the first year is after the last", field="first")
    return lo, hi


def _yearly(lake: Lake, table: str, iso3: str, lo: int, hi: int, by: str = "") -> list[dict[str, Any]]:
    """Per year (and per ``by`` column): months with personnel, the monthly averages over the
    months the table covers that year, and the peak month's total."""
    group = f"p.{by}, " if by else ""
    averages = ", ".join(f"round(sum(p.{k}) / c.covered, 1) AS {k}" for k in KINDS)
    rows = lake.db.execute(
        f"""
        WITH c AS (SELECT year, count(DISTINCT date) AS covered FROM "{table}" GROUP BY year)
        SELECT {group}p.year, any_value(c.covered) AS months_covered, count(DISTINCT p.date) AS months,
               {averages}, max(p.total) AS peak_total, max(p.date) AS last_month
        FROM "{table}" p JOIN c USING (year)
        WHERE p.iso3 = ? AND p.year BETWEEN ? AND ?
        GROUP BY {group}p.year, c.covered
        ORDER BY p.year{", p." + by if by else ""}
        """,
        [iso3, lo, hi],
    ).fetchall()
    names = [*([by] if by else []), "year", "months_covered", "months", *KINDS, "peak_total", "last_month"]
    out = [dict(zip(names, r, strict=True)) for r in rows]
    for r in out:
        r["last_month"] = r["last_month"].isoformat()
    return out


def _hosts(lake: Lake, iso3: str) -> dict[str, str | None]:
    rows = lake.db.execute(
        f'SELECT mission, any_value(mission_iso3) FROM "{MISSIONS}" WHERE iso3 = ? GROUP BY mission', [iso3]
    ).fetchall()
    return {m: host for m, host in rows}


def contributions(
    lake: Lake | None, country: str, first: int | None = None, last: int | None = None
) -> Answer:
    """``country``'s UN peacekeeping personnel: per year (all missions) and per mission and
    year, with the latest month, the source's coverage and, when the lake lacks the data,
    the command that loads it (also when there is no lake at all: ``lake`` None)."""
    iso3 = to_iso3(country, field="country")
    lo, hi = _years(first, last)
    data: dict[str, Any] = {"country": iso3, "first": first, "last": last, "loaded": False,
                            "hint": LOAD_HINT, "source": None, "years": [], "latest": None,
                            "missions": [], "missions_loaded": False}  # fmt: skip
    prov = lake.current(TOTALS) if lake is not None else None
    if lake is None or prov is None or not lake.has(TOTALS):
        return Answer(data)
    data.update(loaded=True, hint=None)
    data["source"] = {"source": prov.source, "version": prov.version, "coverage": prov.coverage,
                      "sha256": prov.sha256, "first_year": prov.first_year,
                      "last_year": prov.last_year}  # fmt: skip
    data["years"] = _yearly(lake, TOTALS, iso3, lo, hi)
    latest = lake.db.execute(
        f'SELECT date, {", ".join(KINDS)} FROM "{TOTALS}" WHERE iso3 = ? AND year BETWEEN ? AND ? '
        "ORDER BY date DESC LIMIT 1",
        [iso3, lo, hi],
    ).fetchall()
    if latest:
        data["latest"] = dict(zip(("date", *KINDS), latest[0], strict=True))
        data["latest"]["date"] = data["latest"]["date"].isoformat()
    else:
        span = prov.coverage.split(",")[0]
        data["hint"] = f"{iso3} has no UN peacekeeping personnel in IPI's data ({span})."
    if lake.has(MISSIONS):
        data["missions_loaded"] = True
        hosts = _hosts(lake, iso3)
        data["missions"] = [
            {"mission": r["mission"], "mission_iso3": hosts.get(r["mission"]), **r}
            for r in _yearly(lake, MISSIONS, iso3, lo, hi, by="mission")
        ]
    elif latest:
        data["hint"] = MISSIONS_HINT
    return Answer(data)
