"""Country-month conflict histories from the context lake, with a strict cutoff.

The outcome is UCDP state-based fatalities per country-month in ViEWS' ids
(``month_id`` 121 = January 1990; ViEWS ``country_id``), read from the lake's ``views``
table: a column named ``outcome`` where a loaded file has one (the layout of the later
challenges' actuals), else the challenge's ``ged_sb`` (features and actuals), else
``ged_best_sb`` (UCDP's GED country-month file). Non-state and one-sided fatalities
(``ged_ns``/``ged_best_ns``, ``ged_os``/``ged_best_os``) come along as ``History.extra``
where the lake has them. Everything a model sees comes from
``history(lake, cutoff)``, whose SQL keeps only months up to the cutoff: a forecast made at
month T cannot read any value dated after T.

The challenge protocol for a window Y: data to October of Y-1 (the cutoff), forecasts for
the fourteen months November Y-1 to December Y (horizons 1-14), scored on January to
December of Y for the countries the actuals cover.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from detente.core.errors import ValidationError
from detente.sources.lake import Lake
from detente.sources.views import month_id, month_of

__all__ = [
    "History", "Needs", "Window", "fold_windows", "history", "label", "needs", "outcome_sql", "parse_month",
    "truth",
]  # fmt: skip

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
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # "ns", "os", context: like values

    @property
    def cutoff(self) -> int:
        return int(self.months[-1])

    def until(self, cutoff: int) -> History:
        """The same countries with months up to ``cutoff`` only (a cross-validation fold)."""
        n = int(np.searchsorted(self.months, cutoff, side="right"))
        return History(
            self.countries, self.iso3, self.months[:n], self.values[:, :n],
            {k: v[:, :n] for k, v in self.extra.items()},
        )  # fmt: skip

    def rows(self, keep: np.ndarray) -> History:
        """The countries where ``keep`` is true."""
        return History(
            self.countries[keep], [i for i, k in zip(self.iso3, keep, strict=True) if k], self.months,
            self.values[keep], {k: v[keep] for k, v in self.extra.items()},
        )  # fmt: skip

    def last(self, n: int) -> np.ndarray:
        return self.values[:, -n:]

    def subset(self, countries: np.ndarray) -> History:
        index = {c: i for i, c in enumerate(self.countries.tolist())}
        rows = [index.get(c, -1) for c in countries.tolist()]
        picked = np.array(rows, dtype=int)

        def pick(matrix: np.ndarray) -> np.ndarray:
            out = np.full((len(countries), len(self.months)), np.nan)
            out[picked >= 0] = matrix[picked[picked >= 0]]
            return out

        iso = [self.iso3[r] if r >= 0 else None for r in rows]
        return History(
            countries, iso, self.months, pick(self.values), {k: pick(v) for k, v in self.extra.items()}
        )


def fold_windows(history: History, folds: int, span: int = 0) -> list[tuple[int, int, int]]:
    """The last ``folds`` challenge windows fully observed by the history's cutoff (their
    December at or before it), as (year, index of the window's cutoff month, index of its
    January) into ``history.months``; windows with fewer than ``span`` months of data
    before their cutoff are left out. Models cross-validate on these, never on later data."""
    months = history.months.tolist()
    last = (history.cutoff - 12) // 12 + 1980
    out = []
    for year in range(last - folds + 1, last + 1):
        cut, first = month_id(year - 1, 10), month_id(year, 1)
        if cut in months and first + 11 in months and cut - span + 1 >= months[0]:
            out.append((year, months.index(cut), months.index(first)))
    return out


def _columns(lake: Lake) -> set[str]:
    return {r[0] for r in lake.db.execute("SELECT column_name FROM (DESCRIBE views)").fetchall()}


def _measure(columns: set[str], kind: str) -> str | None:
    names = (
        ("outcome", f"ged_{kind}", f"ged_best_{kind}")
        if kind == "sb"
        else (f"ged_{kind}", f"ged_best_{kind}")
    )
    present = [c for c in names if c in columns]
    return f"coalesce({', '.join(present)})" if present else None


def outcome_sql(lake: Lake) -> str:
    """The SQL expression for the outcome, state-based deaths, in the lake's views table."""
    if not lake.has("views"):
        raise ValidationError(
            "no country-month data in the lake: `detente sources load views FILE...` "
            "(ViEWS features/actuals, or UCDP's GED country-month file with its country table)"
        )
    outcome = _measure(_columns(lake), "sb")
    if outcome is None:
        raise ValidationError("the lake's views table has no ged_sb or ged_best_sb column")
    return outcome


def _matrix(
    lake: Lake, where: str, extra: bool = False
) -> tuple[np.ndarray, list[str | None], np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    columns = _columns(lake) if extra else set()
    kinds = [k for k in ("ns", "os") if _measure(columns, k)]
    measures = "".join(f", max({_measure(columns, k)})" for k in kinds)
    rows = lake.db.execute(
        f"SELECT country_id, any_value(iso3), month_id, max({outcome_sql(lake)}){measures} FROM views "
        f"WHERE {where} GROUP BY country_id, month_id ORDER BY country_id, month_id"
    ).fetchall()
    countries = np.array(sorted({r[0] for r in rows}), dtype=int)
    months = np.array(sorted({r[2] for r in rows}), dtype=int)
    ci = {c: i for i, c in enumerate(countries.tolist())}
    mi = {m: i for i, m in enumerate(months.tolist())}
    matrices = [np.full((len(countries), len(months)), np.nan) for _ in range(1 + len(kinds))]
    iso: list[str | None] = [None] * len(countries)
    for c, i3, m, *measured in rows:
        for matrix, v in zip(matrices, measured, strict=True):
            if v is not None:
                matrix[ci[c], mi[m]] = float(v)
        iso[ci[c]] = iso[ci[c]] or i3
    return countries, iso, months, matrices[0], dict(zip(kinds, matrices[1:], strict=True))


def history(lake: Lake, cutoff: int, first: int = 1, *, context: bool = True) -> History:
    """Outcomes from month ``first`` up to and including ``cutoff``: nothing later is read.
    With ``context``, the rest of the lake's country-month context too
    (``detente.warning.context``), under the same cutoff."""
    countries, iso, months, values, extra = _matrix(
        lake, f"month_id BETWEEN {int(first)} AND {int(cutoff)}", extra=True
    )
    if not len(months) or months[-1] != cutoff:
        y, m = month_of(cutoff)
        raise ValidationError(f"the lake has no country-month outcomes for {y}-{m:02d} (month_id {cutoff})")
    if context:
        from detente.warning.context import context as lake_context

        extra.update(lake_context(lake, iso, months, cutoff))
    return History(countries, iso, months, values, extra)


def label(month: int) -> str:
    """``YYYY-MM`` of a ViEWS month_id."""
    y, m = month_of(month)
    return f"{y}-{m:02d}"


def parse_month(text: str) -> int:
    """The month_id of ``YYYY-MM``."""
    year, sep, month = text.strip().partition("-")
    if not (sep and year.isdigit() and month.isdigit() and 1 <= int(month) <= 12 and len(year) == 4):
        raise ValidationError(f"{text!r}: give a month as YYYY-MM", field="cutoff")
    return month_id(int(year), int(month))


@dataclass(frozen=True)
class Needs:
    """The months of outcomes a window needs, and which of them the lake lacks."""

    window: Window
    counts: dict[int, int]  # month_id -> countries with an outcome, for the months needed
    first: int | None  # the lake's first month with outcomes

    @property
    def missing(self) -> list[int]:
        return [m for m in [self.window.cutoff, *self.window.scored_months] if not self.counts.get(m)]

    def describe(self) -> str:
        w = self.window
        text = (
            f"window {w.year} needs outcomes for {label(w.cutoff)} and earlier (the history; "
            f"the lake's start at {label(self.first) if self.first else 'none'}) and for "
            f"{label(w.scored_months[0])} to {label(w.scored_months[-1])} (scored)"
        )
        if self.missing:
            return f"{text}; missing: {', '.join(label(m) for m in self.missing)}"
        return f"{text}; all present"


def needs(lake: Lake, window: Window) -> Needs:
    months = [window.cutoff, *window.scored_months]
    rows = lake.db.execute(
        f"SELECT month_id, count(DISTINCT country_id) FROM views WHERE {outcome_sql(lake)} IS NOT NULL "
        f"AND month_id IN ({', '.join(map(str, months))}) GROUP BY month_id"
    ).fetchall()
    first = lake.db.execute(
        f"SELECT min(month_id) FROM views WHERE {outcome_sql(lake)} IS NOT NULL"
    ).fetchall()
    return Needs(window, {int(m): int(n) for m, n in rows}, first[0][0])


def truth(lake: Lake, window: Window) -> History:
    """The scored months' outcomes, for the countries observed in all of them."""
    months = window.scored_months
    countries, iso, got, values, _ = _matrix(lake, f"month_id BETWEEN {months[0]} AND {months[-1]}")
    if len(got) != len(months):
        lacking = [label(m) for m in months if m not in set(got.tolist())]
        raise ValidationError(
            f"window {window.year}: the lake has no outcomes for {', '.join(lacking)} "
            f"({len(got)} of the 12 scored months present); load the actuals "
            f"(e.g. cm_actuals_{window.year}.parquet)"
        )
    return History(countries, iso, got, values).rows(~np.isnan(values).any(axis=1))
