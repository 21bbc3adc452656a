"""The one access decision point of detente, inside SQL.

``visible(table, principal)`` is the SQL form of ``detente.core.markings.may_read``:
every registry read (get, list, search, count, export, reference lookup) adds it
to its query, so a record a principal may not read never leaves the database for
them. ``marking_columns`` takes a marking apart into the columns that predicate
reads. A test checks that the SQL form and the pure rule agree on random data.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_

from detente.core.markings import Marking, Principal

__all__ = ["NOBODY", "marking_columns", "visible"]

SCHEME_COLUMNS = {"national": "mk_national", "nato": "mk_nato"}
NOBODY = -1  # the level stored for a scheme a record does not require


def _pack(tokens: frozenset[str] | set[str]) -> str:
    return "|" + "".join(f"{t}|" for t in sorted(tokens))


def marking_columns(marking: Marking) -> dict[str, Any]:
    """The stored parts of a marking (what ``visible`` filters on)."""
    needed = marking.requirements
    return {
        **{column: needed.get(scheme, NOBODY) for scheme, column in SCHEME_COLUMNS.items()},
        "mk_rel": _pack(marking.rel_to),
        "mk_tlp": marking.tlp or "",
        "mk_recipients": _pack(marking.recipients),
        "mk_public": marking.public,
    }


def visible(table: Any, principal: Principal) -> ColumnElement[bool]:
    """SQL condition: rows of ``table`` that ``principal`` may read."""
    cleared = and_(
        *(
            getattr(table, column) <= principal.clearances.get(scheme, NOBODY)
            for scheme, column in SCHEME_COLUMNS.items()
        )
    )
    own = table.owner_org_id == principal.org
    released = or_(
        false(), *(table.mk_rel.contains(f"|{t}|", autoescape=True) for t in sorted(principal.tokens))
    )
    named = table.mk_recipients.contains(f"|{principal.user.upper()}|", autoescape=True)
    red = table.mk_tlp == "RED"
    return and_(
        cleared,
        or_(
            and_(red, or_(own, named)),
            and_(~red, or_(own, table.mk_public, released)),
        ),
    )
