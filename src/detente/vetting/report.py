"""A screening's answer, as the API returns it and the CLI prints it: the candidates, each
with what raised its score and what speaks against it, the lists and their versions.

One shape for both interfaces, so ``detente vet screen`` shows the same answer whether it
screened in its own process or asked a running ``detente serve`` (which keeps the lists
and the matcher loaded)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from detente.vetting.match import THRESHOLD

if TYPE_CHECKING:
    from detente.vetting.match import Match
    from detente.vetting.screen import Screener

__all__ = ["OPEN", "Candidate", "Feature", "ScreenResult", "result"]

OPEN = "UNCLASSIFIED//TLP:CLEAR"  # the lists are open data; the subject is not stored


class Feature(BaseModel):
    name: str
    score: float = Field(description="The feature's value.")
    weight: float = Field(
        description="How much it moved the score, in log-odds (negative: counter-evidence); for "
        "logic-v2's features, the feature's weight in logic-v2's total."
    )
    detail: str


Strings = list[str]  # spelled once here: Candidate has a field named ``list``
Features = list[Feature]


def _no_features() -> Features:
    return []


def _no_lines() -> Strings:
    return []


class Candidate(BaseModel):
    key: str
    list: str
    name: str
    schema_: str = Field(alias="schema")
    aliases: Strings
    birth_dates: Strings
    countries: Strings
    programs: Strings
    score: float = Field(description="The learned matcher's score (a match at the threshold or more).")
    matched: bool
    features: Features = Field(description="What raised or lowered the score, strongest first.")
    counter_evidence: Features = Field(
        description="The features that lowered the score, strongest first: why a near miss is not a match."
    )
    base_score: float | None = Field(None, description="logic-v2's own score of the same pair.")
    base_features: Features = Field(default_factory=_no_features, description="logic-v2's explanation.")
    why: Strings = Field(
        default_factory=_no_lines,
        description="What raised the score, strongest first, then the counter-evidence, as text.",
    )
    subject_name: str | None = Field(None, description="The subject's name that matched best.")
    listed_name: str | None = Field(None, description="The listed name (primary or alias) it matched.")


class ScreenResult(BaseModel):
    marking: str
    threshold: float
    lists: dict[str, str]
    listed: int
    candidates: list[Candidate]


def candidate(m: Match) -> Candidate:
    listed = m.listed
    shown = sorted(((n, v) for n, v in m.features.items() if n != "base"), key=lambda x: -abs(x[1][1]))
    return Candidate(
        key=listed.key, list=listed.source, name=listed.name, schema=listed.schema,
        aliases=list(listed.aliases), birth_dates=list(listed.birth_dates), countries=list(listed.countries),
        programs=list(listed.programs), score=m.score, matched=m.matched,
        features=[Feature(name=n, score=s, weight=w, detail=d) for n, (s, w, d) in shown],
        counter_evidence=[
            Feature(name=n, score=m.features[n][0], weight=c, detail=d) for n, c, d in m.counter_evidence
        ],
        base_score=m.base_score,
        base_features=[
            Feature(name=n, score=s, weight=w, detail=d) for n, (s, w, d) in m.base_features.items()
        ],
        why=m.explain(), subject_name=m.names[0] if m.names else None,
        listed_name=m.names[1] if m.names else None,
    )  # fmt: skip


def result(screener: Screener, found: list[Match]) -> ScreenResult:
    """The answer to one screening by ``screener``."""
    return ScreenResult(
        marking=OPEN,
        threshold=THRESHOLD,
        lists=screener.versions,
        listed=len(screener.listed),
        candidates=[candidate(m) for m in found],
    )
