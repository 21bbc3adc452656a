"""Typed registry of the taxonomies in ``taxonomy.yaml``.

Kinds of actors, agreements and engagements, person roles, immunity bases and
the lifecycles (allowed status moves) are data. This module loads and checks
them once; services ask it, never a string literal.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

from detente.core.errors import ValidationError
from detente.store.lifecycle import Lifecycle

__all__ = ["Kind", "Taxonomy", "kind_of", "status_of", "taxonomy"]

SOURCE = Path(__file__).with_name("taxonomy.yaml")


class Kind(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    label: str
    category: str | None = None
    parents: tuple[str, ...] = ()
    forces: bool = False


class Taxonomy(BaseModel):
    model_config = ConfigDict(frozen=True)

    actor_kinds: dict[str, Kind]
    agreement_kinds: dict[str, Kind]
    engagement_kinds: dict[str, Kind]
    person_roles: dict[str, Kind]
    immunity_bases: dict[str, Kind]
    lifecycles: dict[str, Lifecycle]
    vetting_checklist: dict[str, Kind]
    lines_of_effort: dict[str, Kind]
    indicator_frequencies: dict[str, Kind]
    confidence_levels: dict[str, Kind]
    evaluation_kinds: dict[str, Kind]
    evaluation_independence: dict[str, Kind]
    evaluation_ratings: dict[str, Kind]
    calendar_kinds: dict[str, Kind]

    @model_validator(mode="after")
    def _parents_known(self) -> Taxonomy:
        for key, kind in self.actor_kinds.items():
            unknown = set(kind.parents) - set(self.actor_kinds)
            if unknown:
                raise ValueError(f"actor kind {key} names unknown parents {sorted(unknown)}")
        return self

    def check(self, group: str, value: str, *, field: str) -> str:
        """Return ``value`` if it is a key of taxonomy ``group``, else a clear error."""
        table: dict[str, Kind] = getattr(self, group)
        if value not in table:
            raise ValidationError(f"unknown value {value!r}; one of {', '.join(table)}", field=field)
        return value


@cache
def taxonomy() -> Taxonomy:
    return Taxonomy.model_validate(yaml.safe_load(SOURCE.read_text()))


def kind_of(group: str) -> Any:
    """A validator: the value must be a key of taxonomy ``group`` (e.g. ``engagement_kinds``).
    Its ``choices()`` lists them, for help texts and form menus (``detente.store.models.choices``)."""

    def check(value: str) -> str:
        table = getattr(taxonomy(), group)
        if value not in table:
            raise ValueError(f"unknown value {value!r}; one of {', '.join(table)}")
        return value

    check.choices = lambda: tuple(getattr(taxonomy(), group))  # type: ignore[attr-defined]
    return AfterValidator(check)


def status_of(lifecycle: str) -> Any:
    """A validator: the value must be a status of ``lifecycle`` (e.g. ``engagement``)."""

    def check(value: str) -> str:
        statuses = taxonomy().lifecycles[lifecycle].statuses
        if value not in statuses:
            raise ValueError(f"unknown status {value!r}; one of {', '.join(statuses)}")
        return value

    check.choices = lambda: taxonomy().lifecycles[lifecycle].statuses  # type: ignore[attr-defined]
    return AfterValidator(check)
