"""The reading half of the store kernel: what one principal may see.

Every read (get, list, search, count, export, reference lookup, natural-key match) is
filtered by the one access decision (``visible``), so a principal sees only what is
releasable to them, and a record they may not see looks exactly like one that does not
exist. A reference to a record they may not see is withheld from what they read. The
writing half (``detente.store.service.Store``) builds on this class.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pydantic
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from detente.core.errors import (
    ConflictError,
    NotFoundError,
    ValidationError,
)
from detente.core.markings import Principal
from detente.store.access import bind_principal, visible
from detente.store.records import RecordType, record_type, record_types

__all__ = ["ListQuery", "Reader", "field_errors", "first_error"]


LINK_CHUNK = 5000  # record ids per query when fetching links


def now() -> datetime:
    return datetime.now(UTC)


def _is_id(value: str) -> bool:
    """Whether ``value`` can be a record id (a UUID): anything else is found nowhere,
    without asking the database (which may refuse it: PostgreSQL rejects NUL)."""
    try:
        return str(uuid.UUID(value)) == value.lower()
    except (ValueError, AttributeError, TypeError):
        return False


def field_errors(exc: pydantic.ValidationError) -> list[tuple[str | None, str]]:
    """(field, message) for every problem pydantic found, worded for a user."""
    out: list[tuple[str | None, str]] = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
        name = loc[0] if loc else None
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "required"
        out.append((name, msg))
    return out


def first_error(exc: pydantic.ValidationError) -> ValidationError:
    problems = field_errors(exc)
    text = "; ".join(f"{f}: {m}" if f else m for f, m in problems)
    return ValidationError(text, field=None)


@dataclass(frozen=True)
class ListQuery:
    """Filters for listing records. Unknown filter fields are refused."""

    filters: Mapping[str, Any] | None = None
    search: str | None = None
    involving: str | Sequence[str] | None = None  # actor id(s): records they take part in
    date_from: date | None = None
    date_to: date | None = None
    order_by: str | None = None
    descending: bool = False
    limit: int | None = 100
    offset: int = 0


class Reader:
    """The reading half of the store: what one principal may see, inside one unit of work.

    Every read is filtered by ``visible`` (the principal sees only what is
    releasable to them, in lists, counts, lookups and exports alike); every
    write checks the principal's role, ownership and the downgrade guard, and
    is appended to the audit trail in the same transaction.
    """

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal
        self.author = principal.user
        self._predicates: dict[Any, Any] = {}
        bind_principal(session, principal)

    def visible(self, table: Any) -> Any:
        """The SQL condition: rows of ``table`` this principal may read (built once per unit of work)."""
        bind_principal(self.session, self.principal)  # PostgreSQL's row-level security reads it
        if table not in self._predicates:  # built once per unit of work: it is the same expression
            self._predicates[table] = visible(table, self.principal)
        return self._predicates[table]

    def _exists(self, table: Any, record_id: str) -> bool:
        return (
            _is_id(record_id)
            and self.session.scalar(select(table.id).where(table.id == record_id, self.visible(table)))
            is not None
        )

    def _visible_ids(self, table: Any, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` whose ``table`` rows the principal may see (in chunks: SQLite
        and PostgreSQL cap the parameters of one statement)."""
        wanted = sorted(i for i in set(ids) if _is_id(i))
        seen: set[str] = set()
        for start in range(0, len(wanted), LINK_CHUNK):
            chunk = wanted[start : start + LINK_CHUNK]
            seen.update(
                self.session.scalars(select(table.id).where(table.id.in_(chunk), self.visible(table)))
            )
        return seen

    # ------------------------------------------------------------------ reads
    def _row(self, res: RecordType, record_id: str) -> Any:
        row = None
        if _is_id(record_id):
            row = self.session.scalar(
                select(res.table).where(res.table.id == record_id, self.visible(res.table))
            )
        if row is None:  # absent and hidden look the same: "not found", never "forbidden"
            raise NotFoundError(f"no {res.singular} with id {record_id}")
        return row

    def _links(
        self, res: RecordType, ids: list[str], id_query: Select[Any] | None = None
    ) -> dict[str, dict[str, list[str]]]:
        """Each record's linked records (partners, parties) that the principal may see:
        the others are left out, without a trace (on PostgreSQL the link table's row-level
        security hides them from this very query).

        ``id_query`` (the listing's own query, reduced to ids) replaces long id lists:
        one statement instead of one per chunk, so PostgreSQL evaluates the link
        table's row-level security once per listing rather than once per chunk.
        """
        out: dict[str, dict[str, list[str]]] = {i: {} for i in ids}
        for name, link in res.links.items():
            for i in ids:
                out[i][name] = []
            if not ids:
                continue
            owner = getattr(link.table, link.owner_column)
            actor = link.member
            target = record_types()[link.target].table
            # two plain queries (the links, then which of their actors this principal may
            # see) rather than one join, which planners mis-estimate on big lists
            pairs: list[tuple[str, str]] = []
            owners = (
                [id_query.scalar_subquery()]
                if id_query is not None and len(ids) > LINK_CHUNK
                else [ids[start : start + LINK_CHUNK] for start in range(0, len(ids), LINK_CHUNK)]
            )
            for chosen in owners:
                pairs += [
                    (o, a)
                    for o, a in self.session.execute(
                        select(owner, actor).where(owner.in_(chosen)).order_by(owner, link.table.position)  # type: ignore[attr-defined]
                    )
                    if o in out
                ]
            seen = self._visible_ids(target, (a for _, a in pairs))
            for owner_id, actor_id in pairs:
                if actor_id in seen:
                    out[owner_id][name].append(actor_id)
        return out

    def _public(
        self, res: RecordType, rows: list[Any], id_query: Select[Any] | None = None, *, raw: bool = False
    ) -> list[Any]:
        """Rows as public models. A reference to a record the principal may not see is
        withheld: null, its field named in ``withheld`` (a list of references holds only
        the records the principal may see), so that no response, export or page carries
        a hidden record's id. ``raw`` keeps single references as stored (for the
        service's own checks, never returned to a caller)."""
        links = self._links(res, [r.id for r in rows], id_query)
        shown: dict[str, set[str]] = {}
        if not raw:
            for name, target in res.refs.items():
                values = {getattr(r, name) for r in rows} - {None}
                shown[name] = self._visible_ids(record_types()[target].table, values) if values else set()
        out = []
        for row in rows:
            data = {c.key: getattr(row, c.key) for c in res.table.__table__.columns}
            data.update(links[row.id])
            withheld = []
            for name in shown:
                if data[name] is not None and data[name] not in shown[name]:
                    data[name] = None
                    withheld.append(name)
            data["withheld"] = sorted(withheld)
            out.append(res.public_model.model_validate(data))
        return out

    def get(self, name: str, record_id: str) -> Any:
        res = record_type(name)
        return self._public(res, [self._row(res, record_id)])[0]

    def _select(self, res: RecordType, query: ListQuery) -> Select[Any]:
        table = res.table
        stmt = select(table).where(self.visible(table))
        for key, value in (query.filters or {}).items():
            if key not in table.__table__.columns:
                raise ValidationError(f"cannot filter {res.name} by {key!r}", field=key)
            column = getattr(table, key)
            if isinstance(value, list | tuple | set):
                stmt = stmt.where(column.in_(list(value)))
            elif value is None:
                stmt = stmt.where(column.is_(None))
            else:
                stmt = stmt.where(column == value)
            if key in res.refs and value is not None:
                # a filter on a reference matches only references the principal may see:
                # naming a hidden record's id finds nothing, as an unknown id does
                target = record_types()[res.refs[key]].table
                stmt = stmt.where(column.in_(select(target.id).where(self.visible(target))))
        if query.search:
            pattern = f"%{query.search.lower()}%"
            stmt = stmt.where(func.lower(getattr(table, res.title_field)).like(pattern))
        if query.involving:
            stmt = stmt.where(self._involving(res, query.involving))
        date_col = getattr(res.table, res.date_field) if res.date_field else None
        if date_col is not None:
            if query.date_from:
                stmt = stmt.where(date_col >= query.date_from)
            if query.date_to:
                stmt = stmt.where(date_col <= query.date_to)
        return stmt

    def _involving(self, res: RecordType, actor: str | Sequence[str]) -> Any:
        table = res.table
        # only actors the principal may see: a hidden actor's id involves nothing
        ids = sorted(
            self._visible_ids(record_types()["actors"].table, [actor] if isinstance(actor, str) else actor)
        )
        clauses = [getattr(table, f).in_(ids) for f, target in res.refs.items() if target == "actors"]
        for link in res.links.values():
            if link.target == "actors":
                clauses.append(table.id.in_(select(link.owner).where(link.member.in_(ids))))
        if res.name == "actors":
            clauses.append(table.id.in_(ids))
        if not clauses:
            raise ValidationError(f"{res.name} cannot be filtered by actor")
        return or_(*clauses)

    def list(self, name: str, query: ListQuery | None = None) -> list[Any]:
        res = record_type(name)
        query = query or ListQuery()
        stmt = self._select(res, query)
        order = query.order_by or res.order
        if order not in res.table.__table__.columns or order in res.refs:
            # sorting by a reference would group records by a hidden record's id
            raise ValidationError(f"cannot sort {res.name} by {order!r}", field="order_by")
        column = getattr(res.table, order)
        stmt = stmt.order_by(column.desc() if query.descending else column.asc(), res.table.id)
        if query.limit is not None:
            stmt = stmt.limit(query.limit)
        stmt = stmt.offset(query.offset)
        return self._public(res, list(self.session.scalars(stmt)), stmt.with_only_columns(res.table.id))

    def count(self, name: str, query: ListQuery | None = None) -> int:
        res = record_type(name)
        stmt = self._select(res, query or ListQuery()).subquery()
        return int(self.session.scalar(select(func.count()).select_from(stmt)) or 0)

    def iter_all(self, name: str, batch: int = 1000) -> Iterator[Any]:
        """Every record of a table in a stable order (for export), in batches."""
        res = record_type(name)
        offset = 0
        while True:
            rows = list(
                self.session.scalars(
                    select(res.table)
                    .where(self.visible(res.table))
                    .order_by(res.table.created_at, res.table.id)
                    .limit(batch)
                    .offset(offset)
                )
            )
            if not rows:
                return
            yield from self._public(res, rows)
            offset += len(rows)

    # ------------------------------------------------------------- references
    def resolve_ref(self, target: str, token: str, *, field: str | None = None) -> str:
        """The id of the record a user means by ``token``.

        Tried in order: the record id, its external id, its exact name or
        title (case-insensitive, must be unique), then the record type's own
        resolvers (for actors: a country, whose state actor is meant).
        """
        res = record_type(target)
        token = token.strip()
        if any(ord(ch) < 32 for ch in token):  # no name or id holds one (PostgreSQL refuses NUL)
            raise ValidationError(f"no {res.singular} {token!r} (id, external id or name)", field=field)
        table = res.table
        seen = self.visible(table)
        if self._exists(table, token):
            return token
        hit = self.session.scalar(select(table.id).where(table.external_id == token, seen).limit(1))
        if hit:
            return str(hit)
        title = getattr(table, res.title_field)
        hits = list(
            self.session.scalars(select(table.id).where(func.lower(title) == token.lower(), seen).limit(3))
        )
        if len(hits) == 1:
            return str(hits[0])
        if len(hits) > 1:
            raise ValidationError(
                f"{token!r} names several {res.name}; use its id or external id", field=field
            )
        for resolver in res.resolvers:  # the record type's own ways of naming a record
            found = resolver(self, token, field)
            if found:
                return found
        raise ValidationError(f"no {res.singular} {token!r} (id, external id or name)", field=field)

    def _check_refs(self, res: RecordType, data: Mapping[str, Any]) -> None:
        for name, target in res.refs.items():
            value = data.get(name)
            if value is not None and not self._exists(record_types()[target].table, value):
                raise ValidationError(f"no {record_types()[target].singular} with id {value}", field=name)
        for name, link in res.links.items():
            ids = list(data.get(name) or [])
            if not ids:
                continue
            found = self._visible_ids(record_types()[link.target].table, ids)
            missing = [i for i in ids if i not in found]
            if missing:
                raise ValidationError(
                    f"no {record_types()[link.target].singular} with id {missing[0]}", field=name
                )
        for check in res.checks:  # the record type's own rules that need the store
            check(self, data)

    def find_id(self, name: str, *, record_id: str | None, external_id: str | None) -> str | None:
        """The visible record with this id, else with this external id, else None."""
        table = record_type(name).table
        if record_id and self._exists(table, record_id):
            return record_id
        if external_id:
            return self.session.scalar(
                select(table.id).where(table.external_id == external_id, self.visible(table)).limit(1)
            )
        return None

    def _natural_key(self, res: RecordType, data: Mapping[str, Any]) -> dict[str, Any]:
        return {k: data.get(k) for k in res.natural_key}

    def find_by_natural_key(self, res: RecordType, data: Mapping[str, Any]) -> str | None:
        stmt = select(res.table.id).where(self.visible(res.table))
        for key, value in self._natural_key(res, data).items():
            column = getattr(res.table, key)
            stmt = stmt.where(column.is_(None) if value is None else column == value)
        return self.session.scalar(stmt.limit(1))

    def _check_unique(self, res: RecordType, data: Mapping[str, Any], record_id: str) -> None:
        ext = data.get("external_id")
        if ext:
            other = self.session.scalar(
                select(res.table.id).where(
                    res.table.external_id == ext, res.table.id != record_id, self.visible(res.table)
                )
            )
            if other:
                raise ConflictError(f"external id {ext!r} is already used by {res.singular} {other}")
        other = self.find_by_natural_key(res, data)
        if other and other != record_id:
            key = ", ".join(f"{k}={v}" for k, v in self._natural_key(res, data).items())
            raise ConflictError(f"a {res.singular} with {key} already exists: id {other}")
