"""Reading the demo scenario's data files (``data/*.yaml`` and ``data/*.csv``).

The files ship inside the package. A mistake in one is a ``ConfigError`` naming the file,
the line and the field. Besides plain YAML, the scenario files may use four tags, kept as
placeholders here and resolved by ``resolve`` when the scenario is built (they depend on
the "as of" date and on the records made before):

    !ref KEY          another demo record, by its key (its external id without "demo:")
    !year [Y, M, D]   day D of month M, Y years after the "as of" year
    !days N           N days after "as of" (negative: before)
    !months N         N months of 30.44 days after "as of", rounded to a day

This module knows nothing of records or of the store.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

import pydantic
import yaml

from detente.core.errors import ConfigError

__all__ = [
    "DATA",
    "DAYS_PER_MONTH",
    "Located",
    "Offset",
    "Ref",
    "YearDate",
    "parse_csv",
    "parse_yaml",
    "read_csv",
    "read_yaml",
    "resolve",
    "validated",
]

DATA = Path(__file__).with_name("data")
DAYS_PER_MONTH = 30.44
Model = TypeVar("Model", bound=pydantic.BaseModel)


class Located(dict[str, Any]):
    """A mapping read from a data file, knowing the line it starts on and each key's line."""

    line: int = 0
    lines: dict[Any, int] = {}  # noqa: RUF012 (set per instance when read)


@dataclass(frozen=True)
class Ref:
    """``!ref KEY``: the id of the demo record made under ``key``."""

    key: str
    line: int


@dataclass(frozen=True)
class Offset:
    """``!days N`` or ``!months N``: so many days after "as of"."""

    days: int


@dataclass(frozen=True)
class YearDate:
    """``!year [Y, M, D]``: a day of a year counted from the "as of" year."""

    years: int
    month: int
    day: int


class _Loader(yaml.SafeLoader):
    """Safe YAML plus the scenario's tags; every mapping remembers its line."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Located:
    out = Located(cast(dict[str, Any], loader.construct_mapping(node, deep=True)))
    out.line = node.start_mark.line + 1
    out.lines = {loader.construct_object(key): key.start_mark.line + 1 for key, _ in node.value}
    return out


def _ref(loader: _Loader, node: yaml.ScalarNode) -> Ref:
    return Ref(str(loader.construct_scalar(node)), node.start_mark.line + 1)


def _ints(node: yaml.Node, values: list[Any], count: int) -> list[int]:
    """``values`` as ``count`` whole numbers, else an error at the node's line."""
    try:
        if len(values) == count:
            return [int(v) for v in values]
    except (TypeError, ValueError):
        pass
    wanted = "a whole number" if count == 1 else f"[{', '.join('N' * count)}]: {count} whole numbers"
    raise yaml.constructor.ConstructorError(None, None, f"{node.tag} needs {wanted}", node.start_mark)


def _days(loader: _Loader, node: yaml.ScalarNode) -> Offset:
    return Offset(_ints(node, [loader.construct_scalar(node)], 1)[0])


def _months(loader: _Loader, node: yaml.ScalarNode) -> Offset:
    return Offset(round(DAYS_PER_MONTH * _ints(node, [loader.construct_scalar(node)], 1)[0]))


def _year(loader: _Loader, node: yaml.SequenceNode) -> YearDate:
    years, month, day = _ints(node, loader.construct_sequence(node), 3)
    return YearDate(years, month, day)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor("!ref", _ref)
_Loader.add_constructor("!days", _days)
_Loader.add_constructor("!months", _months)
_Loader.add_constructor("!year", _year)


@cache
def read_yaml(name: str) -> Any:
    """The content of ``data/<name>``, with the scenario's tags as placeholders."""
    return parse_yaml((DATA / name).read_text(encoding="utf-8"), name)


def parse_yaml(text: str, name: str) -> Any:
    """``text`` (the content of ``name``) read as YAML, with the scenario's tags as placeholders."""
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = "; ".join(p for p in (exc.context, exc.problem) if p)
        raise ConfigError(f"demo data {name}{where}: {what}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"demo data {name}: {exc}") from exc


@cache
def read_csv(name: str) -> list[Located]:
    """The rows of ``data/<name>`` (a header, then one row a line), each knowing its line."""
    return parse_csv((DATA / name).read_text(encoding="utf-8"), name)


def parse_csv(text: str, name: str) -> list[Located]:
    """The rows of ``text`` (the content of ``name``), each knowing its line; a row with
    more or fewer cells than the header is an error naming its line."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    for row in reader:
        if None in row or None in row.values():
            raise ConfigError(
                f"demo data {name}, line {reader.line_num}: {len(reader.fieldnames or [])} cells expected"
            )
        located = Located(row)
        located.line = reader.line_num
        rows.append(located)
    return rows


def _line(raw: Any, loc: tuple[int | str, ...]) -> int | None:
    """The line of the deepest key or list item on the path ``loc`` into ``raw``."""
    line = raw.line if isinstance(raw, Located) else None
    for step in loc:
        if isinstance(raw, Located):
            line = raw.lines.get(step, line)
        try:
            raw = raw[step]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(step, int) and isinstance(raw, Located):
            line = raw.line
    return line


def validated(name: str, model: type[Model], raw: Any) -> Model:
    """``raw`` (read from ``data/<name>``) as a ``model``; else every problem, by line and field."""
    try:
        return model.model_validate(raw)
    except pydantic.ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            line = _line(raw, loc[1:] if isinstance(raw, list) and loc else loc)
            where = f"line {line}, " if line else ""
            field = ".".join(str(p) for p in loc) or "(top)"
            problems.append(f"{where}{field}: {error['msg']}")
        raise ConfigError(f"demo data {name}: " + "; ".join(problems)) from exc


def resolve(value: Any, as_of: date, ids: Mapping[str, str], source: str) -> Any:
    """``value`` with its placeholders replaced: dates from ``as_of``, references by ``ids``."""
    if isinstance(value, dict):
        return {k: resolve(v, as_of, ids, source) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, as_of, ids, source) for v in value]
    if isinstance(value, Offset):
        return as_of + timedelta(days=value.days)
    if isinstance(value, YearDate):
        return date(as_of.year + value.years, value.month, value.day)
    if isinstance(value, Ref):
        if value.key not in ids:
            raise ConfigError(
                f"demo data {source}, line {value.line}: no demo record {value.key!r} made before"
            )
        return ids[value.key]
    return value
