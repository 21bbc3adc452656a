"""The scenario's scripted records: two initiatives, the plans that trip every check, and
the multilateral agreements real planners rely on (the NATO SOFA, the PfP SOFA).

``data/initiatives.yaml``, ``data/planning.yaml`` and ``data/agreements.yaml`` list records
in the order they are made. Each entry names its ``table`` and ``key`` (the external id is ``demo:<key>``),
optionally its ``marking`` (public by default), and the record's fields, which may use the
tags of ``detente.demo.load`` (``!ref``, ``!year``, ``!days``, ``!months``). Three
shorthands carry rules rather than data:

- ``series: [[months ago, value], ...]`` on an observations entry makes one observation
  per pair, ``<key>:o<n>``, oldest first, confidence alternating high and medium;
- ``planned: {after: A, days: D}`` on an engagement makes it planned, starting A days after
  "as of" and lasting D days, costed (unless it says otherwise) at GBP 20,000 + 9,000 a
  day + 40 a troop;
- an initiative's ``engagements: [[kind, title, months from "as of", days long], ...]``
  are led by the lead country's ministry (its navy on port calls) with the partner's
  ministry (its navy on port calls and capacity building), ``<key>:e<n>``; their status
  follows their dates, and exercises grow by 150 troops each.

Nothing here draws at random: the same "as of" gives the same records.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from detente.core.errors import ConfigError, DetenteError
from detente.demo.catalogue import COUNTRIES, PUBLIC
from detente.demo.generator import Generator
from detente.demo.load import DAYS_PER_MONTH, Located, read_yaml, resolve, validated

__all__ = ["agreements", "initiatives", "make_records", "planning"]

Text = Annotated[str, Field(min_length=1)]
Days = Annotated[int, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Planned(_Strict):
    """``planned: {after: A, days: D}`` of a planned engagement."""

    after: int = Field(description='days from "as of" to the first day')
    days: Days


class Entry(BaseModel):
    """One scripted record: where it goes, its key and marking; the rest are its fields."""

    model_config = ConfigDict(extra="allow", frozen=True)

    table: Text
    key: Text
    marking: Text = PUBLIC
    planned: Planned | None = None
    series: list[tuple[int, int | float]] | None = None


class Initiative(_Strict):
    """An initiative of initiatives.yaml: its engagements, then its records in order."""

    key: Text
    lead: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    partner: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    engagements: list[tuple[Text, Text, int, Days]]
    records: list[Any]

    @field_validator("lead", "partner")
    @classmethod
    def _a_scenario_country(cls, code: str) -> str:
        if code not in COUNTRIES:
            raise ValueError(f"{code} is not in countries.csv")
        return code


class InitiativesFile(_Strict):
    """initiatives.yaml."""

    initiatives: list[Initiative]


class PlanningFile(_Strict):
    """planning.yaml (and agreements.yaml, which has the same layout)."""

    records: list[Any]


def _months(months: float) -> timedelta:
    return timedelta(days=round(DAYS_PER_MONTH * months))


def _observations(g: Generator, entry: Entry, fields: dict[str, Any]) -> None:
    for n, (months_ago, value) in enumerate(entry.series or []):
        record = {
            **fields,
            "value": value,
            "observed_on": g.as_of - _months(months_ago),
            "confidence": "high" if n % 2 == 0 else "medium",
        }
        g.add("observations", f"{entry.key}:o{n}", record, marking=entry.marking)


def _planned(g: Generator, plan: Planned, fields: dict[str, Any]) -> dict[str, Any]:
    start = g.as_of + timedelta(days=plan.after)
    return {
        "status": "planned",
        "start_date": start,
        "end_date": start + timedelta(days=plan.days - 1),
        "cost": Decimal(20_000 + 9_000 * plan.days + 40 * (fields.get("troops") or 0)),
        "currency": "GBP",
        **fields,
    }


def _record(g: Generator, source: str, raw: Any) -> None:
    """Make one entry's record(s); a record the store refuses is named by file and line."""
    entry = validated(source, Entry, raw)
    fields = resolve(dict(entry.model_extra or {}), g.as_of, g.ids, source)
    try:
        if entry.series is not None:
            _observations(g, entry, fields)
            return
        if entry.planned is not None:
            fields = _planned(g, entry.planned, fields)
        g.add(entry.table, entry.key, fields, marking=entry.marking)
    except DetenteError as exc:
        line = f", line {raw.line}" if isinstance(raw, Located) else ""
        raise ConfigError(f"demo data {source}{line}: {entry.table} {entry.key}: {exc.message}") from exc


def _engagements(g: Generator, spec: Initiative) -> None:
    for n, (kind, title, months, days) in enumerate(spec.engagements):
        start = g.as_of + _months(months)
        end = start + timedelta(days=days - 1)
        lead = f"{'navy' if kind == 'port_call' else 'mod'}:{spec.lead}"
        other = f"{'navy' if kind in ('port_call', 'capacity_building') else 'mod'}:{spec.partner}"
        record = {
            "title": title,
            "kind": kind,
            "status": ("assessed" if months < -6 else "executed") if end < g.as_of else "planned",
            "lead_actor_id": g.ids[lead],
            "partners": [g.ids[other]],
            "start_date": start,
            "end_date": end,
            "location_country": spec.partner,
            **({"troops": 350 + 150 * n} if kind == "joint_exercise" else {}),
        }
        g.add("engagements", f"{spec.key}:e{n}", record)


def make_records(g: Generator, source: str, entries: list[Any]) -> None:
    """Make the records of ``entries`` (read from ``source``) in order, as the recorder."""
    for raw in entries:
        _record(g, source, raw)


def initiatives(g: Generator) -> None:
    """The initiatives of ``data/initiatives.yaml``: engagements first, then their records."""
    source = "initiatives.yaml"
    for spec in validated(source, InitiativesFile, read_yaml(source)).initiatives:
        _engagements(g, spec)
        make_records(g, source, spec.records)


def planning(g: Generator) -> None:
    """The plans of ``data/planning.yaml``, each tripping one kind of planning check."""
    source = "planning.yaml"
    make_records(g, source, validated(source, PlanningFile, read_yaml(source)).records)


def agreements(g: Generator) -> None:
    """The multilateral agreements of ``data/agreements.yaml``, with their real dates."""
    source = "agreements.yaml"
    make_records(g, source, validated(source, PlanningFile, read_yaml(source)).records)
