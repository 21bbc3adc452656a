"""Costs in other currencies, converted with dated exchange rates from a named source.

The rates are data (``exchange_rates.yaml``): annual averages of the European Central
Bank's daily euro reference rates, with the source and the day it was published. A cost is
converted through the euro at the rates of its own year; a year after the last one in the
file uses the last year's average (a planning rate, said in the conversion) for at most
``carry_forward_years`` years. A currency or a year with no rate gives an ``Excluded`` with
its reason ("no rate for XXX in YYYY"), never a silent omission: the caller lists it.

Pure: plain values in, plain values out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from detente.core.errors import ConfigError

__all__ = ["Conversion", "Excluded", "Rates"]

SOURCE = Path(__file__).with_name("exchange_rates.yaml")


@dataclass(frozen=True)
class Conversion:
    """``amount`` in ``currency`` is ``converted`` in ``into``, at the rates of ``rate_year``."""

    amount: float
    currency: str
    converted: float
    into: str
    rate: float  # units of ``into`` per unit of ``currency``
    year: int  # the year of the cost
    rate_year: int  # the year whose average rates were used

    @property
    def note(self) -> str:
        """How it was converted, in words: the rate, its year, and a planning rate said so."""
        carried = "" if self.rate_year == self.year else f" (the latest average, used for {self.year})"
        rate = f"{self.rate:.6g} {self.into}/{self.currency}"
        return f"{self.currency} {self.amount:,.0f} at {rate}, {self.rate_year} average{carried}"


@dataclass(frozen=True)
class Excluded:
    """A cost that could not be converted, and why."""

    amount: float | None
    currency: str | None
    year: int
    reason: str  # e.g. "no rate for KES in 2027"


@dataclass(frozen=True)
class Rates:
    """Annual average rates per euro, by year and currency, and where they come from."""

    source: str
    published: date
    carry_forward_years: int
    per_euro: dict[int, dict[str, float]]

    @staticmethod
    @cache
    def load(path: Path | None = None) -> Rates:
        """The rates of ``path`` (the shipped file by default); a malformed file is a
        ``ConfigError`` naming the file and the field."""
        source = path or SOURCE
        try:
            data: Any = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{source}: not valid YAML ({exc})") from None
        try:
            per_euro = {
                int(year): {str(c).upper(): _positive(v, f"rates.{year}.{c}") for c, v in table.items()}
                for year, table in dict(data["rates"]).items()
            }
            for table in per_euro.values():
                table[str(data.get("base", "EUR"))] = 1.0
            published = data["published"]
            if not isinstance(published, date):
                raise ValueError("published: a date (YYYY-MM-DD)")
            return Rates(str(data["source"]), published, int(data.get("carry_forward_years", 0)), per_euro)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"{source}: missing or malformed field {exc}") from None

    @property
    def years(self) -> tuple[int, int]:
        """The first and last year with rates."""
        return min(self.per_euro), max(self.per_euro)

    def _usable(self, currency: str, year: int) -> list[int]:
        """The years whose rate for ``currency`` may convert a cost of ``year``, best first."""
        if currency in self.per_euro.get(year, {}):
            return [year]
        last = self.years[1]
        if year <= last:
            return []
        return sorted(
            (
                y
                for y in self.per_euro
                if currency in self.per_euro[y] and year - y <= self.carry_forward_years
            ),
            reverse=True,
        )

    def _year_for(self, currencies: tuple[str, ...], year: int) -> int | str:
        """The year whose rates convert ``currencies`` for a cost of ``year`` (its own, else
        the latest within ``carry_forward_years``), or the reason none does."""
        usable = [self._usable(c, year) for c in currencies]
        common = set(usable[0]).intersection(*usable[1:])
        if common:
            return max(common)
        missing = next((c for c, years in zip(currencies, usable, strict=True) if not years), currencies[0])
        if year > self.years[1] and any(missing in t for t in self.per_euro.values()):
            return (
                f"no rate for {missing} in {year} (the rates end in {self.years[1]} and are used for at "
                f"most {self.carry_forward_years} years after)"
            )
        return f"no rate for {missing} in {year}"

    def convert(self, amount: float | Decimal, currency: str, into: str, year: int) -> Conversion | Excluded:
        """``amount`` of ``currency`` in ``into``, at the average rates of ``year`` (or the
        latest before it, as a planning rate), or why it cannot be converted."""
        currency, into = currency.upper(), into.upper()
        value = float(amount)
        if currency == into:
            return Conversion(value, currency, value, into, 1.0, year, year)
        found = self._year_for((currency, into), year)
        if isinstance(found, str):
            return Excluded(value, currency, year, found)
        rate = self.per_euro[found][into] / self.per_euro[found][currency]
        return Conversion(value, currency, value * rate, into, rate, year, found)


def _positive(value: Any, field: str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError(f"{field}: a rate above 0")
    return number
