"""Indicator status: where an indicator stands against its target trajectory.

An indicator runs from its baseline (value and date) to its target (value and date); the
direction is the target's side of the baseline. On a day between the two, the expected
value is the straight line between them (before the baseline it is the baseline, after
the target date the target). The latest observation on or before the day is compared
with the expected value on its own date:

* ``on_track``: at or beyond the expected value in the target's direction;
* ``at_risk``: short of it by no more than ``margin`` of the whole planned change;
* ``off_track``: further short;
* ``no_data``: no observation on or before the day.

A target equal to its baseline means "hold the value": ``higher_is_better`` then says
which side of it is good, and any shortfall is off track (there is no planned change to
take a margin of).

The rule is monotone: for an indicator that should rise, a higher latest value never
gives a worse status (tests check this and the boundaries with Hypothesis).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

__all__ = ["ORDER", "Observation", "Trajectory", "status"]

ORDER = {"off_track": 0, "at_risk": 1, "on_track": 2}  # worse to better; no_data stands apart


@dataclass(frozen=True)
class Observation:
    value: float
    on: date


@dataclass(frozen=True)
class Trajectory:
    baseline: float
    baseline_on: date
    target: float
    target_on: date
    higher_is_better: bool | None = None  # needed only when the target equals the baseline
    margin: float = 0.1  # share of the planned change an indicator may lag and be "at risk"

    def __post_init__(self) -> None:
        if self.target_on <= self.baseline_on:
            raise ValueError(
                f"target date {self.target_on} is not after the baseline date {self.baseline_on}"
            )
        if not 0 <= self.margin <= 1:
            raise ValueError(f"margin {self.margin}: between 0 and 1")
        if self.target == self.baseline and self.higher_is_better is None:
            raise ValueError("a target equal to the baseline needs higher_is_better")

    @property
    def sign(self) -> int:
        if self.target != self.baseline:
            return 1 if self.target > self.baseline else -1
        return 1 if self.higher_is_better else -1

    def expected(self, on: date) -> float:
        span = (self.target_on - self.baseline_on).days
        share = min(max((on - self.baseline_on).days / span, 0.0), 1.0)
        return self.baseline + (self.target - self.baseline) * share

    def allowance(self) -> float:
        return self.margin * abs(self.target - self.baseline)


def status(trajectory: Trajectory, observations: Iterable[Observation], on: date) -> str:
    """The indicator's status on day ``on`` from its latest observation up to that day."""
    seen = [o for o in observations if o.on <= on]
    if not seen:
        return "no_data"
    latest = max(seen, key=lambda o: o.on)
    gap = (latest.value - trajectory.expected(latest.on)) * trajectory.sign
    if gap >= 0:
        return "on_track"
    return "at_risk" if -gap <= trajectory.allowance() else "off_track"
