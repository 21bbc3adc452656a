"""Indicator status against the target trajectory: monotone in the observed value, exact
at the boundaries, mirrored for indicators that should fall, and 'no data' without an
observation on or before the day (property-based, with Hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.assessment.status import ORDER, Observation, Trajectory, status

values = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
days = st.integers(0, 3650)
START = date(2024, 1, 1)


@st.composite
def trajectories(draw: st.DrawFn) -> Trajectory:
    baseline, target = draw(values), draw(values)
    length = draw(st.integers(1, 3650))
    return Trajectory(
        baseline, START, target, START + timedelta(days=length),
        higher_is_better=draw(st.booleans()), margin=draw(st.floats(0, 1)),
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(trajectories(), days, values, values)
def test_a_better_latest_value_never_gives_a_worse_status(
    t: Trajectory, day: int, a: float, b: float
) -> None:
    on = START + timedelta(days=day)
    worse, better = sorted([a, b], key=lambda v: v * t.sign)
    s_worse = status(t, [Observation(worse, on)], on)
    s_better = status(t, [Observation(better, on)], on)
    assert ORDER[s_better] >= ORDER[s_worse]


@settings(max_examples=300, deadline=None)
@given(trajectories(), days)
def test_the_boundaries_are_exact(t: Trajectory, day: int) -> None:
    on = START + timedelta(days=day)
    expected = t.expected(on)
    assert status(t, [Observation(expected, on)], on) == "on_track"  # exactly on the line
    if t.allowance() > 0:
        edge = expected - t.sign * t.allowance()
        if (edge - expected) * t.sign == -t.allowance():  # representable exactly in floating point
            assert status(t, [Observation(edge, on)], on) == "at_risk"  # the margin's edge is at risk
        beyond = expected - t.sign * t.allowance() * 1.5 - t.sign
        assert status(t, [Observation(beyond, on)], on) == "off_track"


@settings(max_examples=200, deadline=None)
@given(trajectories(), days, values)
def test_the_latest_observation_up_to_the_day_decides(t: Trajectory, day: int, value: float) -> None:
    on = START + timedelta(days=day)
    assert status(t, [], on) == "no_data"
    later = Observation(value, on + timedelta(days=1))
    assert status(t, [later], on) == "no_data"  # an observation after the day is not seen
    now = Observation(value, on)
    old = Observation(t.expected(on - timedelta(days=30)) - t.sign * 1e9, on - timedelta(days=30))
    assert status(t, [old, now, later], on) == status(t, [now], on)


def test_worked_example_on_a_rising_indicator() -> None:
    # exercises with the partner: 2 in 2024 to 12 by 2026, checked halfway (expected 7)
    t = Trajectory(2, date(2024, 1, 1), 12, date(2026, 1, 1), margin=0.1)
    half = date(2025, 1, 1)
    assert t.expected(half) == pytest.approx(2 + 10 * 366 / 731)
    assert status(t, [Observation(8, half)], half) == "on_track"
    assert status(t, [Observation(6.5, half)], half) == "at_risk"  # within 1 (10% of 10) of 6.99
    assert status(t, [Observation(5, half)], half) == "off_track"
    assert (
        status(t, [Observation(12, date(2027, 6, 1))], date(2027, 6, 1)) == "on_track"
    )  # after the target date
    falling = Trajectory(400, date(2024, 1, 1), 100, date(2026, 1, 1))  # fatalities should fall
    assert status(falling, [Observation(150, half)], half) == "on_track"
    assert status(falling, [Observation(300, half)], half) == "off_track"


def test_bad_trajectories_are_refused() -> None:
    with pytest.raises(ValueError, match="not after the baseline date"):
        Trajectory(1, date(2025, 1, 1), 2, date(2024, 1, 1))
    with pytest.raises(ValueError, match="needs higher_is_better"):
        Trajectory(5, date(2024, 1, 1), 5, date(2025, 1, 1))
    with pytest.raises(ValueError, match="margin"):
        Trajectory(1, date(2024, 1, 1), 2, date(2025, 1, 1), margin=2)
