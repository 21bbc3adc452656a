"""Reusable field types for record models: clean text, countries, markings, ids, dates.

Text is refused when it holds characters no spreadsheet, XML file or database
keeps faithfully (control characters, lone surrogates, unassigned code points),
so what is stored is exactly what every export format can carry.
"""

from __future__ import annotations

import unicodedata
import uuid
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StringConstraints

from detente.core.errors import DetenteError

__all__ = [
    "Count",
    "Country",
    "Currency",
    "Finite",
    "Line",
    "LongText",
    "Marking",
    "Money",
    "OptCountry",
    "OptLong",
    "OptRef",
    "OptShort",
    "OptionalText",
    "Ref",
    "ShortText",
    "Title",
    "clean_line",
    "clean_multiline",
    "distinct",
    "in_order",
    "to_iso3",
]

_BAD_CATEGORIES = {"Cc", "Cs", "Cn"}


def _check_chars(value: str, allowed: str) -> str:
    for i, ch in enumerate(value):
        if ch in allowed:
            continue
        if unicodedata.category(ch) in _BAD_CATEGORIES:
            raise ValueError(f"contains a control or invalid character U+{ord(ch):04X} at {i}")
    return value


def _empty_to_none(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def clean_line(value: str) -> str:
    """One line of text: stripped, no control characters."""
    return _check_chars(value.strip(), "")


def clean_multiline(value: str) -> str:
    """Free text: newlines and tabs kept (as ``\\n``), other control characters refused."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return _check_chars(value, "\n\t")


def to_iso3(value: object) -> object:
    """Resolve free text (a name in several languages, ISO or COW code) to ISO alpha-3."""
    if value is None or not isinstance(value, str):
        return value
    value = value.strip()
    if not value:
        return None
    from detente.core.countries import resolve

    try:
        return resolve(value).iso3
    except DetenteError as exc:
        # pydantic reports ValueErrors with the field's location
        raise ValueError(exc.message) from None


def _marking(value: str) -> str:
    from detente.core.markings import normalise

    try:
        return normalise(value)
    except DetenteError as exc:
        raise ValueError(exc.message.removeprefix("marking: ")) from None


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise ValueError(f"{value!r} is not a record id (a UUID)") from None


ShortText = Annotated[str, AfterValidator(clean_line), StringConstraints(min_length=1, max_length=300)]
LongText = Annotated[str, AfterValidator(clean_multiline), StringConstraints(max_length=20000)]
Country = Annotated[str, BeforeValidator(to_iso3), StringConstraints(min_length=3, max_length=3)]
Marking = Annotated[str, AfterValidator(_marking), StringConstraints(min_length=1, max_length=500)]
Ref = Annotated[str, AfterValidator(_uuid)]
Line = Annotated[str, AfterValidator(clean_line)]  # a query or path value: no control characters
OptionalText = BeforeValidator(_empty_to_none)
OptShort = Annotated[ShortText | None, OptionalText]
OptLong = Annotated[LongText | None, OptionalText]
OptCountry = Annotated[Country | None, OptionalText]
OptRef = Annotated[Ref | None, OptionalText]
Title = Annotated[ShortText, StringConstraints(max_length=500)]
Count = Annotated[int, Field(ge=0, le=10_000_000)]
Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1e15, le=1e15)]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("9999999999999.99"), decimal_places=2)]
Currency = Annotated[
    Annotated[str, AfterValidator(lambda v: v.strip().upper()), StringConstraints(pattern=r"^[A-Z]{3}$")]
    | None,
    OptionalText,
]


def in_order(model: BaseModel, *pairs: tuple[str, str]) -> None:
    """Refuse a model whose later date (second of each pair) comes before the earlier."""
    for earlier, later in pairs:
        a: Any = getattr(model, earlier, None)
        b: Any = getattr(model, later, None)
        if a is not None and b is not None and b < a:
            raise ValueError(f"{later} ({b}) is before {earlier} ({a})")


def distinct(values: list[str]) -> list[str]:
    """``values`` without repeats, in their first order."""
    return list(dict.fromkeys(values))
