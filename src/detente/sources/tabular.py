"""Reading providers' files safely: bytes, text, delimited rows and typed columns, with
every refusal naming the file, the line and the field.

Datasets come as CSV or TSV (gzip-compressed or not), with or without a header line,
with the provider's null tokens (``NA``, ``-0-``, empty). ``read_table`` reads one into
``Columns``: raw strings per column plus the line each row started on, so that a typed
accessor (``ints``, ``floats``, ``dates``) can refuse ``file, line N, field F: ...``.
``to_iso3`` maps country codes or names through the registry's crosswalk and counts
every value that does not map, so adapters report them by name instead of dropping rows.

Files are read within bounds (``detente.core.bounded``): gzip is inflated as a stream and
refused past ``MAX_BYTES`` or a compression bomb's ratio. ``Columns`` remember which
columns the loader read, so that a column named in a header that no loader reads and no
provider documents is reported (``collect`` and ``unknown_columns``), never dropped silently.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]

from detente.core import bounded
from detente.core.countries import convert
from detente.core.errors import ValidationError

__all__ = [
    "Columns",
    "Parsed",
    "Unmapped",
    "collect",
    "head_bytes",
    "read_bytes",
    "read_table",
    "read_text",
    "to_iso3",
    "unknown_columns",
]

# a long load reports rows read as it goes: the CLI sets this to advance a progress bar
PROGRESS: ContextVar[Callable[[int], None] | None] = ContextVar("detente_sources_progress", default=None)
PROGRESS_EVERY = 20_000


def report_rows(count: int) -> None:
    """Tell the running load's progress hook (if any) that ``count`` more rows were read."""
    hook = PROGRESS.get()
    if hook is not None:
        hook(count)


NULLS = frozenset({"", "NA", "N/A", "NaN", "nan", "-0-", "NULL", "null", "None", "xx", "XX"})  # xx: MME
MAX_FIELD = 1 << 24  # a 16 MiB field is a broken file, not data
# the largest file a source may be, as read or inflated (every provider's file is smaller;
# loaders hold a file in memory, so this is also what a load may cost)
MAX_BYTES = 4 * 1024**3


@dataclass
class Unmapped:
    """Values that did not map to a country, with how many rows each touched."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, column: str, values: Iterable[Any], mapped: np.ndarray) -> None:
        """Count the values of ``column`` that did not map (``mapped`` is None), nulls aside."""
        for value, iso in zip(values, mapped, strict=True):
            if iso is None and value is not None and str(value).strip() not in NULLS:
                self.counts[f"{column}={str(value).strip()}"] += 1

    @property
    def rows(self) -> int:
        """The values that did not map, all columns together."""
        return sum(self.counts.values())

    def summary(self, limit: int = 12) -> str:
        """The misses in one sentence: the most frequent first, at most ``limit`` named."""
        if not self.counts:
            return ""
        top = ", ".join(f"{k} ({n:,})" for k, n in self.counts.most_common(limit))
        more = len(self.counts) - limit
        tail = f" and {more} more" if more > 0 else ""
        return f"{self.rows:,} values did not map (to a country, or a code): {top}{tail}"


@dataclass
class Parsed:
    """What an adapter hands to the lake: its tables (the first is the main one),
    a coverage line and the values it could not map."""

    tables: dict[str, pa.Table]
    coverage: str
    unmapped: Unmapped = field(default_factory=Unmapped)
    notes: list[str] = field(default_factory=list)
    version: str | None = None  # the release, where the file says which
    years: tuple[int, int] | None = None  # the years it covers, when no year column says

    @property
    def rows(self) -> int:
        """The rows of the main table."""
        return next(iter(self.tables.values())).num_rows

    def summary(self) -> str:
        """The notes and the unmapped values, in one line for the load report."""
        parts = [*self.notes]
        if self.unmapped.counts:
            parts.append(self.unmapped.summary())
        return "; ".join(parts)


# ------------------------------------------------------------------ bytes and text
def read_bytes(path: Path, *, limit: int = MAX_BYTES) -> bytes:
    """The file's bytes, gunzipped as a stream when it is gzip, refused past ``limit`` or a
    compression bomb's ratio; a broken archive is refused by name."""
    return bounded.read_limited(path, limit=limit)


def head_bytes(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of the file (inflated, when it is gzip), reading no more."""
    with path.open("rb") as handle:
        first = handle.read(max(size, 2))
    if not bounded.is_gzip(first):
        return first[:size]
    out = b""
    chunks = bounded.iter_gunzip(path, name=str(path), limit=MAX_BYTES)
    try:
        for chunk in chunks:
            out += chunk
            if len(out) >= size:
                break
    finally:
        chunks.close()
    return out[:size]


def read_text(path: Path, data: bytes | None = None, *, fallback: str | None = None) -> str:
    """UTF-8 text (a byte-order mark is dropped); other bytes are refused with their line,
    unless the provider is known to write another encoding (``fallback``, e.g. SIPRI's
    Windows-1252)."""
    data = read_bytes(path) if data is None else data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if fallback is not None:
            try:
                return data.decode(fallback)
            except UnicodeDecodeError:
                pass
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise ValidationError(f"{path}, line {line}: not UTF-8 text (byte 0x{bad})") from None


# ------------------------------------------------------------------ delimited rows
def _guess_other_delimiter(line: str, expected: str) -> str | None:
    names = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
    if line.count(expected) > 0:
        return None
    for candidate, name in names.items():
        if candidate != expected and line.count(candidate) >= 2:
            return name
    return None


class _Read(dict[str, list[str | None]]):
    """Columns by name that remember which of them were read (``in`` is not a read)."""

    def __init__(self, data: dict[str, list[str | None]]) -> None:
        super().__init__(data)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> list[str | None]:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        """``dict.get`` that counts as a read."""
        if key in self:
            self.read.add(key)
        return super().get(key, default)


# the Columns read while a load runs (``collect``): which header columns no loader read
_COLLECTED: ContextVar[list[Columns] | None] = ContextVar("detente_sources_columns", default=None)
# a spreadsheet's row index or an unnamed column, written by the tool that re-saved a file
_ARTEFACT = re.compile(r"^(_blank_\d+|Unnamed: \d+)$")


@dataclass
class Columns:
    """Rows of one file as string columns, with the line each row started on."""

    path: Path
    names: list[str]
    data: dict[str, list[str | None]]
    lines: list[int]
    from_header: bool = False  # the names are the file's own (not the loader's)

    def __post_init__(self) -> None:
        if not isinstance(self.data, _Read):
            self.data = _Read(self.data)

    def unread(self) -> list[str]:
        """Header columns the loader never read (a re-saver's index columns left out)."""
        read = self.data.read if isinstance(self.data, _Read) else set(self.data)
        return [n for n in self.names if n not in read and not _ARTEFACT.match(n)]

    def __len__(self) -> int:
        return len(self.lines)

    def has(self, name: str) -> bool:
        """Whether the file has column ``name``."""
        return name in self.data

    def _where(self, name: str, index: int) -> str:
        return f"{self.path}, line {self.lines[index]}, field {name}"

    def floats(self, name: str, *, lo: float | None = None, hi: float | None = None) -> pa.Array:
        """Column ``name`` as floats in [``lo``, ``hi``]; a bad value refused by line and field."""
        values = self.data[name]
        out: list[float | None] = []
        for i, v in enumerate(values):
            if v is None:
                out.append(None)
                continue
            try:
                number = float(v.replace("?", "").strip()) if v.strip() not in NULLS else None
            except ValueError:
                raise ValidationError(f"{self._where(name, i)}: {v!r} is not a number") from None
            if number is not None and (
                number != number or (lo is not None and number < lo) or (hi is not None and number > hi)
            ):
                raise ValidationError(f"{self._where(name, i)}: {v!r} is outside [{lo}, {hi}]")
            out.append(number)
        return pa.array(out, pa.float64())

    def ints(self, name: str, *, lo: int | None = None, hi: int | None = None) -> pa.Array:
        """Column ``name`` as whole numbers in [``lo``, ``hi``]; a bad value refused by line and field."""
        values = self.data[name]
        out: list[int | None] = []
        for i, v in enumerate(values):
            if v is None or v.strip() in NULLS:
                out.append(None)
                continue
            text = v.strip()
            try:
                number = int(text) if text.lstrip("-").isdigit() else int(_whole(float(text)))
            except ValueError:
                raise ValidationError(f"{self._where(name, i)}: {v!r} is not a whole number") from None
            if (lo is not None and number < lo) or (hi is not None and number > hi):
                raise ValidationError(f"{self._where(name, i)}: {number} is outside [{lo}, {hi}]")
            out.append(number)
        return pa.array(out, pa.int64())

    def dates(self, name: str, *, lo: date = date(1800, 1, 1), hi: date | None = None) -> pa.Array:
        """ISO dates (``YYYY-MM-DD``, optionally with a time) or ``YYYYMMDD``."""
        hi = hi or date(date.today().year + 2, 12, 31)
        out: list[date | None] = []
        for i, v in enumerate(self.data[name]):
            if v is None or v.strip() in NULLS:
                out.append(None)
                continue
            out.append(parse_date(v, self._where(name, i), lo, hi))
        return pa.array(out, pa.date32())

    def require(self, names: Iterable[str]) -> None:
        """Refuse the file if any of ``names`` is not among its columns (naming those found)."""
        missing = [n for n in names if n not in self.data]
        if missing:
            raise ValidationError(
                f"{self.path}: missing column(s) {', '.join(missing)} "
                f"(found: {', '.join(self.names[:40]) or 'none'})"
            )

    # last in the class: a method named ``str`` would shadow the type in the annotations after it
    def str(self, name: str) -> pa.Array:
        """Column ``name`` as text."""
        return pa.array(self.data[name], pa.string())


def _whole(value: float) -> float:
    if value != value or value != int(value):
        raise ValueError
    return value


def parse_date(text: str, where: str, lo: date, hi: date) -> date:
    """A date written YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY, refused at ``where`` outside [``lo``, ``hi``]."""
    t = text.strip()
    try:
        if len(t) == 8 and t.isdigit():
            day = date(int(t[:4]), int(t[4:6]), int(t[6:8]))
        elif re.match(r"^\d{1,2}/\d{1,2}/\d{4}", t):  # US month/day/year (older UCDP exports)
            month, dom, year = t.split()[0].split("/")
            day = date(int(year), int(month), int(dom))
        else:
            day = date.fromisoformat(t[:10])
    except ValueError:
        raise ValidationError(
            f"{where}: {text!r} is not a date (YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY)"
        ) from None
    if not lo <= day <= hi:
        raise ValidationError(f"{where}: date {day.isoformat()} is out of range ({lo} to {hi})")
    return day


def _body(path: Path, text: str, delimiter: str, skip_lines: int) -> io.StringIO:
    """The text past ``skip_lines``, refused when its first line is plainly separated by
    another delimiter."""
    body = io.StringIO(text, newline="")
    for _ in range(skip_lines):
        body.readline()
    first_line = body.getvalue()[body.tell() :].split("\n", 1)[0]
    other = _guess_other_delimiter(first_line, delimiter)
    if other is not None:
        expected = {",": "comma", "\t": "tab", ";": "semicolon"}.get(delimiter, repr(delimiter))
        raise ValidationError(
            f"{path}, line {skip_lines + 1}: expected {expected}-separated columns; "
            f"this looks {other}-separated"
        )
    return body


def read_table(
    path: Path,
    *,
    delimiter: str = ",",
    header: bool = True,
    names: Sequence[str] | None = None,
    skip_lines: int = 0,
    required: Iterable[str] = (),
    rename: dict[str, str] | None = None,
    ragged: bool = False,
    text: str | None = None,
) -> Columns:
    """Read a delimited file into string columns.

    ``header``: the first (non-skipped) line names the columns; otherwise ``names`` do.
    Blank column names are named ``_blank_<n>`` (SIPRI's export has them). A row with a
    different number of fields is refused with its line unless ``ragged`` (then short
    rows are padded with nulls and long rows refused). Null tokens become None.
    """
    body = _body(path, read_text(path) if text is None else text, delimiter, skip_lines)
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(body, delimiter=delimiter, quotechar='"', strict=False)
    line_base = skip_lines
    try:
        if header:
            header_row = next(reader, None)
            if header_row is None:
                raise ValidationError(f"{path}: empty file, expected a header line")
            cols = [c.strip() or f"_blank_{i}" for i, c in enumerate(header_row)]
        else:
            if names is None:
                raise ValueError("names are needed when there is no header")
            cols = list(names)
        if rename:
            cols = [rename.get(c, c) for c in cols]
        twice = next((c for i, c in enumerate(cols) if c in cols[:i]), None)
        if twice is not None:
            raise ValidationError(f"{path}, line {line_base + 1}: column {twice!r} appears twice")
        data: dict[str, list[str | None]] = {c: [] for c in cols}
        columns = [data[c] for c in cols]
        width = len(cols)
        lines: list[int] = []
        previous_end = line_base + (1 if header else 0)
        row_names: bool | None = None  # R's write.csv: one more field than the header names
        for row in reader:
            start = previous_end + 1
            previous_end = line_base + reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if row_names is None:
                row_names = header and len(row) == width + 1
            if row_names:
                if len(row) != width + 1:
                    raise ValidationError(
                        f"{path}, line {start}: {len(row)} fields where the other rows have {width + 1}"
                    )
                row = row[1:]
            if len(row) != width:
                if ragged and len(row) < width:
                    row = row + [""] * (width - len(row))
                else:
                    raise ValidationError(
                        f"{path}, line {start}: {len(row)} fields where the header has {width}"
                        + ("" if header else f" ({', '.join(cols[:3])}, ...)")
                    )
            for target, value in zip(columns, row, strict=True):
                target.append(None if value.strip() in NULLS else value)
            lines.append(start)
            if len(lines) % PROGRESS_EVERY == 0:
                report_rows(PROGRESS_EVERY)
    except csv.Error as exc:
        raise ValidationError(f"{path}, line {line_base + reader.line_num}: {exc}") from None
    report_rows(len(lines) % PROGRESS_EVERY)
    result = Columns(path=path, names=cols, data=data, lines=lines, from_header=header)
    result.require(required)
    collected = _COLLECTED.get()
    if collected is not None:
        collected.append(result)
    return result


@contextmanager
def collect() -> Iterator[list[Columns]]:
    """The ``Columns`` every ``read_table`` makes while the block runs (a load)."""
    found: list[Columns] = []
    token = _COLLECTED.set(found)
    try:
        yield found
    finally:
        _COLLECTED.reset(token)


def unknown_columns(found: Iterable[Columns], known: Iterable[str]) -> dict[Path, list[str]]:
    """Per file, the header columns that the loader did not read and ``known`` (the
    provider's documented columns a loader leaves out) does not name. A file read twice
    (a loader's second look) counts by its last reading."""
    allowed = set(known)
    last: dict[Path, Columns] = {}
    for cols in found:
        last[cols.path] = cols
    out: dict[Path, list[str]] = {}
    for path, cols in last.items():
        extra = [n for n in cols.unread() if n not in allowed] if cols.from_header else []
        if extra:
            out[path] = extra
    return out


# ------------------------------------------------------------------ countries
def to_iso3(
    values: Sequence[Any] | pa.Array,
    system: str,
    *,
    column: str,
    unmapped: Unmapped,
    year: Any = None,
    aliases: dict[str, str] | None = None,
) -> pa.Array:
    """Map a column to ISO 3166 alpha-3 through the crosswalk; misses are counted by value."""
    raw = values.to_pylist() if isinstance(values, pa.Array | pa.ChunkedArray) else list(values)
    cleaned: list[Any] = []
    for v in raw:
        if v is None or (isinstance(v, float) and v != v) or str(v).strip() in NULLS:
            cleaned.append(None)
        elif system in ("cow", "gw", "isonum", "vdem"):
            cleaned.append(int(float(v)))
        else:
            text = str(v).strip()
            cleaned.append(aliases.get(text, text) if aliases else text)
    mapped = convert(cleaned, system, "iso3", year=year) if cleaned else np.array([], dtype=object)
    unmapped.add(column, cleaned, mapped)
    return pa.array(list(mapped), pa.string())


def cow_iso3(
    cols: Columns, codes: pa.Array, years: pa.Array, *, unmapped: Unmapped, column: str = "ccode"
) -> pa.Array:
    """COW codes to ISO3, falling back to the file's own ``iso3c`` column where the COW
    code has none (territories, custom codes); what is still unmapped is counted."""
    iso = to_iso3(codes, "cow", column=column, unmapped=Unmapped(), year=years.to_pylist()).to_pylist()
    if cols.has("iso3c"):
        iso = [i or g for i, g in zip(iso, cols.data["iso3c"], strict=True)]
    for c, i in zip(codes.to_pylist(), iso, strict=True):
        if i is None:
            unmapped.counts[f"{column}={c}"] += 1
    return pa.array(iso, pa.string())


def coverage_years(years: pa.Array | pa.ChunkedArray, what: str = "") -> str:
    """``first-last`` of the non-null years, with ``what`` after it (``no dated rows`` if none)."""
    valid = pc.drop_null(years)
    if len(valid) == 0:
        return "no dated rows"
    lo, hi = pc.min(valid).as_py(), pc.max(valid).as_py()
    return f"{lo}-{hi}" + (f", {what}" if what else "")


# ------------------------------------------------------------------ column specs
@dataclass(frozen=True)
class Col:
    """One output column: its kind and the input names it may come from (first present).

    kinds: str, int, float, date; ``lo``/``hi`` bound numbers, ``required`` refuses a
    file without any of the names (otherwise the column is all null: not covered)."""

    name: str
    kind: str = "str"
    sources: tuple[str, ...] = ()
    required: bool = True
    lo: float | None = None
    hi: float | None = None

    def inputs(self) -> tuple[str, ...]:
        """The file columns this output column is read from (its own name unless ``sources``)."""
        return self.sources or (self.name,)


def select(cols: Columns, spec: Sequence[Col]) -> dict[str, pa.Array]:
    """Typed output columns from ``cols`` by ``spec``, refusing by file, line and field."""
    missing = [
        " or ".join(c.inputs()) for c in spec if c.required and not any(cols.has(n) for n in c.inputs())
    ]
    if missing:
        raise ValidationError(
            f"{cols.path}: missing column(s) {', '.join(missing)} (found: {', '.join(cols.names[:40])})"
        )
    out: dict[str, pa.Array] = {}
    for c in spec:
        source = next((n for n in c.inputs() if cols.has(n)), None)
        if source is None:
            types = {"str": pa.string(), "int": pa.int64(), "float": pa.float64(), "date": pa.date32()}
            out[c.name] = pa.nulls(len(cols), types[c.kind])
        elif c.kind == "int":
            out[c.name] = cols.ints(source, lo=_opt(c.lo), hi=_opt(c.hi))
        elif c.kind == "float":
            out[c.name] = cols.floats(source, lo=c.lo, hi=c.hi)
        elif c.kind == "date":
            out[c.name] = cols.dates(source)
        else:
            out[c.name] = pa.array([v.strip() if v else v for v in cols.data[source]], pa.string())
    return out


def _opt(value: float | None) -> int | None:
    return None if value is None else int(value)


def code_list(values: Iterable[str | None], where: Columns, field_name: str) -> list[list[int]]:
    """UCDP's comma-separated code lists (``"560, 571"``) as lists of whole numbers."""
    out: list[list[int]] = []
    for i, v in enumerate(values):
        if v is None or v.strip() in NULLS:
            out.append([])
            continue
        try:
            out.append([int(float(p)) for p in v.replace(";", ",").split(",") if p.strip()])
        except ValueError:
            raise ValidationError(
                f"{where.path}, line {where.lines[i]}, field {field_name}: {v!r} is not a list of codes"
            ) from None
    return out


def iso3_lists(
    codes: list[list[int]], system: str, years: Sequence[Any], *, column: str, unmapped: Unmapped
) -> pa.Array:
    """Lists of COW/GW codes to lists of ISO3 (year-aware); misses counted by code."""
    flat = [c for row in codes for c in row]
    flat_years = [y for row, y in zip(codes, years, strict=True) for _ in row]
    mapped = convert(flat, system, "iso3", year=flat_years) if flat else np.array([], dtype=object)
    unmapped.add(column, flat, mapped)
    out: list[list[str | None]] = []
    k = 0
    for row in codes:
        out.append([mapped[k + j] for j in range(len(row))])
        k += len(row)
    return pa.array(out, pa.list_(pa.string()))
