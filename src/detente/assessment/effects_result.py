"""An effect study's result: the estimates, the pre-trend test, the placebo study, and the
study as a whole with what it can and cannot claim, as a dict or Markdown.

Plain values; the numbers come from ``detente.assessment.effects`` and the wording of the
claims from ``detente.assessment.effects_claims``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from detente.assessment.effects_panel import Sample

__all__ = ["OPEN", "Coefficient", "EffectStudy", "Placebo", "PreTrend"]

OPEN = "UNCLASSIFIED//TLP:CLEAR"


@dataclass(frozen=True)
class Coefficient:
    """One estimate with its standard error, 1 - alpha interval and p-value (Student's t, ``df``)."""

    term: str
    rel: int | None  # years since adoption (the bin's edge for the end bins)
    label: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    df: int


@dataclass(frozen=True)
class PreTrend:
    """The joint Wald (F) test that the lead coefficients are all zero."""

    terms: tuple[str, ...]
    f_statistic: float
    df1: int
    df2: int
    p_value: float


@dataclass(frozen=True)
class Placebo:
    """The placebo study: how often random adoption dates reject at ``alpha``."""

    draws: int
    seed: int
    alpha: float
    rejections: int
    rate: float
    ci_low: float
    ci_high: float
    mean_estimate: float
    sd_estimate: float
    as_extreme: float | None  # share of draws at least as far from zero as the real estimate
    scheme: str


@dataclass
class EffectStudy:
    """An effect study's numbers, inputs' provenance, marking, and claims in plain words."""

    treatment: dict[str, str]
    outcome: dict[str, str]
    first: int
    last: int
    system: str
    min_pre: int
    estimator: str
    att: Coefficient
    event: list[Coefficient]
    pretrend: PreTrend | None
    placebo: Placebo | None
    sample: Sample
    provenance: list[dict[str, Any]]
    marking: str = OPEN
    notes: list[str] = field(default_factory=list)  # the estimator's warnings
    can: list[str] = field(default_factory=list)
    cannot: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The study as JSON-ready values (cohort years as strings)."""
        out = asdict(self)
        out["sample"]["cohorts"] = {str(k): v for k, v in self.sample.cohorts.items()}
        return out

    def to_markdown(self) -> str:
        """The study as a Markdown report: the table of estimates, the claims, the data."""
        t, o, a = self.treatment, self.outcome, self.att
        lines = [
            f"# Effect study: {t['title']} and {o['title']}, {self.first}-{self.last}",
            "",
            f"*Marking: {self.marking}*. Estimator: {self.estimator}.",
            "",
            "| | estimate | 95% CI | p |",
            "|---|---:|---:|---:|",
            f"| ATT ({o['unit']}) | {a.estimate:+.3f} | {a.ci_low:+.3f} to {a.ci_high:+.3f} "
            f"| {a.p_value:.3g} |",
        ]
        if self.pretrend:
            p = self.pretrend
            lines.append(f"| pre-trend F({p.df1}, {p.df2}) | {p.f_statistic:.2f} | | {p.p_value:.3g} |")
        if self.placebo:
            q = self.placebo
            lines.append(
                f"| placebo false-positive rate ({q.rejections}/{q.draws} at p < {q.alpha:g}) "
                f"| {q.rate:.1%} | {q.ci_low:.1%} to {q.ci_high:.1%} | |"
            )
        s = self.sample
        lines += [
            "",
            f"Sample: {s.units} states ({s.treated_units} treated, {s.never_treated_units} not treated by "
            f"{self.last}), {s.country_years:,} country-years ({s.treated_country_years:,} treated); "
            f"dropped {s.dropped_already_treated} already treated before {self.first} and {s.dropped_short} "
            f"with fewer than {self.min_pre} untreated years.",
            "",
            "## By year since adoption (reference: the year before)",
            "",
            "| term | years | estimate | 95% CI | p |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| {c.term} | {c.label} | {c.estimate:+.3f} | {c.ci_low:+.3f} to {c.ci_high:+.3f} "
                f"| {c.p_value:.3g} |"
                for c in self.event
            ),
            "",
            "## What this design can claim",
            "",
            *(f"- {x}" for x in self.can),
            "",
            "## What it cannot claim",
            "",
            *(f"- {x}" for x in self.cannot),
            "",
            "## Data",
            "",
            *(
                f"- {p['source']} {p['version']} ({p['coverage']}), sha256 {p['sha256'][:12]}"
                for p in self.provenance
            ),
        ]  # fmt: skip
        return "\n".join(lines) + "\n"
