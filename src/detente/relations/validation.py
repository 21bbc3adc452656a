"""Does the event-based military cooperation index separate partners from the rest?

``validate`` scores undirected dyad-years of the COW system by the yearly index (and, for
comparison, by its raw parts) against two labels: a defense cooperation agreement in force
(DCAD) and alliance membership (ATOP: any obligation, and defense pacts alone), as ROC AUC
with a percentile bootstrap interval over dyads.

The populations are stated with every figure, because the event files at hand cover few
years (see ``analyses/index_validation.py``):

* ``strict``: dyad-years covered by both the events (months with at least 100 events
  loaded) and DCAD (1980-2010);
* ``dcad_carried``: covered dyad-years after 2010, labelled with the agreements DCAD codes
  as still in force at its end (``terminated`` = 0, open-ended), carried forward: it misses
  agreements signed after 2010, so some positives are labelled negative;
* ``atop``: covered dyad-years within ATOP's years (to 2018): no carrying needed.

Each is reported for all dyad-years of the system in covered years (pairs without events
score 0) and for the dyad-years with at least one event between the pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from detente.relations.index import covered_years_sql
from detente.relations.panel import dyad_years
from detente.sources.lake import Lake

__all__ = ["AucResult", "auc_with_interval", "validate"]


@dataclass(frozen=True)
class AucResult:
    population: str
    label: str
    score: str
    n: int
    positives: int
    auc: float | None
    low: float | None
    high: float | None

    def row(self) -> dict[str, Any]:
        return self.__dict__.copy()


def auc_with_interval(
    y: np.ndarray, score: np.ndarray, groups: np.ndarray | None = None, *, draws: int = 1000, seed: int = 7
) -> tuple[float | None, float | None, float | None]:
    """ROC AUC and its 95% percentile bootstrap interval (resampling ``groups``, e.g.
    dyads, with replacement; rows when no groups). None where a class is absent."""
    from sklearn.metrics import roc_auc_score

    if len(set(y.tolist())) < 2:
        return None, None, None
    auc = float(roc_auc_score(y, score))
    rng = np.random.default_rng(seed)
    if groups is None:
        groups = np.arange(len(y))
    keys, index = np.unique(groups, return_inverse=True)
    values = []
    for _ in range(draws):
        # a resample of groups with replacement, as weights: each row counts as often as
        # its group was drawn (the same estimate as concatenating the drawn groups)
        weight = rng.multinomial(len(keys), np.full(len(keys), 1 / len(keys)))[index]
        chosen = weight > 0
        if y[chosen].min() == y[chosen].max():
            continue
        values.append(roc_auc_score(y[chosen], score[chosen], sample_weight=weight[chosen]))
    if not values:
        return auc, None, None
    low, high = np.percentile(values, [2.5, 97.5])
    return auc, float(low), float(high)


def _carried_dcad(lake: Lake, years: list[int]) -> set[tuple[int, int, int]]:
    """(lo, hi, year) of pairs with a DCAD agreement still in force at DCAD's end."""
    rows = lake.db.execute(
        "SELECT DISTINCT least(ccode1, ccode2), greatest(ccode1, ccode2) FROM dcad WHERE terminated = 0"
    ).fetchall()
    return {(a, b, y) for a, b in rows for y in years}


def validate(lake: Lake, *, draws: int = 1000, seed: int = 7) -> list[AucResult]:
    """The AUC table (see the module docstring). Needs cow_states, dcad, atop and events."""
    covered = [y for (y,) in lake.db.execute(f"SELECT year FROM ({covered_years_sql(lake)})").fetchall()]
    if not covered:
        return []
    panel = dyad_years(
        lake, "cow", min(covered), max(covered), directed=False, additions=("atop", "dcad", "events")
    ).to_pandas()
    panel = panel[panel["year"].isin(covered)].copy()
    dcad = lake.current("dcad")
    atop = lake.current("atop")
    assert dcad is not None and atop is not None
    carried = _carried_dcad(lake, [y for y in covered if y > (dcad.last_year or 0)])
    panel["dca_carried"] = [
        int((a, b, y) in carried) for a, b, y in zip(panel.code1, panel.code2, panel.year, strict=True)
    ]
    obligations = ["atop_defense", "atop_offense", "atop_neutral", "atop_nonagg", "atop_consul"]
    panel["atop_any"] = (panel[obligations].fillna(0).sum(axis=1) > 0).astype(int)
    panel["dyad"] = panel.code1 * 1000 + panel.code2
    designs = [
        ("strict: DCA in force (DCAD)", panel[panel.dca_count.notna()], "dca_count"),
        (
            "DCA in force, DCAD's open-ended agreements carried past 2010",
            panel[panel.year > (dcad.last_year or 0)],
            "dca_carried",
        ),
        (
            "ATOP alliance, any obligation",
            panel[panel.atop_defense.notna()],
            "atop_any",
        ),
        ("ATOP defense pact", panel[panel.atop_defense.notna()], "atop_defense"),
    ]
    out: list[AucResult] = []
    for label, frame, column in designs:
        for population, rows in (
            ("all dyad-years in covered years", frame),
            ("dyad-years with events", frame[frame.events_total > 0]),
        ):
            y = (rows[column].fillna(0) > 0).astype(int).to_numpy()
            for score in ("coop_index", "mil_goldstein", "events_total"):
                auc, low, high = auc_with_interval(
                    y, rows[score].to_numpy(dtype=float), rows.dyad.to_numpy(), draws=draws, seed=seed
                )
                out.append(AucResult(population, label, score, len(rows), int(y.sum()), auc, low, high))
    return out
