"""The learned matcher: logic-v2's verdict and the features it lacks
(``detente.vetting.features``), combined by a gradient-boosted model.

A subject is compared with a listed entity name by name: each of the subject's names against
the listed names most like it (primary name, aliases and weak aliases), each pair with the
records' dates of birth, countries and identifiers. The entity's score is its best pair's, so
an entity is found by whichever of its names the subject uses; a pair found through a weak
alias (a nickname or nom de guerre, as the list marks it) counts for 0.8 of its score, the
weight logic-v2 gives weak aliases, unless the subject's name is that alias exactly. The model's contributions
(TreeSHAP, in log-odds) say how much each feature moved that score, and the features that
lowered it are the counter-evidence.

The model ships in the package (``data/matcher.json.gz``, made by
``analyses/vetting_model.py``), with the token frequencies it was trained with
(``data/rarity.json.gz``), used when no list is loaded (scoring a pair file).
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from detente.core.errors import DetenteError
from detente.vetting.features import (
    FEATURES,
    Fields,
    Rarity,
    field_features,
    name_features,
)
from detente.vetting.names import Prepared, prepare

__all__ = [
    "Model",
    "Query",
    "Scored",
    "explain",
    "explain_many",
    "reference_rarity",
    "score_candidates",
    "shipped",
]

DATA = Path(__file__).resolve().parent / "data"
PER_NAME = 2  # listed names scored in full per subject name (the most alike by a quick look)
WEAK = 0.8  # a weak alias counts for this share of a name (logic-v2's weight for weak aliases)
OTHER_KIND = 0.5  # a person against an organisation or a vessel (and so on) keeps half its score


class ModelError(DetenteError):
    """The matcher's model file is missing or unreadable."""


@dataclass
class Model:
    """A LightGBM booster over ``FEATURES`` and a shift of its log-odds, chosen by
    cross-validation so that the default threshold is the best operating point."""

    booster: str  # LightGBM's model text
    offset: float = 0.0
    features: tuple[str, ...] = FEATURES
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import lightgbm as lgb

        if tuple(self.features) != FEATURES:
            raise ModelError(f"the model's features {self.features} are not this version's {FEATURES}")
        self._booster = lgb.Booster(model_str=self.booster)

    def logits(self, x: np.ndarray) -> np.ndarray:
        raw = self._booster.predict(x, raw_score=True, num_threads=1)
        return np.asarray(raw, dtype=float) + self.offset

    def predict(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(x)))

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per-feature contributions in log-odds (TreeSHAP), the last column the base value
        (with the offset): each row sums to the row's log-odds."""
        out = np.asarray(self._booster.predict(x, pred_contrib=True, num_threads=1), dtype=float)
        out[:, -1] += self.offset
        return out

    def dump(self) -> bytes:
        doc = {
            "booster": self.booster,
            "offset": self.offset,
            "features": list(self.features),
            "meta": self.meta,
        }
        return gzip.compress(json.dumps(doc).encode(), mtime=0)

    @classmethod
    def load(cls, path: Path) -> Model:
        try:
            doc = json.loads(gzip.decompress(path.read_bytes()))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: cannot read the matcher's model ({exc})") from None
        return cls(doc["booster"], float(doc["offset"]), tuple(doc["features"]), doc.get("meta", {}))


@cache
def shipped() -> Model:
    """The model the package ships."""
    return Model.load(DATA / "matcher.json.gz")


@cache
def reference_rarity() -> Rarity:
    """Token frequencies of the names the model was trained with: rarity when no list is loaded."""
    doc = json.loads(gzip.decompress((DATA / "rarity.json.gz").read_bytes()))
    return Rarity.from_counts(doc["counts"], int(doc["size"]))


@dataclass
class Query:
    """The subject as the learned matcher sees it."""

    names: list[Prepared]
    fields: Fields
    person: bool
    schema: str = "Person"

    @classmethod
    def of(cls, proxy: Any) -> Query:
        """From the FollowTheMoney entity ``match.entity`` makes for a subject."""
        from detente.vetting.match import iso_dates

        person = proxy.schema.name == "Person"
        names = list(dict.fromkeys(proxy.get("name") + proxy.get("alias")))
        ids = proxy.get("idNumber", quiet=True) + proxy.get("imoNumber", quiet=True)
        return cls(
            [prepare(n, person) for n in names],
            Fields(
                tuple(d for v in proxy.get("birthDate", quiet=True) for d in iso_dates(v)),
                tuple(proxy.get("nationality", quiet=True) + proxy.get("country", quiet=True)),
                tuple(Fields.identifier(i) for i in ids),
            ),
            person,
            proxy.schema.name,
        )


@lru_cache(maxsize=64)
def compatible(a: str, b: str) -> bool:
    """Whether entities of these schemata can be the same thing (FollowTheMoney's rule: a
    person may be a legal entity, never an organisation or a vessel)."""
    from followthemoney import model

    ours = model.get("Airplane" if a == "Aircraft" else a)
    theirs = model.get("Airplane" if b == "Aircraft" else b)
    return ours is None or theirs is None or bool(ours.can_match(theirs))


@lru_cache(maxsize=50_000)
def _listed_fields(dates: tuple[str, ...], countries: tuple[str, ...], ids: tuple[str, ...]) -> Fields:
    from detente.vetting.match import _country, iso_dates

    return Fields(
        tuple(d for v in dates for d in iso_dates(v)),
        tuple(_country(c) for c in countries),
        tuple(Fields.identifier(i) for i in ids),
    )


def listed_fields(listed: Any) -> Fields:
    return _listed_fields(tuple(listed.birth_dates), tuple(listed.countries), tuple(listed.identifiers))


def _quick(q: Prepared, r: Prepared) -> float:
    """A cheap likeness, to pick which listed names get the full comparison."""
    from rapidfuzz.distance import Levenshtein

    if q.acronyms and (q.acronyms & r.acronyms or r.initials in q.acronyms):
        return 2.0
    shared = len(set(q.skeletons) & set(r.skeletons)) / max(len(q.tokens), 1)
    spelled = Levenshtein.normalized_similarity(q.joined, r.joined)  # the same spelling first
    return shared + Levenshtein.normalized_similarity(q.skeleton, r.skeleton) + 0.5 * spelled


@dataclass
class Scored:
    """One listed entity's score and the row of features behind it."""

    score: float
    row: np.ndarray
    query_name: Prepared
    listed_name: Prepared
    weak: bool = False  # found through a weak alias
    other_kind: bool = False  # the subject and the entity cannot be the same kind of thing
    exact: bool = False  # the two names are the same once prepared (spelling, order, case)


def _rows(
    query: Query, listed: Any, base: tuple[float, float], rarity: Rarity
) -> list[tuple[list[float], Prepared, Prepared, bool]]:
    person = listed.schema == "Person"
    names = [(prepare(n, person), False) for n in dict.fromkeys(listed.names)]
    names += [(prepare(n, person), True) for n in dict.fromkeys(listed.weak_aliases)]
    fields = listed_fields(listed)
    field_values, _ = field_features(query.fields, fields, query.person or person)
    out = []
    for q in query.names:
        chosen = names
        if len(names) > PER_NAME:
            ranked = sorted(range(len(names)), key=lambda k: -_quick(q, names[k][0]))
            chosen = [names[k] for k in sorted({0, *ranked[:PER_NAME]})]
        for r, weak in chosen:
            values, _ = name_features(q, r, rarity, person=query.person and person)
            out.append(([*base, *values, *field_values], q, r, weak))
    return out


def score_candidates(
    query: Query,
    candidates: Sequence[tuple[Any, tuple[float, float]]],
    rarity: Rarity | None = None,
    model: Model | None = None,
) -> list[Scored]:
    """Each candidate (a listed entity and logic-v2's (score, name score) for it) scored by
    its best pair of names; one model call for all of them."""
    rarity = rarity or reference_rarity()
    model = model or shipped()
    rows, owners, meta = [], [], []
    for k, (listed, base) in enumerate(candidates):
        for row, q, r, weak in _rows(query, listed, base, rarity):
            rows.append(row)
            owners.append(k)
            meta.append((q, r, weak))
    out: list[Scored] = []
    if not rows:
        return out
    x = np.asarray(rows, dtype=float)
    exact = [q.tokens == r.tokens for q, r, _ in meta]
    p = model.predict(x) * np.where([m[2] and not e for m, e in zip(meta, exact, strict=True)], WEAK, 1.0)
    kinds = [not compatible(query.schema, listed.schema) for listed, _ in candidates]
    best: dict[int, int] = {}
    for i, k in enumerate(owners):
        j = best.get(k)
        if j is None or (round(p[i], 2), exact[i], p[i]) > (round(p[j], 2), exact[j], p[j]):
            best[k] = i
    for k in range(len(candidates)):
        i = best[k]
        q, r, weak = meta[i]
        score = float(p[i]) * OTHER_KIND if kinds[k] else float(p[i])
        out.append(Scored(score, x[i], q, r, weak and not exact[i], kinds[k], exact[i]))
    return out


def explain_many(
    found: Sequence[Scored], query: Query, listed: Sequence[Any], rarity: Rarity | None = None,
    model: Model | None = None,
) -> list[dict[str, tuple[float, float, str]]]:  # fmt: skip
    """For each scored entity: feature -> (value, contribution in log-odds, what it found);
    ``base`` is the model's starting log-odds. One model call for all of them."""
    if not found:
        return []
    rarity = rarity or reference_rarity()
    model = model or shipped()
    contributions = model.contributions(np.vstack([f.row for f in found]))
    out = []
    for scored, entry, contrib in zip(found, listed, contributions, strict=True):
        both = query.person and entry.schema == "Person"
        _, name_says = name_features(scored.query_name, scored.listed_name, rarity, explain=True, person=both)
        _, field_says = field_features(
            query.fields, listed_fields(entry), query.person or entry.schema == "Person"
        )
        says = {
            **name_says,
            **field_says,
            "logic_v2": f"{scored.query_name.text!r} / {scored.listed_name.text!r}",
        }
        why: dict[str, tuple[float, float, str]] = {}
        for j, name in enumerate(FEATURES):
            value, c = float(scored.row[j]), float(contrib[j])
            if abs(c) >= 0.005 or (value and says.get(name)):
                why[name] = (value, c, says.get(name, ""))
        why["base"] = (1.0, float(contrib[-1]), "the model's starting log-odds")
        shift = logit(scored.score) - float(contrib.sum())
        if scored.other_kind:
            why["other_kind"] = (
                1.0,
                shift,
                f"a {query.schema} is not a {entry.schema}: it keeps {OTHER_KIND} of its score",
            )
        elif scored.weak:
            why["weak_alias"] = (
                1.0,
                shift,
                f"{scored.listed_name.text!r} is a weak alias: it counts for {WEAK} of a name",
            )
        out.append(why)
    return out


def explain(
    scored: Scored, query: Query, listed: Any, rarity: Rarity | None = None, model: Model | None = None
) -> dict[str, tuple[float, float, str]]:
    """``explain_many`` for one."""
    return explain_many([scored], query, [listed], rarity, model)[0]


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))
