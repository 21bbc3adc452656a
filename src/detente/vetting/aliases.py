"""Searched by each alias: is the listed entity found first by its alias, among every entity
that bears or resembles it (``search_listed``), and by an alias it is not listed under
(``search_one``, held out: the harder test, below)?

For every alias of every entity (or a sample), the entity is held out of the index under
that alias (and any identical spelling of it) and kept under its other names; the alias is
then screened like any subject. The report says how often the entity comes first and in the
top three, and how often the candidate index misses it although the full matcher scores the
pair at the threshold or more (those are the index's misses: screening never scores them).
Results are ranked as screening ranks them (``screen.rank_key``); a tie at the top counts as
first (two entries may share a name); ``first_strict`` counts it only when the entity is
alone at the top.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from detente.vetting.match import THRESHOLD, Match, Subject, compare, entity
from detente.vetting.screen import Screener, rank_key

__all__ = ["AliasReport", "Searched", "alias_queries", "search_by_aliases", "search_listed", "search_one"]


@dataclass(frozen=True)
class Searched:
    key: str
    alias: str
    weak: bool
    rank: int | None  # 1 = first (ties at the top score count as first); None = not found
    strict_first: bool
    true_score: float  # the full matcher's score of the alias against the held-out entity
    in_candidates: bool
    best: str  # the entity found first
    base_rank: int | None = None  # the rank logic-v2's own score gives it among the same candidates
    true_base: float = 0.0  # logic-v2's own score of the alias against the held-out entity


@dataclass
class AliasReport:
    searched: list[Searched] = field(default_factory=list)

    def _share(self, rows: list[Searched], top: int) -> float:
        return sum(r.rank is not None and r.rank <= top for r in rows) / len(rows) if rows else 0.0

    def summary(self, weak: bool | None = None) -> dict[str, float]:
        rows = [r for r in self.searched if weak is None or r.weak == weak]
        true = [r for r in rows if r.true_score >= THRESHOLD]
        base = [r.base_rank is not None and r.base_rank <= 1 for r in rows]
        base3 = [r.base_rank is not None and r.base_rank <= 3 for r in rows]
        return {
            "aliases": len(rows),
            "base_first": sum(base) / len(rows) if rows else 0.0,
            "base_top3": sum(base3) / len(rows) if rows else 0.0,
            "first": self._share(rows, 1),
            "first_strict": sum(r.strict_first for r in rows) / len(rows) if rows else 0.0,
            "top3": self._share(rows, 3),
            "true_matches": len(true),
            "index_misses": sum(not r.in_candidates for r in true),
            "recall_at_threshold": len(true) / len(rows) if rows else 0.0,
            "base_recall_at_threshold": sum(r.true_base >= THRESHOLD for r in rows) / len(rows)
            if rows
            else 0.0,
        }

    def by_list(self) -> dict[str, dict[str, float]]:
        lists = Counter(r.key.split(":")[0] for r in self.searched)
        return {
            name: AliasReport([r for r in self.searched if r.key.startswith(name + ":")]).summary()
            for name in lists
        }


def alias_queries(
    screener: Screener, sample: int | None = None, seed: int = 3
) -> list[tuple[int, str, bool]]:
    """(entity number, alias, weak) for every alias that is not a spelling of the entity's
    primary name, or a random sample of them."""
    out = []
    for number, listed in enumerate(screener.listed):
        primary = listed.name.casefold()
        weak = {w.casefold() for w in listed.weak_aliases}
        seen = {primary}
        for alias in listed.all_names[1:]:
            folded = alias.casefold()
            if folded in seen:
                continue
            seen.add(folded)
            out.append((number, alias, folded in weak))
    if sample is not None and sample < len(out):
        rng = np.random.default_rng(seed)
        out = [out[i] for i in sorted(rng.choice(len(out), sample, replace=False))]
    return out


def _schema(schema: str) -> str:
    return schema if schema in ("Person", "Organization", "Vessel", "Aircraft", "Company") else "LegalEntity"


def search_one(screener: Screener, number: int, alias: str, weak: bool) -> Searched:
    """The alias searched with its entity held out under it (and any identical spelling)."""
    from dataclasses import replace

    assert screener.index is not None
    target = screener.listed[number]
    subject = Subject(alias, _schema(target.schema))
    ranked = screener.screen_without(subject, number, [alias], limit=screener.candidates)
    keys = [m.listed.key for m in ranked]
    rank, strict, base_rank = _rank(ranked, target.key)
    kept = [n for n in dict.fromkeys(target.all_names) if n.casefold() != alias.casefold()]
    if not kept:
        return Searched(target.key, alias, weak, rank, strict, 0.0, False, keys[0] if keys else "", base_rank)
    held_weak = [w for w in target.weak_aliases if w.casefold() != alias.casefold()]
    primary = next((n for n in kept if n not in held_weak), kept[0])
    reduced = replace(target, name=primary, aliases=tuple(n for n in kept if n != primary),
                      weak_aliases=tuple(w for w in held_weak if w != primary))  # fmt: skip
    pair = compare(entity(subject), reduced, rarity=screener.rarity)
    in_candidates = target.key in keys
    return Searched(
        target.key, alias, weak, rank, strict, pair.score, in_candidates, keys[0] if keys else "", base_rank,
        pair.base_score or 0.0,
    )  # fmt: skip


def _rank(ranked: list[Match], key: str) -> tuple[int | None, bool, int | None]:
    """(rank with ties at its score counted as first, alone at the top, logic-v2's rank)."""
    keys = [m.listed.key for m in ranked]
    if key not in keys:
        return None, False, None
    at = keys.index(key)
    mine = rank_key(ranked[at])
    rank = 1 + sum(rank_key(m) < mine for m in ranked)
    strict = at == 0 and (len(ranked) == 1 or rank_key(ranked[1]) > mine)
    base = ranked[at].base_score or 0.0
    return rank, strict, 1 + sum((m.base_score or 0.0) > base for m in ranked)


def search_listed(screener: Screener, number: int, alias: str, weak: bool) -> Searched:
    """The alias searched with its entity listed under it, as the lists have it (is the
    entity ranked first among every entity that bears or resembles that name?)."""
    target = screener.listed[number]
    subject = Subject(alias, _schema(target.schema))
    ranked = screener.screen(subject, limit=screener.candidates)
    rank, strict, base_rank = _rank(ranked, target.key)
    mine = next((m for m in ranked if m.listed.key == target.key), None)
    pair = mine or compare(entity(subject), target, rarity=screener.rarity)
    best = ranked[0].listed.key if ranked else ""
    return Searched(target.key, alias, weak, rank, strict, pair.score, mine is not None, best,
                    base_rank, pair.base_score or 0.0)  # fmt: skip


def search_by_aliases(
    screener: Screener, sample: int | None = None, seed: int = 3, held_out: bool = True
) -> Iterator[Searched]:
    """Each alias searched with its entity held out under it (see the module's note), or
    with the entity listed under it (``held_out=False``)."""
    search = search_one if held_out else search_listed
    for number, alias, weak in alias_queries(screener, sample, seed):
        yield search(screener, number, alias, weak)
