"""State-system membership (COW ``states2016.csv``, Gleditsch-Ward ``ksgmdw.txt`` or their
peacesciencer forms) as lake tables: one row per membership spell, with ISO3.

Dyad and state-year panels (``detente.relations.panel``) take which states existed
when from these tables, so no dyad includes a state that did not exist."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]

from detente.core.errors import ValidationError
from detente.core.state_system import load_state_system
from detente.sources.tabular import Parsed, Unmapped, head_bytes, to_iso3

__all__ = ["STATE_COLUMNS", "parse_cow_states", "parse_gw_states"]

# the official layouts' columns (COW states2016.csv; the Gleditsch-Ward list's CSV form)
STATE_COLUMNS = {
    "cow": ("stateabb", "ccode", "statenme", "styear", "stmonth", "stday", "endyear", "endmonth",
            "endday", "version"),
    "gw": ("gwcode", "stateabb", "statename", "startdate", "enddate"),
}  # fmt: skip


def _unknown_columns(path: Path) -> list[str]:
    """Header columns that neither layout has (blank and index columns aside); none when
    the file has no header (``ksgmdw.txt``)."""
    lines = head_bytes(path, 1 << 16).decode("utf-8-sig", "replace").splitlines()
    if not lines:
        return []
    header = next(csv.reader([lines[0]], delimiter="\t" if "\t" in lines[0] else ","))
    names = [h.strip() for h in header]
    known = {n for layout in STATE_COLUMNS.values() for n in layout}
    if not known & {n.lower() for n in names}:
        return []
    return [n for n in names if n and n.lower() not in known and not re.match(r"^Unnamed: \d+$", n)]


def _parse(paths: list[Path], system: str) -> Parsed:
    if len(paths) != 1:
        raise ValidationError(f"the {system.upper()} state system is one file")
    states = load_state_system(paths[0], system)
    if states.system != system:
        raise ValidationError(f"{paths[0]}: this is a {states.system.upper()} list, not {system.upper()}")
    spells = states.spells
    unmapped = Unmapped()
    iso = to_iso3(
        [s.code for s in spells], system, column="code", unmapped=unmapped, year=[s.start for s in spells]
    )
    table = pa.table(
        {
            "code": pa.array([s.code for s in spells], pa.int64()),
            "abbr": [s.abbr for s in spells],
            "name": [s.name for s in spells],
            "start_date": pa.array([s.start for s in spells], pa.date32()),
            "end_date": pa.array([s.end for s in spells], pa.date32()),
            "iso3": iso,
        }
    )
    first, last = states.years
    coverage = f"{first}-{last}, {len({s.code for s in spells})} states, {len(spells)} membership spells"
    extra = _unknown_columns(paths[0])
    notes = (
        [f"{paths[0].name}: column(s) {', '.join(extra)} are not in the {system}_states layout: not loaded"]
        if extra
        else []
    )
    return Parsed({"": table}, coverage, unmapped, notes, years=(first, last))


def parse_cow_states(paths: list[Path]) -> Parsed:
    return _parse(paths, "cow")


def parse_gw_states(paths: list[Path]) -> Parsed:
    return _parse(paths, "gw")
