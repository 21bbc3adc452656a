"""State-system membership: which states existed when, from the official COW or
Gleditsch-Ward file the user loads (the membership lists are not shipped).

``load_state_system`` reads COW's ``states2016.csv``, Gleditsch-Ward's ``ksgmdw.txt``
(tab-separated, no header) or its CSV form, gzipped or not, within a size bound, and
refuses a bad row naming the file, line and field. Country identity (codes and names) is
``detente.core.countries``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from detente.core.errors import ValidationError

__all__ = ["STATE_FILE_LIMIT", "Membership", "StateSystem", "load_state_system"]


@dataclass(frozen=True)
class Membership:
    code: int
    abbr: str
    name: str
    start: date
    end: date


@dataclass
class StateSystem:
    """Membership spells of the COW or GW state system, as loaded from the official file."""

    system: str
    spells: list[Membership]
    source: str = ""

    def members(self, year: int) -> set[int]:
        """States that were members at any time in ``year`` (the state-year convention)."""
        first, last = date(year, 1, 1), date(year, 12, 31)
        return {s.code for s in self.spells if s.start <= last and s.end >= first}

    def is_member(self, code: int, when: int | date) -> bool:
        """Whether state ``code`` was a member in a year (at any time in it) or on a day."""
        if isinstance(when, int):
            return code in self.members(when)
        return any(s.code == code and s.start <= when <= s.end for s in self.spells)

    @property
    def years(self) -> tuple[int, int]:
        """The first and last year the file covers."""
        return min(s.start.year for s in self.spells), max(s.end.year for s in self.spells)


STATE_FILE_LIMIT = 64 * 1024 * 1024  # a state list is kilobytes: more is not one


def _read_text(path: Path) -> str:
    """The file as text, gunzipped when it is gzip, within bounds (a user's file)."""
    from detente.core.bounded import read_limited

    data = read_limited(path, limit=STATE_FILE_LIMIT)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError(f"{path}, line {line}: not UTF-8 text") from None


def _int(value: str, path: Path, line: int, name: str) -> int:
    try:
        return int(float(value))
    except ValueError:
        raise ValidationError(f"{path}, line {line}, field {name!r}: {value!r} is not a number") from None


def _date_of(parts: tuple[str, str, str], path: Path, line: int, name: str) -> date:
    try:
        y, m, d = (int(float(p)) for p in parts)
        return date(y, m, d)
    except ValueError:
        raise ValidationError(f"{path}, line {line}, field {name!r}: {parts!r} is not a date") from None


def _iso_date(value: str, path: Path, line: int, name: str) -> date:
    text = value.strip()
    try:
        if ":" in text:  # ksgmdw.txt writes dd:mm:yyyy
            d, m, y = text.split(":")
            return date(int(y), int(m), int(d))
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{path}, line {line}, field {name!r}: {value!r} is not a date") from None


COW_COLUMNS = ("stateabb", "ccode", "statenme", "styear", "stmonth", "stday", "endyear", "endmonth", "endday")


def _cow_spells(rows: list[list[str]], header: list[str], path: Path) -> list[Membership]:
    """The spells of COW's ``states2016.csv`` layout."""
    missing = [n for n in COW_COLUMNS if n not in header]
    if missing:
        raise ValidationError(f"{path}, line 1: missing column(s) {', '.join(missing)}")
    col = {n: header.index(n) for n in COW_COLUMNS}
    spells: list[Membership] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) <= max(col.values()):
            raise ValidationError(
                f"{path}, line {line}: {len(row)} fields, expected at least {max(col.values()) + 1}"
            )
        v = {n: row[i] for n, i in col.items()}
        spells.append(
            Membership(
                _int(v["ccode"], path, line, "ccode"),
                v["stateabb"].strip(),
                v["statenme"].strip(),
                _date_of((v["styear"], v["stmonth"], v["stday"]), path, line, "styear"),
                _date_of((v["endyear"], v["endmonth"], v["endday"]), path, line, "endyear"),
            )
        )
    return spells


def _gw_spells(rows: list[list[str]], header: list[str], path: Path) -> list[Membership]:
    """The spells of Gleditsch-Ward's ``ksgmdw.txt`` (no header) or its CSV form."""
    if "gwcode" in header or "statenumber" in header:
        body = rows[1:]
        start_line = 2
    else:  # ksgmdw.txt has no header
        body = rows
        start_line = 1
    spells: list[Membership] = []
    for line, row in enumerate(body, start=start_line):
        if not any(c.strip() for c in row):
            continue
        if len(row) < 5:
            raise ValidationError(
                f"{path}, line {line}: {len(row)} fields, expected 5 (code, abbreviation, name, start, end)"
            )
        spells.append(
            Membership(
                _int(row[0], path, line, "gwcode"),
                row[1].strip(),
                row[2].strip(),
                _iso_date(row[3], path, line, "startdate"),
                _iso_date(row[4], path, line, "enddate"),
            )
        )
    return spells


def load_state_system(path: Path | str, system: str | None = None) -> StateSystem:
    """Load a state-system membership file in its official layout.

    COW: ``states2016.csv`` (stateabb, ccode, statenme, styear, stmonth, stday,
    endyear, endmonth, endday, version). Gleditsch-Ward: ``ksgmdw.txt``
    (tab-separated code, abbreviation, name, start dd:mm:yyyy, end) or its CSV
    form (gwcode, stateabb, statename, startdate, enddate). ``.gz`` is accepted.
    """
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{path}: no such file")
    text = _read_text(path)
    first = text.splitlines()[0] if text else ""
    delimiter = "\t" if "\t" in first else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        raise ValidationError(f"{path}: empty file")
    header = [h.strip().lower() for h in rows[0]]
    if "ccode" in header:
        system = system or "cow"
        spells = _cow_spells(rows, header, path)
    else:
        system = system or "gw"
        spells = _gw_spells(rows, header, path)
    if not spells:
        raise ValidationError(f"{path}: no state-system rows")
    for s in spells:
        if s.end < s.start:
            raise ValidationError(f"{path}: state {s.code} ({s.name}) ends before it starts")
    return StateSystem(system=system, spells=spells, source=str(path))
