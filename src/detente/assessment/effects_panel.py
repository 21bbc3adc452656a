"""An effect study's inputs and its estimation sample: a treatment (who adopted, and when),
an outcome (SQL over the lake), and the country-year panel built from them.

``build_panel`` joins the state system's country-years in the window to the treatment's
adoption years and the outcome, refuses a window outside either source's years, and drops
the states whose own effect cannot be estimated from untreated years (first treated
before the window, or with fewer than ``min_pre`` untreated years in it); ``Sample`` says
how many of each remain. The named treatments and outcomes, and the estimation, are in
``detente.assessment.effects``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from detente.core.errors import ValidationError
from detente.sources.lake import Lake

__all__ = [
    "PEACEKEEPING_OUTCOME",
    "PEACEKEEPING_TREATMENT",
    "Outcome",
    "Panel",
    "Sample",
    "Treatment",
    "build_panel",
    "coverage",
    "missing_source",
]


@dataclass(frozen=True)
class Treatment:
    """Who adopted, and when: ``adoptions`` has ``first_year`` and ``iso3`` and/or ``ccode``."""

    name: str
    title: str
    adoptions: pd.DataFrame
    observed: tuple[int, int] | None = None  # years in which adoption is observed at all
    sources: tuple[str, ...] = ()  # lake sources it read
    records: tuple[Any, ...] = ()  # registry records it used: their markings mark the result
    caveat: str = ""


@dataclass(frozen=True)
class Outcome:
    """What a study measures: SQL over the lake giving a value per (iso3, year) where
    anything happened, and how the value is transformed (``log1p``, ``any``, ``identity``)."""

    name: str
    title: str
    source: str  # lake source (or the ``events`` view) it reads
    sql: str  # -> iso3, year, value where anything happened
    transform: str  # "log1p" | "any" | "identity"
    unit: str
    caveat: str = ""


# Peacekeeping (IPI contributor-months in the lake): an outcome and a treatment, named in
# ``effects.OUTCOMES`` / ``effects.TREATMENTS``. A year's value is the monthly average over
# the months IPI covers that year (a month without the country's row counts as none).
_IPI_COVERED = "(SELECT year, count(DISTINCT date) AS covered FROM peacekeeping_ipi GROUP BY year)"
PEACEKEEPING_OUTCOME = Outcome(
    "pko_troops_log",
    "troops contributed to UN peacekeeping (IPI, monthly average over the year)",
    "peacekeeping_ipi",
    f"SELECT p.iso3, p.year, sum(p.troops) / any_value(c.covered) AS value FROM peacekeeping_ipi p "
    f"JOIN {_IPI_COVERED} c USING (year) WHERE p.iso3 IS NOT NULL GROUP BY p.iso3, p.year",
    "log1p",
    "log(1 + troops)",
    "IPI counts UN missions only (not NATO, EU or AU operations); a partial year (IPI starts in "
    "November 1990) averages over the months it covers.",
)
PEACEKEEPING_TREATMENT = {  # the fields of effects.TreatmentSpec
    "name": "pko_first",
    "title": "first contribution of troops, police or experts to a UN peacekeeping mission (IPI)",
    "source": "peacekeeping_ipi",
    "sql": "SELECT iso3, min(year)::INTEGER AS first_year FROM peacekeeping_ipi "
    "WHERE iso3 IS NOT NULL AND total > 0 GROUP BY iso3",
    "caveat": "IPI's records start in November 1990: 'first' means first since then, so a state "
    "contributing in 1990 may have started earlier and is dropped as already treated.",
}


@dataclass(frozen=True)
class Sample:
    """Who is in the estimation sample, and who was dropped and why."""

    units: int
    treated_units: int
    never_treated_units: int  # not treated by the end of the window
    country_years: int
    treated_country_years: int
    dropped_already_treated: int  # first treated before the window
    dropped_short: int  # fewer than min_pre untreated years in the window
    cohorts: dict[int, int]  # first year -> treated units
    nonzero_share: float  # country-years with a nonzero outcome


@dataclass(frozen=True)
class Panel:
    """The estimation sample: ``data`` has unit (state code), iso3, year, first_year
    (0: not treated in the window), treated (0/1) and y."""

    data: pd.DataFrame
    treatment: Treatment
    outcome: Outcome
    first: int
    last: int
    system: str
    min_pre: int
    sample: Sample
    provenance: tuple[dict[str, Any], ...] = ()


def missing_source(source: str) -> ValidationError:
    """The error for a lake source a study needs and the lake lacks, saying how to load it."""
    from detente.sources.service import SOURCES

    title = SOURCES[source].title if source in SOURCES else source
    return ValidationError(f"{source} ({title}) is not in the lake: `detente sources load {source} FILE`")


def coverage(lake: Lake, out: Outcome) -> tuple[int, int]:
    """The first and last year the outcome's source covers in the lake."""
    if out.source == "events":
        if not lake.has("events"):
            raise ValidationError("no event data in the lake: `detente sources load gdelt|icews FILE...`")
        lo, hi = lake.db.execute("SELECT min(year), max(year) FROM events").fetchall()[0]
        if lo is None:
            raise ValidationError("the lake's event data is empty")
        return int(lo), int(hi)
    prov = lake.current(out.source)
    if prov is None or not lake.has(out.source):
        raise missing_source(out.source)
    if prov.first_year is None or prov.last_year is None:
        raise ValidationError(f"{out.source}: the lake does not know which years it covers")
    return prov.first_year, prov.last_year


def _provenance(lake: Lake, sources: Iterable[str]) -> tuple[dict[str, Any], ...]:
    out = []
    for name in sources:
        names = ("gdelt", "icews") if name == "events" else (name,)
        for n in names:
            p = lake.current(n)
            if p is not None:
                out.append(
                    {"source": p.source, "version": p.version, "sha256": p.sha256, "coverage": p.coverage}
                )
    return tuple(out)


def _check_window(lake: Lake, treat: Treatment, out: Outcome, first: int, last: int, min_pre: int) -> None:
    """Refuse a window too short, or outside the years the outcome or the treatment covers."""
    if first >= last:
        raise ValidationError(f"years {first}-{last}: the window needs at least two years")
    if min_pre < 1:
        raise ValidationError("min_pre: at least 1 untreated year per state", field="min_pre")
    lo, hi = coverage(lake, out)
    if first < lo or last > hi:
        raise ValidationError(f"{out.source} covers {lo}-{hi}; the window {first}-{last} is outside it")
    if treat.observed and (first < treat.observed[0] or last > treat.observed[1]):
        a, b = treat.observed
        raise ValidationError(
            f"{treat.name}: adoption is observed only in {a}-{b}; the window {first}-{last} is outside it"
        )


def _country_years(
    lake: Lake, treat: Treatment, out: Outcome, first: int, last: int, system: str
) -> pd.DataFrame:
    """unit, iso3, year, adopted (the first adoption year, or NaN) and y for every state-year."""
    from detente.relations.panel import state_years_sql

    adoptions = treat.adoptions
    if "first_year" not in adoptions or not ({"iso3", "ccode"} & set(adoptions.columns)):
        raise ValidationError("a treatment needs columns first_year and iso3 or ccode", field="treatment")
    by_code = system == "cow" and "ccode" in adoptions
    key = "s.code = t.ccode" if by_code else "s.iso3 = t.iso3"
    adopted = adoptions[["ccode" if by_code else "iso3", "first_year"]].dropna()
    transform = {"log1p": "ln(1 + {v})", "any": "({v} > 0)::INTEGER", "identity": "{v}"}[out.transform]
    value = transform.format(v="coalesce(o.value, 0)")
    sy = state_years_sql(lake, system, first, last)
    db = lake.db.cursor()
    try:
        db.register("adoptions", adopted)
        frame: pd.DataFrame = db.sql(f"""
            SELECT s.code AS unit, s.iso3, s.year, min(t.first_year)::DOUBLE AS adopted, {value} AS y
            FROM ({sy}) s
            LEFT JOIN adoptions t ON {key}
            LEFT JOIN ({out.sql}) o ON o.iso3 = s.iso3 AND o.year = s.year
            GROUP BY ALL ORDER BY unit, year
        """).df()
    finally:
        db.close()
    return frame


def _estimable(
    frame: pd.DataFrame, first: int, last: int, min_pre: int
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The country-years of states whose effect can be estimated, with first_year and treated,
    and how many states were dropped as ``already`` treated or too ``short`` untreated."""
    entry = frame.groupby("unit")["year"].transform("min")
    adopted_year = frame["adopted"].astype(float).fillna(np.inf)
    already = adopted_year < first
    short = ~already & (adopted_year < entry + min_pre)
    length = frame.groupby("unit")["year"].transform("size")
    # never treated while in the system (adopting after leaving it is not adopting: a state
    # joined by ISO3, e.g. North Yemen to 1990 and Yemen's later adoption) and too short
    left = frame.groupby("unit")["year"].transform("max")
    short |= ~already & (adopted_year > left) & (length < min_pre)
    dropped = {k: int(frame.loc[m, "unit"].nunique()) for k, m in (("already", already), ("short", short))}
    data = frame[~already & ~short].copy()
    exit_ = data.groupby("unit")["year"].transform("max")  # adopting after leaving the system is not adopting
    data["first_year"] = np.where(data["adopted"] <= exit_, data["adopted"], 0).astype(int)
    data["treated"] = ((data["first_year"] > 0) & (data["year"] >= data["first_year"])).astype(float)
    data = data.drop(columns="adopted").astype({"unit": int, "year": int, "y": float})
    return data, dropped


def build_panel(
    lake: Lake,
    treat: Treatment,
    out: Outcome,
    first: int,
    last: int,
    *,
    system: str = "cow",
    min_pre: int = 2,
) -> Panel:
    """Country-years ``first``-``last`` of the state system with the treatment and outcome."""
    from detente.relations.panel import SYSTEMS

    _check_window(lake, treat, out, first, last, min_pre)
    frame = _country_years(lake, treat, out, first, last, system)
    if frame.empty:
        raise ValidationError(f"the {SYSTEMS[system]} table has no state in {first}-{last}")
    data, dropped = _estimable(frame, first, last, min_pre)
    units = data.groupby("unit")["first_year"].first()
    treated_units = units[units > 0]
    if treated_units.empty:
        raise ValidationError(
            f"no state first adopted {treat.name} in {first + min_pre}-{last} after {min_pre} untreated "
            "years in the window: nothing to estimate"
        )
    if len(units) - len(treated_units) == 0 and treated_units.nunique() == 1:
        raise ValidationError("every state adopted in the same year and none never did: no comparison")
    by_year = treated_units.value_counts().sort_index()
    sample = Sample(
        units=len(units),
        treated_units=len(treated_units),
        never_treated_units=len(units) - len(treated_units),
        country_years=len(data),
        treated_country_years=int(data["treated"].sum()),
        dropped_already_treated=dropped["already"],
        dropped_short=dropped["short"],
        cohorts={int(k): int(v) for k, v in zip(by_year.index.tolist(), by_year.tolist(), strict=True)},
        nonzero_share=float((data["y"] != 0).mean()),
    )
    sources = (*treat.sources, out.source, SYSTEMS[system])
    return Panel(
        data.reset_index(drop=True), treat, out, first, last, system, min_pre, sample,
        _provenance(lake, dict.fromkeys(sources)),
    )  # fmt: skip
