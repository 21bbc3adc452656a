"""The one access decision point of detente, inside SQL.

``visible(table, principal)`` is the SQL form of ``detente.core.markings.may_read``:
every registry read (get, list, search, count, export, reference lookup) adds it
to its query, so a record a principal may not read never leaves the database for
them. ``marking_columns`` takes a marking apart into the columns that predicate
reads. A test checks that the SQL form and the pure rule agree on random data.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, String, and_, bindparam, event, false, func, or_, text
from sqlalchemy.orm import Session

from detente.core.markings import Marking, Principal

__all__ = [
    "NOBODY",
    "Profile",
    "bind_principal",
    "binding_columns",
    "binding_values",
    "bound_as",
    "marking_columns",
    "profile",
    "system_access",
    "unbind",
    "visible",
    "visible_to",
]

# The settings PostgreSQL's row-level security policies read (migration 0004), each bound
# from the value of the same name (``binding_values``).
_SETTINGS = {
    "detente.user": "user",
    "detente.org": "org",
    "detente.tokens": "tokens",
    "detente.clear_national": "national",
    "detente.clear_nato": "nato",
}
_SET = text(
    "SELECT set_config('detente.system', '', true), "
    + ", ".join(f"set_config('{name}', :{value}, true)" for name, value in _SETTINGS.items())
)
_BOUND = "detente_bound_principal"

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


# What the access decision reads of a principal: user, organisation, REL TO tokens
# (country and coalitions), clearance level per scheme (in SCHEME_COLUMNS' order).
Profile = tuple[str, str, frozenset[str], tuple[int, ...]]


def profile(principal: Principal) -> Profile:
    """The values of ``principal`` that ``visible`` reads (and nothing else)."""
    clearances = tuple(principal.clearances.get(scheme, NOBODY) for scheme in SCHEME_COLUMNS)
    return principal.user, principal.org, principal.tokens, clearances


def visible(table: Any, principal: Principal) -> ColumnElement[bool]:
    """SQL condition: rows of ``table`` that ``principal`` may read.

    Built once per table and access profile, then reused: the expression is immutable,
    and building it costs more than the query it filters on a page of records. The
    cache is keyed on every value the predicate reads (``profile``), so a principal
    whose coalitions or clearances change gets a new one.
    """
    return visible_to(table, profile(principal))


def visible_to(table: Any, who: Profile) -> ColumnElement[bool]:
    """``visible`` for an access profile."""
    return _visible(table, *who)


@lru_cache(maxsize=4096)
def _visible(
    table: Any, user: str, org: str, tokens: frozenset[str], clearances: tuple[int, ...]
) -> ColumnElement[bool]:
    columns = SCHEME_COLUMNS.values()
    cleared = and_(*(getattr(table, c) <= level for c, level in zip(columns, clearances, strict=True)))
    own = table.owner_org_id == org
    released = or_(false(), *(table.mk_rel.contains(f"|{t}|", autoescape=True) for t in sorted(tokens)))
    named = table.mk_recipients.contains(f"|{user.upper()}|", autoescape=True)
    red = table.mk_tlp == "RED"
    return and_(
        cleared,
        or_(
            and_(red, or_(own, named)),
            and_(~red, or_(own, table.mk_public, released)),
        ),
    )


def binding_values(principal: Principal) -> dict[str, str]:
    """The values of ``principal`` that PostgreSQL's row-level security reads, by name."""
    return {
        "user": principal.user,
        "org": principal.org,
        "tokens": "|".join(sorted(principal.tokens)),
        "national": str(principal.clearances.get("national", NOBODY)),
        "nato": str(principal.clearances.get("nato", NOBODY)),
    }


def binding_columns(prefix: str) -> list[ColumnElement[Any]]:
    """``bind_principal``'s settings as columns another statement can carry, each bound from
    ``binding_values`` under ``prefix`` (saving a round trip: see ``bound_as``)."""
    columns: list[ColumnElement[Any]] = [func.set_config("detente.system", "", True)]
    for name, value in _SETTINGS.items():
        columns.append(func.set_config(name, bindparam(f"{prefix}{value}", type_=String), True))
    return columns


def bind_principal(session: Session, principal: Principal) -> None:
    """Set ``principal`` on the session's connection for the rest of its transaction.

    On PostgreSQL the row-level security policies read it (the second line of
    enforcement); on SQLite there is nothing to set. Cheap when already bound.
    """
    if session.info.get(_BOUND) is principal or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(_SET, binding_values(principal))
    session.info[_BOUND] = principal


def bound_as(session: Session, principal: Principal, carried: Principal) -> None:
    """After a statement that carried ``binding_columns`` for ``carried``: ``principal`` is
    bound if it reads as ``carried`` does, and is bound now otherwise (so the settings never
    stay those of another principal)."""
    if binding_values(carried) == binding_values(principal):
        session.info[_BOUND] = principal
    else:
        session.info.pop(_BOUND, None)
        bind_principal(session, principal)


def unbind(session: Session) -> None:
    """Undo a binding carried for a principal who turned out not to be calling (a revoked
    token): the settings read as before any binding, so row-level security shows nothing."""
    session.execute(_SET, dict.fromkeys(_SETTINGS.values(), ""))
    session.info.pop(_BOUND, None)


def system_access(session: Session) -> None:
    """Maintenance work that must reach every row (adopting orphan records, migrations)
    for the rest of the transaction. Never used on a path that answers a user."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text("SELECT set_config('detente.system', 'on', true)"))
    session.info[_BOUND] = None


@event.listens_for(Session, "after_transaction_end")
def _forget_binding(session: Session, _transaction: object) -> None:
    # settings made with set_config(..., true) end with the transaction, and a
    # rolled-back savepoint undoes them: bind again on the next query
    session.info.pop(_BOUND, None)
