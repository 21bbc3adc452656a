"""The OSCE Vienna Document as data: one rule table per version, validated when loaded.

The thresholds, deadlines, constraining provisions, zone of application, paragraph numbers
and the drafts' formats live in ``vienna_<version>.yaml``; ``Rules.load`` reads one into
typed, frozen rules (``ThresholdRule``, ``NoticeRule``, ``CalendarRule``, ``ConstraintRule``,
``ZoneRule``) and refuses a table that cannot be used with a ``RuleTableError`` naming the
file, the rule and the field. What the rules mean for a set of activities is
``detente.planning.vienna``'s business; this module only holds and validates them.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from detente.core.errors import ConfigError

__all__ = [
    "DRAFT_KEYS",
    "MEASURES",
    "CalendarRule",
    "ConstraintRule",
    "DraftFormat",
    "MeasureName",
    "NoticeRule",
    "Rule",
    "RuleTableError",
    "Rules",
    "Severity",
    "ThresholdRule",
    "ZoneRule",
]

HERE = Path(__file__).parent
Severity = Literal["violation", "warning", "info"]
MeasureName = Literal["troops", "tanks", "acv", "artillery", "sorties", "amphibious_airborne_troops"]
# The force numbers an Activity carries, and how a message names them.
MEASURES: dict[str, str] = {
    "troops": "troops",
    "tanks": "battle tanks",
    "acv": "armoured combat vehicles",
    "artillery": "artillery pieces (100 mm and above)",
    "sorties": "air sorties (excluding helicopters)",
    "amphibious_airborne_troops": "amphibious/airborne troops",
}
ISO3 = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class RuleTableError(ConfigError):
    """A rule table that cannot be used: the file, the rule and the field are named."""

    def __init__(self, source: str, location: str, message: str) -> None:
        super().__init__(f"{source}: {location}: {message}" if location else f"{source}: {message}")
        self.source = source
        self.location = location


# ---------------------------------------------------------------- the rule table


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    chapter: str
    paragraph: str = Field(min_length=1)
    paragraph_confidence: Literal["high", "medium", "low"]
    title: str
    severity: Severity
    source_note: str | None = None


class ThresholdRule(_Rule):
    """``at_least`` thresholds: a value equal to the threshold triggers the rule."""

    kind: Literal["notification", "observation"]
    at_least: dict[MeasureName, PositiveInt] = Field(min_length=1)
    # a non-standalone notification threshold only adds to an activity notifiable otherwise
    standalone: bool = True


class NoticeRule(_Rule):
    kind: Literal["notice_period"]
    days_before_start: PositiveInt


class CalendarRule(_Rule):
    kind: Literal["calendar"]
    due_month: int = Field(ge=1, le=12)
    due_day: int = Field(ge=1, le=31)

    def due(self, year: int) -> date:
        """The day by which activities starting in ``year`` must be in the calendar."""
        return date(year - 1, self.due_month, self.due_day)

    @model_validator(mode="after")
    def _real_day(self) -> CalendarRule:
        self.due(2001)  # raises ValueError for 31 November and the like
        return self


class ConstraintRule(_Rule):
    """``above`` limits: a value equal to the limit does not count."""

    kind: Literal["constraint"]
    above: dict[MeasureName, PositiveInt] = Field(min_length=1)
    max_activities: PositiveInt
    window: Literal["calendar_years", "simultaneous"]
    years: PositiveInt = 1


class ZoneRule(_Rule):
    kind: Literal["zone"]
    whole: tuple[ISO3, ...]
    partial: dict[ISO3, str] = {}

    @model_validator(mode="after")
    def _disjoint(self) -> ZoneRule:
        both = set(self.whole) & set(self.partial)
        if both:
            raise ValueError(f"listed as both whole and partial: {', '.join(sorted(both))}")
        return self


Rule = Annotated[
    ThresholdRule | NoticeRule | CalendarRule | ConstraintRule | ZoneRule, Field(discriminator="kind")
]
KINDS = ("notification", "observation", "notice_period", "calendar", "constraint", "zone")
DraftKey = Literal[
    "designation",
    "purpose",
    "states_involved",
    "command_level",
    "dates",
    "troops",
    "divisions",
    "tanks",
    "acv",
    "artillery",
    "helicopters",
    "sorties",
    "air_purpose",
    "amphibious_airborne_troops",
    "area",
    "coordinates",
    "phases",
    "calendar_changes",
    "related_activities",
    "forces_types",
    "additional",
]
DRAFT_KEYS: tuple[str, ...] = get_args(DraftKey)


class DraftField(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    key: DraftKey
    label: str


class DraftSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str
    fields: tuple[DraftField, ...] = Field(min_length=1)


class DraftFormat(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    chapter: str
    paragraph: str
    paragraph_confidence: Literal["high", "medium", "low"]
    sections: tuple[DraftSection, ...] = Field(min_length=1)


class SplitHeuristic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    max_gap_days: int = Field(default=7, ge=0)
    min_participant_overlap: float = Field(default=0.5, gt=0, le=1)


class Rules(BaseModel):
    """One version of the Vienna Document as data, validated when loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    document: str
    symbol: str
    adopted: date
    citation: str
    source_note: str
    split_heuristic: SplitHeuristic = SplitHeuristic()
    rules: tuple[Rule, ...] = Field(min_length=1)
    notification_format: DraftFormat
    calendar_format: DraftFormat

    @model_validator(mode="after")
    def _consistent(self) -> Rules:
        ids = [rule.id for rule in self.rules]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"rule ids used twice: {', '.join(twice)}")
        if len(self.of_kind("zone")) != 1:
            raise ValueError("exactly one rule of kind 'zone' is needed")
        if not [r for r in self.notifications if r.standalone]:
            raise ValueError("at least one standalone rule of kind 'notification' is needed")
        return self

    @classmethod
    def load(cls, version: str = "2011", *, path: Path | str | None = None) -> Rules:
        """The packaged table for ``version``, or the user's own table at ``path``."""
        source = Path(path) if path is not None else HERE / f"vienna_{version}.yaml"
        if not source.is_file():
            shipped = sorted(p.stem.removeprefix("vienna_") for p in HERE.glob("vienna_*.yaml"))
            hint = "" if path is not None else f"; shipped versions: {', '.join(shipped)}"
            raise RuleTableError(str(source), "", f"no such rule table{hint}")
        try:
            raw = yaml.safe_load(source.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise RuleTableError(source.name, "", f"not valid YAML ({exc})") from exc
        if not isinstance(raw, dict):
            raise RuleTableError(source.name, "", "expected a mapping at the top level")
        try:
            return cls.model_validate(raw)
        except pydantic.ValidationError as exc:
            raise _table_error(source.name, raw, exc) from exc

    def of_kind(self, kind: str) -> tuple[Rule, ...]:
        """The rules of one kind (``notification``, ``constraint``, ...), in table order."""
        return tuple(rule for rule in self.rules if rule.kind == kind)

    @property
    def notifications(self) -> tuple[ThresholdRule, ...]:
        """The prior-notification thresholds."""
        return tuple(r for r in self.rules if isinstance(r, ThresholdRule) and r.kind == "notification")

    @property
    def observations(self) -> tuple[ThresholdRule, ...]:
        """The observation thresholds."""
        return tuple(r for r in self.rules if isinstance(r, ThresholdRule) and r.kind == "observation")

    @property
    def notice_periods(self) -> tuple[NoticeRule, ...]:
        """How long before an activity's start it must be notified."""
        return tuple(r for r in self.rules if isinstance(r, NoticeRule))

    @property
    def calendars(self) -> tuple[CalendarRule, ...]:
        """When activities must be in the annual calendar."""
        return tuple(r for r in self.rules if isinstance(r, CalendarRule))

    @property
    def constraints(self) -> tuple[ConstraintRule, ...]:
        """The constraining provisions: how many large activities a State may carry out."""
        return tuple(r for r in self.rules if isinstance(r, ConstraintRule))

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id (``KeyError`` if none)."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def cite(self, paragraph: str) -> str:
        """``VD2011 para 40.1``; ``VD2011 Annex I``."""
        prefix = "" if paragraph.startswith("Annex") else "para "
        return f"{self.citation} {prefix}{paragraph}"

    @property
    def zone(self) -> ZoneRule:
        """The zone of application."""
        return next(r for r in self.rules if isinstance(r, ZoneRule))

    def zone_status(self, country: str) -> tuple[Literal["whole", "partial", "outside"], str]:
        """Where ``country`` (ISO3) stands towards the zone of application, with the reason."""
        if country in self.zone.whole:
            return "whole", "whole territory in the zone of application"
        if country in self.zone.partial:
            return "partial", self.zone.partial[country]
        return "outside", "not in the zone of application"


def _table_error(source: str, raw: dict[str, Any], exc: pydantic.ValidationError) -> RuleTableError:
    """The first problem of a rule table, named by rule id and field."""
    error = exc.errors()[0]
    loc = list(error["loc"])
    where: list[str] = []
    if loc[:1] == ["rules"] and len(loc) > 1 and isinstance(loc[1], int):
        index = loc[1]
        item = (raw.get("rules") or [])[index]
        name = item.get("id") if isinstance(item, dict) else None
        where.append(f"rules[{index}]" + (f" ({name})" if name else ""))
        loc = loc[2:]
        if loc and isinstance(item, dict) and loc[0] == item.get("kind"):
            loc = loc[1:]  # pydantic names the union member; the user wrote no such key
    where += [str(part) for part in loc]
    message = error["msg"]
    if error["type"] == "union_tag_invalid":
        where.append("kind")
        message = f"unknown rule kind {error['input'].get('kind')!r}; one of {', '.join(KINDS)}"
    elif error["type"] == "union_tag_not_found":
        where.append("kind")
        message = f"missing rule kind; one of {', '.join(KINDS)}"
    return RuleTableError(source, ".".join(where), message)
