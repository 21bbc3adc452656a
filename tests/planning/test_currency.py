"""Costs in other currencies: converted through the euro at the ECB's annual average rates of
their year, at the latest year's for a few years after it (said so), else excluded with the
reason. The shipped file names its source and date; a malformed file is refused by field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from detente.core.errors import ConfigError
from detente.planning.currency import Conversion, Excluded, Rates

RATES = Rates.load()


def test_the_shipped_rates_name_their_source_and_date() -> None:
    assert "European Central Bank" in RATES.source and "2025-05-09" in RATES.source
    assert RATES.published == date(2025, 5, 9)
    assert RATES.years == (2015, 2024) and RATES.carry_forward_years == 3
    # the ECB's published annual averages for 2024 (units per euro)
    assert RATES.per_euro[2024]["USD"] == 1.0824 and RATES.per_euro[2024]["GBP"] == 0.84662
    assert RATES.per_euro[2024]["JPY"] == 163.85 and RATES.per_euro[2024]["EUR"] == 1.0
    assert "RUB" not in RATES.per_euro[2022]  # quoted for part of the year only: no annual average


def test_a_cost_is_converted_through_the_euro_at_its_years_rates() -> None:
    found = RATES.convert(1_000_000, "USD", "GBP", 2024)
    assert isinstance(found, Conversion) and found.rate_year == 2024
    assert found.converted == pytest.approx(1_000_000 * 0.84662 / 1.0824)
    assert "2024 average" in found.note and "latest" not in found.note
    earlier = RATES.convert(1_000_000, "USD", "GBP", 2016)
    assert isinstance(earlier, Conversion) and earlier.converted == pytest.approx(1e6 * 0.81948 / 1.1069)
    same = RATES.convert(5, "gbp", "GBP", 2040)  # no rate needed
    assert isinstance(same, Conversion) and same.converted == 5 and same.rate == 1.0


def test_later_years_use_the_latest_average_for_three_years_then_are_excluded() -> None:
    carried = RATES.convert(100, "GBP", "EUR", 2027)
    assert isinstance(carried, Conversion) and carried.rate_year == 2024 and carried.year == 2027
    assert carried.converted == pytest.approx(100 / 0.84662)
    assert "2024 average (the latest average, used for 2027)" in carried.note
    late = RATES.convert(100, "GBP", "EUR", 2028)
    assert isinstance(late, Excluded) and late.reason.startswith("no rate for GBP in 2028")
    assert "end in 2024" in late.reason


def test_a_currency_or_year_with_no_rate_is_excluded_with_the_reason() -> None:
    kenya = RATES.convert(2_000_000, "KES", "GBP", 2024)
    assert isinstance(kenya, Excluded) and kenya.reason == "no rate for KES in 2024"
    budget_in_kes = RATES.convert(100, "GBP", "KES", 2027)
    assert isinstance(budget_in_kes, Excluded) and budget_in_kes.reason == "no rate for KES in 2027"
    before = RATES.convert(100, "USD", "EUR", 2010)
    assert isinstance(before, Excluded) and before.reason == "no rate for USD in 2010"
    rouble = RATES.convert(100, "RUB", "EUR", 2022)
    assert isinstance(rouble, Excluded) and rouble.reason == "no rate for RUB in 2022"


def test_a_malformed_rates_file_is_refused_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "rates.yaml"
    bad.write_text("source: x\npublished: 2025-01-01\nrates:\n  2024: {USD: -1}\n")
    with pytest.raises(ConfigError, match=r"rates.yaml.*rates\.2024\.USD"):
        Rates.load(bad)
    bad.write_text("published: 2025-01-01\nrates: {}\n")
    with pytest.raises(ConfigError, match="source"):
        Rates.load(bad)
