"""Training the learned matcher, and cross-validating it so that no pair is scored by a model
that saw it.

``pair_rows`` turns labelled pairs into feature rows (logic-v2's scores and the learned
matcher's features). ``fit`` trains the gradient-boosted model with monotone constraints (a
feature that only ever supports a match can only raise the score). ``cross_validate`` splits
the labelled pairs into folds by name group (pairs sharing a name, in any script, are kept in
one fold), trains on the synthetic pairs and the other folds, and scores the held-out fold.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from detente.core.errors import ValidationError
from detente.vetting.evaluate import Pair
from detente.vetting.features import FEATURES, MONOTONE, Rarity
from detente.vetting.learned import Model, Query, logit, reference_rarity
from detente.vetting.names import prepare

__all__ = [
    "GRID", "PARAMS", "Fold", "choose", "cross_validate", "fingerprint", "fit", "folds_of", "nested",
    "pair_rows", "unpack",
]  # fmt: skip

PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "lambda_l2": 1.0,
    "feature_fraction": 0.9,
    "num_iterations": 300,
    "num_threads": 1,
    "verbose": -1,
    "seed": 7,
    "deterministic": True,
}
# the settings the shipped model was chosen among (analyses/vetting_model.py)
GRID: list[dict[str, float]] = [
    {"bench_weight": w, "num_iterations": n, "num_leaves": leaves}
    for w in (1.0, 3.0) for n in (100, 200) for leaves in (7, 15)
]  # fmt: skip


def fingerprint(pair: Pair) -> str:
    """A short hash of a pair's schema and names (the model records those it was trained on)."""
    text = "\x1f".join((pair.schema, pair.name1, pair.name2))
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


def pair_rows(pairs: Sequence[Pair], rarity: Rarity | None = None) -> np.ndarray:
    """One feature row per pair: name1 as the subject, name2 as the listed entity."""
    from detente.vetting.learned import _rows
    from detente.vetting.match import Listed, Subject, base_scores, entity

    rarity = rarity or reference_rarity()
    out = np.zeros((len(pairs), len(FEATURES)))
    for i, p in enumerate(pairs):
        try:
            subject = Subject(
                p.name1, p.schema, birth_date=p.dob1 or None, countries=(p.country1,) if p.country1 else ()
            )
            listed = Listed(
                f"pairs:{i}", "pairs", p.schema, p.name2,
                birth_dates=(p.dob2,) if p.dob2 else (), countries=(p.country2,) if p.country2 else (),
            )  # fmt: skip
        except ValidationError as exc:
            raise ValidationError(f"pair {i + 1} ({p.name1!r}, {p.name2!r}): {exc}") from None
        query = entity(subject)
        rows = _rows(Query.of(query), listed, base_scores(query, listed), rarity)
        out[i] = max(rows, key=lambda r: r[0][FEATURES.index("cover_query")])[0]
    return out


def fit(
    x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None, params: dict[str, Any] | None = None
) -> Model:
    import lightgbm as lgb

    settings = {**PARAMS, **(params or {})}
    settings["monotone_constraints"] = [MONOTONE[f] for f in FEATURES]
    data = lgb.Dataset(
        x, label=y.astype(float), weight=weight, feature_name=list(FEATURES), free_raw_data=False
    )
    booster = lgb.train(settings, data)
    return Model(booster.model_to_string(), 0.0, FEATURES, {"params": settings})


def _union_find(pairs: Sequence[Pair]) -> list[int]:
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    keys = []
    for p in pairs:
        person = p.schema == "Person"
        a = " ".join(sorted(prepare(p.name1, person).skeletons))
        b = " ".join(sorted(prepare(p.name2, person).skeletons))
        parent[find(a)] = find(b)
        keys.append(a)
    roots = {r: n for n, r in enumerate(sorted({find(k) for k in keys}))}
    return [roots[find(k)] for k in keys]


def folds_of(pairs: Sequence[Pair], k: int = 5, seed: int = 11) -> np.ndarray:
    """A fold number per pair; pairs that share a name (by consonant skeleton, so across
    scripts and spellings) share a fold."""
    groups = np.asarray(_union_find(pairs))
    rng = np.random.default_rng(seed)
    order = rng.permutation(groups.max() + 1)
    sizes = np.bincount(groups)
    fold_of_group = np.zeros(len(order), dtype=int)
    load = np.zeros(k)
    for g in sorted(order, key=lambda g: -sizes[g]):  # biggest groups first, to the lightest fold
        f = int(np.argmin(load))
        fold_of_group[g] = f
        load[f] += sizes[g]
    return fold_of_group[groups]


@dataclass
class Fold:
    number: int
    pairs: int
    matches: int
    precision: float
    recall: float
    f1: float
    offset: float = 0.0  # the log-odds shift this fold's model was given
    setting: dict[str, float] = field(default_factory=dict)  # chosen inside its training folds


def prf(scores: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[float, float, float]:
    said = scores >= threshold
    tp = float(np.sum(said & labels))
    precision = tp / said.sum() if said.any() else 1.0
    recall = tp / labels.sum() if labels.any() else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


@dataclass
class CrossValidation:
    scores: np.ndarray  # out of fold
    folds: np.ndarray
    per_fold: list[Fold] = field(default_factory=list)


def cross_validate(
    x: np.ndarray,
    y: np.ndarray,
    folds: np.ndarray,
    extra_x: np.ndarray,
    extra_y: np.ndarray,
    *,
    weight: float = 1.0,
    offset: float = 0.0,
    params: dict[str, Any] | None = None,
    threshold: float = 0.7,
) -> CrossValidation:
    """Out-of-fold scores: fold f's pairs are scored by a model trained on the extra
    (synthetic) pairs and the other folds, with the log-odds shifted by ``offset``."""
    scores = np.zeros(len(y))
    out = CrossValidation(scores, folds)
    for f in sorted(set(folds.tolist())):
        train = folds != f
        model = fit(
            np.vstack([extra_x, x[train]]),
            np.concatenate([extra_y, y[train]]),
            np.concatenate([np.ones(len(extra_y)), np.full(int(train.sum()), weight)]),
            params,
        )
        model.offset = offset
        scores[~train] = model.predict(x[~train])
        p, r, f1 = prf(scores[~train], y[~train], threshold)
        out.per_fold.append(Fold(int(f) + 1, int((~train).sum()), int(y[~train].sum()), p, r, f1))
    return out


def best_offset(scores: np.ndarray, labels: np.ndarray, threshold: float = 0.7) -> float:
    """The shift of log-odds that puts the best-F1 cut of ``scores`` at ``threshold``."""
    cuts = np.round(np.arange(0.2, 0.95, 0.01), 2)
    f1s = [prf(scores, labels, float(c))[2] for c in cuts]
    best = float(cuts[int(np.argmax(f1s))])
    return logit(threshold) - logit(best)


def unpack(setting: dict[str, float]) -> tuple[float, dict[str, Any]]:
    return float(setting.get("bench_weight", 1.0)), {k: v for k, v in setting.items() if k != "bench_weight"}


def choose(
    pairs: Sequence[Pair],
    x: np.ndarray,
    y: np.ndarray,
    extra_x: np.ndarray,
    extra_y: np.ndarray,
    grid: Sequence[dict[str, float]],
    k: int = 4,
    threshold: float = 0.7,
) -> tuple[dict[str, float], float, float]:
    """(the grid's setting with the best cut's F1 by ``k``-fold cross-validation on these
    pairs, the log-odds shift that puts that cut at ``threshold``, that F1)."""
    folds = folds_of(pairs, k)
    best: tuple[dict[str, float], float, float] = (dict(grid[0]), 0.0, -1.0)
    cuts = np.round(np.arange(0.2, 0.95, 0.01), 2)
    for setting in grid:
        weight, params = unpack(setting)
        cv = cross_validate(x, y, folds, extra_x, extra_y, weight=weight, params=params, threshold=threshold)
        f1 = max(prf(cv.scores, y, float(c))[2] for c in cuts)
        if f1 > best[2]:
            best = (dict(setting), best_offset(cv.scores, y, threshold), f1)
    return best


def nested(
    pairs: Sequence[Pair],
    x: np.ndarray,
    y: np.ndarray,
    folds: np.ndarray,
    extra_x: np.ndarray,
    extra_y: np.ndarray,
    grid: Sequence[dict[str, float]],
    threshold: float = 0.7,
    progress: Callable[[int, int], None] | None = None,
) -> CrossValidation:
    """Out-of-fold scores of the whole procedure: for each fold, the setting (among ``grid``)
    and the log-odds shift are chosen by a cross-validation inside the other folds only, then a
    model with them is trained on the synthetic pairs and the other folds and scores the fold.
    Nothing about the scored fold, not even the threshold's place, is chosen on it."""
    scores = np.zeros(len(y))
    out = CrossValidation(scores, folds)
    numbers = sorted(set(folds.tolist()))
    for done, f in enumerate(numbers):
        train = folds != f
        inner = [p for p, keep in zip(pairs, train, strict=True) if keep]
        setting, offset, _ = choose(inner, x[train], y[train], extra_x, extra_y, grid, threshold=threshold)
        weight, params = unpack(setting)
        w = np.concatenate([np.ones(len(extra_y)), np.full(int(train.sum()), weight)])
        model = fit(np.vstack([extra_x, x[train]]), np.concatenate([extra_y, y[train]]), w, params)
        model.offset = offset
        scores[~train] = model.predict(x[~train])
        p, r, f1 = prf(scores[~train], y[~train], threshold)
        fold = Fold(int(f) + 1, int((~train).sum()), int(y[~train].sum()), p, r, f1, offset, setting)
        out.per_fold.append(fold)
        if progress:
            progress(done + 1, len(numbers))
    return out


@cache
def synthetic_rows() -> tuple[np.ndarray, np.ndarray]:
    """The feature rows of the synthetic pairs the shipped model was trained with
    (``data/synthetic.npz``, written by ``analyses/vetting_model.py``: the pairs themselves
    are rebuilt from the shared data by that script)."""
    import io

    from detente.vetting.features import FEATURES_VERSION
    from detente.vetting.learned import DATA, ModelError

    try:
        doc = np.load(io.BytesIO((DATA / "synthetic.npz").read_bytes()))
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"{DATA / 'synthetic.npz'}: cannot read the synthetic training rows ({exc})"
        ) from None
    if str(doc["version"]) != FEATURES_VERSION or tuple(doc["features"].tolist()) != FEATURES:
        raise ModelError(
            "the shipped synthetic rows were computed by another version of the features: "
            "run `analyses/vetting_model.py --write`"
        )
    return doc["x"].astype(float), doc["y"].astype(bool)


def write_rows(x: np.ndarray, y: np.ndarray) -> bytes:
    """Feature rows as ``synthetic_rows`` reads them (float32: the model is trained on the same)."""
    import io

    from detente.vetting.features import FEATURES_VERSION

    out = io.BytesIO()
    np.savez_compressed(
        out, x=x.astype(np.float32), y=y.astype(bool), version=np.array(FEATURES_VERSION),
        features=np.array(FEATURES),
    )  # fmt: skip
    return out.getvalue()


def write_pairs(pairs: Sequence[Pair]) -> bytes:
    """Pairs as gzipped CSV, the layout ``synthetic_pairs`` reads."""
    import gzip
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["schema", "name1", "name2", "is_match", "group", "dob1", "dob2", "country1", "country2"])
    for p in pairs:
        writer.writerow([p.schema, p.name1, p.name2, "true" if p.is_match else "false", p.group,
                         p.dob1, p.dob2, p.country1, p.country2])  # fmt: skip
    return gzip.compress(out.getvalue().encode(), mtime=0)
