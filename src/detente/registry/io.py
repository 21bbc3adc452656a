"""Import and export of registry tables: CSV, Excel (XLSX), JSON and Parquet.

Import is all-or-nothing: every row of every table in the file is validated
(and written inside one transaction); if any row is bad, every bad row is
reported with file, table, row and field, and nothing is written. Rows find
the record they describe by id, then external id, then natural key, so
importing the same file twice creates nothing new.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pydantic

from detente.core.errors import DetenteError, ImportRowsError, RowError, TooLargeError, ValidationError
from detente.registry.resources import RESOURCES, Resource, resource
from detente.registry.service import Registry, field_errors

__all__ = ["FORMATS", "ImportReport", "export_tables", "import_file", "read_file"]

FORMATS = ("csv", "xlsx", "json", "parquet")
LIST_SEPARATOR = ";"
Progress = Callable[[str, int, int], None]


# ---------------------------------------------------------------------- reading
@dataclass
class SourceRow:
    number: int  # spreadsheet row (header = 1) or JSON record number (first = 1)
    values: dict[str, Any]


def _norm_header(name: object) -> str:
    return str(name or "").strip().lower().replace(" ", "_").replace("-", "_")


def _table_from_name(path: Path) -> str | None:
    stem = path.name.split(".")[0].lower()
    for name in RESOURCES:
        if stem == name or stem.endswith(f"_{name}") or stem.endswith(f"-{name}"):
            return name
    return None


def _check_size(path: Path, limit: int) -> None:
    size = path.stat().st_size
    if size > limit:
        raise TooLargeError(
            f"{path}: file is {size:,} bytes, over the import limit of {limit:,} (DETENTE_MAX_IMPORT_BYTES)"
        )


def read_file(
    path: Path, *, table: str | None = None, max_bytes: int = 200 * 1024 * 1024
) -> dict[str, list[SourceRow]]:
    """Rows per registry table from a file; the table comes from ``table``, the
    file name (``engagements.csv``), sheet names (XLSX) or keys (JSON)."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{path}: no such file")
    _check_size(path, max_bytes)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return {_single_table(path, table): list(_read_csv(path))}
        if suffix == ".xlsx":
            return _read_xlsx(path, table, max_bytes)
        if suffix == ".json":
            return _read_json(path, table)
        if suffix == ".parquet":
            return {_single_table(path, table): list(_read_parquet(path))}
    except DetenteError:
        raise
    except (
        UnicodeDecodeError,
        csv.Error,
        json.JSONDecodeError,
        zipfile.BadZipFile,
        OSError,
        ValueError,
        KeyError,
    ) as exc:
        raise ValidationError(f"{path}: cannot read as {suffix[1:]}: {exc}") from None
    raise ValidationError(f"{path}: unsupported file type {suffix!r}; use one of {', '.join(FORMATS)}")


def _single_table(path: Path, table: str | None) -> str:
    name = resource(table).name if table else _table_from_name(path)
    if name is None:
        raise ValidationError(
            f"{path}: cannot tell which table this file holds; name it after the table "
            f"(e.g. engagements.csv) or pass --table ({', '.join(RESOURCES)})"
        )
    return name


def _read_csv(path: Path) -> Iterator[SourceRow]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise ValidationError(f"{path}: empty file (no header row)")
        names = [_norm_header(h) for h in header]
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(names):
                raise ValidationError(
                    f"{path}, row {number}: {len(cells)} cells but the header has {len(names)}"
                )
            yield SourceRow(number, dict(zip(names, cells, strict=False)))


def _read_xlsx(path: Path, table: str | None, max_bytes: int) -> dict[str, list[SourceRow]]:
    import openpyxl

    # a small XLSX can inflate to gigabytes (zip bomb): check before parsing
    with zipfile.ZipFile(path) as archive:
        inflated = sum(i.file_size for i in archive.infolist())
    if inflated > 10 * max_bytes:
        raise ValidationError(f"{path}: workbook inflates to {inflated:,} bytes; refused")
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        out: dict[str, list[SourceRow]] = {}
        for sheet in book.worksheets:
            name = resource(table).name if table and len(book.worksheets) == 1 else None
            name = name or _table_from_name(Path(sheet.title))
            if name is None:
                if table:
                    name = resource(table).name
                else:
                    continue
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if not header:
                continue
            names = [_norm_header(h) for h in header]
            found = out.setdefault(name, [])
            for number, cells in enumerate(rows, start=2):
                if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                    continue
                found.append(SourceRow(number, {n: c for n, c in zip(names, cells, strict=False) if n}))
        if not out:
            raise ValidationError(f"{path}: no sheet named after a registry table ({', '.join(RESOURCES)})")
        return out
    finally:
        book.close()


def _read_json(path: Path, table: str | None) -> dict[str, list[SourceRow]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "tables" in data:
        data = data["tables"]
    if isinstance(data, list):
        data = {_single_table(path, table): data}
    if not isinstance(data, dict):
        raise ValidationError(f"{path}: expected an object of tables or a list of records")
    out: dict[str, list[SourceRow]] = {}
    for key, records in data.items():
        name = resource(key).name
        if not isinstance(records, list):
            raise ValidationError(f"{path}: {key!r} must be a list of records")
        rows = []
        for number, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                raise ValidationError(f"{path} [{name}], record {number}: not an object")
            rows.append(SourceRow(number, {_norm_header(k): v for k, v in record.items()}))
        out[name] = rows
    return out


def _read_parquet(path: Path) -> Iterator[SourceRow]:
    import pyarrow.parquet as pq

    for number, record in enumerate(pq.read_table(path).to_pylist(), start=1):
        yield SourceRow(number, {_norm_header(k): v for k, v in record.items()})


# ---------------------------------------------------------------------- import
@dataclass
class ImportReport:
    file: str
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)

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


def _meta(values: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for key in ("version", "created_at", "created_by", "updated_at", "updated_by"):
        raw = values.pop(key, None)
        if _blank(raw):
            continue
        if key == "version":
            meta[key] = int(raw)
        elif key.endswith("_at"):
            stamp = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
            if stamp.tzinfo is None:
                raise ValueError(f"{key} needs a time zone (e.g. 2024-01-31T10:00:00+00:00)")
            meta[key] = stamp
        else:
            meta[key] = str(raw).strip()
    return meta


class _Importer:
    def __init__(self, registry: Registry, file: str, progress: Progress | None) -> None:
        self.registry = registry
        self.file = file
        self.progress = progress
        self.errors: list[RowError] = []
        self.report = ImportReport(file=file)
        self.ignored: set[str] = set()

    def error(self, res: Resource, row: SourceRow, name: str | None, message: str) -> None:
        self.errors.append(RowError(self.file, row.number, name, message, table=res.name))

    def run(self, tables: dict[str, list[SourceRow]]) -> None:
        for name, res in RESOURCES.items():  # dependency order
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

    def check_columns(self, res: Resource, rows: list[SourceRow]) -> None:
        """Unknown columns are reported once, against the header row."""
        known = set(res.columns)
        self.ignored = set()
        for name in dict.fromkeys(k for row in rows for k in row.values if k):
            if name not in known:
                self.ignored.add(name)
                self.errors.append(
                    RowError(
                        self.file,
                        1,
                        name,
                        f"unknown column for {res.name}; known: {', '.join(res.columns)}",
                        table=res.name,
                    )
                )

    def row(self, res: Resource, row: SourceRow) -> None:
        values = {
            k: None if _blank(v) else _cell(v) for k, v in row.values.items() if k and k not in self.ignored
        }
        try:
            meta = _meta(values)
        except ValueError as exc:
            self.error(res, row, None, str(exc))
            return
        given_version = meta.get("version")
        record_id = values.pop("id", None)
        record_id = None if _blank(record_id) else str(record_id).strip()
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
                    values[name] = [
                        self.registry.resolve_ref(res.ref_target(name) or "actors", str(t), field=name)
                        for t in values[name]
                    ]
                elif not _blank(values[name]):
                    values[name] = self.registry.resolve_ref(res.refs[name], str(values[name]), field=name)
                else:
                    values[name] = None
            except DetenteError as exc:
                self.error(res, row, name, exc.message.split(": ", 1)[-1])
                ok = False
        if not ok:
            return
        try:
            model = res.create_model.model_validate({**values, "id": record_id})
        except pydantic.ValidationError as exc:
            for name, message in field_errors(exc):
                self.error(res, row, name, message)
            return
        data = model.model_dump()
        try:
            with self.registry.session.begin_nested():
                self.apply(res, row, data, meta, given_version, set(values))
        except DetenteError as exc:
            self.error(res, row, getattr(exc, "field", None), exc.message)

    def apply(
        self,
        res: Resource,
        row: SourceRow,
        data: dict[str, Any],
        meta: dict[str, Any],
        given_version: int | None,
        present: set[str],
    ) -> None:
        reg = self.registry
        # matched only among records this principal may see: a hidden record is never
        # touched, named or counted by an import (an id already taken is refused on create)
        existing = reg.find_id(res.name, record_id=data["id"], external_id=data["external_id"])
        if existing is None:
            existing = reg.find_by_natural_key(res, data)
        if existing is None:
            reg.create(res.name, data, meta=meta)
            self.report.created[res.name] = self.report.created.get(res.name, 0) + 1
            return
        current = reg.get(res.name, existing)
        if given_version is not None and given_version != current.version:
            raise ValidationError(
                f"the file has version {given_version} of {res.singular} {existing} but the "
                f"registry has version {current.version} (changed by {current.updated_by}); "
                "export again and re-apply your edits"
            )
        # only the columns the file carries are compared, so a partial file never blanks fields
        changes = {
            k: v
            for k, v in data.items()
            if k in present and k in (*res.fields, "external_id", "marking") and v != getattr(current, k)
        }
        if not changes:
            self.report.unchanged[res.name] = self.report.unchanged.get(res.name, 0) + 1
            return
        reg.update(res.name, existing, changes, expected_version=current.version)
        self.report.updated[res.name] = self.report.updated.get(res.name, 0) + 1


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
    registry: Registry,
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
    tables = read_file(path, table=table, max_bytes=max_bytes)
    importer = _Importer(registry, label or str(path), progress)
    importer.run(tables)
    if importer.errors:
        raise ImportRowsError(errors=importer.errors)
    return importer.report


# ---------------------------------------------------------------------- export
def _records(registry: Registry, name: str) -> Iterator[dict[str, Any]]:
    res = resource(name)
    for record in registry.iter_all(name):
        data = record.model_dump()
        yield {c: data.get(c) for c in res.columns}


def _flat(value: Any) -> Any:
    if isinstance(value, list):
        return f"{LIST_SEPARATOR} ".join(str(v) for v in value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def export_tables(registry: Registry, fmt: str, out: Path, tables: Iterable[str] | None = None) -> list[Path]:
    """Write the named tables (default: all) in ``fmt``; returns the files written.

    CSV and Parquet write one file per table into the folder ``out``; XLSX
    writes one workbook with a sheet per table; JSON one document.
    """
    registry.require("export", "export records")
    names = [resource(t).name for t in (tables or RESOURCES)]
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


def _write_csv(registry: Registry, name: str, target: Path) -> None:
    res = resource(name)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(res.columns)
        for record in _records(registry, name):
            writer.writerow(["" if v is None else _flat(v) for v in record.values()])


def _write_xlsx(registry: Registry, names: list[str], target: Path) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    book = openpyxl.Workbook(write_only=True)
    for name in names:
        sheet = book.create_sheet(title=name)
        sheet.append(list(resource(name).columns))
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


def _write_json(registry: Registry, names: list[str], target: Path) -> None:
    doc = {
        "format": "detente-registry",
        "format_version": 1,
        "tables": {name: list(_records(registry, name)) for name in names},
    }
    target.write_text(json.dumps(doc, default=_json_default, ensure_ascii=False, indent=1), encoding="utf-8")


def _arrow_schema(res: Resource) -> Any:
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


def _write_parquet(registry: Registry, name: str, target: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    res = resource(name)
    table = pa.Table.from_pylist(list(_records(registry, name)), schema=_arrow_schema(res))
    pq.write_table(table, target)
