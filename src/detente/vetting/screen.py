"""Screening: a subject against every list loaded in the context lake.

The lists are the lake's ``un_sanctions``, ``ofac`` and ``opensanctions`` tables (one row
per listed entity, ``detente.sources.sanctions``), and UCDP's one-sided violence actors
(``ucdp_onesided``, one entity per actor, its years and deaths as the record).
``Screener`` reads them once, builds the candidate index, and scores each query's
candidates with the full matcher; results come best first with their explanations and
the list versions they were screened against.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from detente.core.errors import ValidationError
from detente.sources.lake import Lake
from detente.vetting.index import NameIndex
from detente.vetting.match import Listed, Match, Subject, compare, entity

__all__ = ["LISTS", "Screener", "listed_entities"]

LISTS = ("un_sanctions", "ofac", "opensanctions", "ucdp_onesided")
_CACHE: dict[tuple[str, tuple[tuple[str, str], ...]], Screener] = {}
_LOCK = threading.Lock()


_LISTED = (
    "SELECT entity_id, schema, name, aliases, birth_dates, countries, identifiers, programs, listed_on "
    "FROM {} WHERE name IS NOT NULL ORDER BY entity_id"
)
# UCDP's one-sided violence actors, one entity per actor: a conflict record, not a sanction
_ONESIDED = """
    SELECT CAST(actor_id AS VARCHAR), 'Organization', any_value(actor_name),
           list_distinct(list(actor_name_fulltext) FILTER (WHERE actor_name_fulltext <> actor_name)),
           [], [], [],
           ['UCDP one-sided violence ' || min(year) || '-' || max(year) || ': '
            || sum(best) || ' civilian deaths (best estimate)'], CAST(min(year) AS VARCHAR)
    FROM ucdp_onesided WHERE actor_name IS NOT NULL GROUP BY actor_id ORDER BY actor_id
"""


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value or () if v)


def listed_entities(lake: Lake, lists: Sequence[str] = LISTS) -> tuple[list[Listed], dict[str, str]]:
    """Every entity on the loaded lists, and each list's version (source: version, sha256)."""
    out: list[Listed] = []
    versions: dict[str, str] = {}
    for source in lists:
        if not lake.has(source):
            continue
        meta = lake.current(source)
        versions[source] = f"{meta.version} ({meta.sha256[:12]})" if meta else "?"
        rows = lake.db.execute(_ONESIDED if source == "ucdp_onesided" else _LISTED.format(source)).fetchall()
        for eid, schema, name, aliases, dobs, countries, ids, programs, listed_on in rows:
            out.append(
                Listed(
                    f"{source}:{eid}",
                    source,
                    schema or "LegalEntity",
                    name,
                    _tuple(aliases),
                    _tuple(dobs),
                    _tuple(countries),
                    _tuple(ids),
                    _tuple(programs),
                    str(listed_on) if listed_on else None,
                )
            )
    return out, versions


@dataclass
class Screener:
    listed: list[Listed]
    versions: dict[str, str] = field(default_factory=dict)
    index: NameIndex | None = None
    candidates: int = 30  # scored per query by the full matcher

    def __post_init__(self) -> None:
        if self.index is None:
            self.index = NameIndex.build(e.names for e in self.listed)
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
            found = self._entities[i] = entity(self.listed[i])
        return found

    def screen(self, subject: Subject, limit: int = 10, minimum: float = 0.0) -> list[Match]:
        """The ``limit`` best-scoring listed entities for ``subject``, best first."""
        assert self.index is not None
        query = entity(subject)
        found = self.index.candidates(subject.names, self.candidates)
        matches = [compare(query, self.listed[i], self._candidate(i)) for i, _ in found]
        matches = [m for m in matches if m.score >= minimum]
        matches.sort(key=lambda m: (-m.score, m.listed.key))
        return matches[:limit]
