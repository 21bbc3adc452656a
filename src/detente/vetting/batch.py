"""Batch screening: a file of subjects, or every actor and person of the registry the
user may see, against the loaded lists.

A subjects file is CSV with a header: ``name`` (required), and optionally ``schema``,
``aliases`` (separated by ``;``), ``dob``, ``country``, ``identifiers`` (``;``) and ``ref``
(the user's own reference, echoed back). Every bad row is reported by line before
anything is screened.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detente.core.errors import ValidationError
from detente.vetting.match import Match, Subject
from detente.vetting.screen import Screener

__all__ = ["Screened", "from_registry", "read_subjects", "screen_all"]

MAX_ROWS = 1_000_000
# registry actor kinds screened as organisations; people are screened as people
ORGANISATIONS = {
    "unit", "armed_service", "command", "insurgent_group", "militia", "terrorist_organisation",
    "private_military_company", "defense_contractor", "ngo",
}  # fmt: skip
PEOPLE = {"community_leader"}


@dataclass(frozen=True)
class Screened:
    ref: str
    subject: Subject
    matches: list[Match]

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(";") if v.strip())


def read_subjects(path: Path) -> list[tuple[str, Subject]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ValidationError(f"{path}: cannot read ({exc.strerror})") from None
    reader = csv.DictReader(text.splitlines())
    if "name" not in (reader.fieldnames or []):
        raise ValidationError(f"{path}: no column 'name' (columns: name, schema, aliases, dob, country, ref)")
    out, errors = [], []
    for line, row in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            raise ValidationError(f"{path}: more than {MAX_ROWS:,} subjects; split the file")
        try:
            subject = Subject(
                row.get("name") or "", (row.get("schema") or "Person").strip(), _split(row.get("aliases")),
                (row.get("dob") or "").strip() or None, _split(row.get("country")),
                _split(row.get("identifiers")),
            )  # fmt: skip
        except ValidationError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        out.append(((row.get("ref") or "").strip() or f"line {line}", subject))
    if errors:
        shown = "\n".join(errors[:20]) + (f"\n... and {len(errors) - 20} more" if len(errors) > 20 else "")
        raise ValidationError(f"{path}: {len(errors)} bad row(s), nothing screened:\n{shown}")
    if not out:
        raise ValidationError(f"{path}: no subjects")
    return out


def schema_of(kind: str) -> str:
    """The screening schema for a registry actor kind."""
    return "Person" if kind in PEOPLE else "Organization" if kind in ORGANISATIONS else "LegalEntity"


def actor_subject(a: Any) -> Subject:
    """The screening subject for a registry actor."""
    return Subject(a.name, schema_of(a.kind), tuple(a.aliases), None, (a.country,) if a.country else ())


def person_subject(p: Any) -> Subject:
    """The screening subject for a registry person (an attaché)."""
    return Subject(p.name, "Person", (), None, (p.sending_state,))


def from_registry(actors: Iterable[Any], people: Iterable[Any]) -> list[tuple[str, Subject]]:
    """Subjects from registry records (already filtered to what the user may see):
    non-state actors and units as organisations, attachés and leaders as people."""
    out = [(f"actor {a.id}", actor_subject(a)) for a in actors if a.kind in ORGANISATIONS | PEOPLE]
    return out + [(f"person {p.id}", person_subject(p)) for p in people]


def screen_all(screener: Screener, subjects: list[tuple[str, Subject]], limit: int = 3) -> list[Screened]:
    return [Screened(ref, s, screener.screen(s, limit=limit, minimum=0.5)) for ref, s in subjects]
