"""Grading on the NATO (Admiralty) system and the misinformation guard, as pure rules.

Source reliability A-F and information credibility 1-6 (STANAG 2511 / AJP-2.1), their
words, the STIX 2.1 ``confidence`` of a credibility (the specification's Appendix A
"Admiralty Credibility" mapping: 1 -> 90, 2 -> 70, 3 -> 50, 4 -> 30, 5 -> 10, 6 -> not
present), and when a report carries a caution: graded 5 or 6, from an F source, or unverified.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import AfterValidator

__all__ = [
    "CREDIBILITY",
    "RELIABILITY",
    "VERIFICATION",
    "caution",
    "credibility_validator",
    "grade_words",
    "guarded",
    "reliability_validator",
    "stix_confidence",
]

RELIABILITY = {
    "A": "completely reliable",
    "B": "usually reliable",
    "C": "fairly reliable",
    "D": "not usually reliable",
    "E": "unreliable",
    "F": "reliability cannot be judged",
}
CREDIBILITY = {
    1: "confirmed by other sources",
    2: "probably true",
    3: "possibly true",
    4: "doubtful",
    5: "improbable",
    6: "truth cannot be judged",
}
# STIX 2.1, Appendix A, Admiralty Credibility scale -> confidence (6: the property is absent)
_CONFIDENCE = {1: 90, 2: 70, 3: 50, 4: 30, 5: 10}
VERIFICATION = ("unverified", "corroborated", "contradicted", "withdrawn")


def _choices(check: Callable[[Any], Any], values: tuple[str, ...]) -> Any:
    check.choices = lambda: values  # type: ignore[attr-defined]
    return AfterValidator(check)


def _reliability(value: str) -> str:
    letter = str(value).strip().upper()
    if letter not in RELIABILITY:
        raise ValueError(
            f"source reliability {value!r}: one of A-F (A completely reliable ... F cannot be judged)"
        )
    return letter


def _credibility(value: int) -> int:
    if value not in CREDIBILITY:
        raise ValueError(
            f"information credibility {value!r}: one of 1-6 (1 confirmed ... 6 cannot be judged)"
        )
    return value


def reliability_validator() -> Any:
    """A field validator: a source reliability letter A-F (lists its choices for forms)."""
    return _choices(_reliability, tuple(RELIABILITY))


def credibility_validator() -> Any:
    """A field validator: an information credibility 1-6."""
    return AfterValidator(_credibility)


def grade_words(reliability: str, credibility: int | None = None) -> str:
    """``usually reliable, B`` (and ``, probably true, 2`` when a credibility is given)."""
    text = f"{RELIABILITY.get(reliability, 'unknown reliability')}, {reliability}"
    if credibility is not None:
        text += f"; {CREDIBILITY.get(credibility, 'unknown credibility')}, {credibility}"
    return text


def stix_confidence(credibility: int) -> int | None:
    """STIX 2.1 ``confidence`` of an Admiralty credibility (None for 6: cannot be judged)."""
    return _CONFIDENCE.get(credibility)


def caution(reliability: str, credibility: int, verification: str) -> str | None:
    """The misinformation caution a report carries in every view and export, or None."""
    reasons = []
    if credibility in (5, 6):
        reasons.append(f"information graded {credibility} ({CREDIBILITY[credibility]})")
    if reliability == "F":
        reasons.append("source reliability cannot be judged (F)")
    if verification == "unverified":
        reasons.append("not verified")
    elif verification == "contradicted":
        reasons.append("contradicted by other reporting")
    elif verification == "withdrawn":
        reasons.append("withdrawn by its originator")
    return ("CAUTION: " + "; ".join(reasons)) if reasons else None


def guarded(credibility: int, verification: str) -> bool:
    """Whether releasing needs the guard's override: unverified and graded 5 or 6."""
    return verification == "unverified" and credibility in (5, 6)
