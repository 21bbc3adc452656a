"""Dissemination rules, each written once: who a partner is to the marking rules, which
intelligence-sharing agreement covers a release (in force by the registry's one rule,
``detente.registry.rules.in_force``; the partner among its parties; the classification
within its release terms), and a report's banner as a reader sees it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from detente.core.markings import Marking, Principal, derived_marking, parse, schemes
from detente.registry.rules import force_span, in_force
from detente.store.reads import ListQuery, Reader

__all__ = ["Cover", "banner_of", "covering_agreement", "partner_principal", "within"]

ARRANGEMENT = "intelligence_sharing_arrangement"
TOP = {scheme: len(levels) - 1 for scheme, levels in schemes().items()}


def partner_principal(partner: str, coalitions: Mapping[str, Iterable[str]]) -> Principal:
    """A partner country (ISO alpha-3) or coalition as the marking rules see it: its REL TO
    tokens (the country and its coalitions today; a coalition only itself), cleared to the
    top of every scheme, since the marking's releasability decides what it may receive and
    the agreement's terms what may be sent."""
    token = partner.strip().upper()
    member_of = frozenset(c for c, countries in coalitions.items() if token in countries)
    if len(token) == 3:
        return Principal(f"partner:{token}", f"partner:{token}", token, member_of, dict(TOP))
    return Principal(f"partner:{token}", f"partner:{token}", token, frozenset(), dict(TOP))


def banner_of(markings: Iterable[str], coalitions: Mapping[str, Iterable[str]]) -> str:
    """The banner of what a reader sees: the combination of the header and the portions
    shown (never lower than any of them)."""
    return derived_marking(list(markings), {k: list(v) for k, v in coalitions.items()}).render()


def within(marking: Marking, up_to: str | None) -> bool:
    """Whether ``marking``'s classification is covered by terms reaching ``up_to`` (no terms:
    unclassified information only)."""
    ceiling = parse(up_to) if up_to else Marking()
    for scheme, level in marking.requirements.items():
        if level <= 0:
            continue
        if scheme != ceiling.scheme or level > ceiling.level:
            return False
    return True


@dataclass(frozen=True)
class Cover:
    """The agreement that covers a release, or why none does."""

    agreement: Any | None
    terms: Any | None
    reason: str

    def __bool__(self) -> bool:
        return self.agreement is not None


def _party_of(actor: Any, partner: str) -> bool:
    if len(partner) == 3:
        return bool(actor.kind == "state" and actor.country == partner)
    names = {str(actor.name).upper(), str(actor.abbreviation or "").upper()}
    return actor.kind in ("regional_organisation", "international_organisation") and partner in names


def _not_in_force_reason(agreement: Any, on: date) -> str:
    span = force_span(agreement)
    if span is None:
        return f"'{agreement.title}' has not entered into force (not signed)"
    start, end = span
    if on < start:
        return f"'{agreement.title}' enters into force on {start}, not yet on {on}"
    return f"'{agreement.title}' is no longer in force on {on} (last day {end})"


def covering_agreement(reader: Reader, country: str, partner: str, marking: Marking, on: date) -> Cover:
    """The intelligence-sharing agreement (one the reader may see) in force on ``on``,
    between ``country`` (the releasing organisation's) and ``partner``, whose release terms
    cover ``marking``'s classification; or why there is none."""
    agreements = reader.list("agreements", ListQuery(filters={"kind": ARRANGEMENT}, limit=None))
    ids = sorted({p for a in agreements for p in a.parties})
    actors = (
        {a.id: a for a in reader.list("actors", ListQuery(filters={"id": ids}, limit=None))} if ids else {}
    )
    between = [
        a
        for a in agreements
        if any(_party_of(actors[p], partner) for p in a.parties if p in actors)
        and any(_party_of(actors[p], country) for p in a.parties if p in actors)
    ]
    if not between:
        return Cover(
            None, None, f"no intelligence-sharing arrangement between {country} and {partner} in the registry"
        )
    current = [a for a in between if in_force(a, on)]
    if not current:
        return Cover(None, None, "; ".join(_not_in_force_reason(a, on) for a in between))
    reasons = []
    for agreement in current:
        terms = reader.list("release_terms", ListQuery(filters={"agreement_id": agreement.id}, limit=None))
        ceiling = max(
            terms, key=lambda t: (parse(t.up_to).scheme == marking.scheme, parse(t.up_to).level), default=None
        )
        if within(marking, ceiling.up_to if ceiling else None):
            return Cover(agreement, ceiling, f"covered by '{agreement.title}' (in force)")
        reach = ceiling.up_to if ceiling else "UNCLASSIFIED (no release terms recorded)"
        reasons.append(f"'{agreement.title}' covers up to {reach}, not {marking.level_name}")
    return Cover(None, None, "; ".join(reasons))
