"""Whose engagements a planner sees: their own organisation's by default, others' on request.

An engagement is the organisation's own when the organisation owns the record and its
country leads it (or the lead has no country, e.g. an organisation the ministry leads
for). What an organisation records about other countries' activity (from open sources,
say) it owns, but it is not its plan: it is listed with the others' engagements, which
a planner sees on request (``scope="all"``: every engagement they may read).
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from detente.core.errors import ValidationError
from detente.core.markings import Principal

__all__ = ["SCOPES", "Scope", "is_own", "scope_of"]

Scope = Literal["own", "all"]
SCOPES: tuple[str, ...] = get_args(Scope)


def is_own(engagement: Any, principal: Principal, lead_country: str | None) -> bool:
    """Whether ``engagement`` (led from ``lead_country``) is the principal's organisation's own."""
    return engagement.owner_org_id == principal.org and lead_country in (None, principal.country)


def scope_of(text: str | None) -> Scope:
    """``own`` or ``all`` (default ``own``); anything else is a ``ValidationError`` naming both."""
    value = (text or "own").strip().lower()
    if value not in SCOPES:
        raise ValidationError(f"{text!r}: the scope is one of {', '.join(SCOPES)}", field="scope")
    return value  # type: ignore[return-value]
