"""Screening: a subject against every list loaded in the context lake.

The lists are the lake's ``un_sanctions``, ``ofac`` and ``opensanctions`` tables (one row
per listed entity, ``detente.sources.sanctions``), and UCDP's one-sided violence actors
(``ucdp_onesided``, one entity per actor, its years and deaths as the record).
``Screener`` reads them once, builds the candidate index, and scores each query's
candidates with the full matcher: logic-v2, then the learned matcher on the subject's names
against every name and alias of the entity (its best pair of names, with the agreement of
dates of birth, countries and identifiers), token rarity taken from the lists loaded.
Results come best first with their explanations, the counter-evidence, and the list
versions they were screened against.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from detente.core.errors import ValidationError
from detente.sources.lake import Lake
from detente.vetting.features import Rarity
from detente.vetting.index import NameIndex
from detente.vetting.match import Listed, Match, Subject, base_compare, entity

__all__ = ["LISTS", "Screener", "listed_entities", "rank_key"]

LISTS = ("un_sanctions", "ofac", "opensanctions", "ucdp_onesided")
LOOKED = 8  # an entity's names (first ones) the shortlist looks at, besides its best-keyed ones
_CACHE: dict[tuple[str, tuple[tuple[str, str], ...]], Screener] = {}
_LOCK = threading.Lock()


_LISTED = (
    "SELECT entity_id, schema, name, aliases, birth_dates, countries, identifiers, programs, listed_on, "
    "{weak} "
    "FROM {table} WHERE name IS NOT NULL ORDER BY entity_id"
)
# UCDP's one-sided violence actors, one entity per actor: a conflict record, not a sanction
_ONESIDED = """
    SELECT CAST(actor_id AS VARCHAR), 'Organization', any_value(actor_name),
           list_distinct(list(actor_name_fulltext) FILTER (WHERE actor_name_fulltext <> actor_name)),
           [], [], [],
           ['UCDP one-sided violence ' || min(year) || '-' || max(year) || ': '
            || sum(best) || ' civilian deaths (best estimate)'], CAST(min(year) AS VARCHAR), []
    FROM ucdp_onesided WHERE actor_name IS NOT NULL GROUP BY actor_id ORDER BY actor_id
"""


def rank_key(match: Match) -> tuple[float, int, float]:
    """The order of results, best first: the learned score to two decimals (near 1 the model's
    certainty is all alike), then the name given exactly as listed, then logic-v2's score."""
    return (-round(match.score, 2), -int(match.exact), -(match.base_score or 0.0))


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or () if v)


def _names(value: Any) -> tuple[str, ...]:
    """Aliases that name someone: not a fragment of bare articles or kinship words ("AL-",
    "ABU", "Abu-"), which OFAC's remarks leave behind when an alias holds an apostrophe
    ('AL-'USAMAH COMPANY') and which would match every "al" asked about. Words are read as
    written (دعاء is not "da"), and one written as a nickname is kept ("Ben")."""
    import re

    from detente.vetting.names import PARTICLES, STOPWORDS

    bare = STOPWORDS | PARTICLES

    def fragment(n: str) -> bool:
        words = re.findall(r"\w+", n.casefold())
        return all(w in bare for w in words) and (n.isupper() or n.rstrip().endswith("-") or not words)

    return tuple(n for n in _tuple(value) if not fragment(n))


def listed_entities(lake: Lake, lists: Sequence[str] = LISTS) -> tuple[list[Listed], dict[str, str]]:
    """Every entity on the loaded lists, and each list's version (source: version, sha256)."""
    out: list[Listed] = []
    versions: dict[str, str] = {}
    for source in lists:
        if not lake.has(source):
            continue
        meta = lake.current(source)
        versions[source] = f"{meta.version} ({meta.sha256[:12]})" if meta else "?"
        if source == "ucdp_onesided":
            query = _ONESIDED
        else:  # lists loaded before weak aliases were kept have no such column
            columns = {r[0] for r in lake.db.execute(f"DESCRIBE {source}").fetchall()}
            query = _LISTED.format(table=source, weak="weak_aliases" if "weak_aliases" in columns else "[]")
        rows = lake.db.execute(query).fetchall()
        for eid, schema, name, aliases, dobs, countries, ids, programs, listed_on, weak in rows:
            out.append(
                Listed(
                    f"{source}:{eid}",
                    source,
                    schema or "LegalEntity",
                    name,
                    _names(aliases),
                    _tuple(dobs),
                    _tuple(countries),
                    _tuple(ids),
                    _tuple(programs),
                    str(listed_on) if listed_on else None,
                    _names(weak),
                )
            )
    return out, versions


@dataclass
class Screener:
    listed: list[Listed]
    versions: dict[str, str] = field(default_factory=dict)
    index: NameIndex | None = None
    candidates: int = 30  # scored per query by the full matcher
    shortlist: int = 150  # taken from the index and narrowed to ``candidates`` by a quick look

    def __post_init__(self) -> None:
        if self.index is None:
            self.index = NameIndex.build(e.all_names for e in self.listed)
        index = self.index
        self.rarity = Rarity(index.frequency, index.names)
        self._entities: dict[int, Any] = {}

    @classmethod
    def from_lake(cls, lake: Lake, lists: Sequence[str] = LISTS) -> Screener:
        listed, versions = listed_entities(lake, lists)
        if not listed:
            raise ValidationError(
                "no sanctions list in the lake: `detente sources load un_sanctions FILE` "
                "(or ofac, opensanctions, ucdp_onesided), or `detente sources fetch un_sanctions`"
            )
        return cls(listed, versions)

    @classmethod
    def cached(cls, lake: Lake, lists: Sequence[str] = LISTS) -> Screener:
        """The screener for the lake's current list versions, built once per version set
        (a server keeps it between requests; loading a new list builds a new one)."""
        versions = tuple(
            (source, meta.sha256) for source in lists if lake.has(source) and (meta := lake.current(source))
        )
        key = (str(lake.path), versions)
        with _LOCK:
            found = _CACHE.get(key)
            if found is None:
                _CACHE.clear()
                found = _CACHE[key] = cls.from_lake(lake, lists)
            return found

    def _candidate(self, i: int) -> Any:
        found = self._entities.get(i)
        if found is None:
            if len(self._entities) > 100_000:  # a bound on memory for very large lists
                self._entities.clear()
            found = self._entities[i] = entity(self.listed[i])
        return found

    def screen(
        self, subject: Subject, limit: int = 10, minimum: float = 0.0, *, learned: bool = True
    ) -> list[Match]:
        """The ``limit`` best-scoring listed entities for ``subject``, best first;
        ``learned=False`` scores the same candidates by logic-v2 alone (the baseline)."""
        found = self._shortlist(subject, ())
        if not learned:
            query = entity(subject)
            base = [base_compare(query, self.listed[i], self._candidate(i)) for i in found]
            base = [m for m in base if m.score >= minimum]
            return sorted(base, key=lambda m: (-m.score, m.listed.key))[:limit]
        return self._score(subject, [(i, self.listed[i], True) for i in found], limit, minimum)

    def _shortlist(self, subject: Subject, exclude: Collection[int]) -> list[int]:
        """The index's best ``shortlist`` entities, narrowed to ``candidates`` by how much of
        the subject's name the entity's three best-keyed names and its first ``LOOKED`` names
        account for (``features.quick_cover``: no logic-v2, no model)."""
        from detente.vetting.features import quick_cover
        from detente.vetting.names import prepare

        assert self.index is not None
        found = self.index.ranked(subject.names, self.shortlist, exclude)
        if len(found) <= self.candidates:
            return [i for i, _, _ in found]
        rows = self._row_names()
        person = subject.schema == "Person"
        queries = [prepare(n, person) for n in subject.names]
        top = max(score for _, score, _ in found)
        looked = []
        for i, score, best in found:
            names = {rows[row] for row in best} | set(self.listed[i].all_names[:LOOKED])
            cover = max(quick_cover(q, prepare(n, person), self.rarity) for q in queries for n in names)
            looked.append((cover + 0.25 * score / top, i))
        looked.sort(key=lambda x: -x[0])
        return [i for _, i in looked[: self.candidates]]

    def _row_names(self) -> list[str]:
        found = getattr(self, "_rows", None)
        if found is None:
            found = self._rows = [n for e in self.listed for n in dict.fromkeys(e.all_names)]
        return found

    def screen_without(
        self, subject: Subject, number: int, names: Sequence[str], limit: int = 10
    ) -> list[Match]:
        """``screen`` as if the entity at ``number`` were listed without ``names`` (held-out
        evaluation: is an entity found by a name it is not listed under?)."""
        assert self.index is not None
        held = {n.casefold() for n in names}
        target = self.listed[number]
        every = list(dict.fromkeys(target.all_names))  # the index's rows of the entity, in order
        rows = self.index.rows_of(number)
        dropped = {int(r) for r, n in zip(rows, every, strict=True) if n.casefold() in held}
        found = self._shortlist(subject, dropped)
        kept = [n for n in every if n.casefold() not in held]
        chosen: list[tuple[int, Listed, bool]] = []
        for i in found:
            if i != number:
                chosen.append((i, self.listed[i], True))
            elif kept:
                weak = [w for w in target.weak_aliases if w.casefold() not in held]
                primary = next((n for n in kept if n not in weak), kept[0])
                reduced = replace(
                    target, name=primary, aliases=tuple(n for n in kept if n != primary),
                    weak_aliases=tuple(w for w in weak if w != primary),
                )  # fmt: skip
                chosen.append((i, reduced, False))
        return self._score(subject, chosen, limit, 0.0)

    def _score(
        self, subject: Subject, chosen: list[tuple[int, Listed, bool]], limit: int, minimum: float
    ) -> list[Match]:
        """Score the chosen candidates (number, entity, whether it is the listed entity as
        indexed), best first."""
        from detente.vetting.learned import Query, explain_many, score_candidates

        query = entity(subject)
        bases = []
        for i, listed, as_indexed in chosen:
            candidate = self._candidate(i) if as_indexed else entity(listed)
            bases.append(base_compare(query, listed, candidate))
        learned = Query.of(query)
        scored = score_candidates(
            learned,
            [(listed, (b.score, b.base_features.get("name_match", (0.0, 0.0, ""))[0]))
             for (_, listed, _), b in zip(chosen, bases, strict=True)],
            self.rarity,
        )  # fmt: skip
        results = [
            Match(
                chosen[k][1],
                f.score,
                {},
                bases[k].score,
                bases[k].base_features,
                (f.query_name.text, f.listed_name.text),
                f.exact,
            )
            for k, f in enumerate(scored)
        ]
        order = sorted(range(len(results)), key=lambda k: (*rank_key(results[k]), chosen[k][1].key))
        order = [k for k in order if scored[k].score >= minimum][:limit]
        explained = explain_many(
            [scored[k] for k in order], learned, [chosen[k][1] for k in order], self.rarity
        )
        return [replace(results[k], features=why) for k, why in zip(order, explained, strict=True)]
