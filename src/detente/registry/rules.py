"""The registry's rules that other slices and every interface ask, each written once.

- ``in_force``: whether an agreement is in force on a day (or over a span of days);
  ``force_span`` gives its first and last day in force;
- ``open_statuses``: which statuses of a lifecycle count as still open (being planned,
  pending, in progress), as the taxonomy declares them;
- ``overdue``: whether a commitment (or anything with a status and a due date) is overdue.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from detente.registry.taxonomy import taxonomy

__all__ = ["force_span", "in_force", "open_statuses", "overdue"]


def force_span(agreement: Any) -> tuple[date, date | None] | None:
    """The first and last day ``agreement`` is in force (last None: open-ended), or None
    when it never entered into force. It starts on ``in_force_on`` (failing that, the day
    it was signed), is in force through ``expires_on``, and no longer on ``terminated_on``."""
    start = agreement.in_force_on or agreement.signed_on
    if start is None:
        return None
    ends = [agreement.expires_on] if agreement.expires_on else []
    if agreement.terminated_on:
        ends.append(agreement.terminated_on - timedelta(days=1))
    return start, min(ends) if ends else None


def in_force(agreement: Any, on: date, until: date | None = None) -> bool:
    """Whether ``agreement`` is in force on ``on`` (through ``until``, when given)."""
    span = force_span(agreement)
    if span is None:
        return False
    start, end = span
    return start <= on and (end is None or (until or on) <= end)


def open_statuses(lifecycle: str) -> tuple[str, ...]:
    """The statuses of ``lifecycle`` that count as open (``engagement``: being planned)."""
    return taxonomy().lifecycles[lifecycle].open


def overdue(
    status: str, due_on: date | None, today: date | None = None, lifecycle: str = "commitment"
) -> bool:
    """Whether something in ``status`` that was due on ``due_on`` is overdue ``today``:
    still open and past its due date."""
    return due_on is not None and status in open_statuses(lifecycle) and due_on < (today or date.today())
