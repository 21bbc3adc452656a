"""The engagement calendar's layout: weeks of seven days (Monday first), each engagement a
bar across the days it runs in that week, stacked in lanes so that bars never overlap.

The month view shows at most ``MONTH_LANES`` lanes a week and, under a day with more, a
"+n more" link to that day's week; the week view shows every lane. Pure functions of the
records the page was given (already only those the viewer may read).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

__all__ = ["MONTH_LANES", "Bar", "Week", "month_weeks", "week_of"]

MONTH_LANES = 3  # lines of bars a day shows in the month view, before "+n more"


@dataclass(frozen=True)
class Bar:
    """One engagement's run within one week."""

    record: Any
    start: date  # first day shown this week
    end: date  # last day shown this week
    column: int  # 1 (Monday) to 7
    span: int  # days
    lane: int  # 0 is the top line
    before: bool  # it began in an earlier week
    after: bool  # it goes on into a later week


@dataclass
class Week:
    days: list[date]
    bars: list[Bar] = field(default_factory=list)  # the bars shown
    lanes: int = 0  # lines of bars shown
    more: dict[date, int] = field(default_factory=dict)  # bars not shown, by day

    @property
    def first(self) -> date:
        return self.days[0]


def _last(record: Any) -> date:
    end: date = record.end_date or record.start_date
    return max(end, record.start_date)


def _week(monday: date, records: Iterable[Any], max_lanes: int | None) -> Week:
    days = [monday + timedelta(i) for i in range(7)]
    sunday = days[-1]
    running = [r for r in records if r.start_date <= sunday and _last(r) >= monday]
    # longer runs first where they start on the same day, so the lanes stay compact
    running.sort(key=lambda r: (max(r.start_date, monday), -(_last(r) - r.start_date).days, r.title, r.id))
    ends: list[date] = []  # the last day taken in each lane
    week = Week(days)
    for r in running:
        start, end = max(r.start_date, monday), min(_last(r), sunday)
        lane = next((i for i, taken in enumerate(ends) if taken < start), len(ends))
        if lane == len(ends):
            ends.append(end)
        else:
            ends[lane] = end
        bar = Bar(r, start, end, (start - monday).days + 1, (end - start).days + 1, lane,
                  r.start_date < monday, _last(r) > sunday)  # fmt: skip
        if max_lanes is not None and lane >= max_lanes:
            for i in range(bar.span):
                day = start + timedelta(i)
                week.more[day] = week.more.get(day, 0) + 1
            continue
        week.bars.append(bar)
    week.lanes = len(ends) if max_lanes is None else min(len(ends), max_lanes)
    return week


def month_weeks(first: date, records: Sequence[Any]) -> list[Week]:
    """The weeks (Monday to Sunday) that hold the days of ``first``'s month, at most
    ``MONTH_LANES`` lines of bars each."""
    grid = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    return [_week(days[0], records, MONTH_LANES) for days in grid]


def week_of(day: date, records: Sequence[Any]) -> Week:
    """The week (Monday to Sunday) holding ``day``, every bar shown."""
    return _week(day - timedelta(day.weekday()), records, None)
