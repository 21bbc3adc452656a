"""How good the matcher is, on labelled name pairs.

The file is nomenklatura's name benchmark layout (``case_group, schema, name1, name2,
is_match, ...``) or any CSV with at least ``name1``, ``name2`` and ``is_match``
(``schema`` defaults to Person). Each pair is scored by the same matcher that screens,
and the report gives precision, recall and F1 at the matcher's threshold and along the
whole precision-recall curve.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from detente.core.errors import ValidationError
from detente.vetting.match import SCHEMAS, THRESHOLD, Listed, Subject, compare, entity

__all__ = ["Evaluation", "evaluate", "read_pairs"]

_TRUE, _FALSE = {"true", "1", "yes", "match"}, {"false", "0", "no", "nomatch", "no match"}


@dataclass(frozen=True)
class Pair:
    schema: str
    name1: str
    name2: str
    is_match: bool
    group: str = ""


def read_pairs(path: Path) -> list[Pair]:
    try:
        text = path.read_text(encoding="utf-8")
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
        pairs.append(Pair(schema, row["name1"], row["name2"], label in _TRUE, row.get("case_group") or ""))
    if not pairs:
        raise ValidationError(f"{path}: no pairs")
    return pairs


@dataclass(frozen=True)
class Evaluation:
    scores: np.ndarray
    labels: np.ndarray
    threshold: float

    def at(self, threshold: float) -> tuple[float, float, float]:
        """(precision, recall, F1) when scores at or above ``threshold`` count as matches."""
        said = self.scores >= threshold
        tp = float(np.sum(said & self.labels))
        precision = tp / said.sum() if said.any() else 1.0
        recall = tp / self.labels.sum() if self.labels.any() else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    def curve(self, step: float = 0.05) -> list[tuple[float, float, float, float]]:
        """(threshold, precision, recall, F1) from ``step`` to 1."""
        return [(t, *self.at(t)) for t in np.round(np.arange(step, 1 + 1e-9, step), 2)]

    @property
    def average_precision(self) -> float:
        from sklearn.metrics import average_precision_score

        return float(average_precision_score(self.labels, self.scores))


def evaluate(pairs: list[Pair], threshold: float = THRESHOLD) -> Evaluation:
    scores = []
    for i, pair in enumerate(pairs):
        try:
            query = entity(Subject(pair.name1, pair.schema))
            scores.append(compare(query, Listed(f"pairs:{i}", "pairs", pair.schema, pair.name2)).score)
        except ValidationError as exc:
            raise ValidationError(f"pair {i + 1} ({pair.name1!r}, {pair.name2!r}): {exc}") from None
    return Evaluation(np.array(scores), np.array([p.is_match for p in pairs]), threshold)
