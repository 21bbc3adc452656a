"""Typed registry of the taxonomies in ``taxonomy.yaml``.

Kinds of actors, agreements and engagements, person roles, immunity bases and
the lifecycles (allowed status moves) are data. This module loads and checks
them once; services ask it, never a string literal.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from detente.core.errors import TransitionError, ValidationError

__all__ = ["Kind", "Lifecycle", "Taxonomy", "taxonomy"]

SOURCE = Path(__file__).with_name("taxonomy.yaml")


class Kind(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    label: str
    category: str | None = None
    parents: tuple[str, ...] = ()
    forces: bool = False


class Lifecycle(BaseModel):
    model_config = ConfigDict(frozen=True)

    initial: str
    start: tuple[str, ...]
    transitions: dict[str, tuple[str, ...]]

    @model_validator(mode="after")
    def _closed(self) -> Lifecycle:
        states = set(self.transitions)
        for source, targets in self.transitions.items():
            unknown = set(targets) - states
            if unknown:
                raise ValueError(f"{source} moves to unknown status {sorted(unknown)}")
        if self.initial not in states or not set(self.start) <= states:
            raise ValueError("initial/start statuses must be declared in transitions")
        return self

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(self.transitions)

    def check_start(self, status: str, *, field: str = "status") -> None:
        if status not in self.transitions:
            raise ValidationError(
                f"unknown status {status!r}; one of {', '.join(self.statuses)}", field=field
            )
        if status not in self.start:
            raise TransitionError(
                f"a new record cannot start as {status!r}; start as one of {', '.join(self.start)}",
                field=field,
            )

    def check_move(self, current: str, target: str, *, field: str = "status") -> None:
        if target not in self.transitions:
            raise ValidationError(
                f"unknown status {target!r}; one of {', '.join(self.statuses)}", field=field
            )
        if target == current:
            return
        allowed = self.transitions[current]
        if target not in allowed:
            options = ", ".join(allowed) if allowed else f"none: {current!r} is final"
            raise TransitionError(
                f"cannot move from {current!r} to {target!r} (allowed: {options})", field=field
            )


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
