"""Registry services: create, read, list, update and delete records.

The one place that writes registry tables. Every write checks what the models
cannot check alone (references exist, lifecycle moves are legal, natural keys
are not taken twice) and uses optimistic concurrency: an update names the
version it read, and a record changed since is refused, never overwritten.
Interfaces (CLI, API, import) call these functions; they never touch tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pydantic
from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from detente.core import audit
from detente.core.errors import (
    ConflictError,
    NotFoundError,
    StaleVersionError,
    ValidationError,
)
from detente.core.markings import Principal, check_marking_change, parse
from detente.registry.resources import RESOURCES, Resource, resource
from detente.registry.tables import Base, metadata, new_id
from detente.registry.taxonomy import taxonomy
from detente.sharing.access import bind_principal, marking_columns, visible

__all__ = ["ListQuery", "Registry", "field_errors", "first_error"]


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


class Registry:
    """Registry operations for one principal inside one unit of work.

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

    def _visible(self, table: Any) -> Any:
        bind_principal(self.session, self.principal)  # PostgreSQL's row-level security reads it
        if table not in self._predicates:  # built once per unit of work: it is the same expression
            self._predicates[table] = visible(table, self.principal)
        return self._predicates[table]

    def _exists(self, table: Any, record_id: str) -> bool:
        return (
            _is_id(record_id)
            and self.session.scalar(select(table.id).where(table.id == record_id, self._visible(table)))
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
                self.session.scalars(select(table.id).where(table.id.in_(chunk), self._visible(table)))
            )
        return seen

    # ------------------------------------------------------------------ reads
    def _row(self, res: Resource, record_id: str) -> Any:
        row = None
        if _is_id(record_id):
            row = self.session.scalar(
                select(res.table).where(res.table.id == record_id, self._visible(res.table))
            )
        if row is None:  # absent and hidden look the same: "not found", never "forbidden"
            raise NotFoundError(f"no {res.singular} with id {record_id}")
        return row

    def _links(
        self, res: Resource, ids: list[str], id_query: Select[Any] | None = None
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
            target = RESOURCES[link.target].table
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
        self, res: Resource, rows: list[Any], id_query: Select[Any] | None = None, *, raw: bool = False
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
                shown[name] = self._visible_ids(RESOURCES[target].table, values) if values else set()
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
        res = resource(name)
        return self._public(res, [self._row(res, record_id)])[0]

    def _select(self, res: Resource, query: ListQuery) -> Select[Any]:
        table = res.table
        stmt = select(table).where(self._visible(table))
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
                target = RESOURCES[res.refs[key]].table
                stmt = stmt.where(column.in_(select(target.id).where(self._visible(target))))
        if query.search:
            pattern = f"%{query.search.lower()}%"
            stmt = stmt.where(func.lower(getattr(table, res.title_field)).like(pattern))
        if query.involving:
            stmt = stmt.where(self._involving(res, query.involving))
        date_col = self._date_column(res)
        if date_col is not None:
            if query.date_from:
                stmt = stmt.where(date_col >= query.date_from)
            if query.date_to:
                stmt = stmt.where(date_col <= query.date_to)
        return stmt

    @staticmethod
    def _date_column(res: Resource) -> Any:
        for name in ("start_date", "signed_on", "due_on"):
            if name in res.table.__table__.columns:
                return getattr(res.table, name)
        return None

    def _involving(self, res: Resource, actor: str | Sequence[str]) -> Any:
        table = res.table
        # only actors the principal may see: a hidden actor's id involves nothing
        ids = sorted(
            self._visible_ids(RESOURCES["actors"].table, [actor] if isinstance(actor, str) else actor)
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
        res = resource(name)
        query = query or ListQuery()
        stmt = self._select(res, query)
        order = query.order_by or self._default_order(res)
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
        res = resource(name)
        stmt = self._select(res, query or ListQuery()).subquery()
        return int(self.session.scalar(select(func.count()).select_from(stmt)) or 0)

    def iter_all(self, name: str, batch: int = 1000) -> Iterator[Any]:
        """Every record of a table in a stable order (for export), in batches."""
        res = resource(name)
        offset = 0
        while True:
            rows = list(
                self.session.scalars(
                    select(res.table)
                    .where(self._visible(res.table))
                    .order_by(res.table.created_at, res.table.id)
                    .limit(batch)
                    .offset(offset)
                )
            )
            if not rows:
                return
            yield from self._public(res, rows)
            offset += len(rows)

    @staticmethod
    def _default_order(res: Resource) -> str:
        for name in ("start_date", "signed_on", "due_on", "name", "title"):
            if name in res.table.__table__.columns:
                return name
        return "created_at"

    # ------------------------------------------------------------- references
    def resolve_ref(self, target: str, token: str, *, field: str | None = None) -> str:
        """The id of the record a user means by ``token``.

        Tried in order: the record id, its external id, its exact name or
        title (case-insensitive, must be unique), and for actors a country
        (name or code) whose state actor is meant.
        """
        res = resource(target)
        token = token.strip()
        if any(ord(ch) < 32 for ch in token):  # no name or id holds one (PostgreSQL refuses NUL)
            raise ValidationError(f"no {res.singular} {token!r} (id, external id or name)", field=field)
        table = res.table
        seen = self._visible(table)
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
        if res.name == "actors":
            from detente.core.countries import resolve as resolve_country

            try:
                iso3 = resolve_country(token).iso3
            except Exception:
                iso3 = None
            if iso3:
                state = self.session.scalar(
                    select(table.id).where(and_(table.kind == "state", table.country == iso3), seen).limit(1)
                )
                if state:
                    return str(state)
                raise ValidationError(
                    f"no state actor for {iso3} yet: add it with `detente actors add "
                    f"--kind state --country {iso3} NAME`",
                    field=field,
                )
        raise ValidationError(f"no {res.singular} {token!r} (id, external id or name)", field=field)

    def _check_refs(self, res: Resource, data: Mapping[str, Any]) -> None:
        for name, target in res.refs.items():
            value = data.get(name)
            if value is not None and not self._exists(RESOURCES[target].table, value):
                raise ValidationError(f"no {RESOURCES[target].singular} with id {value}", field=name)
        for name, link in res.links.items():
            ids = list(data.get(name) or [])
            if not ids:
                continue
            found = self._visible_ids(RESOURCES[link.target].table, ids)
            missing = [i for i in ids if i not in found]
            if missing:
                raise ValidationError(
                    f"no {RESOURCES[link.target].singular} with id {missing[0]}", field=name
                )
        if res.name == "actors" and data.get("parent_id"):
            self._check_parent(data)

    def _check_parent(self, data: Mapping[str, Any]) -> None:
        parent = self.session.get(RESOURCES["actors"].table, data["parent_id"])
        kind = taxonomy().actor_kinds[data["kind"]]
        if kind.parents and parent is not None and parent.kind not in kind.parents:
            raise ValidationError(
                f"a {data['kind']} cannot sit under a {parent.kind} "
                f"(allowed parents: {', '.join(kind.parents)})",
                field="parent_id",
            )
        # walk up: refuse cycles (a unit cannot be its own ancestor)
        seen = {data.get("id")}
        node = parent
        while node is not None:
            if node.id in seen:
                raise ValidationError("parent chain makes a cycle", field="parent_id")
            seen.add(node.id)
            node = self.session.get(RESOURCES["actors"].table, node.parent_id) if node.parent_id else None

    def find_id(self, name: str, *, record_id: str | None, external_id: str | None) -> str | None:
        """The visible record with this id, else with this external id, else None."""
        table = resource(name).table
        if record_id and self._exists(table, record_id):
            return record_id
        if external_id:
            return self.session.scalar(
                select(table.id).where(table.external_id == external_id, self._visible(table)).limit(1)
            )
        return None

    def _natural_key(self, res: Resource, data: Mapping[str, Any]) -> dict[str, Any]:
        return {k: data.get(k) for k in res.natural_key}

    def find_by_natural_key(self, res: Resource, data: Mapping[str, Any]) -> str | None:
        stmt = select(res.table.id).where(self._visible(res.table))
        for key, value in self._natural_key(res, data).items():
            column = getattr(res.table, key)
            stmt = stmt.where(column.is_(None) if value is None else column == value)
        return self.session.scalar(stmt.limit(1))

    def _check_unique(self, res: Resource, data: Mapping[str, Any], record_id: str) -> None:
        ext = data.get("external_id")
        if ext:
            other = self.session.scalar(
                select(res.table.id).where(
                    res.table.external_id == ext, res.table.id != record_id, self._visible(res.table)
                )
            )
            if other:
                raise ConflictError(f"external id {ext!r} is already used by {res.singular} {other}")
        other = self.find_by_natural_key(res, data)
        if other and other != record_id:
            key = ", ".join(f"{k}={v}" for k, v in self._natural_key(res, data).items())
            raise ConflictError(f"a {res.singular} with {key} already exists: id {other}")

    # ------------------------------------------------------------------ writes
    def require(self, permission: str, what: str) -> None:
        """Refuse unless the principal's role grants ``permission`` (roles.yaml)."""
        from detente.sharing.service import AuthError, role_permissions

        if permission not in role_permissions(self.principal.role):
            raise AuthError(f"a {self.principal.role} cannot {what}")

    def _can_write(self, res: Resource, owner_org_id: str | None = None) -> None:
        from detente.sharing.service import AuthError

        self.require("write", f"change {res.name}")
        if owner_org_id is not None and owner_org_id != self.principal.org:
            raise AuthError(f"this {res.singular} belongs to another organisation: it is read-only for you")

    def _check_marking(self, banner: str, old: str | None, owner_org_id: str | None) -> dict[str, Any]:
        from detente.sharing.service import AuthError

        new = parse(banner)
        decision = check_marking_change(self.principal, parse(old) if old else None, new, owner_org_id)
        if not decision:
            raise AuthError(f"marking {new.render()!r} refused: {decision.reason}")
        return marking_columns(new)

    def _audit(
        self, action: str, res: Resource | None, record_id: str | None, detail: dict[str, Any]
    ) -> None:
        audit.append(
            self.session,
            actor=self.principal.user,
            org_id=self.principal.org,
            action=action,
            table=res.name if res else None,
            record_id=record_id,
            detail=detail,
        )

    def record(
        self, action: str, name: str | None, detail: dict[str, Any], record_id: str | None = None
    ) -> None:
        """Append an entry for an operation on the registry as a whole (an export), or a
        decision about one record that changes no field (a vetting override)."""
        self._audit(action, resource(name) if name else None, record_id, detail)

    def counts(self, names: Iterable[str] | None = None) -> dict[str, int]:
        """Records per table that the principal may see."""
        return {n: self.count(n, ListQuery(limit=None)) for n in (names or RESOURCES)}

    def _write_links(self, res: Resource, record_id: str, data: Mapping[str, Any]) -> None:
        for name, link in res.links.items():
            if name not in data:
                continue
            owner = getattr(link.table, link.owner_column)
            target = RESOURCES[link.target].table
            # links to actors this principal cannot see are kept as they are: on SQLite
            # they are found here (as "not among the visible ones") and written back; on
            # PostgreSQL the link table's row-level security (0006) hides them from this
            # query and from the delete below, so they simply stay
            hidden = list(
                self.session.scalars(
                    select(link.member)
                    .where(
                        owner == record_id,
                        link.member.not_in(select(target.id).where(self._visible(target))),
                    )
                    .order_by(link.table.position)  # type: ignore[attr-defined]
                )
            )
            self.session.execute(link.table.__table__.delete().where(owner == record_id))
            for position, member in enumerate([*(data[name] or []), *hidden]):
                self.session.add(
                    link.table(
                        **{link.owner_column: record_id, link.member_column: member, "position": position}
                    )
                )

    def create(self, name: str, data: Mapping[str, Any] | Any) -> Any:
        """Create a record owned by the principal's organisation, with a new random id;
        its author and times are the principal's and now, never taken from the input."""
        res = resource(name)
        self._can_write(res)
        try:
            model = res.create_model.model_validate(data if isinstance(data, Mapping) else data.model_dump())
        except pydantic.ValidationError as exc:
            raise first_error(exc) from None
        values = model.model_dump()
        if res.lifecycle:
            status_field, cycle = res.lifecycle
            taxonomy().lifecycles[cycle].check_start(values[status_field], field=status_field)
        parts = self._check_marking(values["marking"], None, self.principal.org)
        row = res.table()
        record_id = new_id()
        self._check_refs(res, {**values, "id": record_id})
        self._check_unique(res, values, record_id)
        stamp = now()
        links = {k: values.pop(k) for k in list(values) if k in res.links}
        for key, value in {**values, **parts}.items():
            setattr(row, key, value)
        row.id = record_id
        row.owner_org_id = self.principal.org
        row.created_at = row.updated_at = stamp
        row.created_by = row.updated_by = self.author
        row.version = 1
        self.session.add(row)
        self.session.flush()
        self._write_links(res, record_id, links)
        self.session.flush()
        # the trail names records by id and marking, never by content
        self._audit("create", res, record_id, {"marking": row.marking})
        return self.get(res.name, record_id)

    def update(
        self, name: str, record_id: str, changes: Mapping[str, Any] | Any, *, expected_version: int
    ) -> Any:
        """Change the given fields of a record last read at ``expected_version``."""
        res = resource(name)
        row = self._row(res, record_id)
        self._can_write(res, row.owner_org_id)
        shown = self._public(res, [row])[0]
        if shown.version != expected_version:
            raise self._stale(res, shown, expected_version)
        current = self._public(res, [row], raw=True)[0]  # hidden references as stored
        try:
            patch = res.update_model.model_validate(
                changes if isinstance(changes, Mapping) else changes.model_dump(exclude_unset=True)
            )
        except pydantic.ValidationError as exc:
            raise first_error(exc) from None
        values = patch.model_dump(exclude_unset=True)
        for name in shown.withheld:
            if name in res.refs and values.get(name, "") is None:
                # a client sending back the null it was shown keeps the reference it cannot see
                del values[name]
        merged = {**current.model_dump(), **values}
        # re-check the whole record so cross-field rules hold after a partial change
        try:
            res.fields_model.model_validate({k: merged[k] for k in res.fields})
        except pydantic.ValidationError as exc:
            raise first_error(exc) from None
        if res.lifecycle:
            status_field, cycle = res.lifecycle
            if status_field in values:
                taxonomy().lifecycles[cycle].check_move(
                    getattr(current, status_field), values[status_field], field=status_field
                )
        # references are checked where they change: one kept as it was may point at a
        # record this principal cannot see, which neither blocks the edit nor is described
        kept = {k for k in (*res.refs, *res.links) if k not in values}
        self._check_refs(res, {**{k: v for k, v in merged.items() if k not in kept}, "id": record_id})
        self._check_unique(res, merged, record_id)
        changed = {k: v for k, v in values.items() if merged[k] != getattr(current, k)}
        if not changed:
            return shown
        parts: dict[str, Any] = {}
        if "marking" in changed:
            parts = self._check_marking(changed["marking"], current.marking, row.owner_org_id)
        links = {k: changed.pop(k) for k in list(changed) if k in res.links}
        result = self.session.execute(
            update(res.table)
            .where(res.table.id == record_id, res.table.version == expected_version)
            .values(
                **changed, **parts, version=expected_version + 1, updated_at=now(), updated_by=self.author
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # someone wrote between our read and our write
            self.session.expire_all()
            raise self._stale(res, self.get(res.name, record_id), expected_version)
        self._write_links(res, record_id, links)
        self.session.flush()
        self.session.expire_all()
        self._audit("update", res, record_id, {"fields": sorted([*changed, *links])})
        if parts:
            self._audit("marking", res, record_id, {"from": current.marking, "to": changed["marking"]})
        return self.get(res.name, record_id)

    @staticmethod
    def _stale(res: Resource, current: Any, expected: int) -> StaleVersionError:
        return StaleVersionError(
            f"{res.singular} {current.id} was changed by {current.updated_by} at "
            f"{current.updated_at:%Y-%m-%d %H:%M} (now version {current.version}; "
            f"you edited version {expected}): reload it and apply your change again"
        )

    def delete(self, name: str, record_id: str, *, expected_version: int | None = None) -> None:
        res = resource(name)
        row = self._row(res, record_id)
        self._can_write(res, row.owner_org_id)
        if expected_version is not None and row.version != expected_version:
            raise self._stale(res, self.get(res.name, record_id), expected_version)
        seen, total = self.dependents(res, record_id)
        if total:
            listed = ", ".join(f"{n} {what}" for what, n in seen.items())
            # count only what the principal may see; hidden dependents are not described
            raise ConflictError(
                f"{res.singular} {record_id} is still referenced"
                + (f" ({listed})" if listed else "")
                + "; change or delete those first"
            )
        try:
            with self.session.begin_nested():
                self.session.delete(row)
                self.session.flush()
        except IntegrityError:  # referenced by records hidden from this principal (and its count)
            raise ConflictError(
                f"{res.singular} {record_id} is still referenced; change or delete those first"
            ) from None
        self._audit("delete", res, record_id, {})

    def dependents(self, res: Resource, record_id: str) -> tuple[dict[str, int], int]:
        """Rows elsewhere that refer to this record and block its deletion:
        (counts by table.column among rows the principal may see, total of all)."""
        counts: dict[str, int] = {}
        total = 0
        target = res.table.__table__
        registry_tables = {r.table.__table__: r.table for r in RESOURCES.values()}
        for table in metadata.sorted_tables:
            for fk in table.foreign_keys:
                if fk.column.table is not target or fk.ondelete == "CASCADE":
                    continue
                where = fk.parent == record_id
                total += int(self.session.scalar(select(func.count()).select_from(table).where(where)) or 0)
                mapped = registry_tables.get(table)
                if mapped is None:
                    continue
                n = self.session.scalar(
                    select(func.count()).select_from(table).where(where, self._visible(mapped))
                )
                if n:
                    label = f"{table.name}.{fk.parent.name}"
                    counts[label] = counts.get(label, 0) + int(n)
        return counts, total


def all_tables() -> Iterable[type[Base]]:
    return (r.table for r in RESOURCES.values())
