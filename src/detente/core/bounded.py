"""Reading untrusted bytes within bounds: the one place that inflates archives and
measures JSON nesting, for the registry's imports, the sources' loaders and the API.

A small file can inflate to gigabytes (a gzip or zip "bomb"), and a short JSON text can
nest deeper than a parser's stack. Both are refused here, before the memory or the stack
is spent, with the file (or request) named:

- gzip is inflated as a stream, a mebibyte at a time, and refused as soon as it passes
  the caller's ``limit`` or inflates more than ``MAX_RATIO`` times the compressed bytes
  read so far (past ``RATIO_FLOOR``: a small, very repetitive file is not a bomb). Real
  data compresses 3 to 30 times; a bomb of zeros about 1,000 times.
- zip members are checked by the sizes their headers declare, with the same limits:
  ``zipfile`` never inflates a member past its declared size (it stops and fails the
  CRC), so declared sizes bound what any reader of the archive (openpyxl too) unpacks.
- Parquet is checked by its footer: declared uncompressed bytes and cells.
- JSON is refused past ``MAX_JSON_DEPTH`` levels of nesting, measured without parsing
  (strings and everything but brackets are dropped by regular expressions, then the
  depth is a running sum), so no parser ever recurses into it.

Errors are ``TooLargeError`` (inflation) and ``TooDeepError`` (nesting). This module
decides nothing about what the bytes mean; callers choose the limits.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Generator, Iterable, Iterator
from itertools import accumulate, count
from operator import sub
from pathlib import Path
from typing import Any

from detente.core.errors import TooDeepError, TooLargeError, ValidationError

__all__ = [
    "CHUNK",
    "MAX_JSON_DEPTH",
    "MAX_RATIO",
    "RATIO_FLOOR",
    "check_json_depth",
    "check_parquet",
    "check_zip",
    "copy_zip_member",
    "gunzip",
    "is_gzip",
    "iter_gunzip",
    "json_depth",
    "read_limited",
]

MAX_RATIO = 200  # inflating more than this many times is a compression bomb, not data
RATIO_FLOOR = 16 * 1024 * 1024  # below this many inflated bytes, any ratio is allowed
MAX_JSON_DEPTH = 64  # detente's own documents nest 5 deep; GeoJSON about 7
CHUNK = 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(head: bytes) -> bool:
    return head[:2] == GZIP_MAGIC


def _check(name: str, produced: int, consumed: int, limit: int, ratio: float) -> None:
    if produced > limit:
        raise TooLargeError(f"{name}: would inflate to more than {limit:,} bytes; refused")
    if produced > RATIO_FLOOR and produced > ratio * max(consumed, 1):
        raise TooLargeError(
            f"{name}: would inflate more than {ratio:,.0f} times its compressed size "
            f"({produced:,} bytes from {consumed:,}): a compression bomb, not data; refused"
        )


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            yield block


def iter_gunzip(
    source: Path | bytes | Iterable[bytes], *, name: str, limit: int, ratio: float = MAX_RATIO
) -> Generator[bytes, None, None]:
    """The inflated bytes of a gzip file (every member of a multi-member one), a chunk at
    a time, refused past ``limit`` bytes or ``ratio`` times what was read."""
    if isinstance(source, Path):
        blocks: Iterable[bytes] = _blocks(source)
    elif isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
        blocks = (raw[i : i + CHUNK] for i in range(0, len(raw), CHUNK))
    else:
        blocks = source
    inflater = zlib.decompressobj(wbits=31)
    in_member, produced, consumed = False, 0, 0
    try:
        for block in blocks:
            pending = block
            while pending:
                if not in_member:
                    pending = pending.lstrip(b"\x00")  # zero padding after a member
                    if not pending:
                        break
                    inflater, in_member = zlib.decompressobj(wbits=31), True
                before = len(pending)
                out = inflater.decompress(pending, CHUNK)
                pending = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
                consumed += before - len(pending)
                in_member = not inflater.eof
                produced += len(out)
                _check(name, produced, consumed, limit, ratio)
                if out:
                    yield out
                # zlib may hold more output for input it has already taken
                while in_member and not pending and len(out) == CHUNK:
                    out = inflater.decompress(b"", CHUNK)
                    in_member = not inflater.eof
                    produced += len(out)
                    _check(name, produced, consumed, limit, ratio)
                    if out:
                        yield out
        if in_member:
            out = inflater.flush()
            produced += len(out)
            _check(name, produced, consumed, limit, ratio)
            if not inflater.eof:
                raise ValidationError(f"{name}: truncated or corrupt gzip archive (the stream ends early)")
            if out:
                yield out
    except zlib.error as exc:
        raise ValidationError(f"{name}: truncated or corrupt gzip archive ({exc})") from None


def gunzip(source: Path | bytes, *, name: str, limit: int, ratio: float = MAX_RATIO) -> bytes:
    """``iter_gunzip`` joined: the whole inflated file, within the same bounds."""
    return b"".join(iter_gunzip(source, name=name, limit=limit, ratio=ratio))


def read_limited(path: Path, *, limit: int, name: str | None = None) -> bytes:
    """A file's bytes, gunzipped when it is gzip, refused past ``limit`` bytes (as read,
    or inflated) and past ``MAX_RATIO`` inflation."""
    label = name or str(path)
    with path.open("rb") as handle:
        head = handle.read(2)
    if is_gzip(head):
        return gunzip(path, name=label, limit=limit)
    size = path.stat().st_size
    if size > limit:
        raise TooLargeError(f"{label}: {size:,} bytes, over the limit of {limit:,}; refused")
    return path.read_bytes()


# ---------------------------------------------------------------------- zip
def check_zip(
    archive: zipfile.ZipFile,
    *,
    name: str,
    limit: int,
    ratio: float = MAX_RATIO,
    members: Iterable[zipfile.ZipInfo] | None = None,
) -> None:
    """Refuse an archive whose members (all, or those named) declare more than ``limit``
    bytes together, or one that inflates more than ``ratio`` times (past the floor)."""
    total = 0
    for info in archive.infolist() if members is None else members:
        total += info.file_size
        if info.file_size > RATIO_FLOOR and info.file_size > ratio * max(info.compress_size, 1):
            raise TooLargeError(
                f"{name}: member {info.filename} would inflate to {info.file_size:,} bytes, "
                f"{info.file_size / max(info.compress_size, 1):,.0f} times its compressed size; refused"
            )
        if total > limit:
            raise TooLargeError(f"{name}: would inflate to {total:,} bytes, over {limit:,}; refused")


def copy_zip_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    target: Path,
    *,
    name: str,
    limit: int,
    ratio: float = MAX_RATIO,
) -> Path:
    """Extract one member to ``target`` as a stream, within the bounds of ``check_zip``."""
    check_zip(archive, name=name, limit=limit, ratio=ratio, members=[info])
    written = 0
    with archive.open(info) as src, target.open("wb") as dst:
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if written > info.file_size:  # zipfile stops there; this is a second guard
                raise TooLargeError(f"{name}: member {info.filename} is larger than it declares; refused")
            dst.write(chunk)
    return target


# ---------------------------------------------------------------------- parquet
def check_parquet(path: Path, *, name: str, limit: int, ratio: float = MAX_RATIO) -> None:
    """Refuse a Parquet file whose footer declares more than ``limit`` uncompressed bytes,
    more cells than a CSV of ``limit`` bytes could hold (two bytes a cell), or an
    inflation past ``ratio``."""
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    inflated = sum(
        meta.row_group(g).column(c).total_uncompressed_size
        for g in range(meta.num_row_groups)
        for c in range(meta.num_columns)
    )
    _check(name, inflated, path.stat().st_size, limit, ratio)
    cells = meta.num_rows * max(meta.num_columns, 1)
    if cells > limit // 2:
        raise TooLargeError(
            f"{name}: {meta.num_rows:,} rows of {meta.num_columns} columns is more than a file "
            f"of {limit:,} bytes can hold; refused"
        )


# ---------------------------------------------------------------------- JSON
_TOKEN_STR = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)
_TOKEN_BYTES = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
# an opening bracket counts 2, a closing one 0: the depth after k brackets is their sum minus k
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")


def json_depth(text: str | bytes) -> int:
    """How deep ``text`` nests arrays and objects (brackets inside strings do not count).

    Read in pieces of a mebibyte that never split an escape: in each, escaped backslashes
    go first, then escaped quotes (left to right, as a JSON lexer pairs them); every quote
    left opens or closes a string, so the text outside strings is every other piece
    between quotes. Linear and in C but for the running sum over the brackets."""
    backslash: Any = "\\" if isinstance(text, str) else b"\\"
    quote: Any = '"' if isinstance(text, str) else b'"'
    depth = deepest = 0
    inside = False
    start = 0
    while start < len(text):
        end = min(start + CHUNK, len(text))
        while end < len(text) and text[end - 1 : end] == backslash:
            end += 1  # a piece never ends inside an escape
        piece = text[start:end].replace(backslash * 2, backslash[:0]).replace(backslash + quote, quote[:0])
        parts = piece.split(quote)
        outside = parts[1 if inside else 0 :: 2]
        inside ^= len(parts) % 2 == 0  # an odd number of quotes leaves the state flipped
        joined = quote[:0].join(outside)
        raw = joined.encode("utf-8", "surrogatepass") if isinstance(joined, str) else bytes(joined)
        steps = raw.translate(_STEPS, _NOT_BRACKETS)
        if steps:
            deepest = max(deepest, depth + max(map(sub, accumulate(steps), count(1))))
            depth += sum(steps) - len(steps)
        start = end
    return max(0, deepest)


def _where_too_deep(text: str | bytes, limit: int) -> int:
    """The line on which ``text`` first nests deeper than ``limit``."""
    depth = 0
    for match in (_TOKEN_STR if isinstance(text, str) else _TOKEN_BYTES).finditer(text):  # type: ignore[arg-type]
        token: Any = match.group()
        if token in ("[", "{", b"[", b"{"):
            depth += 1
            if depth > limit:
                newline: Any = "\n" if isinstance(text, str) else b"\n"
                return text.count(newline, 0, match.start()) + 1
        elif token in ("]", "}", b"]", b"}"):
            depth -= 1
    return 1


def check_json_depth(text: str | bytes, *, name: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than ``limit``, naming the line where it goes too deep."""
    if json_depth(text) > limit:
        line = _where_too_deep(text, limit)
        raise TooDeepError(f"{name}, line {line}: JSON nested deeper than {limit} levels; refused")
