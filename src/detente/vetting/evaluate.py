"""How good the matcher is, on labelled name pairs.

The file is nomenklatura's name benchmark layout (``case_group, schema, name1, name2,
is_match, ...``) or any CSV with at least ``name1``, ``name2`` and ``is_match``
(``schema`` defaults to Person; ``dob1``, ``dob2``, ``country1``, ``country2`` are read
when present). Each pair is scored by the same matcher that screens, name1 as the subject
and name2 as the listed name, and the report gives precision, recall and F1 at the
matcher's threshold and along the whole precision-recall curve.

No pair is scored by a model that was trained on it. Pairs the shipped model never saw are
scored by it. When the file holds pairs the shipped model was trained on (the shared
benchmark), every pair of the file is scored by cross-validation instead: the file is split
into folds by name group, and each fold is scored by a model trained on the synthetic pairs
and the other folds only. The shipped model's log-odds shift (which puts the best-F1 cut at
the default threshold) was chosen on the whole benchmark, so it is not reused: each fold's
shift is chosen again by a cross-validation inside its own training folds, and so is its
setting with ``selection="grid"``. The threshold is never placed by the fold it scores.
The report then lists each fold.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from detente.core.errors import ValidationError
from detente.vetting.match import SCHEMAS, THRESHOLD

__all__ = ["Evaluation", "Pair", "evaluate", "read_pairs"]

_TRUE, _FALSE = {"true", "1", "yes", "match"}, {"false", "0", "no", "nomatch", "no match"}


@dataclass(frozen=True)
class Pair:
    schema: str
    name1: str
    name2: str
    is_match: bool
    group: str = ""
    dob1: str = ""
    dob2: str = ""
    country1: str = ""
    country2: str = ""


def read_pairs(path: Path) -> list[Pair]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: cannot read ({exc})") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in ("name1", "name2", "is_match") if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(f"{path}: no column {missing[0]!r} (needs name1, name2, is_match)")
    pairs = []
    for line, row in enumerate(reader, start=2):
        label = (row["is_match"] or "").strip().lower()
        if label not in _TRUE | _FALSE:
            raise ValidationError(f"{path}, line {line}: is_match {row['is_match']!r} is not true or false")
        schema = (row.get("schema") or "Person").strip()
        if schema not in SCHEMAS:
            raise ValidationError(
                f"{path}, line {line}: schema {schema!r} is not one of {', '.join(SCHEMAS)}"
            )
        if not (row["name1"] or "").strip() or not (row["name2"] or "").strip():
            raise ValidationError(f"{path}, line {line}: name1 and name2 must not be empty")
        extra = {k: (row.get(k) or "").strip() for k in ("dob1", "dob2", "country1", "country2")}
        pairs.append(
            Pair(schema, row["name1"], row["name2"], label in _TRUE, row.get("case_group") or "", **extra)
        )
    if not pairs:
        raise ValidationError(f"{path}: no pairs")
    return pairs


@dataclass(frozen=True)
class Evaluation:
    scores: np.ndarray
    labels: np.ndarray
    threshold: float
    # cross-validation, when the file holds pairs the shipped model was trained on
    folds: list[Any] = field(default_factory=list)
    trained_on: int = 0  # pairs of the file the shipped model was trained on
    base_scores: np.ndarray | None = None  # logic-v2's own scores, for comparison

    @property
    def cross_validated(self) -> bool:
        return bool(self.folds)

    def at(self, threshold: float, scores: np.ndarray | None = None) -> tuple[float, float, float]:
        """(precision, recall, F1) when scores at or above ``threshold`` count as matches."""
        from detente.vetting.training import prf

        return prf(self.scores if scores is None else scores, self.labels, threshold)

    def curve(self, step: float = 0.05) -> list[tuple[float, float, float, float]]:
        """(threshold, precision, recall, F1) from ``step`` to 1."""
        return [(t, *self.at(t)) for t in np.round(np.arange(step, 1 + 1e-9, step), 2)]

    @property
    def average_precision(self) -> float:
        from sklearn.metrics import average_precision_score  # type: ignore[import-untyped]

        return float(average_precision_score(self.labels, self.scores))


def evaluate(
    pairs: list[Pair],
    threshold: float = THRESHOLD,
    cross_validate: bool | None = None,
    selection: str = "grid",
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Score ``pairs`` out of sample (see the module's note); ``cross_validate`` forces the
    cross-validated scoring on (True) or off (False: refused for pairs the model saw).
    Cross-validated, each fold's log-odds shift is chosen inside its training folds
    (``selection="shift"``, with the shipped model's setting), or its setting among
    ``training.GRID`` too (``"grid"``: the whole procedure the shipped model was made by)."""
    from detente.vetting import training
    from detente.vetting.learned import shipped

    model = shipped()
    x = training.pair_rows(pairs)
    labels = np.array([p.is_match for p in pairs])
    base = x[:, 0].copy()
    seen = set(model.meta.get("trained_on", []))
    overlap = sum(training.fingerprint(p) in seen for p in pairs)
    if cross_validate is False and overlap:
        raise ValidationError(
            f"{overlap} of the {len(pairs)} pairs were used to train the shipped model: "
            "they can only be scored by cross-validation"
        )
    if not (cross_validate or overlap):
        return Evaluation(model.predict(x), labels, threshold, [], 0, base)
    extra_x, extra_y = training.synthetic_rows()
    folds = training.folds_of(pairs, int(model.meta.get("folds", 5)))
    params = model.meta.get("params", {})
    shipped_setting = {"bench_weight": float(model.meta.get("bench_weight", 1.0)),
                       **{k: params.get(k) for k in ("num_iterations", "num_leaves")}}  # fmt: skip
    grid = training.GRID if selection == "grid" else [shipped_setting]
    result = training.nested(pairs, x, labels, folds, extra_x, extra_y, grid, threshold, progress)
    return Evaluation(result.scores, labels, threshold, result.per_fold, overlap, base)
