"""Lifecycles: the statuses a record moves through, and which moves are allowed.

A slice declares each lifecycle as data (its taxonomy YAML): the statuses and their
moves, those a new record may start in, those that count as open (still to be done),
and the status a withdrawal moves to. The kernel checks every start and move against
it; every caller asks it which statuses are open rather than listing them again.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, model_validator

from detente.core.errors import TransitionError, ValidationError

__all__ = ["Lifecycle"]


class Lifecycle(BaseModel):
    model_config = ConfigDict(frozen=True)

    initial: str
    start: tuple[str, ...]
    transitions: dict[str, tuple[str, ...]]
    open: tuple[str, ...] = ()  # still to be done: planned, pending, in progress
    withdraw: str | None = None  # where a withdrawal moves a record, when its status allows

    @model_validator(mode="after")
    def _closed(self) -> Lifecycle:
        states = set(self.transitions)
        for source, targets in self.transitions.items():
            unknown = set(targets) - states
            if unknown:
                raise ValueError(f"{source} moves to unknown status {sorted(unknown)}")
        if self.initial not in states or not set(self.start) <= states:
            raise ValueError("initial/start statuses must be declared in transitions")
        if not set(self.open) <= states or (self.withdraw is not None and self.withdraw not in states):
            raise ValueError("open and withdraw statuses must be declared in transitions")
        return self

    @property
    def statuses(self) -> tuple[str, ...]:
        return tuple(self.transitions)

    def moves(self, current: str) -> tuple[str, ...]:
        """The statuses a record in ``current`` may move to."""
        return self.transitions.get(current, ())

    def may_withdraw(self, current: str) -> bool:
        return self.withdraw is not None and self.withdraw in self.moves(current)

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
