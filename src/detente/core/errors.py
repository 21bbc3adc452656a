"""The one error hierarchy of detente.

Every error a user can meet is a ``DetenteError`` with a message written for
that user (naming the file, row and field where there is one). Interfaces map
the hierarchy once: the CLI to exit codes (``cli/root.py``), the API to HTTP
status codes (``api/errors.py``).

    DetenteError
    ├── AuthError              authentication or authorisation failed (vague about why)
    ├── ConfigError            settings or workspace cannot be used
    ├── NotFoundError          no record with that id
    ├── ValidationError        a value is wrong (field named)
    │   ├── UnknownCountryError    a country name/code did not resolve (suggestions)
    │   ├── TransitionError        an illegal lifecycle move
    │   ├── TooLargeError          a file or request body over its size limit (or one that
    │   │                          would inflate past it: a compression bomb)
    │   └── TooDeepError           JSON nested deeper than the parsers may follow
    ├── StaleVersionError      optimistic concurrency: someone else wrote first
    ├── ConflictError          a unique key is already taken
    └── ImportRowsError        an import file had bad rows (all of them listed)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import get_close_matches

__all__ = [
    "AuthError",
    "ConfigError",
    "ConflictError",
    "DetenteError",
    "ImportRowsError",
    "NotFoundError",
    "RowError",
    "StaleVersionError",
    "TooDeepError",
    "TooLargeError",
    "TransitionError",
    "UnknownCountryError",
    "UnknownValueError",
    "ValidationError",
]


class DetenteError(Exception):
    """Base of every error detente reports to a user."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthError(DetenteError):
    """Authentication or authorisation failed (deliberately vague about why)."""

    exit_code = 6


class ConfigError(DetenteError):
    exit_code = 3


class NotFoundError(DetenteError):
    exit_code = 4


class ValidationError(DetenteError):
    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


class UnknownValueError(ValidationError):
    """A value outside a closed list (a status, a kind, a rule): the message names the
    nearest allowed values, or the first ones when none is near."""

    def __init__(self, value: str, allowed: Sequence[str], *, what: str, field: str | None = None) -> None:
        near = get_close_matches(str(value), list(allowed), n=3, cutoff=0.5) or list(allowed)[:5]
        super().__init__(f"unknown {what} {value!r}; did you mean {', '.join(near)}?", field=field)
        self.value = value
        self.suggestions = near


class UnknownCountryError(ValidationError):
    def __init__(self, value: str, suggestions: list[str], *, field: str | None = None) -> None:
        hint = f" (did you mean: {', '.join(suggestions)}?)" if suggestions else ""
        super().__init__(f"unknown country {value!r}{hint}", field=field)
        self.value = value
        self.suggestions = suggestions


class TransitionError(ValidationError):
    pass


class TooLargeError(ValidationError):
    pass


class TooDeepError(ValidationError):
    """Input nested deeper than detente parses (a malformed request, HTTP 400)."""


class StaleVersionError(DetenteError):
    exit_code = 5


class ConflictError(DetenteError):
    exit_code = 5


@dataclass(frozen=True)
class RowError:
    """One problem in one row of an import file."""

    file: str
    row: int
    field: str | None
    message: str
    table: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}"
        if self.table:
            where += f" [{self.table}]"
        where += f", row {self.row}"
        if self.field:
            where += f", field {self.field!r}"
        return f"{where}: {self.message}"


@dataclass
class ImportRowsError(DetenteError):
    errors: list[RowError] = field(default_factory=list)

    exit_code = 2

    def __post_init__(self) -> None:
        lines = [str(e) for e in self.errors[:50]]
        more = len(self.errors) - len(lines)
        if more > 0:
            lines.append(f"... and {more} more")
        head = f"{len(self.errors)} bad row(s); nothing was written"
        DetenteError.__init__(self, head + ":\n" + "\n".join(lines))
