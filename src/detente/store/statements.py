"""The statements of the hot reads, built once and run many times.

A page of records, a record by id and a page's links and references are read on almost
every request. Building their SQLAlchemy statements (the ``visible`` predicate, the
filters, the count) costs more than running them on SQLite, and a statement object used
again also skips SQLAlchemy's cache-key computation. So each is built once per record
type, access profile (``detente.store.access.profile``: what ``visible`` reads of a
principal) and query shape (which filters, not their values), with every value a bound
parameter, and kept in a bounded cache. Every statement here is filtered by
``visible_to`` for its profile, exactly as the reader's own queries are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    Update,
    any_,
    bindparam,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)

from detente.core.db import UTCDateTime
from detente.core.errors import ValidationError
from detente.store.access import Profile, visible_to
from detente.store.records import RecordType, record_type

__all__ = [
    "TOTAL",
    "Shape",
    "among",
    "columns",
    "external_id_statement",
    "get_statement",
    "ids_statement",
    "key_statement",
    "listing",
    "related_statement",
]

TOTAL = "detente_total"  # the count a page's statement carries beside each row
CACHED = 1024  # statements kept per kind (the least recently used go first)


@dataclass(frozen=True)
class Shape:
    """What a listing's statement depends on, without the values (bound at run time)."""

    filters: tuple[tuple[str, str], ...] = ()  # (field, "in" | "null" | "eq")
    search: bool = False
    involving: bool = False
    date_from: bool = False
    date_to: bool = False
    order: str = "created_at"
    descending: bool = False
    limited: bool = True


def shape_of(
    res: RecordType,
    filters: Mapping[str, Any] | None,
    search: str | None,
    involving: Sequence[str] | None,
    dates: tuple[date | None, date | None],
    order: tuple[str | None, bool],
    page: tuple[int | None, int],
) -> tuple[Shape, dict[str, Any]]:
    """A listing's shape and the values its statement binds (``involving``: the ids of
    the actors the principal may see among those asked for)."""
    kinds: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    for key, value in (filters or {}).items():
        if isinstance(value, list | tuple | set):
            kinds.append((key, "in"))
            values[f"f_{key}"] = list(value)
        elif value is None:
            kinds.append((key, "null"))
        else:
            kinds.append((key, "eq"))
            values[f"f_{key}"] = value
    if search:
        values["search"] = f"%{search.lower()}%"
    if involving is not None:
        values["involving"] = list(involving)
    dated = res.date_field is not None
    for name, day in zip(("date_from", "date_to"), dates, strict=True):
        if dated and day:
            values[name] = _bound(res, name, day)
    limit, offset = page
    if limit is not None:
        values["limit"] = limit
    values["offset"] = offset
    shape = Shape(
        tuple(kinds), bool(search), involving is not None, "date_from" in values, "date_to" in values,
        order[0] or res.order, order[1], limit is not None,
    )  # fmt: skip
    return shape, values


def _bound(res: RecordType, name: str, day: date) -> date | datetime:
    """A day as the listing's date range binds it: a timestamp field (a report's time)
    runs from the first instant of ``date_from`` to the last of ``date_to``, in UTC."""
    column = res.table.__table__.columns[res.date_field]
    if not isinstance(column.type, UTCDateTime):
        return day
    return datetime.combine(day, time.min if name == "date_from" else time.max, tzinfo=UTC)


def columns(res: RecordType) -> list[Any]:
    """The record's columns, selected as plain rows: reading a page needs no mapped
    objects (the ORM's identity map and change tracking cost more than the query)."""
    return [getattr(res.table, c.key) for c in res.table.__table__.columns]


@lru_cache(maxsize=CACHED)
def get_statement(name: str, who: Profile) -> Select[Any]:
    """One record by ``:id``, if the profile may see it."""
    res = record_type(name)
    return select(*columns(res)).where(res.table.id == bindparam("id"), visible_to(res.table, who))


def among(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """``column`` is one of the list bound as ``:name``. On PostgreSQL one array parameter
    (``= ANY``), so the statement's text is the same for every length and its prepared
    plan is used again (a list of n ids as n parameters is a new statement for each n);
    elsewhere an expanding ``IN`` (on SQLite, a JSON list read by ``json_each`` cost as
    much as rendering the ``IN`` again for each length)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(String())))  # type: ignore[no-any-return]
    return column.in_(bindparam(name, expanding=True))  # type: ignore[no-any-return]


@lru_cache(maxsize=CACHED)
def update_statement(name: str) -> Update:
    """A change of one record at the version it was read at (its values bound at run time:
    no row changes if another writer got there first)."""
    table = record_type(name).table.__table__
    return update(table).where(
        table.c.id == bindparam("written_id"), table.c.version == bindparam("written_version")
    )


@lru_cache(maxsize=CACHED)
def ids_statement(table: Any, who: Profile, dialect: str) -> Select[Any]:
    """The ids among ``:ids`` of ``table``'s rows the profile may see (references checked
    on every write, links shown on every read)."""
    return select(table.id).where(among(table.id, "ids", dialect), visible_to(table, who))


@lru_cache(maxsize=CACHED)
def external_id_statement(name: str, who: Profile) -> Select[Any]:
    """A visible record of ``name`` other than ``:id`` with the external id ``:external_id``."""
    table = record_type(name).table
    return select(table.id).where(
        table.external_id == bindparam("external_id"), table.id != bindparam("id"), visible_to(table, who)
    )


@lru_cache(maxsize=CACHED)
def key_statement(name: str, who: Profile, empty: tuple[bool, ...]) -> Select[Any]:
    """The first visible record of ``name`` whose natural key matches ``:key_<field>``
    (``empty``: which of the key's fields are matched as null instead)."""
    res = record_type(name)
    stmt = select(res.table.id).where(visible_to(res.table, who))
    for key, none in zip(res.natural_key, empty, strict=True):
        column = getattr(res.table, key)
        stmt = stmt.where(column.is_(None) if none else column == bindparam(f"key_{key}"))
    return stmt.limit(1)


@lru_cache(maxsize=CACHED)
def related_statement(
    name: str, refs: tuple[str, ...], who: Profile, dialect: str
) -> Select[Any] | CompoundSelect[Any]:
    """(tag, owner, member, position) rows: for each link (tag: its index), the link rows
    of the records ``:owners`` whose member the profile may see (joined to the member's
    table under ``visible``, so a link to a hidden record is left out without a trace);
    for each reference in ``refs`` (tag: after the links), the ids among ``:ref<i>`` the
    profile may see (the others are withheld)."""
    res = record_type(name)
    parts: list[Select[Any]] = []
    for tag, link in enumerate(res.links.values()):
        target = record_type(link.target).table
        # the page's link rows first (a materialised CTE), then their members under ``visible``:
        # PostgreSQL's cached (generic) plan otherwise starts from every visible member and
        # probes the links for each (1.5 ms against 0.3 ms for a page of 20 on PostgreSQL)
        rows = (
            select(
                link.owner.label("owner"), link.member.label("member"), link.table.position.label("position")
            )  # type: ignore[attr-defined]
            .where(among(link.owner, "owners", dialect))
            .cte(f"links_{tag}")
            .prefix_with("MATERIALIZED")
        )
        parts.append(
            select(literal_column(str(tag)), rows.c.owner, rows.c.member, rows.c.position)
            .join(target, target.id == rows.c.member)
            .where(visible_to(target, who))
        )
    for i, ref in enumerate(refs):
        target = record_type(res.refs[ref]).table
        parts.append(
            select(literal_column(str(len(res.links) + i)), null(), target.id, null()).where(
                among(target.id, f"ref{i}", dialect), visible_to(target, who)
            )
        )
    return parts[0] if len(parts) == 1 else union_all(*parts)


@lru_cache(maxsize=CACHED)
def listing(name: str, who: Profile, shape: Shape, part: str) -> Select[Any]:
    """A listing's statement: ``rows`` (the page, sorted), ``page`` (the same with the
    count of every matching record beside each row), ``count`` (that count alone)."""
    res = record_type(name)
    where = _conditions(res, who, shape)
    if part == "count":
        return select(func.count()).select_from(_matching(res, where))
    order = shape.order
    if order not in res.table.__table__.columns or order in res.refs:
        # sorting by a reference would group records by a hidden record's id
        raise ValidationError(f"cannot sort {res.name} by {order!r}", field="order_by")
    column = getattr(res.table, order)
    stmt = (
        select(*columns(res))
        .where(*where)
        .order_by(column.desc() if shape.descending else column.asc(), res.table.id)
        .offset(bindparam("offset", type_=Integer))
    )
    if shape.limited:
        stmt = stmt.limit(bindparam("limit", type_=Integer))
    if part == "page":
        # the count rides along as a scalar subquery, evaluated once (a window count
        # would make SQLite sort every matching row rather than the page's)
        total = select(func.count()).select_from(_matching(res, where)).correlate(None)
        stmt = stmt.add_columns(total.scalar_subquery().label(TOTAL))
    return stmt


def _matching(res: RecordType, where: list[ColumnElement[bool]]) -> Any:
    """The ids of every record matching ``where`` (no order, no page), as a subquery."""
    return select(res.table.id).where(*where).correlate(None).subquery()


def _conditions(res: RecordType, who: Profile, shape: Shape) -> list[ColumnElement[bool]]:
    table = res.table
    where = [visible_to(table, who)]
    for key, kind in shape.filters:
        if key not in table.__table__.columns:
            raise ValidationError(f"cannot filter {res.name} by {key!r}", field=key)
        column = getattr(table, key)
        if kind == "in":
            where.append(column.in_(bindparam(f"f_{key}", expanding=True)))
        elif kind == "null":
            where.append(column.is_(None))
        else:
            where.append(column == bindparam(f"f_{key}"))
        if key in res.refs and kind != "null":
            # a filter on a reference matches only references the principal may see:
            # naming a hidden record's id finds nothing, as an unknown id does
            target = record_type(res.refs[key]).table
            where.append(column.in_(select(target.id).where(visible_to(target, who))))
    if shape.search:
        where.append(func.lower(getattr(table, res.title_field)).like(bindparam("search")))
    if shape.involving:
        where.append(_involving(res))
    if res.date_field:
        day = getattr(table, res.date_field)
        if shape.date_from:
            where.append(day >= bindparam("date_from"))
        if shape.date_to:
            where.append(day <= bindparam("date_to"))
    return where


def _involving(res: RecordType) -> ColumnElement[bool]:
    """Records the actors ``:involving`` take part in (the caller binds only actors the
    principal may see: a hidden actor's id involves nothing)."""
    table = res.table
    ids: Any = bindparam("involving", expanding=True)
    clauses = [getattr(table, f).in_(ids) for f, target in res.refs.items() if target == "actors"]
    for link in res.links.values():
        if link.target == "actors":
            clauses.append(table.id.in_(select(link.owner).where(link.member.in_(ids))))
    if res.name == "actors":
        clauses.append(table.id.in_(ids))
    if not clauses:
        raise ValidationError(f"{res.name} cannot be filtered by actor")
    return or_(*clauses)
