"""Import and export of registry tables: CSV, Excel (XLSX), JSON and Parquet.

Import is all-or-nothing: every row of every table in the file is validated
(and written inside one transaction); if any row is bad, every bad row is
reported with file, table, row and field, and nothing is written. Rows find
the record they describe by id, then external id, then natural key, so
importing the same file twice creates nothing new.

An import never takes authorship or identity from the file:

- a row's ``id`` only finds an existing record the importer may see; otherwise the
  record is created with a new random id, and the file's id is kept as its external id
  (when the row has none), so that importing the same file again finds it. Other rows of
  the same file that name that id (an engagement's ``agreement_id``) get the new record.
  An id of a record hidden from the importer behaves exactly as an unknown id.
- ``version`` is only compared: a row whose id names an existing record must carry the
  version it was exported at (a stale file is refused); it is never stored.
- several files (an export's CSV or Parquet files) are imported as one (``import_files``),
  so a row may name a record of another of the files by its id there.
- ``created_at``, ``created_by``, ``updated_at`` and ``updated_by`` are ignored with a
  warning in the report naming them: detente records who wrote and when (the importer,
  now), and the audit trail agrees.
- ``withheld`` (an export's list of references withheld from its reader) is ignored.

Files are read (``registry.reading``) within bounds: JSON nested too deep, and workbooks
or Parquet files that would inflate too far, are refused before they are parsed.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pydantic

from detente.bulk.reading import FORMATS, SourceRow, read_file
from detente.core.errors import DetenteError, ImportRowsError, RowError, ValidationError
from detente.store.records import RecordType, record_type, record_types
from detente.store.service import Store, field_errors

__all__ = ["FORMATS", "ImportReport", "export_tables", "import_file", "import_files", "read_file"]

LIST_SEPARATOR = ";"
# bookkeeping columns an export carries that an import never stores (``version`` is compared)
AUTHORSHIP = ("created_at", "created_by", "updated_at", "updated_by")
WITHHELD = "withheld"  # an export's informational column: ignored on import
Progress = Callable[[str, int, int], None]


# ---------------------------------------------------------------------- import
@dataclass
class ImportReport:
    file: str
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # what the import left out, and why

    def total(self, kind: str) -> int:
        return sum(getattr(self, kind).values())


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_list(value: Any) -> list[Any]:
    if _blank(value):
        return []
    if isinstance(value, list | tuple):
        return [v for v in value if not _blank(v)]
    return [p.strip() for p in str(value).split(LIST_SEPARATOR) if p.strip()]


def _cell(value: Any) -> Any:
    """Spreadsheet cell values to what the models expect."""
    if isinstance(value, datetime) and value.time() == datetime.min.time() and value.tzinfo is None:
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _version(raw: Any) -> int | None:
    """The version a row says it was exported at (compared, never stored)."""
    if _blank(raw):
        return None
    try:
        return int(str(raw).strip()) if not isinstance(raw, int | float) else int(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a whole number") from None


class _Importer:
    def __init__(self, registry: Store, file: str, progress: Progress | None) -> None:
        self.registry = registry
        self.file = file
        self.progress = progress
        self.errors: list[RowError] = []
        self.report = ImportReport(file=file)
        self.ignored: set[str] = set()
        # (table, id in the file) -> the record it became, for other rows of the same file
        self.ids: dict[tuple[str, str], str] = {}

    def error(self, res: RecordType, row: SourceRow, name: str | None, message: str) -> None:
        self.errors.append(RowError(row.file or self.file, row.number, name, message, table=res.name))

    def run(self, tables: dict[str, list[SourceRow]]) -> None:
        for name, res in record_types().items():  # dependency order
            rows = tables.get(name)
            if not rows:
                continue
            if name == "actors":
                rows = _parents_first(rows)
            self.check_columns(res, rows)
            for done, row in enumerate(rows, start=1):
                self.row(res, row)
                if self.progress:
                    self.progress(name, done, len(rows))

    def check_columns(self, res: RecordType, rows: list[SourceRow]) -> None:
        """Unknown columns are reported once, against the header row; authorship columns
        are set aside with a warning; ``withheld`` is set aside silently."""
        known = set(res.columns)
        self.ignored = {WITHHELD, *AUTHORSHIP}
        carried = [c for c in AUTHORSHIP if any(not _blank(row.values.get(c)) for row in rows)]
        if carried:
            self.report.warnings.append(
                f"{res.name}: column(s) {', '.join(carried)} ignored: detente records who created and "
                "changed each record, and when (this import, now), never what a file says"
            )
        first: dict[str, SourceRow] = {}  # each column's first row (of the first file that has it)
        for row in rows:
            for k in row.values:
                if k:
                    first.setdefault(k, row)
        for name, row in first.items():
            if name not in known and name not in self.ignored:
                self.ignored.add(name)
                message = f"unknown column for {res.name}; known: {', '.join(res.columns)}"
                self.error(res, SourceRow(1, {}, row.file), name, message)

    def resolve(self, target: str, token: Any, name: str) -> str:
        """A reference: a row of this file first (by its id there), then the registry."""
        text = str(token).strip()
        return self.ids.get((target, text)) or self.registry.resolve_ref(target, text, field=name)

    def row(self, res: RecordType, row: SourceRow) -> None:
        values: dict[str, Any] = {
            k: None if _blank(v) else _cell(v) for k, v in row.values.items() if k and k not in self.ignored
        }
        try:
            given_version = _version(values.pop("version", None))
        except ValueError as exc:
            self.error(res, row, "version", str(exc))
            return
        file_id = values.pop("id", None)
        file_id = None if _blank(file_id) else str(file_id).strip()
        if values.get("marking") is None:
            values.pop("marking", None)  # a blank marking cell means the default, not "none"
        ok = True
        for name in res.list_fields:
            if name in values:
                values[name] = _as_list(values[name])
        for name in (*res.refs, *res.links):
            if name not in values:
                continue
            try:
                if name in res.links:
                    target = res.ref_target(name) or "actors"
                    values[name] = [self.resolve(target, t, name) for t in values[name]]
                elif not _blank(values[name]):
                    values[name] = self.resolve(res.refs[name], values[name], name)
                else:
                    values[name] = None
            except DetenteError as exc:
                self.error(res, row, name, exc.message.split(": ", 1)[-1])
                ok = False
        if not ok:
            return
        try:
            model = res.create_model.model_validate(values)
        except pydantic.ValidationError as exc:
            for column, message in field_errors(exc):
                self.error(res, row, column, message)
            return
        data = model.model_dump()
        try:
            with self.registry.session.begin_nested():
                record_id = self.apply(res, data, file_id, given_version, set(values))
        except DetenteError as exc:
            self.error(res, row, getattr(exc, "field", None), exc.message)
            return
        if file_id:
            self.ids[(res.name, file_id)] = record_id

    def find(self, res: RecordType, data: dict[str, Any], file_id: str | None) -> tuple[str | None, bool]:
        """The existing record a row describes, among those the importer may see, and
        whether the file's id is its id: by that id, by external id (the row's, else the
        file's id kept as one when the record was first imported), then by natural key.
        A hidden record is never found, touched, named or counted: its id looks like
        any unknown id."""
        reg = self.registry
        if file_id and reg.find_id(res.name, record_id=file_id, external_id=None):
            return file_id, True
        for key in (data.get("external_id"), file_id):
            found = reg.find_id(res.name, record_id=None, external_id=key) if key else None
            if found:
                return found, False
        return reg.find_by_natural_key(res, data), False

    def apply(
        self,
        res: RecordType,
        data: dict[str, Any],
        file_id: str | None,
        given_version: int | None,
        present: set[str],
    ) -> str:
        reg = self.registry
        existing, same_id = self.find(res, data, file_id)
        if existing is None:
            if data.get("external_id") is None and file_id:
                data = {**data, "external_id": file_id}  # so that this file finds it again
            created = reg.create(res.name, data)
            self.report.created[res.name] = self.report.created.get(res.name, 0) + 1
            return str(created.id)
        current = reg.get(res.name, existing)
        # the file's version is of the record its id names: of another workspace's record
        # (found by external id or natural key) it says nothing about this one
        if same_id and given_version is not None and given_version != current.version:
            raise ValidationError(
                f"the file has version {given_version} of {res.singular} {existing} but the "
                f"registry has version {current.version} (changed by {current.updated_by}); "
                "export again and re-apply your edits"
            )
        if data.get("external_id") is None and file_id and current.external_id == file_id:
            data = {**data, "external_id": file_id}  # kept from the first import of this file
        # only the columns the file carries are compared, so a partial file never blanks fields
        changes = {
            k: v
            for k, v in data.items()
            if k in present and k in (*res.fields, "external_id", "marking") and v != getattr(current, k)
        }
        if not changes:
            self.report.unchanged[res.name] = self.report.unchanged.get(res.name, 0) + 1
            return existing
        reg.update(res.name, existing, changes, expected_version=current.version)
        self.report.updated[res.name] = self.report.updated.get(res.name, 0) + 1
        return existing


def _parents_first(rows: list[SourceRow]) -> list[SourceRow]:
    """Order actor rows so that a parent defined in the same file comes before its children."""
    keys: dict[str, int] = {}
    for i, row in enumerate(rows):
        for k in ("id", "external_id", "name"):
            v = row.values.get(k)
            if not _blank(v):
                keys[str(v).strip().lower()] = i
    ordered: list[int] = []
    state: dict[int, int] = {}

    def visit(i: int) -> None:
        if state.get(i) == 2:
            return
        if state.get(i) == 1:  # a cycle: leave it to validation to report
            return
        state[i] = 1
        parent = rows[i].values.get("parent_id")
        if not _blank(parent):
            j = keys.get(str(parent).strip().lower())
            if j is not None and j != i:
                visit(j)
        state[i] = 2
        ordered.append(i)

    for i in range(len(rows)):
        visit(i)
    return [rows[i] for i in ordered]


def import_file(
    registry: Store,
    path: Path,
    *,
    table: str | None = None,
    max_bytes: int = 200 * 1024 * 1024,
    progress: Progress | None = None,
    label: str | None = None,
) -> ImportReport:
    """Import a file into the registry inside the caller's transaction.

    Raises ``ImportRowsError`` listing every bad row; the caller's unit of
    work then rolls back, so a half-bad file writes nothing. ``label`` names the
    file in the report and errors (an upload's own name rather than where it was saved).
    """
    return import_files(
        registry, [path], table=table, max_bytes=max_bytes, progress=progress, labels=[label or str(path)]
    )


def import_files(
    registry: Store,
    paths: Sequence[Path],
    *,
    table: str | None = None,
    max_bytes: int = 200 * 1024 * 1024,
    progress: Progress | None = None,
    labels: Sequence[str] | None = None,
) -> ImportReport:
    """Import several files as one (the CSV or Parquet files of one export): their rows
    are taken table by table in dependency order, whatever the files' order, and a row
    may name a record of another of the files by its id there. All or nothing, as
    ``import_file``; errors name each row's own file."""
    names = list(labels) if labels is not None else [str(p) for p in paths]
    merged: dict[str, list[SourceRow]] = {}
    for path, name in zip(paths, names, strict=True):
        for res_name, rows in read_file(path, table=table, max_bytes=max_bytes).items():
            for row in rows:
                row.file = name
            merged.setdefault(res_name, []).extend(rows)
    importer = _Importer(registry, ", ".join(names), progress)
    importer.run(merged)
    if importer.errors:
        raise ImportRowsError(errors=importer.errors)
    return importer.report


# ---------------------------------------------------------------------- export
def _records(registry: Store, name: str) -> Iterator[dict[str, Any]]:
    res = record_type(name)
    for record in registry.iter_all(name):
        data = record.model_dump()
        yield {c: data.get(c) for c in res.columns}


def _flat(value: Any) -> Any:
    if isinstance(value, list):
        return f"{LIST_SEPARATOR} ".join(str(v) for v in value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def export_tables(registry: Store, fmt: str, out: Path, tables: Iterable[str] | None = None) -> list[Path]:
    """Write the named tables (default: all) in ``fmt``; returns the files written.

    CSV and Parquet write one file per table into the folder ``out``; XLSX
    writes one workbook with a sheet per table; JSON one document.
    """
    registry.require("export", "export records")
    names = [record_type(t).name for t in (tables or record_types())]
    out = Path(out)
    if fmt not in FORMATS:
        raise ValidationError(f"unknown export format {fmt!r}; one of {', '.join(FORMATS)}")
    if fmt in ("csv", "parquet"):
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name in names:
            target = out / f"{name}.{fmt}"
            (_write_csv if fmt == "csv" else _write_parquet)(registry, name, target)
            written.append(target)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "xlsx":
            _write_xlsx(registry, names, out)
        else:
            _write_json(registry, names, out)
        written = [out]
    # every export is on the audit trail: who took which tables out, in what form
    registry.record(
        "export",
        None,
        {"format": fmt, "tables": names, "files": [p.name for p in written], "rows": registry.counts(names)},
    )
    return written


def _write_csv(registry: Store, name: str, target: Path) -> None:
    res = record_type(name)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(res.columns)
        for record in _records(registry, name):
            writer.writerow(["" if v is None else _flat(v) for v in record.values()])


def _write_xlsx(registry: Store, names: list[str], target: Path) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    book = openpyxl.Workbook(write_only=True)
    for name in names:
        sheet = book.create_sheet(title=name)
        sheet.append(list(record_type(name).columns))
        for record in _records(registry, name):
            cells = []
            for value in record.values():
                value = _flat(value)
                if isinstance(value, str):
                    # never let a value become a formula (=, +, @ ...): write it as text
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.data_type = "s"
                    cells.append(cell)
                else:
                    cells.append(value)
            sheet.append(cells)
    book.save(target)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _write_json(registry: Store, names: list[str], target: Path) -> None:
    doc = {
        "format": "detente-registry",
        "format_version": 1,
        "tables": {name: list(_records(registry, name)) for name in names},
    }
    target.write_text(json.dumps(doc, default=_json_default, ensure_ascii=False, indent=1), encoding="utf-8")


def _arrow_schema(res: RecordType) -> Any:
    """Parquet column types from the table's own column types (lists of ids as lists)."""
    import pyarrow as pa
    from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric

    columns = res.table.__table__.columns
    types: dict[str, Any] = {}
    for name in res.columns:
        kind = columns[name].type if name in columns else None
        kind = getattr(kind, "impl_instance", kind)  # a TypeDecorator (UTC timestamps): its stored type
        if name in res.list_fields:
            types[name] = pa.list_(pa.string())
        elif isinstance(kind, DateTime):
            types[name] = pa.timestamp("us", tz="UTC")
        elif isinstance(kind, Integer):
            types[name] = pa.int64()
        elif isinstance(kind, Float):
            types[name] = pa.float64()
        elif isinstance(kind, Numeric):
            types[name] = pa.decimal128(kind.precision or 16, kind.scale or 2)
        elif isinstance(kind, Boolean):
            types[name] = pa.bool_()
        elif isinstance(kind, Date):
            types[name] = pa.date32()
        else:
            types[name] = pa.string()
    return pa.schema([(n, types[n]) for n in res.columns])


def _write_parquet(registry: Store, name: str, target: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    res = record_type(name)
    table = pa.Table.from_pylist(list(_records(registry, name)), schema=_arrow_schema(res))
    pq.write_table(table, target)
