"""UN General Assembly roll-call votes (Voeten et al.) and ideal points (Bailey, Strezhnev
and Voeten).

Votes come in two layouts: the ``unvotes`` package's three tables (``un_votes``:
rcid, country, country_code (ISO2), vote; ``un_roll_calls``: rcid, session, date, ...;
``un_roll_call_issues``: rcid, short_name, issue), or Voeten's one-table release
(``UNVotes``: rcid, ccode, vote coded 1 yes, 2 abstain, 3 no, 8 absent, 9 not a member,
with date, session, descriptions), as CSV or Stata ``.dta``. Absences and non-members are
not votes and are left out (the unvotes tables already leave them out).
Ideal points: one row per country-year, CSV or ``.dta``.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from pathlib import Path

import pyarrow as pa

from detente.core.errors import ValidationError
from detente.sources.tabular import (
    Col,
    Columns,
    Parsed,
    Unmapped,
    coverage_years,
    cow_iso3,
    read_table,
    select,
    to_iso3,
)

__all__ = ["VOTES_UNUSED", "parse_ideal_points", "parse_votes", "read_any"]

# unvotes columns the lake leaves out (a header column neither read nor listed is reported)
VOTES_UNUSED = ("short_name", "amend", "para")

VOTE_WORDS = {"yes": "yes", "no": "no", "abstain": "abstain", "1": "yes", "2": "abstain", "3": "no"}
NOT_VOTES = {"8", "9", "absent", "not a member"}


def _read_stata(path: Path) -> Columns:
    import pandas as pd

    try:
        with warnings.catch_warnings():
            # Stata before 14 wrote Latin-1; pandas falls back to it and warns, rightly for those
            warnings.simplefilter("ignore", UnicodeWarning)
            frame = pd.read_stata(path, convert_categoricals=False)
    except Exception as exc:  # pandas raises ValueError, struct.error, UnicodeDecodeError ...
        raise ValidationError(
            f"{path}: not a readable Stata .dta file ({type(exc).__name__}: {exc})"
        ) from None
    names = [str(n) for n in frame.columns]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValidationError(f"{path}: variable(s) {', '.join(twice)} appear twice")
    data: dict[str, list[str | None]] = {}
    for i, name in enumerate(names):
        values = frame.iloc[:, i].tolist()
        data[str(name)] = [
            None
            if v is None or (isinstance(v, float) and v != v)
            else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
            for v in values
        ]
    # a .dta row has no line: report the row number (1 = first observation) as the line
    return Columns(path=path, names=list(data), data=data, lines=list(range(1, len(frame) + 1)))


def read_any(path: Path) -> Columns:
    """A CSV or Stata file as string columns."""
    with path.open("rb") as handle:
        magic = handle.read(11)
    if path.suffix.lower() == ".dta" or magic == b"<stata_dta>":
        return _read_stata(path)
    return read_table(path)


def _votes_unvotes(
    votes: Columns, calls: Columns | None, issues: Columns | None, unmapped: Unmapped
) -> tuple[pa.Table, pa.Table]:
    out = select(
        votes, [Col("rcid", "int"), Col("country"), Col("country_code", required=False), Col("vote")]
    )
    call_spec = [
        Col("rcid", "int"),
        Col("session", "int", lo=1, hi=200),
        Col("importantvote", "int", lo=0, hi=1, required=False),
        Col("date", "date"),
        Col("unres", required=False),
        Col("short", required=False),
        Col("descr", required=False),
    ]
    if calls is None:
        raise ValidationError("the unvotes layout needs un_roll_calls (dates and sessions) beside un_votes")
    roll = select(calls, call_spec)
    topics: dict[int, list[str]] = defaultdict(list)
    if issues is not None:
        iss = select(issues, [Col("rcid", "int"), Col("issue")])
        for r, t in zip(iss["rcid"].to_pylist(), iss["issue"].to_pylist(), strict=True):
            if t:
                topics[r].append(t)
    roll["issues"] = pa.array([topics.get(r, []) for r in roll["rcid"].to_pylist()], pa.list_(pa.string()))
    calls_table = pa.table(roll)
    by_rcid = {r: i for i, r in enumerate(roll["rcid"].to_pylist())}
    dates = roll["date"].to_pylist()
    sessions = roll["session"].to_pylist()
    rcids = out["rcid"].to_pylist()
    missing = [r for r in set(rcids) if r not in by_rcid]
    if missing:
        raise ValidationError(f"{votes.path}: roll calls {sorted(missing)[:5]} are not in {calls.path.name}")
    vote_dates = [dates[by_rcid[r]] for r in rcids]
    years = [d.year for d in vote_dates]
    codes = out["country_code"].to_pylist()
    iso = to_iso3(codes, "iso2", column="country_code", unmapped=Unmapped(), year=years).to_pylist()
    named = [i or n for i, n in zip(iso, out["country"].to_pylist(), strict=True)]
    # names where the ISO2 code is missing or unmapped (historical states)
    fallback = to_iso3(
        [n if i is None else None for i, n in zip(iso, named, strict=True)],
        "name",
        column="country",
        unmapped=unmapped,
    )
    iso = [i or f for i, f in zip(iso, fallback.to_pylist(), strict=True)]
    table = pa.table(
        {
            "rcid": out["rcid"],
            "session": pa.array([sessions[by_rcid[r]] for r in rcids], pa.int64()),
            "date": pa.array(vote_dates, pa.date32()),
            "year": pa.array(years, pa.int64()),
            "country": out["country"],
            "iso3": pa.array(iso, pa.string()),
            "vote": _votes(votes, "vote"),
        }
    )
    return table, calls_table


def _votes(cols: Columns, name: str) -> pa.Array:
    out = []
    for i, v in enumerate(cols.data[name]):
        word = VOTE_WORDS.get((v or "").strip().lower())
        if word is None:
            raise ValidationError(
                f"{cols.path}, line {cols.lines[i]}, field {name}: {v!r} is not a vote "
                "(yes, no, abstain or 1, 2, 3)"
            )
        out.append(word)
    return pa.array(out, pa.string())


def _votes_voeten(cols: Columns, unmapped: Unmapped) -> tuple[pa.Table, pa.Table]:
    keep = [i for i, v in enumerate(cols.data["vote"]) if (v or "").strip().lower() not in NOT_VOTES]
    cols = Columns(
        cols.path,
        cols.names,
        {n: [c[i] for i in keep] for n, c in cols.data.items()},
        [cols.lines[i] for i in keep],
    )
    out = select(
        cols,
        [
            Col("rcid", "int"),
            Col("session", "int", lo=1, hi=200),
            Col("date", "date"),
            Col("ccode", "int"),
            Col("country", "str", ("Countryname", "countryname", "Country")),
            Col("importantvote", "int", lo=0, hi=1, required=False),
            Col("unres", required=False),
            Col("short", required=False),
            Col("descr", required=False),
        ],
    )
    years = [d.year for d in out["date"].to_pylist()]
    iso = to_iso3(out["ccode"], "cow", column="ccode", unmapped=unmapped, year=years)
    votes = pa.table(
        {
            "rcid": out["rcid"],
            "session": out["session"],
            "date": out["date"],
            "year": pa.array(years, pa.int64()),
            "country": out["country"],
            "iso3": iso,
            "vote": _votes(cols, "vote"),
        }
    )
    seen: dict[int, int] = {}
    for i, r in enumerate(out["rcid"].to_pylist()):
        seen.setdefault(r, i)
    idx = pa.array(list(seen.values()))
    calls = pa.table(
        {k: out[k].take(idx) for k in ("rcid", "session", "importantvote", "date", "unres", "short", "descr")}
    )
    calls = calls.append_column("issues", pa.array([[] for _ in range(len(idx))], pa.list_(pa.string())))
    return votes, calls


def parse_votes(paths: list[Path]) -> Parsed:
    unmapped = Unmapped()
    tables = {_role(p): read_any(p) for p in paths}
    if "votes" not in tables:
        raise ValidationError("no votes file among " + ", ".join(p.name for p in paths))
    votes_cols = tables["votes"]
    if votes_cols.has("ccode") and votes_cols.has("date"):
        votes, calls = _votes_voeten(votes_cols, unmapped)
    else:
        votes, calls = _votes_unvotes(votes_cols, tables.get("roll_calls"), tables.get("issues"), unmapped)
    coverage = coverage_years(
        votes.column("year"), f"{calls.num_rows:,} roll calls, {votes.num_rows:,} votes"
    )
    return Parsed({"": votes, "_roll_calls": calls}, coverage, unmapped)


def _role(path: Path) -> str:
    name = path.name.lower()
    if "issue" in name:
        return "issues"
    if "roll_call" in name or "rollcall" in name:
        return "roll_calls"
    return "votes"


IDEAL = [
    Col("ccode", "int"),
    Col("country", "str", ("countryname", "Countryname"), required=False),
    Col("year", "int", lo=1946, hi=2100),
    Col("ideal_point", "float", ("idealpointfp", "IdealPointAll", "idealpointall"), lo=-10, hi=10),
    Col("ideal_point_all", "float", ("idealpointall", "IdealPointAll"), lo=-10, hi=10, required=False),
    Col("ideal_point_legacy", "float", ("idealpointlegacy",), lo=-10, hi=10, required=False),
    Col("q5", "float", ("q5fp",), required=False),
    Col("q95", "float", ("q95fp",), required=False),
    Col("votes", "int", ("nvotesfp", "nvotesall", "NVotesAll"), lo=0, required=False),
]


def parse_ideal_points(paths: list[Path]) -> Parsed:
    parts, unmapped = [], Unmapped()
    for path in paths:
        cols = read_any(path)
        out = select(cols, IDEAL)
        out["iso3"] = cow_iso3(cols, out["ccode"], out["year"], unmapped=unmapped)
        parts.append(pa.table(out))
    table = pa.concat_tables(parts)
    return Parsed(
        {"": table}, coverage_years(table.column("year"), f"{table.num_rows:,} country-years"), unmapped
    )
