"""Monitoring: each indicator's status, due dates and overdue flags; an initiative's
scorecard; the dashboard over every initiative the reader may see.

Everything here is read through the reader's ``Store``: an objective, indicator or
observation the reader may not see is not there, and takes no part in a status, a count
or a chart. A scorecard keeps every record it used, so the page or report that shows it
carries the combination of their markings in its banner.

Due dates: an indicator observed by hand is due one period (its frequency) after its
latest observation (or its baseline, if none yet), and never later than its target date.
It is overdue when that day has passed and the initiative is still proposed or active.
A computed indicator is never overdue: it is recomputed on every read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from detente.assessment.metrics import METRICS, Context, add_months, compute, parse_metric
from detente.assessment.status import Observation, Trajectory, status
from detente.registry.rules import open_statuses
from detente.registry.taxonomy import taxonomy
from detente.store.service import ListQuery

__all__ = ["IndicatorReport", "Point", "Scorecard", "dashboard", "indicator_report", "scorecard"]

OPEN_STATUSES = open_statuses("initiative")  # the taxonomy's one list
ALL = ListQuery(limit=None)


@dataclass(frozen=True)
class Point:
    on: date
    value: float
    source: str | None
    confidence: str | None
    computed: bool
    marking: str | None  # None for values computed from open data


@dataclass
class IndicatorReport:
    indicator: Any
    points: list[Point]
    status: str
    expected: float | None  # the trajectory's value on the latest point's date
    next_due: date | None
    overdue_days: int
    note: str | None = None
    records: list[Any] = field(default_factory=list)  # what the values came from (markings)

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def overdue(self) -> bool:
        return self.overdue_days > 0

    def trajectory_rows(self) -> list[dict[str, Any]]:
        i = self.indicator
        return [
            {"date": i.baseline_date.isoformat(), "value": i.baseline_value, "series": "target trajectory"},
            {"date": i.target_date.isoformat(), "value": i.target_value, "series": "target trajectory"},
        ]


def _trajectory(indicator: Any) -> Trajectory:
    return Trajectory(
        baseline=indicator.baseline_value,
        baseline_on=indicator.baseline_date,
        target=indicator.target_value,
        target_on=indicator.target_date,
        higher_is_better=indicator.higher_is_better,
    )


def _dates(indicator: Any, today: date) -> list[date]:
    """When a computed indicator is read: its baseline date, then every period up to today
    (or its target date), and today itself while the indicator runs."""
    months = int(taxonomy().indicator_frequencies[indicator.frequency].model_extra["months"])  # type: ignore[index]
    end = min(today, indicator.target_date)
    out, day, k = [], indicator.baseline_date, 0
    while day <= end:
        out.append(day)
        k += 1
        day = add_months(indicator.baseline_date, months * k)
    if end not in out and end >= indicator.baseline_date:
        out.append(end)
    return out


def indicator_report(
    ctx: Context, indicator: Any, observations: list[Any], today: date, *, running: bool = True
) -> IndicatorReport:
    """An indicator's points, status on ``today``, next due date and overdue days.
    ``running``: whether its initiative is still proposed or active (else nothing is due)."""
    points = [
        Point(o.observed_on, o.value, o.source, o.confidence, False, o.marking)
        for o in observations
        if o.observed_on <= today
    ]
    records: list[Any] = [o for o in observations if o.observed_on <= today]
    note = None
    if indicator.computed_from:
        spec = parse_metric(indicator.computed_from)
        series = compute(ctx, spec.spec, _dates(indicator, today), ctx.home(indicator))
        source = f"computed: {METRICS[spec.metric].label} ({spec.argument})"
        points += [Point(d, v, source, "high", True, None) for d, v in series.points]
        records += series.records
        note = series.note
    points.sort(key=lambda p: (p.on, p.computed))
    trajectory = _trajectory(indicator)
    state = status(trajectory, [Observation(p.value, p.on) for p in points], today)
    expected = trajectory.expected(points[-1].on) if points else None
    next_due, overdue = None, 0
    if not indicator.computed_from and running:
        months = int(taxonomy().indicator_frequencies[indicator.frequency].model_extra["months"])  # type: ignore[index]
        last = points[-1].on if points else indicator.baseline_date
        if last < indicator.target_date:
            next_due = min(add_months(last, months), indicator.target_date)
            overdue = max((today - next_due).days, 0)
    return IndicatorReport(indicator, points, state, expected, next_due, overdue, note, records)


@dataclass
class ObjectiveCard:
    objective: Any
    indicators: list[IndicatorReport]
    engagements: list[Any]
    agreements: list[Any]


@dataclass
class Scorecard:
    initiative: Any
    objectives: list[ObjectiveCard]
    evaluations: list[Any]
    lessons: list[Any]
    as_of: date

    @property
    def indicators(self) -> list[IndicatorReport]:
        return [r for o in self.objectives for r in o.indicators]

    @property
    def counts(self) -> Counter[str]:
        return Counter(r.status for r in self.indicators)

    @property
    def overdue(self) -> list[IndicatorReport]:
        return [r for r in self.indicators if r.overdue]

    @property
    def records(self) -> list[Any]:
        """Every record the scorecard shows or counted: its banner combines their markings."""
        out: list[Any] = [self.initiative, *self.evaluations, *self.lessons]
        for o in self.objectives:
            out += [o.objective, *o.engagements, *o.agreements]
            for r in o.indicators:
                out += [r.indicator, *r.records]
        return out


def _by(records: list[Any], key: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for r in records:
        out.setdefault(getattr(r, key), []).append(r)
    return out


class Reader:
    """Reads the assessment tables once for a reader, for one or many scorecards."""

    def __init__(self, ctx: Context) -> None:
        reg = ctx.reg
        self.ctx = ctx
        self.objectives = _by(reg.list("objectives", ALL), "initiative_id")
        self.indicators = _by(reg.list("indicators", ALL), "objective_id")
        self.observations = _by(reg.list("observations", ALL), "indicator_id")
        self.evaluations = _by(reg.list("evaluations", ALL), "initiative_id")
        self.lessons = _by([x for x in reg.list("lessons", ALL) if x.initiative_id], "initiative_id")
        self._engagements: dict[str, Any] | None = None
        self._agreements: dict[str, Any] | None = None

    def engagements(self) -> dict[str, Any]:
        if self._engagements is None:
            self._engagements = {e.id: e for e in self.ctx.reg.list("engagements", ALL)}
        return self._engagements

    def agreements(self) -> dict[str, Any]:
        if self._agreements is None:
            self._agreements = {a.id: a for a in self.ctx.reg.list("agreements", ALL)}
        return self._agreements

    def scorecard(self, initiative: Any, today: date) -> Scorecard:
        running = initiative.status in OPEN_STATUSES
        cards = []
        for objective in self.objectives.get(initiative.id, []):
            reports = [
                indicator_report(self.ctx, i, self.observations.get(i.id, []), today, running=running)
                for i in self.indicators.get(objective.id, [])
            ]
            engagements = [self.engagements()[e] for e in objective.engagements if e in self.engagements()]
            agreements = [self.agreements()[a] for a in objective.agreements if a in self.agreements()]
            cards.append(ObjectiveCard(objective, reports, engagements, agreements))
        return Scorecard(
            initiative,
            cards,
            self.evaluations.get(initiative.id, []),
            self.lessons.get(initiative.id, []),
            today,
        )


def scorecard(ctx: Context, initiative_id: str, today: date | None = None) -> Scorecard:
    """One initiative's scorecard (``NotFoundError`` if the reader may not see it)."""
    initiative = ctx.reg.get("initiatives", initiative_id)
    return Reader(ctx).scorecard(initiative, today or date.today())


def dashboard(ctx: Context, today: date | None = None) -> list[Scorecard]:
    """Every initiative the reader may see, with its scorecard."""
    reader = Reader(ctx)
    day = today or date.today()
    return [
        reader.scorecard(i, day) for i in ctx.reg.list("initiatives", ListQuery(limit=None, order_by="title"))
    ]
