"""Reading import files: CSV, Excel (XLSX), JSON and Parquet as rows per registry table.

The table comes from the caller, the file name (``engagements.csv``), sheet names (XLSX)
or keys (JSON). Files are untrusted and read within bounds (``detente.core.bounded``):
over the import limit, nested deeper than ``MAX_JSON_DEPTH`` (JSON), or declaring more
than ``INFLATION`` times the limit once unpacked (XLSX, Parquet), a file is refused before
it is parsed, with its name. Every other refusal names the file and row.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detente.core import bounded
from detente.core.errors import DetenteError, TooLargeError, ValidationError
from detente.store.records import record_type, record_types

__all__ = ["FORMATS", "INFLATION", "SourceRow", "read_file"]

FORMATS = ("csv", "xlsx", "json", "parquet")
INFLATION = 10  # a workbook or Parquet file may unpack to ten times the import limit


@dataclass
class SourceRow:
    number: int  # spreadsheet row (header = 1) or JSON record number (first = 1)
    values: dict[str, Any]
    file: str = ""  # the file it came from, as errors name it (set by the importer)


def _norm_header(name: object) -> str:
    return str(name or "").strip().lower().replace(" ", "_").replace("-", "_")


def _table_from_name(path: Path) -> str | None:
    stem = path.name.split(".")[0].lower()
    for name in record_types():
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
            return {_single_table(path, table): list(_read_parquet(path, max_bytes))}
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
    name = record_type(table).name if table else _table_from_name(path)
    if name is None:
        raise ValidationError(
            f"{path}: cannot tell which table this file holds; name it after the table "
            f"(e.g. engagements.csv) or pass --table ({', '.join(record_types())})"
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

    # a small XLSX can inflate to gigabytes (zip bomb): check before parsing; zipfile (and
    # so openpyxl) never inflates a member past the size it declares
    with zipfile.ZipFile(path) as archive:
        bounded.check_zip(archive, name=str(path), limit=INFLATION * max_bytes)
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        out: dict[str, list[SourceRow]] = {}
        for sheet in book.worksheets:
            name = record_type(table).name if table and len(book.worksheets) == 1 else None
            name = name or _table_from_name(Path(sheet.title))
            if name is None:
                if table:
                    name = record_type(table).name
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
            raise ValidationError(
                f"{path}: no sheet named after a registry table ({', '.join(record_types())})"
            )
        return out
    finally:
        book.close()


def _read_json(path: Path, table: str | None) -> dict[str, list[SourceRow]]:
    text = path.read_text(encoding="utf-8")
    bounded.check_json_depth(text, name=str(path))  # before json recurses into it
    data = json.loads(text)
    if isinstance(data, dict) and "tables" in data:
        data = data["tables"]
    if isinstance(data, list):
        data = {_single_table(path, table): data}
    if not isinstance(data, dict):
        raise ValidationError(f"{path}: expected an object of tables or a list of records")
    out: dict[str, list[SourceRow]] = {}
    for key, records in data.items():
        name = record_type(key).name
        if not isinstance(records, list):
            raise ValidationError(f"{path}: {key!r} must be a list of records")
        rows = []
        for number, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                raise ValidationError(f"{path} [{name}], record {number}: not an object")
            rows.append(SourceRow(number, {_norm_header(k): v for k, v in record.items()}))
        out[name] = rows
    return out


def _read_parquet(path: Path, max_bytes: int) -> Iterator[SourceRow]:
    import pyarrow.parquet as pq

    bounded.check_parquet(path, name=str(path), limit=INFLATION * max_bytes)
    for number, record in enumerate(pq.read_table(path).to_pylist(), start=1):
        yield SourceRow(number, {_norm_header(k): v for k, v in record.items()})
