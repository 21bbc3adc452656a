"""The candidate index: from a name to the few listed entities worth scoring.

Every name and alias of every listed entity is one row. Each name is transliterated to ASCII
by script (``detente.vetting.names.romanize``: Arabic and Persian letters by table, Chinese
to pinyin, Cyrillic and the rest by ICU), lower-cased and split into tokens, and gives these
keys:

* ``t:`` each token, and each two neighbouring tokens joined (so "Gazprom Bank" meets
  "Gazprombank", "VladimirPutin" meets "Vladimir Putin");
* ``p:`` each token's Metaphone code ("Mohammed", "Muhammad" and "Mohamad" meet);
* ``s:`` each token's consonant skeleton, by the classes transliterations confuse
  (``Usama``, ``Osama`` and ``أسامة`` are all ``sm``);
* ``d:`` a long skeleton with any one consonant dropped, and the skeleton itself, so that
  two spellings one consonant apart meet ("Saduddin" and "Sadruddin": ``sddn``);
* ``j:`` the skeleton of the whole name written as one word ("Sadruddin", "Sadr-ud-Din");
* ``a:`` the name's initialism ("Liberation Tigers of Tamil Eelam" -> ``ltte``), the name
  itself when it is a short single word (an acronym), and acronyms it carries in brackets.

Legal forms ("Obshchestvo s ogranichennoi otvetstvennostyu", "Joint Stock Company", "Ltd")
give no keys: they are on thousands of names and say nothing about which one.

The index maps each key to the rows that have it, as sorted integer arrays (compressed
sparse rows), and each row to its entity. A query's keys pick rows, each weighted by the
key's inverse document frequency, so a rare surname counts for more than "al" or "bin"; keys
held by more than ``common`` of the rows are used only when the name has nothing rarer. An
entity's weight is its best row's, so an entity with forty aliases is not favoured for
having many words. The top entities go on to the full scorer. Building is linear in the
number of names; a query touches only the postings of its own keys.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np

__all__ = ["NameIndex", "keys"]

_SPLIT = re.compile(r"[^a-z0-9]+")
WEIGHTS = {"t": 1.0, "a": 1.0, "j": 1.0, "p": 0.5, "s": 0.8, "d": 0.4}
# words that say what kind of body a name is, left out of one of its initialisms
GENERIC = frozenset(
    [
        "company", "corporation", "corp", "group", "limited", "ltd", "trading", "co", "inc", "llc",
        "holding", "holdings", "international", "industries", "industrial", "enterprise", "enterprises",
        "bank", "shipping", "club",
    ]
)  # fmt: skip


@lru_cache(maxsize=200_000)
def _token_keys(token: str) -> tuple[str, ...]:
    from rigour.text.phonetics import metaphone

    from detente.vetting.names import skeleton

    out = [f"t:{token}"]
    if token.isalpha() and len(token) > 1:
        code = metaphone(token)
        if code:
            out.append(f"p:{code}")
        bones = skeleton(token)
        if len(bones) >= 2:
            out.append(f"s:{bones}")
        if len(bones) >= 3:
            out.append(f"d:{bones}")
        if len(bones) >= 4:
            dropped = {re.sub(r"(.)\1+", r"\1", bones[:i] + bones[i + 1 :]) for i in range(len(bones))}
            out += sorted(f"d:{d}" for d in dropped - {bones})
    return tuple(out)


@lru_cache(maxsize=200_000)
def key_groups(name: str) -> tuple[frozenset[str], ...]:
    """The index keys of one name, grouped: one group per token (its spelling, Metaphone
    code and skeletons), one per pair of neighbouring tokens joined, one for the whole name
    and its acronyms. A query counts each group once, by its best key."""
    from rigour.names import remove_org_types

    from detente.vetting.names import PARTICLES, STOPWORDS, skeleton

    bracketed = re.findall(r"\(([^)]{2,12})\)", name)
    latin = romanize_name(name)
    tokens = [t for t in _SPLIT.split(remove_org_types(latin)) if t] or [t for t in _SPLIT.split(latin) if t]
    groups = [frozenset(_token_keys(t) + _acronym_key(t)) for t in tokens]
    groups += [frozenset({f"t:{a}{b}"}) for a, b in pairwise(tokens)]
    if name.count(",") == 1:  # "SURNAME, Given": the given-first order's neighbours too
        family, given = name.split(",")
        turned = [t for t in _SPLIT.split(romanize_name(f"{given} {family}")) if t]
        groups += [frozenset({f"t:{a}{b}"}) for a, b in pairwise(turned)]
    whole: set[str] = set()
    bones = skeleton("".join(tokens))
    if len(bones) >= 3:
        whole.add(f"j:{bones}")
    raw = [t for t in _SPLIT.split(latin) if t]  # before legal forms went: "Industries Co"
    whole |= _initialisms(tokens, STOPWORDS | PARTICLES) | _initialisms(raw, STOPWORDS | PARTICLES)
    if len(tokens) == 1 and 2 <= len(tokens[0]) <= 8:
        whole.add(f"a:{tokens[0]}")
    if 2 <= len(tokens) <= 8 and all(len(t) == 1 for t in tokens):  # "L.T.T.E."
        whole.add(f"a:{''.join(tokens)}")
    if 2 <= len(tokens) <= 4 and all(_acronym_key(t) for t in tokens):  # "PFLP-GC"
        whole.add(f"a:{''.join(tokens)}")
    for inner in bracketed:
        whole.update(f"a:{t}" for t in _SPLIT.split(romanize_name(inner)) if 2 <= len(t) <= 8)
    if whole:
        groups.append(frozenset(whole))
    return tuple(groups)


def _initialisms(tokens: list[str], stop: frozenset[str]) -> set[str]:
    """The initialisms a name may go by: of its words but the small ones, of every word
    ("HUJI" for "Harakat-ul Jihad Islami"), without the words that only say what kind of
    body it is ("NCG" for "Nam Chon Gang Corporation"), and without its last word ("KPI" for
    "Kish P and I Club")."""
    significant = [t for t in tokens if t not in stop]
    out = set()
    if len(significant) >= 2:
        out.add("".join(t[0] for t in significant))
    if len(tokens) >= 2:
        out.add("".join(t[0] for t in tokens))
    specific = [t for t in significant if t not in GENERIC]
    if 2 <= len(specific) < len(significant):
        out.add("".join(t[0] for t in specific))
    if len(significant) >= 3:
        out.add("".join(t[0] for t in significant[:-1]))
    return {f"a:{a}" for a in out}


def _acronym_key(token: str) -> tuple[str, ...]:
    """A short token of consonants (one vowel at most) may be an acronym inside a longer
    name ("HCF" in "HCF Bank"): it meets the initialism of a listed name."""
    vowels = sum(c in "aeiou" for c in token)
    return (f"a:{token}",) if 2 <= len(token) <= 5 and token.isalpha() and vowels <= 1 else ()


def romanize_name(name: str) -> str:
    from detente.vetting.names import romanize

    return romanize(name).replace("'", "")


@lru_cache(maxsize=200_000)
def keys(name: str) -> frozenset[str]:
    """The index keys of one name (see the module's note)."""
    return frozenset().union(*key_groups(name)) if key_groups(name) else frozenset()


@dataclass
class NameIndex:
    vocabulary: dict[str, int]
    offsets: np.ndarray  # postings of key k: rows[offsets[k]:offsets[k + 1]]
    rows: np.ndarray  # row numbers (one row per name)
    owner: np.ndarray  # the entity of each row
    size: int  # entities indexed
    common: float = 0.05

    @classmethod
    def build(cls, names: Iterable[Sequence[str]], common: float = 0.05) -> NameIndex:
        """Index entities given as their lists of names (the position is the entity's number)."""
        vocabulary: dict[str, int] = {}
        key_ids: list[int] = []
        row_ids: list[int] = []
        owners: list[int] = []
        size = 0
        for i, entity_names in enumerate(names):
            size = i + 1
            for name in dict.fromkeys(entity_names):
                row = len(owners)
                owners.append(i)
                for key in keys(name):
                    key_ids.append(vocabulary.setdefault(key, len(vocabulary)))
                    row_ids.append(row)
        k = np.asarray(key_ids, dtype=np.int64)
        r = np.asarray(row_ids, dtype=np.int32)
        order = np.lexsort((r, k))
        offsets = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        np.cumsum(np.bincount(k, minlength=len(vocabulary)), out=offsets[1:])
        return cls(vocabulary, offsets, r[order], np.asarray(owners, dtype=np.int32), size, common)

    @property
    def entities(self) -> np.ndarray:
        """The entity of each posting (for callers of the entity-level layout)."""
        return self.owner[self.rows]

    def postings(self, key: str) -> np.ndarray:
        k = self.vocabulary.get(key)
        return self.rows[self.offsets[k] : self.offsets[k + 1]] if k is not None else self.rows[:0]

    def frequency(self, token: str) -> int:
        """How many names have ``token`` (the token rarity the learned matcher uses)."""
        k = self.vocabulary.get(f"t:{token}")
        return int(self.offsets[k + 1] - self.offsets[k]) if k is not None else 0

    @property
    def names(self) -> int:
        return len(self.owner)

    def candidates(
        self, names: Sequence[str], limit: int = 30, exclude: Collection[int] = ()
    ) -> list[tuple[int, float]]:
        """Up to ``limit`` entities having names that share keys with any of ``names``, best
        first, with their best name's summed inverse document frequencies; rows in
        ``exclude`` are left out (held-out evaluation)."""
        return [(entity, score) for entity, score, _ in self.ranked(names, limit, exclude)]

    def ranked(
        self, names: Sequence[str], limit: int = 30, exclude: Collection[int] = (), rows_each: int = 3
    ) -> list[tuple[int, float, tuple[int, ...]]]:
        """``candidates`` with each entity's best-scoring rows (up to ``rows_each``)."""
        groups = list(dict.fromkeys(g for name in names for g in key_groups(name)))
        wanted = sorted(frozenset().union(*groups)) if groups else []
        lists = {key: p for key in wanted if len(p := self.postings(key))}
        if not lists:
            return []
        rows = self.names
        rare = {key for key, p in lists.items() if len(p) <= max(self.common * rows, 1)}
        used = rare or set(sorted(lists, key=lambda k: len(lists[k]))[:2])
        hits, weights, group_of = [], [], []
        for g, group in enumerate(groups):
            for key in group & used:
                p = lists[key]
                hits.append(p)
                weights.append(np.full(len(p), WEIGHTS[key[0]] * np.log(1 + rows / len(p))))
                group_of.append(np.full(len(p), g, dtype=np.int64))
        if not hits:
            return []
        hit = np.concatenate(hits).astype(np.int64)
        weight = np.concatenate(weights)
        if exclude:
            keep = ~np.isin(hit, np.fromiter(exclude, dtype=np.int64))
            hit, weight, gof = hit[keep], weight[keep], np.concatenate(group_of)[keep]
            if not len(hit):
                return []
        else:
            gof = np.concatenate(group_of)
        # each group counts once per row, by its best key
        code = hit * len(groups) + gof
        order = np.lexsort((-weight, code))
        code, weight, hit = code[order], weight[order], hit[order]
        first = np.ones(len(code), dtype=bool)
        first[1:] = code[1:] != code[:-1]
        found, inverse = np.unique(hit[first], return_inverse=True)
        row_score = np.bincount(inverse, weights=weight[first])
        owners = self.owner[found]
        order = np.lexsort((-row_score, owners))  # by entity, best row first
        best = np.ones(len(order), dtype=bool)
        best[1:] = owners[order][1:] != owners[order][:-1]
        starts = np.flatnonzero(best)
        best_rows = order[best]
        top = np.argsort(-row_score[best_rows], kind="stable")[:limit]
        ends = np.append(starts[1:], len(order))
        return [
            (int(owners[best_rows[g]]), float(row_score[best_rows[g]]),
             tuple(int(found[j]) for j in order[starts[g] : min(ends[g], starts[g] + rows_each)]))
            for g in top
        ]  # fmt: skip

    def rows_of(self, entity: int) -> np.ndarray:
        """The row numbers of an entity's names, in the order they were given."""
        lo, hi = np.searchsorted(self.owner, [entity, entity + 1])  # rows are in entity order
        return np.arange(lo, hi)

    @property
    def nbytes(self) -> int:
        return int(self.offsets.nbytes + self.rows.nbytes + self.owner.nbytes)
