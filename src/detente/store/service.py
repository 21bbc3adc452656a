"""The store kernel's one service: create, read, list, update, withdraw and delete records.

The one place that writes record tables, for every record type a slice registers
(``detente.store.records``). Reads come from ``Reader`` (``reads.py``): filtered by the
one access decision. Every write checks the principal's permission (the write guard),
ownership and the marking-downgrade guard, what the models cannot check alone
(references exist, lifecycle moves are legal, natural keys are not taken twice, the
record type's own checks), uses optimistic concurrency (an update names the version it
read, and a record changed since is refused, never overwritten), and is appended to the
audit trail in the same transaction. Interfaces call these methods; they never touch tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import pydantic
from sqlalchemy import CursorResult, func, insert, select
from sqlalchemy.exc import IntegrityError

from detente.core import audit
from detente.core.db import metadata, new_id
from detente.core.errors import AuthError, ConflictError, StaleVersionError, ValidationError
from detente.core.markings import check_marking_change, parse
from detente.store import search
from detente.store.access import marking_columns
from detente.store.permissions import require
from detente.store.reads import ListQuery, Reader, field_errors, first_error, now
from detente.store.records import RecordType, record_type, record_types
from detente.store.statements import update_statement

__all__ = ["Change", "ListQuery", "Store", "field_errors", "first_error"]


@dataclass(frozen=True)
class Change:
    """One entry of a record's history, from the audit trail: who did what, when, and
    which fields changed (the trail holds field names, never values)."""

    at: datetime
    actor: str
    action: str  # create, update, marking, delete, or another recorded decision
    version: int | None  # the version the change made
    fields: tuple[str, ...] = ()


class Store(Reader):
    """Record operations for one principal inside one unit of work: the reads of
    ``Reader``, and every write, guarded, checked and audited."""

    # ------------------------------------------------------------------ writes
    def require(self, permission: str, what: str) -> None:
        """Refuse unless the principal's role grants ``permission`` (roles.yaml)."""
        require(self.principal, permission, what)

    def _can_write(self, res: RecordType, owner_org_id: str | None = None) -> None:
        """The write guard: the permission to write, and the record's own organisation."""
        self.require("write", f"change {res.name}")
        if owner_org_id is not None and owner_org_id != self.principal.org:
            raise AuthError(f"this {res.singular} belongs to another organisation: it is read-only for you")

    def _check_marking(self, banner: str, old: str | None, owner_org_id: str | None) -> dict[str, Any]:
        new = parse(banner)
        decision = check_marking_change(self.principal, parse(old) if old else None, new, owner_org_id)
        if not decision:
            raise AuthError(f"marking {new.render()!r} refused: {decision.reason}")
        return marking_columns(new)

    def _audit(
        self, action: str, res: RecordType | None, record_id: str | None, detail: dict[str, Any]
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
        self._audit(action, record_type(name) if name else None, record_id, detail)

    def counts(self, names: Iterable[str] | None = None) -> dict[str, int]:
        """Records per table that the principal may see."""
        return {n: self.count(n, ListQuery(limit=None)) for n in (names or record_types())}

    def _write_links(
        self, res: RecordType, record_id: str, data: Mapping[str, Any], *, new: bool = False
    ) -> None:
        """Replace a record's links with ``data``'s (a new record has none to keep)."""
        for name, link in res.links.items():
            if name not in data:
                continue
            hidden: list[str] = []
            if not new:
                owner = getattr(link.table, link.owner_column)
                target = record_type(link.target).table
                # links to actors this principal cannot see are kept as they are: on SQLite
                # they are found here (as "not among the visible ones") and written back; on
                # PostgreSQL the link table's row-level security (0006) hides them from this
                # query and from the delete below, so they simply stay
                hidden = list(
                    self.session.scalars(
                        select(link.member)
                        .where(
                            owner == record_id,
                            link.member.not_in(select(target.id).where(self.visible(target))),
                        )
                        .order_by(link.table.position)  # type: ignore[attr-defined]
                    )
                )
                self.session.execute(link.table.__table__.delete().where(owner == record_id))
            members = [*(data[name] or []), *hidden]
            if members:
                self.session.connection().execute(
                    insert(link.table.__table__),
                    [
                        {link.owner_column: record_id, link.member_column: member, "position": position}
                        for position, member in enumerate(members)
                    ],
                )

    def create(self, name: str, data: Mapping[str, Any] | Any) -> Any:
        """Create a record owned by the principal's organisation, with a new random id;
        its author and times are the principal's and now, never taken from the input."""
        res = record_type(name)
        self._can_write(res)
        try:
            model = (
                data  # validated already (the API's request body)
                if type(data) is res.create_model
                else res.create_model.model_validate(data if isinstance(data, Mapping) else data.model_dump())
            )
        except pydantic.ValidationError as exc:
            raise first_error(exc) from None
        values = model.model_dump()
        if res.lifecycle:
            status_field, cycle = res.lifecycle
            cycle.check_start(values[status_field], field=status_field)
        parts = self._check_marking(values["marking"], None, self.principal.org)
        record_id = new_id()
        self._check_refs(res, {**values, "id": record_id})
        self._check_unique(res, values, record_id)
        stamp = now()
        links = {k: values.pop(k) for k in list(values) if k in res.links}
        row = {
            **values,
            **parts,
            "id": record_id,
            "owner_org_id": self.principal.org,
            "created_at": stamp,
            "updated_at": stamp,
            "created_by": self.author,
            "updated_by": self.author,
            "version": 1,
        }
        table = res.table.__table__
        for column in table.columns:  # a column no field sets takes its default, as the ORM would give it
            if column.key not in row:
                row[column.key] = _default(column)
        # plain inserts on the unit's connection (the ORM's flush cost more than the inserts)
        self.session.connection().execute(insert(table), row)
        self._write_links(res, record_id, links, new=True)
        search.index(self.session, res, row, new=True)  # the full-text index, in the same transaction
        created = self._as_written(res, row, links)
        # the trail names records by id and marking, never by content; appended last, as
        # PostgreSQL holds the chain's end locked from here to the commit
        self._audit("create", res, record_id, {"marking": row["marking"]})
        return created

    def update(
        self, name: str, record_id: str, changes: Mapping[str, Any] | Any, *, expected_version: int
    ) -> Any:
        """Change the given fields of a record last read at ``expected_version``."""
        res = record_type(name)
        row = self._stored(res, record_id)
        self._can_write(res, row["owner_org_id"])
        shown, current = self._shown_and_stored(res, row)  # current: hidden references as stored
        if shown.version != expected_version:
            raise self._stale(res, shown, expected_version)
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
                cycle.check_move(getattr(current, status_field), values[status_field], field=status_field)
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
            parts = self._check_marking(changed["marking"], current.marking, row["owner_org_id"])
        links = {k: changed.pop(k) for k in list(changed) if k in res.links}
        written = {
            **changed,
            **parts,
            "version": expected_version + 1,
            "updated_at": now(),
            "updated_by": self.author,
        }
        self.session.flush()
        result = self.session.connection().execute(
            update_statement(res.name),
            {**written, "written_id": record_id, "written_version": expected_version},
        )
        self.session.expire_all()  # a mapped object of this record loaded earlier in the unit is stale now
        if cast(CursorResult[Any], result).rowcount != 1:  # someone wrote between our read and our write
            raise self._stale(res, self.get(res.name, record_id), expected_version)
        self._write_links(res, record_id, links)
        search.index(self.session, res, {**row, **written})
        changed_record = self._as_changed(res, shown, {**row, **written}, links, changed)
        self._audit("update", res, record_id, {"fields": sorted([*changed, *links])})  # last, as in create
        if parts:
            self._audit("marking", res, record_id, {"from": current.marking, "to": changed["marking"]})
        return changed_record

    def withdraw(self, name: str, record_id: str, *, expected_version: int) -> Any:
        """Move a record to its lifecycle's withdrawal status (a cancelled engagement, a
        dropped lesson), where its current status allows it; the record stays on file."""
        res = record_type(name)
        if res.lifecycle is None or res.lifecycle[1].withdraw is None:
            raise ValidationError(f"{res.name} have no withdrawal: delete one instead")
        status_field, cycle = res.lifecycle
        assert cycle.withdraw is not None
        return self.update(name, record_id, {status_field: cycle.withdraw}, expected_version=expected_version)

    def history(self, name: str, record_id: str) -> list[Change]:
        """The record's changes, oldest first, from the audit trail (the record must be
        one the principal may see: otherwise "not found", as for reading it)."""
        res = record_type(name)
        self._row(res, record_id)
        entries = self.session.scalars(
            select(audit.AuditEntry)
            .where(audit.AuditEntry.target_table == res.name, audit.AuditEntry.record_id == record_id)
            .order_by(audit.AuditEntry.seq)
        )
        out: list[Change] = []
        version = 0
        for entry in entries:
            detail = _detail(entry.detail)
            fields: tuple[str, ...] = tuple(detail.get("fields", ()))
            made = None
            if entry.action in ("create", "update"):
                version += 1
                made = version
            elif entry.action == "marking":  # follows the update that changed it
                fields = ("marking",)
            out.append(Change(entry.at, entry.actor, entry.action, made, fields))
        return out

    @staticmethod
    def _stale(res: RecordType, current: Any, expected: int) -> StaleVersionError:
        return StaleVersionError(
            f"{res.singular} {current.id} was changed by {current.updated_by} at "
            f"{current.updated_at:%Y-%m-%d %H:%M} (now version {current.version}; "
            f"you edited version {expected}): reload it and apply your change again"
        )

    def delete(self, name: str, record_id: str, *, expected_version: int | None = None) -> None:
        res = record_type(name)
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
        search.forget(self.session, record_id)

    def dependents(self, res: RecordType, record_id: str) -> tuple[dict[str, int], int]:
        """Rows elsewhere that refer to this record and block its deletion:
        (counts by table.column among rows the principal may see, total of all)."""
        counts: dict[str, int] = {}
        total = 0
        target = res.table.__table__
        registry_tables = {r.table.__table__: r.table for r in record_types().values()}
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
                    select(func.count()).select_from(table).where(where, self.visible(mapped))
                )
                if n:
                    label = f"{table.name}.{fk.parent.name}"
                    counts[label] = counts.get(label, 0) + int(n)
        return counts, total


def _default(column: Any) -> Any:
    """The value a column's own default gives a new row (None if it has none)."""
    default = column.default
    if default is None:
        return None
    return default.arg if default.is_scalar else default.arg(None)  # a callable: SQLAlchemy's wrapper


def _detail(text: str) -> dict[str, Any]:
    import json

    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
