"""Indicators computed from data: the context lake or the registry.

An indicator whose ``computed_from`` names a metric ("completed_exercises:GHA") gets its
values from here instead of from observations typed in. They are recomputed on every
read, for the reader: so they are always as fresh as the lake and the registry (a new
UCDP release loaded, an exercise marked executed, a commitment fulfilled), and a value
computed from registry records counts only the records that reader may see. Storing
them as observation records would freeze one reader's view into a record other readers
could see: an aggregate over records they may not read. Each series keeps the records
it counted, so a page or a report that shows it carries their markings.

Metrics (the argument is a country, as ISO code or name):

* ``ucdp_fatalities``: UCDP GED deaths (best estimate) in the country over the twelve
  months up to each date; dates past the end of the loaded GED release have no value;
"Us" is the country of the organisation that owns the indicator (a British indicator on
cooperation with Kenya counts British-Kenyan exercises, whoever reads it).

* ``cooperation_index``: the military-cooperation index (``detente relations``) between
  us and the partner in the month of each date (events and the reader's registry records);
* ``completed_exercises``: joint exercises between us and the partner executed (or
  assessed) in the twelve months up to each date;
* ``engagements_completed``: engagements of any kind between us and the partner, the same way;
* ``commitment_completion``: of the commitments from engagements between us and the partner due
  by each date (cancelled ones left out), the share fulfilled, in percent. The registry
  keeps a commitment's current status, not when it changed, so earlier dates use today's
  status: the series shows the completion of what was due then, as it stands now.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

__all__ = ["METRICS", "Context", "Metric", "MetricSpec", "Series", "add_months", "compute", "parse_metric"]

DONE = ("executed", "assessed")
YEAR = timedelta(days=365)


@dataclass(frozen=True)
class MetricSpec:
    metric: str
    argument: str

    @property
    def spec(self) -> str:
        return f"{self.metric}:{self.argument}"


@dataclass
class Context:
    """What a metric reads: the reader's registry, the lake (if any) and the reader's country."""

    reg: Any
    lake: Any | None
    country: str
    _homes: dict[str, str] | None = None

    def home(self, record: Any) -> str:
        """The country of the organisation that owns ``record`` (an indicator): the "us" of
        a metric about cooperation with a partner. The reader's own country if unknown."""
        if self._homes is None:
            from detente.sharing.service import Sharing

            self._homes = {o.id: o.country for o in Sharing(self.reg.session).orgs()}
        return self._homes.get(record.owner_org_id or "", self.country)


@dataclass
class Series:
    points: list[tuple[date, float]] = field(default_factory=list)
    records: list[Any] = field(default_factory=list)  # registry records counted (their markings)
    note: str | None = None  # why values are missing, in words


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    source: str  # "lake", "registry" or both
    compute: Callable[[Context, str, str, list[date]], Series]  # (context, us, argument, dates)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def parse_metric(value: str) -> MetricSpec:
    """``metric:country`` checked: the metric known, the country resolved to ISO alpha-3."""
    from detente.core.countries import iso3

    name, sep, argument = value.strip().partition(":")
    name = name.strip().lower()
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; one of {', '.join(METRICS)}")
    if not sep or not argument.strip():
        raise ValueError(f"{name}: name the country after a colon, e.g. {name}:GHA")
    try:
        code = iso3(argument.strip())
    except Exception as exc:  # resolve's own words name the unknown country
        raise ValueError(f"{name}: {exc}") from None
    return MetricSpec(name, code)


def compute(ctx: Context, spec: str, dates: list[date], home: str | None = None) -> Series:
    """The metric ``spec`` on each of ``dates``; ``home`` is "us" (the reader's country by default)."""
    parsed = parse_metric(spec)
    if not dates:
        return Series()
    return METRICS[parsed.metric].compute(ctx, home or ctx.country, parsed.argument, sorted(set(dates)))


# ------------------------------------------------------------------ lake
def _ucdp_fatalities(ctx: Context, _home: str, country: str, dates: list[date]) -> Series:
    if ctx.lake is None or not ctx.lake.has("ucdp_ged"):
        return Series(note="UCDP GED is not in the lake: detente sources load ucdp_ged FILE")
    db = ctx.lake.db.cursor()
    try:
        (last,) = db.execute("SELECT max(CAST(date_end AS DATE)) FROM ucdp_ged").fetchone()
        wanted = [d for d in dates if last is not None and d <= last]
        if not wanted:
            return Series(note=f"the loaded UCDP GED release ends on {last}")
        rows = db.execute(
            """
            SELECT d.day, coalesce(sum(g.best), 0)
            FROM unnest(?::DATE[]) AS d(day)
            LEFT JOIN ucdp_ged g ON g.iso3 = ? AND CAST(g.date_start AS DATE) > d.day - INTERVAL 365 DAY
                                  AND CAST(g.date_start AS DATE) <= d.day
            GROUP BY d.day ORDER BY d.day
            """,
            [wanted, country],
        ).fetchall()
    finally:
        db.close()
    note = f"the loaded UCDP GED release ends on {last}" if len(wanted) < len(dates) else None
    return Series([(d, float(v)) for d, v in rows], note=note)


def _cooperation_index(ctx: Context, home: str, partner: str, dates: list[date]) -> Series:
    from detente.relations.index import dyad_months, registry_activity

    if partner == home:
        return Series(
            note=f"the cooperation index is between two countries; {partner} is the indicator's own"
        )
    if ctx.lake is None:
        return Series(note="the cooperation index needs the workspace's lake")
    first, last = date(dates[0].year, dates[0].month, 1), dates[-1]
    activity = registry_activity(ctx.reg, first - 2 * YEAR, last, country=home)
    table = dyad_months(ctx.lake, first, last, country=home, partner=partner, registry=activity)
    by_month = {(r["year"], r["month"]): r["coop_index"] for r in table.to_pylist()}
    points = [(d, float(by_month[(d.year, d.month)])) for d in dates if (d.year, d.month) in by_month]
    countries = _countries(ctx)
    used = [
        r
        for r in activity.records
        if partner
        in {countries.get(a) for a in [getattr(r, "lead_actor_id", None), *getattr(r, "partners", [])]}
        | {countries.get(a) for a in getattr(r, "parties", [])}
    ]
    return Series(points, records=used)


def _countries(ctx: Context) -> dict[str | None, str | None]:
    from detente.store.service import ListQuery

    return {a.id: a.country for a in ctx.reg.list("actors", ListQuery(limit=None))}


# ------------------------------------------------------------------ registry
def _between(ctx: Context, home: str, partner: str) -> list[Any]:
    """Engagements the reader may see in which both countries take part (or, when they are
    the same country, in which it does)."""
    from detente.store.service import ListQuery

    countries = _countries(ctx)
    return [
        e
        for e in ctx.reg.list("engagements", ListQuery(limit=None))
        if {home, partner} <= {countries.get(a) for a in [e.lead_actor_id, *e.partners]}
    ]


def _completed(kind: str | None) -> Callable[[Context, str, str, list[date]], Series]:
    def count(ctx: Context, home: str, partner: str, dates: list[date]) -> Series:
        done = [
            e for e in _between(ctx, home, partner) if e.status in DONE and (kind is None or e.kind == kind)
        ]
        points, used = [], {}
        for d in dates:
            window = [e for e in done if d - YEAR < (e.end_date or e.start_date) <= d]
            used.update({e.id: e for e in window})
            points.append((d, float(len(window))))
        return Series(points, records=list(used.values()))

    return count


def _commitment_completion(ctx: Context, home: str, partner: str, dates: list[date]) -> Series:
    from detente.store.service import ListQuery

    ids = {e.id for e in _between(ctx, home, partner)}
    commitments = [
        c
        for c in ctx.reg.list("commitments", ListQuery(limit=None))
        if c.engagement_id in ids and c.due_on is not None and c.status != "cancelled"
    ]
    points, used = [], {}
    for d in dates:
        due = [c for c in commitments if c.due_on <= d]
        if due:
            used.update({c.id: c for c in due})
            points.append((d, 100.0 * sum(c.status == "fulfilled" for c in due) / len(due)))
    note = None if points else f"no commitment from engagements with {partner} falls due in the window"
    return Series(points, records=list(used.values()), note=note)


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric(
            "ucdp_fatalities", "UCDP fatalities in the past 12 months", "deaths", "lake", _ucdp_fatalities
        ),
        Metric(
            "cooperation_index",
            "Military-cooperation index with the partner",
            "index (-100 to 100)",
            "lake and registry",
            _cooperation_index,
        ),
        Metric(
            "completed_exercises",
            "Joint exercises with the partner completed in the past 12 months",
            "exercises",
            "registry",
            _completed("joint_exercise"),
        ),
        Metric(
            "engagements_completed",
            "Engagements with the partner completed in the past 12 months",
            "engagements",
            "registry",
            _completed(None),
        ),
        Metric(
            "commitment_completion",
            "Commitments due from engagements with the partner that are fulfilled",
            "percent",
            "registry",
            _commitment_completion,
        ),
    )
}
