"""CAMEO codebook: event codes with their descriptions, Goldstein scale values and quad class.

Input: GDELT's lookup tables ``CAMEO.eventcodes.txt`` (code, description) and
``CAMEO.goldsteinscale.txt`` (code, Goldstein value), tab-separated with a header line.
Output table ``cameo``: code, root (the two-digit root code), description, goldstein,
quad_class (1 verbal cooperation, 2 material cooperation, 3 verbal conflict, 4 material
conflict: GDELT's grouping of root codes 01-05, 06-08, 09-13, 14-20).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

from detente.core.errors import ValidationError
from detente.sources.tabular import head_bytes, read_bytes

__all__ = ["FILES", "URLS", "parse", "quad_class"]

MAX_LOOKUP_BYTES = 16 * 1024 * 1024  # the lookup tables are kilobytes: more is not one

URLS = {
    "CAMEO.eventcodes.txt": "https://www.gdeltproject.org/data/lookups/CAMEO.eventcodes.txt",
    "CAMEO.goldsteinscale.txt": "https://www.gdeltproject.org/data/lookups/CAMEO.goldsteinscale.txt",
}
FILES = tuple(URLS)
HEADERS = {
    "CAMEO.eventcodes.txt": ("CAMEOEVENTCODE", "EVENTDESCRIPTION"),
    "CAMEO.goldsteinscale.txt": ("CAMEOEVENTCODE", "GOLDSTEINSCALE"),
}


def quad_class(root: int) -> int:
    if not 1 <= root <= 20:
        raise ValueError(f"CAMEO root codes run from 01 to 20, not {root:02d}")
    return 1 if root <= 5 else 2 if root <= 8 else 3 if root <= 13 else 4


def _pairs(path: Path, header: tuple[str, str]) -> dict[str, str]:
    data = read_bytes(path, limit=MAX_LOOKUP_BYTES)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError(f"{path}, line {line}: not UTF-8 text") from None
    rows = list(csv.reader(text.splitlines(), delimiter="\t"))
    if not rows or tuple(c.strip().upper() for c in rows[0][:2]) != header:
        raise ValidationError(f"{path}, line 1: expected the header {' TAB '.join(header)}")
    out: dict[str, str] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) != 2:
            raise ValidationError(
                f"{path}, line {number}: expected 2 tab-separated columns, found {len(row)}"
            )
        code, value = row[0].strip(), row[1].strip()
        if not (code.isdigit() and 2 <= len(code) <= 4):
            raise ValidationError(f"{path}, line {number}: {code!r} is not a CAMEO event code")
        if code in out:
            raise ValidationError(f"{path}, line {number}: code {code} appears twice")
        out[code] = value
    return out


def parse(paths: list[Path]) -> pa.Table:
    """The codebook from the two lookup files (in any order, recognised by their header)."""
    by_kind: dict[str, Path] = {}
    for path in paths:
        first = head_bytes(path, 4096).split(b"\n", 1)[0].decode("utf-8-sig", "replace").upper()
        kind = "CAMEO.goldsteinscale.txt" if "GOLDSTEIN" in first else "CAMEO.eventcodes.txt"
        if kind in by_kind:
            raise ValidationError(f"{path}: two {kind} files given")
        by_kind[kind] = path
    missing = [k for k in FILES if k not in by_kind]
    if missing:
        raise ValidationError(f"the CAMEO codebook needs {' and '.join(missing)} as well")
    names = _pairs(by_kind["CAMEO.eventcodes.txt"], HEADERS["CAMEO.eventcodes.txt"])
    scale = _pairs(by_kind["CAMEO.goldsteinscale.txt"], HEADERS["CAMEO.goldsteinscale.txt"])
    unscored = sorted(set(names) - set(scale))
    if unscored:
        raise ValidationError(
            f"{by_kind['CAMEO.goldsteinscale.txt']}: no Goldstein value for {', '.join(unscored[:10])}"
        )
    codes = sorted(names)
    scale_file = by_kind["CAMEO.goldsteinscale.txt"]
    goldstein = []
    for code in codes:
        try:
            value = float(scale[code])
        except ValueError:
            raise ValidationError(
                f"{scale_file}: Goldstein value {scale[code]!r} of {code} is not a number"
            ) from None
        if not -10.0 <= value <= 10.0:
            raise ValidationError(f"{scale_file}: Goldstein {value} of {code} not in [-10, 10]")
        goldstein.append(value)
    roots = [int(c[:2]) for c in codes]
    try:
        quads = [quad_class(r) for r in roots]
    except ValueError as exc:
        raise ValidationError(f"{by_kind['CAMEO.eventcodes.txt']}: {exc}") from None
    return pa.table(
        {
            "code": codes,
            "root": [f"{r:02d}" for r in roots],
            "description": [names[c] for c in codes],
            "goldstein": goldstein,
            "quad_class": pa.array(quads, pa.int8()),
        }
    )
