"""The demo scenario's fixed content, read from its data files and checked at import.

``data/countries.csv`` (the countries), ``data/scenario.yaml`` (organisations, users,
leaders, other actors, sizes), ``data/activity.yaml`` (engagement kinds with their
seasons and lengths, exercise names, objectives, commitments, agreement kinds) and
``data/people.yaml`` (names, ranks, roles) become the typed ``CATALOGUE`` and the
module constants the generator reads. Nothing here draws at random or touches a store.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from detente.core.errors import ConfigError
from detente.demo.load import Located, read_csv, read_yaml, validated

__all__ = [
    "CATALOGUE",
    "COMMITMENTS",
    "COUNTRIES",
    "DEFAULT_USER",
    "EXERCISE_NAMES",
    "EXERCISE_NOUNS",
    "FIRST",
    "FVEY_MEMBERS",
    "KIND_WEIGHTS",
    "LAST",
    "LEADERS",
    "NATO_MEMBERS",
    "NON_STATE",
    "NOTE",
    "OBJECTIVES",
    "ORGANISATIONS",
    "ORGS",
    "PUBLIC",
    "RANKS",
    "RECORDER",
    "SEASONS",
    "SERVICES",
    "Catalogue",
    "countries",
    "load_catalogue",
]

Code = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Text = Annotated[str, Field(min_length=1)]
Weight = Annotated[int, Field(gt=0)]
Months = Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=12, max_length=12)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Country(_Strict):
    """A row of countries.csv."""

    iso3: Code
    name: Text
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    place: Text


class Role(_Strict):
    """A user per organisation: the role, the username's suffix and the clearances it holds."""

    role: Text
    name: Text = Field(description="the username's suffix: <country>-<name>")
    national: Text
    nato: Text


class NamedActor(_Strict):
    """An international organisation or a non-state actor of scenario.yaml."""

    name: Text
    kind: Text
    abbreviation: str | None = None
    country: Code | None = None


class Service(_Strict):
    """An armed service every state has (its name's suffix and its demo key's prefix)."""

    label: Text
    key: Text


class Sizes(_Strict):
    """How much the generator draws."""

    agreements: Weight
    engagements_per_year: Weight
    people: Weight
    persona_non_grata: int


class Scenario(_Strict):
    """scenario.yaml: the cast."""

    note: Text
    public_marking: Text
    organisations: dict[Code, Text]
    recorder: Code
    default_user: Text
    roles: list[Role]
    nato: list[Code]
    fvey: list[Code]
    leaders: list[Code]
    international_organisations: list[NamedActor]
    non_state: list[NamedActor]
    services: list[Service]
    sizes: Sizes

    @model_validator(mode="after")
    def _recorder_is_an_organisation(self) -> Scenario:
        if self.recorder not in self.organisations:
            raise ValueError(f"recorder {self.recorder} is not one of the organisations")
        return self


class Kind(_Strict):
    """An engagement kind of activity.yaml: its weight, and its own seasons and length if any."""

    weight: Weight
    seasons: Months | None = None
    length: tuple[Weight, Weight] | None = None


class DefaultKind(_Strict):
    """Seasons and length of the kinds that name none."""

    seasons: Months
    length: tuple[Weight, Weight]


class AgreementPlan(_Strict):
    """How agreements are drawn: kinds by weight, durations, activity types covered."""

    kinds: dict[Text, Weight]
    open_ended: list[Text]
    years: list[Weight]
    activity_types: Weight


class Activity(_Strict):
    """activity.yaml: what engagements and agreements look like."""

    default: DefaultKind
    kinds: dict[Text, Kind]
    exercise_names: list[Text]
    exercise_nouns: list[Text]
    objectives: list[Text]
    commitments: list[Text]
    agreements: AgreementPlan


class People(_Strict):
    """people.yaml: names, ranks and roles of attachés and liaison officers."""

    first: list[Text]
    last: list[Text]
    ranks: list[Text]
    roles: dict[Text, Weight]


class Catalogue(_Strict):
    """Everything fixed in the scenario, as read from the data files."""

    countries: dict[Code, Country]
    scenario: Scenario
    activity: Activity
    people: People

    def season(self, kind: str) -> list[int]:
        """Month weights (January first) of an engagement kind."""
        own = self.activity.kinds.get(kind)
        return (own.seasons if own else None) or self.activity.default.seasons

    def length(self, kind: str) -> tuple[int, int]:
        """Least and most days an engagement of this kind lasts."""
        own = self.activity.kinds.get(kind)
        return (own.length if own else None) or self.activity.default.length


def countries(rows: list[Located], name: str = "countries.csv") -> dict[str, Country]:
    """The countries of ``rows`` (read from ``name``) by code, in their order; each once."""
    out: dict[str, Country] = {}
    for row in rows:
        country = validated(f"{name}, line {row.line}", Country, dict(row))
        if country.iso3 in out:
            raise ConfigError(f"demo data {name}, line {row.line}: iso3: {country.iso3} is there twice")
        out[country.iso3] = country
    return out


def load_catalogue() -> Catalogue:
    """Read and check the data files (a ``ConfigError`` names the file, line and field)."""
    catalogue = Catalogue(
        countries=countries(read_csv("countries.csv")),
        scenario=validated("scenario.yaml", Scenario, read_yaml("scenario.yaml")),
        activity=validated("activity.yaml", Activity, read_yaml("activity.yaml")),
        people=validated("people.yaml", People, read_yaml("people.yaml")),
    )
    s = catalogue.scenario
    named = [*s.organisations, *s.leaders, *(a.country for a in s.non_state if a.country)]
    unknown = sorted({c for c in named if c not in catalogue.countries})
    if unknown:
        raise ConfigError(f"demo data scenario.yaml: countries not in countries.csv: {', '.join(unknown)}")
    return catalogue


CATALOGUE = load_catalogue()
_S, _A, _P = CATALOGUE.scenario, CATALOGUE.activity, CATALOGUE.people

NOTE = _S.note
PUBLIC = _S.public_marking
ORGS = dict(_S.organisations)
RECORDER = _S.recorder
DEFAULT_USER = _S.default_user
NATO_MEMBERS = frozenset(_S.nato)
FVEY_MEMBERS = frozenset(_S.fvey)
# iso3: (short name, currency, place), in draw order
COUNTRIES = {c.iso3: (c.name, c.currency, c.place) for c in CATALOGUE.countries.values()}
LEADERS = tuple(_S.leaders)
ORGANISATIONS = [(o.name, o.abbreviation, o.kind) for o in _S.international_organisations]
NON_STATE = [(a.name, a.kind, a.country) for a in _S.non_state]
SERVICES = [(s.label, s.key) for s in _S.services]
SEASONS = {"default": _A.default.seasons} | {k: v.seasons for k, v in _A.kinds.items() if v.seasons}
KIND_WEIGHTS = {kind: spec.weight for kind, spec in _A.kinds.items()}
EXERCISE_NAMES, EXERCISE_NOUNS = _A.exercise_names, _A.exercise_nouns
OBJECTIVES, COMMITMENTS = _A.objectives, _A.commitments
FIRST, LAST, RANKS = _P.first, _P.last, _P.ranks
