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
from functools import cache
from typing import Annotated, Any, get_args, get_origin

import pydantic
from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from detente.core.errors import (
    ConflictError,
    NotFoundError,
    UnknownValueError,
    ValidationError,
)
from detente.core.markings import Principal
from detente.store.access import bind_principal, profile, visible
from detente.store.models import choices
from detente.store.records import RecordType, record_type
from detente.store.statements import (
    TOTAL,
    Shape,
    columns,
    external_id_statement,
    get_statement,
    ids_statement,
    key_statement,
    listing,
    related_statement,
    shape_of,
)

__all__ = ["ListQuery", "Reader", "check_filters", "field_errors", "first_error"]


LINK_CHUNK = 5000  # record ids per query when fetching links
# up to this many records, their links and references are fetched in one statement
# (a page of a listing); longer lists (exports, whole tables) in per-link chunks
ONE_STATEMENT = 1000
Listed = tuple[Select[Any], dict[str, Any]]  # a listing's statement and the values it binds


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


def check_filters(res: RecordType, filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The filters as the fields' own types (``"3"`` for a number field is 3), refusing a
    value a field can never hold: a status or kind outside its list (the error names the
    nearest allowed values, rather than an empty list that looks like "nothing there"), or
    a value not of the field's type (the error names the field)."""
    typed: dict[str, Any] = {}
    for key, value in (filters or {}).items():
        info = res.fields_model.model_fields.get(key)
        allowed = choices(info.annotation, info.metadata) if info is not None else ()
        values = value if isinstance(value, list | tuple | set) else [value]
        for one in values:
            if allowed and one is not None and one not in allowed:
                raise UnknownValueError(str(one), allowed, what=key.replace("_", " "), field=key)
        if info is None or allowed:
            typed[key] = value
            continue
        try:
            kind = _filter_type(res.name, key)
            converted = [None if one is None else kind.validate_python(one) for one in values]
        except pydantic.ValidationError as exc:
            reason = exc.errors()[0]["msg"]
            message = f"filter {key}: {value!r} is not a valid value ({reason})"
            raise ValidationError(message, field=key) from None
        typed[key] = converted if isinstance(value, list | tuple | set) else converted[0]
    return typed


def _model(res: RecordType, data: dict[str, Any], shown: Mapping[str, set[str]]) -> Any:
    """A record's public model: each reference not among those ``shown`` is withheld (null,
    and named in ``withheld``)."""
    withheld = sorted(n for n in shown if data[n] is not None and data[n] not in shown[n])
    return res.public_model.model_validate({**data, **dict.fromkeys(withheld), "withheld": withheld})


@cache
def _filter_type(name: str, key: str) -> pydantic.TypeAdapter[Any]:
    """A filter's value as its field's type, read as a query string gives it (lax)."""
    info = record_type(name).fields_model.model_fields[key]
    annotation: Any = info.annotation
    if get_origin(annotation) in (list, tuple, set):  # a list field is filtered by one member
        annotation = get_args(annotation)[0]
    return pydantic.TypeAdapter(Annotated[annotation, *info.metadata] if info.metadata else annotation)


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
        self.dialect = session.get_bind().dialect.name
        bind_principal(session, principal)

    def visible(self, table: Any) -> Any:
        """The SQL condition: rows of ``table`` this principal may read (built once per unit of work)."""
        bind_principal(self.session, self.principal)  # PostgreSQL's row-level security reads it
        if table not in self._predicates:  # built once per unit of work: it is the same expression
            self._predicates[table] = visible(table, self.principal)
        return self._predicates[table]

    def _run(self, stmt: Any, values: Mapping[str, Any]) -> Any:
        """Run one of the store's own statements (``statements``: plain rows, no mapped
        objects) on the unit's connection, past the ORM's per-statement handling, which
        cost more than the statement on a page of records; what the unit has added is
        flushed first, as the session itself would before a query, and the principal is
        bound for PostgreSQL's row-level security (cheap when it already is)."""
        self.session.flush()
        bind_principal(self.session, self.principal)
        return self.session.connection().execute(stmt, values)

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
        if not wanted:
            return seen
        stmt = ids_statement(table, profile(self.principal), self.dialect)
        for start in range(0, len(wanted), LINK_CHUNK):
            seen.update(self._run(stmt, {"ids": wanted[start : start + LINK_CHUNK]}).scalars())
        return seen

    # ------------------------------------------------------------------ reads
    def _row(self, res: RecordType, record_id: str) -> Any:
        """The record as a mapped object (for the writes, which change or delete it)."""
        row = None
        if _is_id(record_id):
            row = self.session.scalar(
                select(res.table).where(res.table.id == record_id, self.visible(res.table))
            )
        if row is None:  # absent and hidden look the same: "not found", never "forbidden"
            raise NotFoundError(f"no {res.singular} with id {record_id}")
        return row

    def _related(
        self, res: RecordType, ids: list[str], refs: Mapping[str, set[str]]
    ) -> tuple[dict[str, dict[str, list[str]]], dict[str, set[str]]]:
        """A page's links and which of its references the principal may see, in one
        statement (``statements.related_statement``); the others are left out of the links, and
        withheld from the references by ``_public``."""
        links: dict[str, dict[str, list[str]]] = {i: {name: [] for name in res.links} for i in ids}
        shown: dict[str, set[str]] = {name: set() for name in refs}
        if not ids or not (res.links or refs):
            return links, shown
        stmt = related_statement(res.name, tuple(refs), profile(self.principal), self.dialect)
        values = {"owners": ids, **{f"ref{i}": sorted(v) for i, v in enumerate(refs.values())}}
        names = [*res.links, *refs]
        found = self._run(stmt, values).all()
        for tag, owner, member, _ in sorted(found, key=lambda r: (r[0], r[1] or "", r[3] or 0)):
            name = names[int(tag)]
            if owner is None:
                shown[name].add(member)
            elif owner in links:
                links[owner][name].append(member)
        return links, shown

    def _links(
        self, res: RecordType, ids: list[str], listed: Listed | None = None
    ) -> dict[str, dict[str, list[str]]]:
        """Each record's linked records (partners, parties) that the principal may see:
        the others are left out, without a trace (on PostgreSQL the link table's row-level
        security hides them from this very query).

        ``listed`` (the listing's own statement and values, reduced to ids) replaces long
        id lists: one statement instead of one per chunk, so PostgreSQL evaluates the
        link table's row-level security once per listing rather than once per chunk.
        """
        values = listed[1] if listed is not None else {}
        out: dict[str, dict[str, list[str]]] = {i: {} for i in ids}
        for name, link in res.links.items():
            for i in ids:
                out[i][name] = []
            if not ids:
                continue
            owner = getattr(link.table, link.owner_column)
            actor = link.member
            target = record_type(link.target).table
            # two plain queries (the links, then which of their actors this principal may
            # see) rather than one join, which planners mis-estimate on big lists
            pairs: list[tuple[str, str]] = []
            owners = (
                [listed[0].with_only_columns(res.table.id).scalar_subquery()]
                if listed is not None and len(ids) > LINK_CHUNK
                else [ids[start : start + LINK_CHUNK] for start in range(0, len(ids), LINK_CHUNK)]
            )
            for chosen in owners:
                pairs += [
                    (o, a)
                    for o, a in self.session.execute(
                        select(owner, actor).where(owner.in_(chosen)).order_by(owner, link.table.position),  # type: ignore[attr-defined]
                        values,
                    )
                    if o in out
                ]
            seen = self._visible_ids(target, (a for _, a in pairs))
            for owner_id, actor_id in pairs:
                if actor_id in seen:
                    out[owner_id][name].append(actor_id)
        return out

    def _public(self, res: RecordType, rows: Sequence[Any], listed: Listed | None = None) -> list[Any]:
        """Rows (mapped objects or plain rows) as public models. A reference to a record
        the principal may not see is withheld: null, its field named in ``withheld`` (a
        list of references holds only the records the principal may see), so that no
        response, export or page carries a hidden record's id."""
        keys = [c.key for c in res.table.__table__.columns]
        # plain rows hold the columns in this order (``columns``), and maybe more after them
        datas = [
            dict(zip(keys, row, strict=False)) if isinstance(row, Row) else {k: getattr(row, k) for k in keys}
            for row in rows
        ]
        ids = [d["id"] for d in datas]
        refs = {name: {d[name] for d in datas} - {None} for name in res.refs}
        if len(ids) <= min(ONE_STATEMENT, LINK_CHUNK):
            links, shown = self._related(res, ids, refs)
        else:
            links = self._links(res, ids, listed)
            shown = {
                name: self._visible_ids(record_type(res.refs[name]).table, values) if values else set()
                for name, values in refs.items()
            }
        out = []
        for data in datas:
            data.update(links[data["id"]])
            out.append(_model(res, data, shown))
        return out

    def _stored_row(self, res: RecordType, record_id: str) -> Any:
        """A record's stored columns (a plain row), if the principal may see it."""
        row = None
        if _is_id(record_id):
            row = self._run(get_statement(res.name, profile(self.principal)), {"id": record_id}).first()
        if row is None:  # absent and hidden look the same: "not found", never "forbidden"
            raise NotFoundError(f"no {res.singular} with id {record_id}")
        return row

    def _stored(self, res: RecordType, record_id: str) -> dict[str, Any]:
        """A record's columns as stored, if the principal may see it (for the writes)."""
        return dict(self._stored_row(res, record_id)._mapping)

    def _shown_and_stored(self, res: RecordType, stored: Mapping[str, Any]) -> tuple[Any, Any]:
        """One record (its stored columns) as the principal is shown it, and as stored (its
        references to records hidden from the principal kept, for the service's own checks,
        never returned to a caller): one query for both."""
        data = dict(stored)
        refs = {name: {data[name]} - {None} for name in res.refs}
        links, shown = self._related(res, [data["id"]], refs)
        data.update(links[data["id"]])
        return _model(res, data, shown), _model(res, data, {})

    def _as_written(self, res: RecordType, row: Mapping[str, Any], links: Mapping[str, Any]) -> Any:
        """The public model of a record this unit has just written, without reading it back:
        its references and links were all checked visible to the principal (``_check_refs``),
        so it is what ``get`` would return (a test compares the two for every record type)."""
        data = {c.key: row[c.key] for c in res.table.__table__.columns}
        data.update({name: list(links.get(name) or []) for name in res.links})
        return _model(res, data, {name: {data[name]} - {None} for name in res.refs})

    def _as_changed(
        self, res: RecordType, shown: Any, row: Mapping[str, Any], links: Mapping[str, Any], changed: Any
    ) -> Any:
        """The public model of a record this unit has just changed, without reading it back
        (as ``_as_written`` for a new one): a reference or link it changed was checked visible
        (``_check_refs``); one it kept is shown as it was before the change (``shown``)."""
        data = {c.key: row[c.key] for c in res.table.__table__.columns}
        data.update(
            {name: list(links[name] if name in links else getattr(shown, name)) for name in res.links}
        )
        visible = {
            name: {data[name]} - {None} if name in changed or name not in shown.withheld else set()
            for name in res.refs
        }
        return _model(res, data, visible)

    def get(self, name: str, record_id: str) -> Any:
        res = record_type(name)
        return self._public(res, [self._stored_row(res, record_id)])[0]

    def _shape(self, res: RecordType, query: ListQuery) -> tuple[Shape, dict[str, Any]]:
        """The listing's statement shape and the values it binds."""
        involving = None
        if query.involving:
            # only actors the principal may see: a hidden actor's id involves nothing
            asked = [query.involving] if isinstance(query.involving, str) else query.involving
            involving = sorted(self._visible_ids(record_type("actors").table, asked))
        filters = check_filters(res, query.filters)
        return shape_of(
            res,
            filters,
            query.search,
            involving,
            (query.date_from, query.date_to),
            (query.order_by, query.descending),
            (query.limit, query.offset),
        )

    def _listing(self, res: RecordType, query: ListQuery, part: str) -> tuple[Select[Any], dict[str, Any]]:
        shape, values = self._shape(res, query)
        bind_principal(self.session, self.principal)  # PostgreSQL's row-level security reads it
        return listing(res.name, profile(self.principal), shape, part), values

    def page(self, name: str, query: ListQuery) -> tuple[list[Any], int]:
        """A listing and the number of records matching its filters (what ``list`` and
        ``count`` give) from one statement. A page past the end asks for the count alone."""
        res = record_type(name)
        stmt, values = self._listing(res, query, "page")
        rows = self._run(stmt, values).all()
        count = int(rows[0]._mapping[TOTAL]) if rows else (self.count(name, query) if query.offset else 0)
        return self._public(res, rows, (stmt, values)), count

    def list(self, name: str, query: ListQuery | None = None) -> list[Any]:
        res = record_type(name)
        stmt, values = self._listing(res, query or ListQuery(), "rows")
        return self._public(res, self._run(stmt, values).all(), (stmt, values))

    def count(self, name: str, query: ListQuery | None = None) -> int:
        res = record_type(name)
        stmt, values = self._listing(res, query or ListQuery(), "count")
        return int(self._run(stmt, values).scalar() or 0)

    def titles(
        self, name: str, ids: Iterable[str] | None = None, *, limit: int | None = None
    ) -> dict[str, str]:
        """The titles (``title_field``, or the id where it is empty) of the records of
        ``name`` the principal may see, by id: of ``ids``, or else the first ``limit`` in
        title order. For naming linked records and for menus, without reading records whole."""
        res = record_type(name)
        title = getattr(res.table, res.title_field)
        stmt = select(res.table.id, title).where(self.visible(res.table))
        if ids is None:
            first = stmt.order_by(title, res.table.id).limit(limit)
            return {i: str(t or i) for i, t in self.session.execute(first)}
        wanted = sorted(i for i in set(ids) if _is_id(i))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), LINK_CHUNK):
            chunk = stmt.where(res.table.id.in_(wanted[start : start + LINK_CHUNK]))
            found.update((i, str(t or i)) for i, t in self.session.execute(chunk))
        return found

    def iter_all(self, name: str, batch: int = 1000) -> Iterator[Any]:
        """Every record of a table in a stable order (for export), in batches."""
        res = record_type(name)
        offset = 0
        while True:
            rows = self.session.execute(
                select(*columns(res))
                .where(self.visible(res.table))
                .order_by(res.table.created_at, res.table.id)
                .limit(batch)
                .offset(offset)
            ).all()
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
        """Every reference and link names a record the principal may see (one query per
        table referred to: an engagement's lead and partners are all actors)."""
        asked: dict[str, list[tuple[str, str]]] = {}  # target -> (field, id), in field order
        for name, target in res.refs.items():
            if data.get(name) is not None:
                asked.setdefault(target, []).append((name, data[name]))
        for name, link in res.links.items():
            asked.setdefault(link.target, []).extend((name, i) for i in data.get(name) or [])
        for target, wanted in asked.items():
            kind = record_type(target)
            found = self._visible_ids(kind.table, (i for _, i in wanted)) if wanted else set()
            for name, value in wanted:
                if value not in found:
                    raise ValidationError(f"no {kind.singular} with id {value}", field=name)
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
        key = self._natural_key(res, data)
        stmt = key_statement(res.name, profile(self.principal), tuple(v is None for v in key.values()))
        found = self._run(stmt, {f"key_{k}": v for k, v in key.items() if v is not None}).scalar()
        return None if found is None else str(found)

    def _check_unique(self, res: RecordType, data: Mapping[str, Any], record_id: str) -> None:
        ext = data.get("external_id")
        if ext:
            stmt = external_id_statement(res.name, profile(self.principal))
            other = self._run(stmt, {"external_id": ext, "id": record_id}).scalar()
            if other:
                raise ConflictError(f"external id {ext!r} is already used by {res.singular} {other}")
        other = self.find_by_natural_key(res, data)
        if other and other != record_id:
            key = ", ".join(f"{k}={v}" for k, v in self._natural_key(res, data).items())
            raise ConflictError(f"a {res.singular} with {key} already exists: id {other}")
