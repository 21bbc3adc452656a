"""State-year and dyad-year panels, the Python equivalent of peacesciencer's
``create_stateyears`` / ``create_dyadyears`` and its ``add_*`` steps, on the context lake.

A state-year exists when the state was a member of the system (COW or Gleditsch-Ward,
loaded as ``cow_states`` / ``gw_states``) at any time in that year; a dyad-year pairs two
states that were both members that year (directed: both orders; undirected: ``code1 <
code2``). No dyad includes a state that did not exist.

``add`` joins a lake source onto the panel. A source covers the years its provenance
records (``first_year``-``last_year``): inside them a dyad-year without a row gets 0 (no
alliance, no agreement in force, no joint exercise), outside them every value is missing
(NULL), never 0. Alliances and agreements are symmetric: they are joined on the
unordered pair, so in a directed panel (A, B) and (B, A) always carry the same flags.
COW panels join on COW codes; GW panels join on ISO3 through the crosswalk (a GW state
without an ISO code, e.g. Hyderabad, gets missing values: it is reported, not guessed).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from detente.core.errors import ValidationError
from detente.relations.index import RegistryActivity
from detente.sources.lake import Lake

__all__ = ["ADDITIONS", "EXTRA", "add", "dyad_month_panel", "dyad_years", "state_years"]

SYSTEMS = {"cow": "cow_states", "gw": "gw_states"}


def _system_table(lake: Lake, system: str) -> str:
    if system not in SYSTEMS:
        raise ValidationError(f"unknown state system {system!r}; cow or gw")
    table = SYSTEMS[system]
    if not lake.has(table):
        raise ValidationError(
            f"the {system.upper()} state system is not in the lake: `detente sources load {table} FILE` "
            f"({'states2016.csv' if system == 'cow' else 'ksgmdw.txt / iisystem.dat'})"
        )
    return table


def _span(lake: Lake, system: str, first: int | None, last: int | None) -> tuple[int, int]:
    table = _system_table(lake, system)
    lo, hi = lake.db.execute(f"SELECT min(year(start_date)), max(year(end_date)) FROM {table}").fetchall()[0]
    first, last = first or lo, last or hi
    if first > last:
        raise ValidationError(f"years {first}-{last}: the first is after the last")
    return first, last


def state_years_sql(lake: Lake, system: str, first: int, last: int) -> str:
    table = _system_table(lake, system)
    return f"""
        SELECT DISTINCT s.code, s.abbr, s.iso3, r.year::INTEGER AS year
        FROM {table} s, range(GREATEST(year(s.start_date), {first}),
                              LEAST(year(s.end_date), {last}) + 1) AS r(year)
    """


def state_years(
    lake: Lake, system: str = "cow", first: int | None = None, last: int | None = None
) -> pa.Table:
    """One row per state and year of membership: code, abbr, iso3, year."""
    first, last = _span(lake, system, first, last)
    sql = state_years_sql(lake, system, first, last)
    return lake.db.sql(f"{sql} ORDER BY year, code").arrow().read_all()


def dyad_years(
    lake: Lake,
    system: str = "cow",
    first: int | None = None,
    last: int | None = None,
    *,
    directed: bool = True,
    additions: tuple[str, ...] = (),
    registry: RegistryActivity | None = None,
) -> pa.Table:
    """Dyad-years of the system (``code1``, ``code2``, ``iso3_1``, ``iso3_2``, ``year``),
    with each of ``additions`` (names in ``ADDITIONS`` or ``EXTRA``) joined on, and, given
    a principal's ``registry`` activity (``relations.index.registry_activity``), its
    engagements executed in the year (``reg_engagements``) and agreements in force at any
    time in it (``reg_agreements``): only what that principal may read."""
    first, last = _span(lake, system, first, last)
    if registry is None and all(_by_code(name, system) for name in additions):
        fast = _sorted_dyads(lake, system, first, last, directed)
        if fast is not None:
            return _lookups(lake, fast, additions, system)
    sy = state_years_sql(lake, system, first, last)
    pair = "a.code <> b.code" if directed else "a.code < b.code"
    sql = f"""
        WITH sy AS ({sy})
        SELECT a.code AS code1, b.code AS code2, a.iso3 AS iso3_1, b.iso3 AS iso3_2, a.year
        FROM sy a JOIN sy b ON a.year = b.year AND {pair}
    """
    for name in additions:
        sql = add(lake, sql, name, system)
    db = lake.db.cursor()
    try:
        if registry is not None:
            db.register("registry_activity", registry.table())
            sql = f"""
                SELECT p.*, coalesce(r.engagements, 0) AS reg_engagements,
                       coalesce(r.agreements, 0) AS reg_agreements
                FROM ({sql}) p
                LEFT JOIN (SELECT lo, hi, (mi // 12)::INTEGER AS year, sum(engagements) AS engagements,
                                  max(agreements) AS agreements
                           FROM registry_activity GROUP BY ALL) r
                  ON r.lo = least(p.iso3_1, p.iso3_2) AND r.hi = greatest(p.iso3_1, p.iso3_2)
                 AND r.year = p.year
            """
        return db.sql(f"SELECT * FROM ({sql}) ORDER BY year, code1, code2").arrow().read_all()
    finally:
        db.close()


def _by_code(name: str, system: str) -> bool:
    """Whether an addition joins on the system's own codes (no ISO3 crosswalk needed)."""
    return name in ADDITIONS and (system == "gw") == (name == "exercises")


def _sorted_dyads(lake: Lake, system: str, first: int, last: int, directed: bool) -> pa.Table | None:
    """The dyad-years already in (year, code1, code2) order, built per year with numpy
    rather than by a self-join and a sort of the whole panel (the same rows and types).
    None when a state code has more than one ISO3 code (the SQL path handles that)."""
    import numpy as np
    import pyarrow.compute as pc

    table = _system_table(lake, system)
    iso = lake.db.sql(f"SELECT DISTINCT code, iso3 FROM {table} ORDER BY code").arrow().read_all()
    if len(set(iso.column("code").to_pylist())) != iso.num_rows:
        return None
    sy = lake.db.sql(
        f"SELECT DISTINCT code, year FROM ({state_years_sql(lake, system, first, last)}) ORDER BY year, code"
    ).fetchnumpy()
    codes, years = np.asarray(sy["code"], dtype=np.int64), np.asarray(sy["year"], dtype=np.int32)
    edges = np.flatnonzero(np.diff(years)) + 1
    parts: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    for s, e in zip(np.r_[0, edges], np.r_[edges, len(years)], strict=True):
        c = codes[s:e]
        a, b = np.repeat(c, len(c)), np.tile(c, len(c))
        keep = a != b if directed else a < b
        parts[0].append(a[keep])
        parts[1].append(b[keep])
        parts[2].append(np.full(int(keep.sum()), years[s], dtype=np.int32))
    code1, code2, year = (
        np.concatenate(p) if p else np.array([], dtype=t)
        for p, t in zip(parts, (np.int64, np.int64, np.int32), strict=True)
    )
    isos = iso.column("iso3")
    where = iso.column("code")
    return pa.table({
        "code1": code1, "code2": code2,
        "iso3_1": pc.take(isos, pc.index_in(pa.array(code1), value_set=where)),
        "iso3_2": pc.take(isos, pc.index_in(pa.array(code2), value_set=where)),
        "year": year,
    })  # fmt: skip


def _lookups(lake: Lake, panel: pa.Table, names: tuple[str, ...], system: str) -> pa.Table:
    """``add`` for a panel held in memory, in the panel's order: each panel row's key
    (year, unordered pair) is looked up among the source's sorted keys, and each column is
    one ``take`` from the source's values followed by a 0 (no row for the pair inside the
    source's years) and a null (outside them)."""
    import numpy as np

    if not names:
        return panel
    code1, code2 = panel.column("code1").to_numpy(), panel.column("code2").to_numpy()
    year = panel.column("year").to_numpy()
    width = int(max(code1.max(initial=0), code2.max(initial=0))) + 1
    wanted = year.astype(np.int64)  # (year * width + lo) * width + hi, in place: 1.9M rows
    wanted *= width
    wanted += np.minimum(code1, code2)
    wanted *= width
    wanted += np.maximum(code1, code2)
    for name in names:
        spec, provenance = ADDITIONS[name], _provenance(lake, name)
        grouped = (
            lake.db.sql(
                f"SELECT * FROM ({_grouped_sql(lake, name, system)}) WHERE hi < {width} AND lo >= 0 "
                "ORDER BY year, lo, hi"
            )
            .arrow()
            .read_all()
        )
        g_lo, g_hi, g_year = (grouped.column(c).to_numpy().astype(np.int64) for c in ("lo", "hi", "year"))
        keys = np.append((g_year * width + g_lo) * width + g_hi, -1)  # never found: a 0-row source
        rows = np.searchsorted(keys[:-1], wanted)
        rows[keys[np.minimum(rows, len(keys) - 1)] != wanted] = grouped.num_rows
        rows[(year < provenance.first_year) | (year > provenance.last_year)] = grouped.num_rows + 1
        index = pa.array(rows)
        for column in spec["columns"]:
            source = grouped.column(column).combine_chunks()
            tail = pa.array([0, None], type=source.type)
            panel = panel.append_column(column, pa.concat_arrays([source, tail]).take(index))
    return panel


ADDITIONS: dict[str, dict[str, Any]] = {
    "atop": {
        "table": "atop",
        "codes": ("ccode1", "ccode2"),
        "year": "year",
        "values": "defense, offense, neutral, nonagg, consul",
        "columns": {
            "atop_defense": "max(defense)",
            "atop_offense": "max(offense)",
            "atop_neutral": "max(neutral)",
            "atop_nonagg": "max(nonagg)",
            "atop_consul": "max(consul)",
        },
    },
    "cow_alliance": {
        "table": "cow_alliance",
        "codes": ("ccode1", "ccode2"),
        "year": "year",
        "values": "defense, neutrality, nonaggression, entente",
        "columns": {
            "cow_defense": "max(defense)",
            "cow_neutral": "max(neutrality)",
            "cow_nonagg": "max(nonaggression)",
            "cow_entente": "max(entente)",
        },
    },
    "dcad": {
        "table": "dcad_dyad_years",
        "codes": ("ccode1", "ccode2"),
        "year": "year",
        "values": "dca_count, dca_general",
        "columns": {"dca_count": "max(dca_count)", "dca_general": "max(dca_general)"},
    },
    "exercises": {
        "table": "exercise_pairs",
        "codes": ("gw1", "gw2"),
        "year": "year",
        "values": "exercise_id",
        "columns": {"mme_joint_exercises": "count(DISTINCT exercise_id)"},
    },
}


def _source_rows(lake: Lake, name: str) -> str:
    """SELECT of (code1, code2, iso3_1, iso3_2, year, values...) for one addition."""
    if name == "exercises":
        # participants of the same exercise (MME codes participants by GW code)
        return """
            SELECT a.exercise_id, a.gwcode AS gw1, b.gwcode AS gw2, a.iso3 AS iso3_1, b.iso3 AS iso3_2,
                   a.year
            FROM exercises a JOIN exercises b ON a.exercise_id = b.exercise_id AND a.gwcode < b.gwcode
        """
    if name == "dcad":
        return """
            SELECT d.*, c1.iso3 AS iso3_1, c2.iso3 AS iso3_2
            FROM dcad_dyad_years d
            LEFT JOIN (SELECT DISTINCT ccode1 AS code, iso3_1 AS iso3 FROM dcad) c1 ON d.ccode1 = c1.code
            LEFT JOIN (SELECT DISTINCT ccode2 AS code, iso3_2 AS iso3 FROM dcad) c2 ON d.ccode2 = c2.code
        """
    return f"SELECT * FROM {ADDITIONS[name]['table']}"


def _add_ideal_points(lake: Lake, panel_sql: str, system: str) -> str:
    """UN General Assembly ideal-point distance |a - b| (Bailey, Strezhnev & Voeten): a
    state-year measure compared across the pair. NULL where either state has no ideal point
    that year (not a UN member, or outside the data's years): a distance is never 0 by
    default."""
    if lake.current("unga_ideal") is None:
        raise ValidationError("unga_ideal is not in the lake: `detente sources load unga_ideal FILE`")
    key = "ccode" if system == "cow" else "iso3"
    mine = ("code1", "code2") if system == "cow" else ("iso3_1", "iso3_2")
    points = f"SELECT {key} AS k, year, avg(ideal_point) AS ideal FROM unga_ideal GROUP BY ALL"
    return f"""
        SELECT p.*, abs(a.ideal - b.ideal) AS unga_ideal_distance
        FROM ({panel_sql}) p
        LEFT JOIN ({points}) a ON a.k = p.{mine[0]} AND a.year = p.year
        LEFT JOIN ({points}) b ON b.k = p.{mine[1]} AND b.year = p.year
    """


def _add_events(lake: Lake, panel_sql: str) -> str:
    """Event counts and the yearly military cooperation index (``relations.index``) on the
    unordered ISO3 pair, over the months the loaded events cover (``event_months`` of
    them): 0 in a covered year without events for the pair, NULL in years not covered."""
    from detente.relations.index import covered_years_sql, dyad_year_sql

    if not lake.has("events"):
        raise ValidationError("no event data in the lake: `detente sources load gdelt|icews FILE...`")
    span = lake.db.execute(f"SELECT min(year), max(year) FROM ({covered_years_sql(lake)})").fetchall()[0]
    first, last = span if span[0] is not None else (0, 0)
    cols = (
        "events_total",
        "mil_events",
        "mil_goldstein",
        "verbal_conflict",
        "material_conflict",
        "coop_index",
    )
    picks = ", ".join(f"CASE WHEN c.year IS NOT NULL THEN coalesce(x.{c}, 0) END AS {c}" for c in cols)
    return f"""
        SELECT p.*, c.event_months, {picks}
        FROM ({panel_sql}) p
        LEFT JOIN ({covered_years_sql(lake)}) c ON c.year = p.year
        LEFT JOIN ({dyad_year_sql(lake, first, last)}) x
          ON x.lo = least(p.iso3_1, p.iso3_2) AND x.hi = greatest(p.iso3_1, p.iso3_2) AND x.year = p.year
    """


def _add_arms(lake: Lake, panel_sql: str) -> str:
    """SIPRI arms transfers by order year, in both directions of the pair: deals ordered
    and their trend-indicator value (TIV, millions), from 1 to 2 (``_12``) and from 2 to 1
    (``_21``). 0 inside the register's years, NULL outside."""
    provenance = lake.current("sipri")
    if provenance is None or provenance.first_year is None:
        raise ValidationError("sipri is not in the lake: `detente sources load sipri FILE`")
    deals = """
        SELECT supplier_iso3 AS s, recipient_iso3 AS r, order_year AS year,
               count(*) AS deals, coalesce(sum(tiv_total), 0) AS tiv
        FROM sipri WHERE supplier_iso3 IS NOT NULL AND recipient_iso3 IS NOT NULL GROUP BY ALL
    """
    covered = f"p.year BETWEEN {provenance.first_year} AND {provenance.last_year}"
    picks = ", ".join(
        f"CASE WHEN {covered} THEN coalesce({t}.{v}, 0) END AS sipri_{v}_{d}"
        for t, d in (("f", "12"), ("b", "21"))
        for v in ("deals", "tiv")
    )
    return f"""
        SELECT p.*, {picks}
        FROM ({panel_sql}) p
        LEFT JOIN ({deals}) f ON f.s = p.iso3_1 AND f.r = p.iso3_2 AND f.year = p.year
        LEFT JOIN ({deals}) b ON b.s = p.iso3_2 AND b.r = p.iso3_1 AND b.year = p.year
    """


EXTRA = ("unga_ideal", "events", "sipri")


def _provenance(lake: Lake, source: str) -> Any:
    provenance = lake.current(source)
    if provenance is None:
        raise ValidationError(f"{source} is not in the lake: `detente sources load {source} FILE`")
    if provenance.first_year is None:
        raise ValidationError(f"{source}: the lake does not know which years it covers")
    return provenance


def _grouped_sql(lake: Lake, name: str, system: str) -> str:
    """One addition's rows reduced to the unordered pair and year (lo, hi, year, columns):
    on the system's codes when the source uses them, else on ISO3 codes."""
    spec = ADDITIONS[name]
    c1, c2 = spec["codes"]
    if _by_code(name, system):
        keys, where = f"least({c1}, {c2}) AS lo, greatest({c1}, {c2}) AS hi", ""
    else:
        keys = "least(iso3_1, iso3_2) AS lo, greatest(iso3_1, iso3_2) AS hi"
        where = "WHERE iso3_1 IS NOT NULL AND iso3_2 IS NOT NULL"
    aggregates = ", ".join(f"{expr} AS {col}" for col, expr in spec["columns"].items())
    rows = _source_rows(lake, name)
    return f"SELECT {keys}, {spec['year']} AS year, {aggregates} FROM ({rows}) {where} GROUP BY ALL"


def add(lake: Lake, panel_sql: str, name: str, system: str) -> str:
    """The panel's SQL with one source's columns joined on: 0 where the source covers the
    year and has no row for the pair, NULL outside its years."""
    if name == "unga_ideal":
        return _add_ideal_points(lake, panel_sql, system)
    if name == "events":
        return _add_events(lake, panel_sql)
    if name == "sipri":
        return _add_arms(lake, panel_sql)
    if name not in ADDITIONS:
        raise ValidationError(f"cannot add {name!r}; one of {', '.join([*ADDITIONS, *EXTRA])}")
    spec, provenance = ADDITIONS[name], _provenance(lake, name)
    grouped = _grouped_sql(lake, name, system)
    if _by_code(name, system):
        panel_keys = "least(p.code1, p.code2)", "greatest(p.code1, p.code2)"
    else:
        panel_keys = "least(p.iso3_1, p.iso3_2)", "greatest(p.iso3_1, p.iso3_2)"
    covered = f"p.year BETWEEN {provenance.first_year} AND {provenance.last_year}"
    picks = ", ".join(
        f"CASE WHEN {covered} THEN coalesce(x.{col}, 0) END AS {col}" for col in spec["columns"]
    )
    return f"""
        SELECT p.*, {picks}
        FROM ({panel_sql}) p
        LEFT JOIN ({grouped}) x ON x.lo = {panel_keys[0]} AND x.hi = {panel_keys[1]} AND x.year = p.year
    """


def dyad_month_panel(
    lake: Lake,
    system: str = "cow",
    first: int | None = None,
    last: int | None = None,
    *,
    directed: bool = True,
    registry: RegistryActivity | None = None,
) -> pa.Table:
    """Dyad-months of the system (every dyad-year times its twelve months) with the
    military cooperation index and its parts (``relations.index``): 0 for a pair without
    activity in a month the events cover, missing (NULL) event parts in months they do not
    (the registry parts are never missing: the registry is always "covered"; the index is
    missing only where neither events nor registry records say anything)."""
    from datetime import date

    from detente.relations.index import PARTS, covered_months_sql, dyad_months

    first, last = _span(lake, system, first, last)
    sy = state_years_sql(lake, system, first, last)
    pair = "a.code <> b.code" if directed else "a.code < b.code"
    months = dyad_months(lake, date(first, 1, 1), date(last, 12, 31), registry=registry)
    event_parts = [p for p in PARTS if p not in ("engagements", "agreements")]
    covered = "c.mi IS NOT NULL"
    picks = ", ".join(f"CASE WHEN {covered} THEN coalesce(x.{p}, 0) END AS {p}" for p in event_parts)
    db = lake.db.cursor()
    try:
        db.register("index_months", months)
        sql = f"""
            WITH sy AS ({sy}),
            dy AS (SELECT a.code AS code1, b.code AS code2, a.iso3 AS iso3_1, b.iso3 AS iso3_2, a.year
                   FROM sy a JOIN sy b ON a.year = b.year AND {pair})
            SELECT d.*, m.month, {picks},
                   coalesce(x.engagements, 0) AS engagements, coalesce(x.agreements, 0) AS agreements,
                   CASE WHEN {covered} OR x.coop_index IS NOT NULL THEN coalesce(x.coop_index, 0) END
                       AS coop_index
            FROM dy d CROSS JOIN (SELECT range::INTEGER AS month FROM range(1, 13)) m
            LEFT JOIN ({covered_months_sql(lake)}) c ON c.mi = d.year * 12 + m.month - 1
            LEFT JOIN index_months x
              ON x.iso3_1 = least(d.iso3_1, d.iso3_2) AND x.iso3_2 = greatest(d.iso3_1, d.iso3_2)
             AND x.year = d.year AND x.month = m.month
            ORDER BY d.year, m.month, d.code1, d.code2
        """
        return db.sql(sql).arrow().read_all()
    finally:
        db.close()
