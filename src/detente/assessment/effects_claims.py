"""What an effect study can and cannot claim, in plain words worded from its numbers.

It says "association", never "effect of": a staggered difference-in-differences on
observational country-years does not show that the treatment caused the change, and the
list of what the study cannot claim says why, for this panel and these estimates.
"""

from __future__ import annotations

from detente.assessment.effects_panel import Panel
from detente.assessment.effects_result import EffectStudy

__all__ = ["claims"]

# what the design cannot claim whatever the numbers
_ALWAYS_CANNOT = [
    "Causation. States choose to adopt; whatever leads a state to sign (a war ending, a new "
    "government, a patron's interest) can also move the outcome. The design removes stable "
    "differences between states and shocks common to all states in a year, not time-varying "
    "reasons for adopting.",
    "Anticipation and reverse causation: agreements are negotiated over months or years, and a change "
    "in conflict can prompt one. The year before adoption is the reference, so a change that starts "
    "then is invisible, and one that causes adoption looks like its effect.",
    "Spillovers: an agreement binds two states, and neighbours' and rivals' agreements may matter; the "
    "design assumes a state's outcome depends only on its own adoption.",
    "Heterogeneity: every adoption counts alike, and only the first; later agreements are part of "
    "'after'. The average hides differences between partners and kinds of agreement.",
]


def claims(study: EffectStudy, panel: Panel) -> tuple[list[str], list[str]]:
    """What ``study`` can claim, and what it cannot, each a list of sentences."""
    s = study.sample
    span = f"{min(s.cohorts)}-{max(s.cohorts)}" if min(s.cohorts) < max(s.cohorts) else str(min(s.cohorts))
    who = f"the {s.treated_units} states treated in {span}"
    can = _association(study, panel, who)
    cannot: list[str] = []
    _pretrend(study, can, cannot)
    _placebo(study, can, cannot)
    cannot += _limits(study, panel, who)
    return can, cannot


def _association(study: EffectStudy, panel: Panel, who: str) -> list[str]:
    """The ATT in words, its path over time since treatment, and whether it is told from zero."""
    a, o = study.att, panel.outcome
    direction = "lower" if a.estimate < 0 else "higher"
    can = [
        f"An association: for {who} (treatment: {panel.treatment.title}), the outcome ({o.title}) was on "
        f"average {abs(a.estimate):.3f} {direction} after treatment ({o.unit}; ATT {a.estimate:+.3f}, 95% "
        f"CI {a.ci_low:+.3f} to {a.ci_high:+.3f}, p = {a.p_value:.3g}) than their own untreated years and "
        "the year-to-year movement of states not (yet) treated predict."
    ]
    after = [c for c in study.event if c.term.startswith("post")]
    if len(after) > 1:
        first, last = after[0], after[-1]
        can.append(
            f"Over time since treatment: {first.estimate:+.3f} in its first year and {last.estimate:+.3f} in "
            f"year {last.label} (95% CI {last.ci_low:+.3f} to {last.ci_high:+.3f}); the later years rest on "
            "early adopters only, so the path mixes time since treatment with who was treated early."
        )
    if a.ci_low > 0 or a.ci_high < 0:
        can.append("The association is distinguishable from zero at the 5% level.")
    else:
        can.append(
            f"The association is not distinguishable from zero: anything from {a.ci_low:+.3f} to "
            f"{a.ci_high:+.3f} is compatible with the data, so the study cannot say the outcome changed."
        )
    return can


def _pretrend(study: EffectStudy, can: list[str], cannot: list[str]) -> None:
    """What the pre-trend test says about parallel trends (added to ``can`` or ``cannot``)."""
    pt, s = study.pretrend, study.sample
    if pt is None:
        cannot.append("No pre-trend test: no treated state has untreated years before the reference year.")
    elif pt.p_value < 0.05:
        cannot.append(
            f"Parallel trends are doubtful: before adopting, treated states were already moving apart from "
            f"the comparison states (joint test of {pt.df1} leads: F = {pt.f_statistic:.2f}, p = "
            f"{pt.p_value:.3g}). The estimate should not be read as the treatment's effect."
        )
    else:
        can.append(
            f"Before adopting, treated states did not drift detectably from the comparison states (joint "
            f"test of {pt.df1} leads: F = {pt.f_statistic:.2f}, p = {pt.p_value:.3g}): consistent with "
            f"parallel trends, which it cannot prove (the test has limited power with {s.treated_units} "
            "treated states, and trends could part after treatment for other reasons)."
        )


def _placebo(study: EffectStudy, can: list[str], cannot: list[str]) -> None:
    """Whether the test is calibrated on this panel, by the placebo draws (if any were made)."""
    q = study.placebo
    if q is None:
        return
    rate = (
        f"random adoption dates gave p < {q.alpha:g} in {q.rejections} of {q.draws} draws ({q.rate:.1%}, "
        f"95% interval {q.ci_low:.1%} to {q.ci_high:.1%})"
    )
    if q.as_extreme:
        extreme = f"{q.as_extreme:.1%} of placebo estimates were as far from zero as the real one"
    else:
        extreme = (
            f"none of the {q.draws} placebo estimates was as far from zero as the real one "
            f"(randomisation p < {1 / q.draws:.2g})"
        )
    if q.ci_low <= q.alpha <= q.ci_high:
        can.append(
            f"The test is calibrated on this panel: {rate}, close to the nominal {q.alpha:.0%}; {extreme}."
        )
    elif q.ci_low > q.alpha:
        cannot.append(
            f"The p-values are too small on this panel: {rate}, more than the nominal {q.alpha:.0%}. "
            f"Read the estimate against the placebo distribution instead: {extreme}."
        )
    else:
        can.append(f"The test is conservative on this panel: {rate}; {extreme}.")


def _limits(study: EffectStudy, panel: Panel, who: str) -> list[str]:
    """What the design cannot claim: always, and for this sample, outcome and treatment."""
    s = study.sample
    cannot = [
        *_ALWAYS_CANNOT,
        f"Other states: the estimate speaks for {who}, not for the {s.dropped_already_treated} already "
        f"treated before {study.first} nor the {s.dropped_short} with fewer than {study.min_pre} untreated "
        "years in the window.",
    ]
    if s.treated_units < 20:
        cannot.append(
            f"Trustworthy p-values from clustered standard errors: with only {s.treated_units} treated "
            "states they are too small; judge the estimate against the placebo draws instead."
        )
    few = " (few: the comparison leans on states not yet treated)" if s.never_treated_units < 20 else ""
    cannot.append(
        f"More precision than its clusters carry: the {s.country_years:,} country-years are not "
        f"independent; inference rests on {s.units} states as clusters, {s.never_treated_units} of them "
        f"not treated by {study.last}{few}."
    )
    if s.nonzero_share < 0.25:
        cannot.append(
            f"Typical states: only {s.nonzero_share:.0%} of country-years have a nonzero outcome, so the "
            "average is driven by the few states in conflict."
        )
    cannot += [c for c in (panel.outcome.caveat, panel.treatment.caveat) if c]
    return cannot
