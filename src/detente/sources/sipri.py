"""SIPRI Arms Transfers Database: the trade register as its web export writes it.

The export opens with notes (title, conventions, source, date generated), then a header
line ``Recipient,Supplier,Year of order, ,Number ordered, ,...`` whose blank names are
the uncertainty columns (``?`` after the value before them). Some exports break a record
over two lines where its comment held a line break: the first part has 13 fields and the
next line the remaining 4; those are joined and reported. Any other row that does not fit
is kept in ``sipri_rejects`` with its line and reported, never silently dropped.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]

from detente.core.errors import ValidationError
from detente.sources.tabular import Parsed, Unmapped, coverage_years, read_text, to_iso3

__all__ = ["parse_sipri"]

HEADER = (
    "Recipient",
    "Supplier",
    "Year of order",
    "",
    "Number ordered",
    "",
    "Weapon designation",
    "Weapon description",
    "Number delivered",
    "",
    "Year(s) of delivery",
    "status",
    "Comments",
    "SIPRI TIV per unit",
    "SIPRI TIV for total order",
    "SIPRI TIV of delivered weapons",
)
WIDTH = len(HEADER)
# names SIPRI gives recipients and suppliers that are not (current) states' names
ALIASES = {"Soviet Union": "Russia", "Czechoslovakia": "Czechia", "Yugoslavia": "Serbia"}


def _header_line(rows: list[list[str]], path: Path) -> int:
    for i, row in enumerate(rows[:40]):
        if [c.strip() for c in row[:3]] == ["Recipient", "Supplier", "Year of order"]:
            if len(row) != WIDTH:
                raise ValidationError(
                    f"{path}, line {i + 1}: the header has {len(row)} columns, expected {WIDTH}"
                )
            return i
    raise ValidationError(
        f"{path}: no header line 'Recipient,Supplier,Year of order,...' in the first 40 lines: "
        "not a SIPRI trade register export"
    )


def _number(text: str) -> float | None:
    t = text.strip().replace("?", "")
    return float(t) if t else None


def _read(
    paths: list[Path],
) -> tuple[list[tuple[int, list[str]]], list[str], list[tuple[str, int, str]], list[int]]:
    """The deal rows of every file with their line numbers, the export dates, the rows that
    do not fit (file, line, text) and the lines where a deal broken over two was joined."""
    records: list[tuple[int, list[str]]] = []
    generated: list[str] = []
    rejects: list[tuple[str, int, str]] = []
    joined: list[int] = []
    for path in paths:
        text = read_text(path, fallback="cp1252")  # SIPRI's export is Windows-1252
        rows = list(csv.reader(io.StringIO(text, newline="")))
        start = _header_line(rows, path)
        for row in rows[:start]:
            stamp = re.match(r"Data generated: (\d{1,2} \w{3} \d{4})", row[0] if row else "")
            if stamp:
                generated.append(datetime.strptime(stamp.group(1), "%d %b %Y").date().isoformat())
        i = start + 1
        while i < len(rows):
            row, line = rows[i], i + 1
            i += 1
            if not row or not "".join(row).strip():
                continue
            if len(row) == WIDTH - 3 and i < len(rows) and len(rows[i]) == 4:
                follow = rows[i]
                row = [*row[:-1], (row[-1] + " " + follow[0]).strip(), *follow[1:]]
                joined.append(line)
                i += 1
            if len(row) != WIDTH or not row[2].strip().isdigit():
                rejects.append((path.name, line, ",".join(row)))
                continue
            records.append((line, row))
        if not records:
            raise ValidationError(f"{path}: no deals after the header line")
    return records, generated, rejects, joined


def _numbers(cols: list[tuple[str, ...]], lines: list[int], path: Path) -> dict[str, list[float | None]]:
    """The numeric columns, each value checked (the error names the file, line and field)."""
    numbers: dict[str, list[float | None]] = {}
    for index, name in (
        (4, "number_ordered"),
        (8, "number_delivered"),
        (13, "tiv_unit"),
        (14, "tiv_total"),
        (15, "tiv_delivered"),
    ):
        values = []
        for k, v in enumerate(cols[index]):
            try:
                values.append(_number(v))
            except ValueError:
                raise ValidationError(
                    f"{path}, line {lines[k]}, field {HEADER[index]}: {v!r} is not a number"
                ) from None
        numbers[name] = values
    return numbers


def _delivery_years(cols: list[tuple[str, ...]], lines: list[int], path: Path) -> list[list[int]]:
    """``Year(s) of delivery`` as lists of years (``?`` marks an uncertain one)."""
    delivery_years = []
    for k, v in enumerate(cols[10]):
        try:
            delivery_years.append([int(y.strip().replace("?", "")) for y in v.split(";") if y.strip()])
        except ValueError:
            raise ValidationError(
                f"{path}, line {lines[k]}, field Year(s) of delivery: {v!r} is not a list of years"
            ) from None
    return delivery_years


def _iso(names: list[str], column: str, unmapped: Unmapped) -> pa.Array:
    """ISO3 codes of recipients or suppliers (SIPRI's historical names aliased); misses counted."""
    cleaned = [ALIASES.get(n.rstrip("*"), n.rstrip("*")) for n in names]
    mapped = to_iso3(cleaned, "name", column=column, unmapped=Unmapped())
    for n, m in zip(names, mapped.to_pylist(), strict=True):
        if m is None:
            unmapped.counts[f"{column}={n}"] += 1
    return mapped


def _deals(cols: list[tuple[str, ...]], lines: list[int], path: Path, unmapped: Unmapped) -> pa.Table:
    """The deals as the ``sipri`` table."""
    numbers = _numbers(cols, lines, path)
    delivery_years = _delivery_years(cols, lines, path)
    recipients = [c.strip() for c in cols[0]]
    suppliers = [c.strip() for c in cols[1]]
    return pa.table(
        {
            "recipient": recipients,
            "supplier": suppliers,
            "recipient_iso3": _iso(recipients, "recipient", unmapped),
            "supplier_iso3": _iso(suppliers, "supplier", unmapped),
            "order_year": pa.array([int(y) for y in cols[2]], pa.int64()),
            "order_year_uncertain": [c.strip() == "?" for c in cols[3]],
            "number_ordered": pa.array(numbers["number_ordered"], pa.float64()),
            "number_ordered_uncertain": [c.strip() == "?" for c in cols[5]],
            "designation": [c.strip() for c in cols[6]],
            "description": [c.strip() for c in cols[7]],
            "number_delivered": pa.array(numbers["number_delivered"], pa.float64()),
            "number_delivered_uncertain": [c.strip() == "?" for c in cols[9]],
            "delivery_years": pa.array(delivery_years, pa.list_(pa.int64())),
            "status": [c.strip() or None for c in cols[11]],
            "comments": [c.strip() or None for c in cols[12]],
            "tiv_unit": pa.array(numbers["tiv_unit"], pa.float64()),
            "tiv_total": pa.array(numbers["tiv_total"], pa.float64()),
            "tiv_delivered": pa.array(numbers["tiv_delivered"], pa.float64()),
        }
    )


def parse_sipri(paths: list[Path]) -> Parsed:
    """SIPRI's trade register export(s): the deals, and the rows that did not fit (``_rejects``)."""
    records, generated, rejects, joined = _read(paths)
    cols = list(zip(*(r for _, r in records), strict=True))
    unmapped = Unmapped()
    table = _deals(cols, [line for line, _ in records], paths[0], unmapped)
    notes = []
    if joined:
        notes.append(
            f"{len(joined)} deals broken over two lines were joined "
            f"(lines {', '.join(map(str, joined[:10]))})"
        )
    if rejects:
        notes.append(
            f"{len(rejects)} rows did not fit the register and are kept in sipri_rejects "
            f"(lines {', '.join(str(r[1]) for r in rejects[:10])})"
        )
    reject_table = pa.table(
        {
            "file": pa.array([r[0] for r in rejects], pa.string()),
            "line": pa.array([r[1] for r in rejects], pa.int64()),
            "text": pa.array([r[2] for r in rejects], pa.string()),
        }
    )
    coverage = coverage_years(table.column("order_year"), f"{table.num_rows:,} deals (orders)")
    return Parsed(
        {"": table, "_rejects": reject_table}, coverage, unmapped, notes, version=", ".join(generated) or None
    )
