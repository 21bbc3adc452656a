"""Effect studies: is a treatment (a state's first defense cooperation agreement, say)
followed by a change in an outcome (battle deaths, conflict), and how sure can we be?

The design is a staggered-adoption difference-in-differences on a country-year panel:

* **Panel**: every state in the system (COW by default, from the lake's ``cow_states``)
  in each year of the window, from ``relations.panel``.
* **Treatment**: a table of ``(iso3 and/or ccode, first_year)``: the year a state first
  adopted it; the state counts as treated from that year on (absorbing). Named treatments
  are SQL over the lake (``TREATMENTS``); ``treatment_from_pairs`` takes any list of
  (country, year), ``registry_treatment`` the registry's agreements a principal may read.
  States first treated before the window, or with fewer than ``min_pre`` untreated years
  in it, are dropped: their unit effect cannot be estimated from untreated years
  (always-treated units identify nothing in this design). States not treated by the end
  of the window are the never-treated comparison; states treated later in it serve as
  not-yet-treated comparisons until they are treated.
* **Outcome**: SQL over the lake giving a value per (iso3, year) where something happened
  (``OUTCOMES``); 0 in a country-year the source covers without a row. A window outside
  the source's years (or the treatment's) is refused, never filled with zeros.
* **Estimator**: Gardner's two-stage DiD (``pyfixest.did2s``): unit and year effects are
  fitted on untreated country-years only, then the residualised outcome is regressed on
  the treatment (the ATT) or on event-time bins (``pre5`` = five or more years before,
  ``pre4``...``pre2``; year -1 is the reference; ``post0``...``post5`` = five or more
  after). Standard errors are pyfixest's GMM ones, clustered by country; tests and
  intervals here use Student's t (and F) with G - 1 degrees of freedom, G the clusters.
* **Pre-trend test**: a joint Wald (F) test that the lead coefficients are all zero.
* **Placebo study**: ``placebos`` seeded draws, each giving as many randomly chosen states
  as were treated a random real adoption year (one they could take under the same
  ``min_pre`` rule) and ignoring the real treatment; the ATT is re-estimated and the share
  of draws with p < alpha is the test's false-positive rate on this panel (with a
  Clopper-Pearson interval). The placebo estimates also give a randomisation comparison
  for the real one. The draws are fitted by ``_TwoStage``, the same estimator and
  standard error in closed form (about 1 ms a fit instead of pyfixest's ~0.2 s of formula
  handling); its first draw is refitted by pyfixest and the study stops if they differ.

The result (``EffectStudy``) carries its numbers, the inputs' provenance, the marking of
any registry records the treatment came from, and what the design can and cannot claim
in plain words, worded from the numbers (``can`` / ``cannot``). It says "association",
never "effect of": this module must not present an estimate as causal.

Where the parts live: this module holds the named treatments and outcomes, the estimation
and the placebo study; ``effects_panel`` the treatment, outcome and panel types and
``build_panel``; ``effects_result`` the result types; ``effects_claims`` the wording of
what a study can and cannot claim.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from detente.assessment.effects_claims import claims
from detente.assessment.effects_panel import (
    PEACEKEEPING_OUTCOME,
    PEACEKEEPING_TREATMENT,
    Outcome,
    Panel,
    Treatment,
    build_panel,
    missing_source,
)
from detente.assessment.effects_result import Coefficient, EffectStudy, Placebo, PreTrend
from detente.core.errors import ValidationError
from detente.sources.lake import Lake

__all__ = [
    "OUTCOMES",
    "TREATMENTS",
    "TreatmentSpec",
    "estimate",
    "event_terms",
    "named_outcome",
    "named_treatment",
    "placebo",
    "registry_treatment",
    "run_study",
    "treatment_from_pairs",
    "with_outcome",
]


# ------------------------------------------------------------------ treatments


@dataclass(frozen=True)
class TreatmentSpec:
    """A named treatment: SQL over one lake source giving each state's first adoption year."""

    name: str
    title: str
    source: str
    sql: str  # -> ccode, iso3, first_year
    caveat: str = ""


def _dcad_sql(where: str) -> str:
    return f"""
        SELECT code AS ccode, max(iso3) AS iso3, min(sign_year)::INTEGER AS first_year
        FROM (SELECT ccode1 AS code, iso3_1 AS iso3, sign_year FROM dcad WHERE {where}
              UNION ALL SELECT ccode2, iso3_2, sign_year FROM dcad WHERE {where})
        GROUP BY code
    """


_DCAD_CAVEAT = (
    "DCAD observes agreements signed 1980-2010: 'first' means first since 1980, and a state "
    "without one by 2010 may have signed later."
)
TREATMENTS = {
    s.name: s
    for s in (
        TreatmentSpec(
            "dcad_first",
            "first defense cooperation agreement signed (DCAD, any type)",
            "dcad",
            _dcad_sql("TRUE"),
            _DCAD_CAVEAT,
        ),
        TreatmentSpec(
            "dcad_first_general",
            "first general (framework) defense cooperation agreement signed (DCAD)",
            "dcad",
            _dcad_sql("type = 'general'"),
            _DCAD_CAVEAT,
        ),
        TreatmentSpec(**PEACEKEEPING_TREATMENT),
    )
}


def named_treatment(lake: Lake, name: str) -> Treatment:
    """A named treatment (``TREATMENTS``) read from the lake."""
    spec = TREATMENTS.get(name)
    if spec is None:
        raise ValidationError(
            f"unknown treatment {name!r}; one of {', '.join(TREATMENTS)}", field="treatment"
        )
    prov = lake.current(spec.source)
    if prov is None:
        raise missing_source(spec.source)
    adoptions = lake.db.sql(spec.sql).df()
    known = prov.first_year is not None and prov.last_year is not None
    observed = (int(prov.first_year or 0), int(prov.last_year or 0)) if known else None
    return Treatment(spec.name, spec.title, adoptions, observed, (spec.source,), caveat=spec.caveat)


def treatment_from_pairs(
    pairs: Iterable[tuple[str, int]], name: str = "custom", title: str = "first year listed"
) -> Treatment:
    """A treatment from (country, year) pairs (a country in any form ``core.countries``
    resolves); a country listed more than once counts from its first year; a country not
    listed counts as never treated."""
    from detente.core.countries import resolve

    first: dict[str, int] = {}
    for country, year in pairs:
        iso3 = resolve(str(country), field="treatment").iso3
        if iso3 is None:
            raise ValidationError(f"{country!r} has no ISO 3166 code to join on", field="treatment")
        first[iso3] = min(int(year), first.get(iso3, int(year)))
    if not first:
        raise ValidationError("the treatment lists no (country, year)", field="treatment")
    frame = pd.DataFrame({"iso3": list(first), "first_year": list(first.values())})
    return Treatment(name, title, frame, caveat="A country not listed counts as never treated.")


def registry_treatment(reg: Any) -> Treatment:
    """The first year each state signed (else entered into force) an agreement in the
    registry, as the principal behind ``reg`` may read them: unreadable records add
    nothing, and those used mark the result."""
    from detente.store.service import ListQuery

    countries = {a.id: a.country for a in reg.list("actors", ListQuery(limit=None)) if a.country}
    first: dict[str, int] = {}
    used = []
    for a in reg.list("agreements", ListQuery(limit=None)):
        start = a.signed_on or a.in_force_on
        parties = {countries[p] for p in a.parties if p in countries}
        if start is None or not parties:
            continue
        used.append(a)
        for iso3 in parties:
            first[iso3] = min(start.year, first.get(iso3, start.year))
    if not first:
        raise ValidationError("no registry agreement you may read has a signing date and a state party")
    frame = pd.DataFrame({"iso3": list(first), "first_year": list(first.values())})
    caveat = "Only agreements recorded in the registry count; a state without one counts as never treated."
    return Treatment(
        "registry_agreements", "first agreement in the registry", frame, records=tuple(used), caveat=caveat
    )


# ------------------------------------------------------------------ outcomes


_LOCATED = "unnest(list_distinct(coalesce({lists}, []))) AS c(iso3)"
OUTCOMES = {
    o.name: o
    for o in (
        Outcome(
            "brd_log",
            "UCDP battle-related deaths in conflicts located in the country",
            "ucdp_brd",
            f"SELECT c.iso3, b.year, sum(b.bd_best) AS value FROM ucdp_brd b, "
            f"{_LOCATED.format(lists='b.iso3_loc')} GROUP BY ALL",
            "log1p",
            "log(1 + deaths)",
            "A conflict's deaths count in full for every country UCDP lists as its location "
            "(interstate conflicts list several).",
        ),
        Outcome(
            "conflict",
            "UCDP/PRIO armed conflict with the country as location or primary side",
            "ucdp_acd",
            "SELECT DISTINCT c.iso3, a.year, 1 AS value FROM ucdp_acd a, "
            + _LOCATED.format(lists="list_concat(a.iso3_loc, a.iso3_a, a.iso3_b)"),
            "any",
            "share of country-years in conflict (0-1)",
            "Incidence (25+ battle deaths in the year); states that only support a side "
            "(UCDP's secondary parties) do not count.",
        ),
        Outcome(
            "osv_log",
            "UCDP one-sided violence deaths (against civilians) located in the country",
            "ucdp_onesided",
            f"SELECT c.iso3, o.year, sum(o.best) AS value FROM ucdp_onesided o, "
            f"{_LOCATED.format(lists='o.iso3_location')} GROUP BY ALL",
            "log1p",
            "log(1 + deaths)",
            "UCDP records one-sided violence only above 25 deaths an actor-year.",
        ),
        Outcome(
            "onset",
            "UCDP conflict onset (after at least two years without that conflict)",
            "ucdp_onsets",
            "SELECT iso3, year, sumonset2 AS value FROM ucdp_onsets",
            "any",
            "share of country-years with an onset (0-1)",
            "peacesciencer's sumonset2; an ongoing conflict's years are not onsets.",
        ),
        Outcome(
            "conflict_events_log",
            "material-conflict events (CAMEO quad class 4) with the country as source or target",
            "events",
            "SELECT c.iso3, e.year, count(*) AS value FROM events e, "
            "unnest(list_distinct([e.source_country, e.target_country])) AS c(iso3) "
            "WHERE e.quad_class = 4 AND c.iso3 IS NOT NULL GROUP BY ALL",
            "log1p",
            "log(1 + events)",
            "Event counts follow news coverage, which grows over time and differs by country.",
        ),
        PEACEKEEPING_OUTCOME,
    )
}


def named_outcome(name: str) -> Outcome:
    """A named outcome (``OUTCOMES``)."""
    if name not in OUTCOMES:
        raise ValidationError(f"unknown outcome {name!r}; one of {', '.join(OUTCOMES)}", field="outcome")
    return OUTCOMES[name]


# ------------------------------------------------------------------ estimation


def _fit(data: pd.DataFrame, terms: list[str]) -> tuple[np.ndarray, np.ndarray, int, list[str]]:
    """pyfixest's did2s: (coefficients, vcov, clusters, warnings) for ``terms``."""
    import pyfixest as pf

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = pf.did2s(
            data, yname="y", first_stage="~ 0 | unit + year", second_stage="~ " + " + ".join(terms),
            treatment="treated", cluster="unit",
        )  # fmt: skip
    names = list(fit._coefnames)
    if names != terms:
        raise ValidationError(f"the estimator dropped terms {sorted(set(terms) - set(names))} (collinear)")
    return np.asarray(fit._beta_hat), np.asarray(fit._vcov), int(fit._G), [str(w.message) for w in caught]


def _coef(term: str, rel: int | None, label: str, b: float, v: float, df: int, alpha: float) -> Coefficient:
    from scipy import stats

    se = float(np.sqrt(max(v, 0.0)))
    crit = float(stats.t.ppf(1 - alpha / 2, df))
    p = float(2 * stats.t.sf(abs(b) / se, df)) if se > 0 else float("nan")
    return Coefficient(term, rel, label, float(b), se, float(b - crit * se), float(b + crit * se), p, df)


def event_terms(data: pd.DataFrame, leads: int, lags: int) -> dict[str, int]:
    """Add event-time bins to ``data`` (in place); {term: relative year} of the non-empty
    ones. ``pre{leads}`` holds ``leads`` or more years before, ``post{lags}`` ``lags`` or more
    after; year -1 is the reference."""
    rel = np.where(data["first_year"] > 0, data["year"] - data["first_year"], np.iinfo(np.int32).min)
    ever = data["first_year"].to_numpy() > 0
    bins = {f"pre{k}": -k for k in range(leads, 1, -1)} | {f"post{k}": k for k in range(lags + 1)}
    out = {}
    for term, k in bins.items():
        if k == -leads:
            hit = ever & (rel <= k)
        elif k == lags:
            hit = ever & (rel >= k)
        else:
            hit = rel == k
        data[term] = hit.astype(float)
        if hit.any():
            out[term] = k
    return out


def _label(k: int, leads: int, lags: int) -> str:
    return f"{k:+d} or earlier" if k == -leads else f"{k:+d} or later" if k == lags else f"{k:+d}"


def _clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    from scipy import stats

    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


class _TwoStage:
    """Gardner's two-stage ATT and pyfixest's GMM cluster vcov for it, in numpy, for one
    panel and many treatment assignments: the placebo study's hundreds of fits take a
    millisecond each instead of pyfixest's formula parsing per fit. Every row has one unit
    and one year dummy (clusters are units), so the normal equations are built from
    counts. ``placebo`` checks it against ``pyfixest.did2s`` on its first draw."""

    def __init__(self, data: pd.DataFrame) -> None:
        units, self.unit = np.unique(data["unit"].to_numpy(), return_inverse=True)
        years, self.year = np.unique(data["year"].to_numpy(), return_inverse=True)
        self.u, self.t = len(units), len(years)
        self.cell = self.unit * self.t + self.year
        self.y = data["y"].to_numpy(dtype=float)
        self.clusters = self.u

    def _xt(self, w: np.ndarray) -> np.ndarray:
        """X1'w for unit dummies (all) and year dummies (the first year dropped)."""
        return np.concatenate([np.bincount(self.unit, w, self.u), np.bincount(self.year, w, self.t)[1:]])

    def fit(self, treated: np.ndarray) -> tuple[float, float]:
        """(ATT, its variance) for a 0/1 treatment vector."""
        untreated = 1.0 - treated
        u, t = self.u, self.t
        counts = np.bincount(self.cell, untreated, u * t).reshape(u, t)
        rhs = np.column_stack([self._xt(untreated * self.y), self._xt(treated)])
        # [[Du, C], [C', Dt]] with Du diagonal: solve the small year block (Schur complement)
        du, c = counts.sum(1), counts[:, 1:]
        if not du.all():
            raise ValidationError("a state without untreated years: its own effect cannot be estimated")
        schur = np.diag(counts.sum(0)[1:]) - c.T @ (c / du[:, None])
        try:
            z = np.linalg.solve(schur, rhs[u:] - c.T @ (rhs[:u] / du[:, None]))
        except np.linalg.LinAlgError:
            raise ValidationError("a year without untreated states: its effect cannot be estimated") from None
        both = np.vstack([(rhs[:u] - c @ z) / du[:, None], z])
        coef, v = both[:, 0], both[:, 1]  # first-stage effects; ((X2'X1)(X10'X10)^-1)'
        u1 = self.y - coef[:u][self.unit] - np.concatenate([[0.0], coef[u:]])[self.year]
        xx = float(treated @ treated)
        b = float(treated @ u1) / xx
        cells = np.bincount(self.cell, untreated * u1, u * t).reshape(u, t)  # X10'u1 per cluster
        s1 = cells.sum(1) * v[:u] + cells[:, 1:] @ v[u:]
        s2 = np.bincount(self.unit, treated * (u1 - treated * b), u)
        score = (s2 - s1) / xx
        return b, float(score @ score)


def placebo(
    panel: Panel, draws: int = 200, seed: int = 1, alpha: float = 0.05, real: float | None = None
) -> Placebo:
    """Re-estimate the ATT ``draws`` times with random adoption: as many states as were
    treated, chosen at random among all in the sample, each given one of the real adoption
    years it could have under the ``min_pre`` rule; the real treatment is ignored."""
    if draws < 1:
        raise ValidationError("placebos: at least one draw", field="placebos")
    data = panel.data[["unit", "year", "y"]].copy()
    spans = data.groupby("unit")["year"].agg(["min", "max"])
    years = np.array([y for y, n in panel.sample.cohorts.items() for _ in range(n)])
    eligible = {u: years[(years >= lo + panel.min_pre) & (years <= hi)] for u, (lo, hi) in spans.iterrows()}
    pool = np.array([u for u, ys in eligible.items() if len(ys)])
    n_treated = min(panel.sample.treated_units, len(pool))
    if n_treated == 0 or n_treated == len(spans):
        raise ValidationError("no room for placebo dates: every state would be treated or none could be")
    rng = np.random.default_rng(seed)
    fast = _TwoStage(data)
    units, index = np.unique(data["unit"].to_numpy(), return_inverse=True)
    year = data["year"].to_numpy()
    estimates, rejections = [], 0
    for i in range(draws):
        chosen = rng.choice(pool, n_treated, replace=False)
        by_unit = np.zeros(len(units), dtype=int)
        by_unit[np.searchsorted(units, chosen)] = [rng.choice(eligible[u]) for u in chosen]
        first = by_unit[index]
        treated = ((first > 0) & (year >= first)).astype(float)
        b, var = fast.fit(treated)
        if i == 0:  # the replica must agree with pyfixest, or nothing it says counts
            # (to pyfixest's precision: it recovers the fixed effects iteratively)
            data["treated"] = treated
            pb, pv, _, _ = _fit(data, ["treated"])
            if abs(b - pb[0]) > 1e-3 * np.sqrt(var) + 1e-9 or not np.isclose(var, pv[0, 0], rtol=1e-3):
                raise RuntimeError(f"placebo fit differs from pyfixest: {b}, {var} vs {pb[0]}, {pv[0, 0]}")
        c = _coef("treated", None, "after", b, var, fast.clusters - 1, alpha)
        estimates.append(c.estimate)
        rejections += c.p_value < alpha
    est = np.array(estimates)
    low, high = _clopper_pearson(rejections, draws)
    extreme = float(np.mean(np.abs(est) >= abs(real))) if real is not None else None
    scheme = (
        f"{n_treated} of {len(spans)} states drawn at random each time, each given a real adoption year "
        f"it could take (at least {panel.min_pre} untreated years before); the real treatment ignored"
    )
    return Placebo(
        draws, seed, alpha, rejections, rejections / draws, low, high, float(est.mean()),
        float(est.std(ddof=1)) if draws > 1 else 0.0, extreme, scheme,
    )  # fmt: skip


# ------------------------------------------------------------------ the study


def estimate(
    panel: Panel,
    *,
    leads: int = 5,
    lags: int = 5,
    placebos: int = 200,
    seed: int = 1,
    alpha: float = 0.05,
) -> EffectStudy:
    """The ATT, the event study with its pre-trend test, and the placebo study."""
    import pyfixest as pf
    from scipy import stats

    if leads < 2 or lags < 0:
        raise ValidationError("leads: at least 2 (year -1 is the reference); lags: at least 0")
    data = panel.data.copy()
    b, v, g, notes = _fit(data, ["treated"])
    att = _coef("treated", None, "after adoption", b[0], v[0, 0], g - 1, alpha)
    terms = event_terms(data, leads, lags)
    b, v, g, more = _fit(data, list(terms))
    event = [
        _coef(t, k, _label(k, leads, lags), b[i], v[i, i], g - 1, alpha)
        for i, (t, k) in enumerate(terms.items())
    ]
    pre = [i for i, t in enumerate(terms) if t.startswith("pre")]
    pretrend = None
    if pre:
        r, cov = b[pre], v[np.ix_(pre, pre)]
        f_stat = float(r @ np.linalg.pinv(cov) @ r) / len(pre)
        p = float(stats.f.sf(f_stat, len(pre), g - 1))
        pretrend = PreTrend(tuple(terms)[: len(pre)], f_stat, len(pre), g - 1, p)
    records = panel.treatment.records
    from detente.core.markings import derived_marking

    marking = derived_marking(records).render()
    study = EffectStudy(
        treatment={"name": panel.treatment.name, "title": panel.treatment.title},
        outcome={"name": panel.outcome.name, "title": panel.outcome.title, "unit": panel.outcome.unit},
        first=panel.first,
        last=panel.last,
        system=panel.system,
        min_pre=panel.min_pre,
        estimator=(
            f"Gardner two-stage DiD (pyfixest {pf.__version__} did2s), SEs clustered by state (GMM); "
            f"t and F with {g - 1} degrees of freedom"
        ),
        att=att,
        event=event,
        pretrend=pretrend,
        placebo=placebo(panel, placebos, seed, alpha, real=att.estimate) if placebos else None,
        sample=panel.sample,
        provenance=list(panel.provenance),
        marking=marking,
        notes=sorted(set(notes + more)),
    )
    study.can, study.cannot = claims(study, panel)
    return study


def run_study(
    lake: Lake,
    treatment: str | Treatment = "dcad_first",
    outcome: str | Outcome = "brd_log",
    first: int = 1990,
    last: int = 2010,
    *,
    system: str = "cow",
    min_pre: int = 2,
    leads: int = 5,
    lags: int = 5,
    placebos: int = 200,
    seed: int = 1,
) -> EffectStudy:
    """One call for the interfaces: names (or objects) in, a study out."""
    treat = named_treatment(lake, treatment) if isinstance(treatment, str) else treatment
    out = named_outcome(outcome) if isinstance(outcome, str) else outcome
    panel = build_panel(lake, treat, out, first, last, system=system, min_pre=min_pre)
    return estimate(panel, leads=leads, lags=lags, placebos=placebos, seed=seed)


def with_outcome(panel: Panel, y: Any, name: str = "synthetic") -> Panel:
    """The same panel with another outcome column (for simulations and checks)."""
    data = panel.data.copy()
    data["y"] = np.asarray(y, dtype=float)
    out = replace(panel.outcome, name=name, title=f"{name} outcome", caveat="")
    sample = replace(panel.sample, nonzero_share=float((data["y"] != 0).mean()))
    return replace(panel, data=data, outcome=out, sample=sample)
