"""The candidate index: from a name to the few listed entities worth scoring.

Every name and alias of every listed entity is transliterated to ASCII (ICU, through
``normality``: Cyrillic, Arabic, Chinese and the rest), lower-cased and split into tokens.
Each token gives two keys: the token itself and its Metaphone code (so "Mohammed",
"Muhammad" and "Mohamad" meet). The index maps each key to the entities that have it,
as sorted integer arrays (compressed sparse rows).

A query's keys pick candidates, each weighted by the key's inverse document frequency,
so a rare surname counts for more than "al" or "bin"; keys held by more than
``common`` of the entities are used only when the name has nothing rarer. The top
candidates go on to the full scorer (``detente.vetting.match``). Building is linear in
the number of names; a query touches only the postings of its own keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["NameIndex", "keys"]

_SPLIT = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=200_000)
def _token_keys(token: str) -> tuple[str, ...]:
    from rigour.text.phonetics import metaphone

    code = metaphone(token) if token.isalpha() and len(token) > 1 else ""
    return (f"t:{token}", f"p:{code}") if code else (f"t:{token}",)


def keys(name: str) -> set[str]:
    """The index keys of one name: its ASCII tokens and their Metaphone codes."""
    from normality import ascii_text

    out: set[str] = set()
    for token in _SPLIT.split((ascii_text(name) or "").lower()):
        if token:
            out.update(_token_keys(token))
    return out


@dataclass
class NameIndex:
    vocabulary: dict[str, int]
    offsets: np.ndarray  # postings of key k: entities[offsets[k]:offsets[k + 1]]
    entities: np.ndarray
    size: int  # entities indexed
    common: float = 0.05

    @classmethod
    def build(cls, names: Iterable[Sequence[str]], common: float = 0.05) -> NameIndex:
        """Index entities given as their lists of names (the position is the entity's number)."""
        vocabulary: dict[str, int] = {}
        key_ids: list[int] = []
        owners: list[int] = []
        size = 0
        for i, entity_names in enumerate(names):
            size = i + 1
            found: set[str] = set()
            for name in entity_names:
                found |= keys(name)
            for key in found:
                key_ids.append(vocabulary.setdefault(key, len(vocabulary)))
                owners.append(i)
        k = np.asarray(key_ids, dtype=np.int64)
        e = np.asarray(owners, dtype=np.int32)
        order = np.lexsort((e, k))
        offsets = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(np.bincount(k, minlength=len(vocabulary)), out=offsets[1:])
        return cls(vocabulary, offsets, e[order], size, common)

    def postings(self, key: str) -> np.ndarray:
        k = self.vocabulary.get(key)
        return self.entities[self.offsets[k] : self.offsets[k + 1]] if k is not None else self.entities[:0]

    def candidates(self, names: Sequence[str], limit: int = 30) -> list[tuple[int, float]]:
        """Up to ``limit`` entities sharing keys with any of ``names``, best first, with
        their summed inverse document frequencies."""
        wanted: set[str] = set()
        for name in names:
            wanted |= keys(name)
        lists = [(key, self.postings(key)) for key in sorted(wanted)]
        lists = [(key, p) for key, p in lists if len(p)]
        if not lists:
            return []
        rare = [(key, p) for key, p in lists if len(p) <= max(self.common * self.size, 1)]
        used = rare or sorted(lists, key=lambda x: len(x[1]))[:2]
        hits = np.concatenate([p for _, p in used])
        weights = np.concatenate([np.full(len(p), np.log(1 + self.size / len(p))) for _, p in used])
        found, inverse = np.unique(hits, return_inverse=True)
        score = np.bincount(inverse, weights=weights)
        top = np.argsort(-score, kind="stable")[:limit]
        return [(int(found[j]), float(score[j])) for j in top]

    @property
    def nbytes(self) -> int:
        return int(self.offsets.nbytes + self.entities.nbytes)
