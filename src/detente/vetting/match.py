"""Scoring one subject against one listed entity, with the evidence.

Two layers. The base is OpenSanctions' ``logic-v2`` matcher (``nomenklatura``, on ``rigour``
and ``followthemoney``), the one behind its screening API: it compares names part by part
after analysing them (honorifics and legal forms normalised, other scripts transliterated,
known given names paired as symbols, parts in any order, initials, a budgeted fuzzy
distance), then lets dates of birth, countries and gender lower the score and identifiers
raise it.

On top of it, the learned matcher (``detente.vetting.learned``) adds what logic-v2 lacks
(acronyms and initialisms, script-aware transliteration with consonant skeletons, given-name
agreement so that a shared family name is not a match, token rarity, nicknames and
honorifics, agreement of dates of birth, countries and identifiers) and combines them with
logic-v2's own score in a gradient-boosted model. ``compare`` gives the learned score; the
logic-v2 score and its explanation stay on the match as ``base_score`` and
``base_features``.

Every score comes with its explanation: each feature, its value, how much it moved the
score (log-odds) and what it found; the features that lowered it are the counter-evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from detente.core.errors import ValidationError

__all__ = [
    "SCHEMAS",
    "THRESHOLD",
    "Listed",
    "Match",
    "Subject",
    "base_compare",
    "base_scores",
    "compare",
    "entity",
]

THRESHOLD = 0.7  # logic-v2's own default for a match, and the learned matcher's (its offset puts it there)
SCHEMAS = ("Person", "Organization", "Company", "LegalEntity", "Vessel", "Aircraft")
MAX_NAME = 500  # the longest real names on the lists are about 250 characters
# control characters and text-direction overrides are refused (they hide or reorder text);
# invisible marks are dropped; the zero-width (non-)joiners of Persian and Indic names stay
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_INVISIBLE = re.compile(r"[\u200b\u200e\u200f\ufeff]")


def clean_name(value: str, what: str = "name") -> str:
    """A name as given, refused when it is too long or carries control characters
    (bidirectional overrides and zero-width characters included: they hide text)."""
    if len(value) > MAX_NAME:
        raise ValidationError(
            f"{len(value):,} characters; names longer than {MAX_NAME} are refused", field=what
        )
    if _CONTROL.search(value):
        at = _CONTROL.search(value).start()  # type: ignore[union-attr]
        raise ValidationError(
            f"control character U+{ord(value[at]):04X} at position {at + 1}; "
            "names may not carry control, zero-width or text-direction characters",
            field=what,
        )
    value = " ".join(_INVISIBLE.sub("", value).split())
    if not value:
        raise ValidationError("empty", field=what)
    return value


@dataclass(frozen=True)
class Subject:
    """Who is being screened: a person, organisation, unit or vessel."""

    name: str
    schema: str = "Person"
    aliases: tuple[str, ...] = ()
    birth_date: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD
    countries: tuple[str, ...] = ()  # ISO 3166 alpha-3 or alpha-2
    identifiers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_name(self.name))
        object.__setattr__(self, "aliases", tuple(clean_name(a, "alias") for a in self.aliases))
        if self.schema not in SCHEMAS:
            raise ValidationError(f"{self.schema!r} is not one of {', '.join(SCHEMAS)}", field="schema")
        if self.birth_date and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", self.birth_date):
            raise ValidationError(
                f"{self.birth_date!r}: give the date of birth as YYYY, YYYY-MM or YYYY-MM-DD", field="dob"
            )

    @property
    def names(self) -> list[str]:
        return [self.name, *self.aliases]


@dataclass(frozen=True)
class Listed:
    """One entity on a loaded list (``detente.sources.sanctions``' shape)."""

    key: str  # "<source>:<entity_id>"
    source: str
    schema: str
    name: str
    aliases: tuple[str, ...] = ()
    birth_dates: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    listed_on: str | None = None
    weak_aliases: tuple[str, ...] = ()  # nicknames and noms de guerre the list calls weak

    @property
    def names(self) -> list[str]:
        """The primary name and the aliases that are not weak."""
        weak = set(self.weak_aliases)
        return [self.name, *(a for a in self.aliases if a not in weak)]

    @property
    def all_names(self) -> list[str]:
        return [self.name, *self.aliases, *(w for w in self.weak_aliases if w not in self.aliases)]


@dataclass(frozen=True)
class Match:
    """A listed entity's score against the subject, and why."""

    listed: Listed
    score: float
    # feature -> (its value, how much it moved the score in log-odds, what it found)
    features: dict[str, tuple[float, float, str]] = field(default_factory=dict)
    base_score: float | None = None  # logic-v2's own score
    # logic-v2's features: feature -> (its score, its weight in logic-v2's total, detail)
    base_features: dict[str, tuple[float, float, str]] = field(default_factory=dict)
    names: tuple[str, str] | None = None  # the subject's name and the listed name that matched best
    exact: bool = False  # those two names are the same once prepared (spelling, order, case aside)

    @property
    def matched(self) -> bool:
        return self.score >= THRESHOLD

    @property
    def counter_evidence(self) -> list[tuple[str, float, str]]:
        """The evidence that lowered the score, strongest first: (feature, log-odds, detail).
        The absence of a kind of evidence (no acronym, no date to compare) is not evidence."""
        against = [(n, c, d) for n, (v, c, d) in self.features.items() if c <= -0.05 and _evidence(n, v)]
        return sorted(against, key=lambda x: x[1])

    def explain(self) -> list[str]:
        """What raised the score, strongest first, then the counter-evidence."""
        shown = [(n, v, c, d) for n, (v, c, d) in self.features.items() if _evidence(n, v)]
        support = sorted((x for x in shown if x[2] > 0.05), key=lambda x: -x[2])
        lines = [f"{n} {v:.2f} ({c:+.2f})" + (f": {d}" if d else "") for n, v, c, d in support]
        lines += [f"against: {n} {self.features[n][0]:.2f} ({c:+.2f})" + (f": {d}" if d else "")
                  for n, c, d in self.counter_evidence]  # fmt: skip
        if not lines and self.base_features:
            lines = [
                f"{name} {score:.2f} x {weight:+.2f}" + (f": {detail}" if detail else "")
                for name, (score, weight, detail) in self.base_features.items()
            ]
        return lines


# features whose zero means "nothing to compare", and features that describe, not compare
_ABSENT_AT_ZERO = frozenset(
    [
        "acronym", "dob_agree", "dob_conflict", "country_agree", "country_conflict", "identifier_match",
        "given_name_conflict", "number_conflict", "legal_form_conflict", "unmatched_query",
        "unmatched_listed", "rare_weak", "parent_swap", "place_conflict", "place_extra", "number_extra",
    ]
)  # fmt: skip
_DESCRIPTIVE = frozenset(["base", "person", "cross_script", "query_tokens", "listed_tokens"])


def _evidence(name: str, value: float) -> bool:
    return name not in _DESCRIPTIVE and not (name in _ABSENT_AT_ZERO and value == 0)


_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}  # noqa: SIM905
_DAY_MONTH_YEAR = re.compile(r"^(?:(\d{1,2}) )?([A-Za-z]{3})[a-z]* (\d{4})$")
_YEARS = re.compile(r"^(\d{4}) to (\d{4})$")


def iso_dates(value: str) -> list[str]:
    """A listed date of birth as ISO dates (``YYYY[-MM[-DD]]``): the lists write "08 Jan
    1984", "Jan 1984", "circa 1970" or "1965 to 1969" as well as ISO. Unreadable text
    gives nothing, so it can neither confirm nor contradict a match."""
    text = value.strip().lower().removeprefix("circa ").removeprefix("approximately ").strip()
    if re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text):
        return [text]
    found = _DAY_MONTH_YEAR.match(text)
    if found and found.group(2)[:3] in _MONTHS:
        day, month, year = found.group(1), _MONTHS[found.group(2)[:3]], found.group(3)
        return [f"{year}-{month:02d}-{int(day):02d}" if day else f"{year}-{month:02d}"]
    span = _YEARS.match(text)
    if span and 0 <= int(span.group(2)) - int(span.group(1)) <= 10:
        return [str(y) for y in range(int(span.group(1)), int(span.group(2)) + 1)]
    return []


@cache
def _country(code: str) -> str:
    """FollowTheMoney's country code (ISO alpha-2, lower case) for a code or a name."""
    from detente.core.countries import resolve
    from detente.core.errors import UnknownCountryError

    try:
        return (resolve(code).iso2 or code).lower()
    except UnknownCountryError:
        return code.lower()


def entity(thing: Subject | Listed, key: str | None = None) -> Any:
    """A FollowTheMoney entity for the matcher, its id a fingerprint of the content."""
    from followthemoney import model

    schema = thing.schema if thing.schema in SCHEMAS else "LegalEntity"
    schema = "Airplane" if schema == "Aircraft" else schema  # FollowTheMoney's name for it
    proxy = model.make_entity(schema)
    proxy.id = key or _fingerprint(thing)
    proxy.add("name", thing.name, cleaned=True)
    weak = set(thing.weak_aliases) if isinstance(thing, Listed) else set()
    proxy.add("alias", [a for a in thing.aliases if a not in weak], cleaned=True)
    if weak:
        proxy.add("weakAlias", sorted(weak), cleaned=True)
    dates = (
        thing.birth_dates if isinstance(thing, Listed) else ((thing.birth_date,) if thing.birth_date else ())
    )
    if schema == "Person":
        proxy.add("birthDate", [iso for d in dates if d for iso in iso_dates(d)], quiet=True)
        proxy.add("nationality", [_country(c) for c in thing.countries], quiet=True)
    else:
        proxy.add("country", [_country(c) for c in thing.countries], quiet=True)
    if schema in ("Person", "Organization", "Company", "LegalEntity"):
        proxy.add("idNumber", list(thing.identifiers), quiet=True)
    elif schema == "Vessel":
        proxy.add("imoNumber", list(thing.identifiers), quiet=True)
    return proxy


def _fingerprint(thing: Subject | Listed) -> str:
    """An id from the content: the matcher caches its name analysis by entity id, so two
    different names must never share one (a reloaded list, or an id Python reuses)."""
    import hashlib

    return hashlib.sha256(repr(thing).encode()).hexdigest()[:32]


@cache
def _algorithm() -> tuple[Any, Any]:
    from nomenklatura.matching import get_algorithm

    algorithm = get_algorithm("logic-v2")
    if algorithm is None:  # pragma: no cover - part of nomenklatura
        raise RuntimeError("nomenklatura has no logic-v2 matcher")
    return algorithm, algorithm.default_config()


@cache
def _weights() -> dict[str, float]:
    algorithm, config = _algorithm()
    return {f.name: float(config.weights.get(f.name, f.weight)) for f in algorithm.features}


def base_compare(query: Any, listed: Listed, candidate: Any | None = None) -> Match:
    """logic-v2's score of ``query`` (an entity from ``entity(subject)``) against ``listed``."""
    algorithm, config = _algorithm()
    result = algorithm.compare(query, candidate if candidate is not None else entity(listed), config)
    weights = _weights()
    features = {
        name: (float(r.score), weights.get(name, 0.0), r.detail or "")
        for name, r in result.explanations.items()
        if r.score != 0
    }
    return Match(listed, float(result.score), features, float(result.score), features)


def base_scores(query: Any, listed: Listed, candidate: Any | None = None) -> tuple[float, float]:
    """logic-v2's score and its name score: the learned matcher's first two features."""
    found = base_compare(query, listed, candidate)
    return found.score, found.base_features.get("name_match", (0.0, 0.0, ""))[0]


def compare(query: Any, listed: Listed, candidate: Any | None = None, rarity: Any | None = None) -> Match:
    """The learned score of ``query`` (an entity from ``entity(subject)``) against
    ``listed``, with its explanation; ``rarity`` is the token rarity of the lists loaded
    (``detente.vetting.features.Rarity``; by default that of the names the model was
    trained with)."""
    from detente.vetting.learned import Query, explain, score_candidates

    base = base_compare(query, listed, candidate)
    subject = Query.of(query)
    name_score = base.base_features.get("name_match", (0.0, 0.0, ""))[0]
    found = score_candidates(subject, [(listed, (base.score, name_score))], rarity)
    if not found:
        return base
    best = found[0]
    return Match(
        listed, best.score, explain(best, subject, listed, rarity), base.score, base.base_features,
        (best.query_name.text, best.listed_name.text), best.exact,
    )  # fmt: skip
