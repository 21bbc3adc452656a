"""Country identity: one crosswalk between ISO 3166, Correlates of War (COW) and
Gleditsch-Ward (GW) codes and names in many languages, aware of the years in
which codes changed.

The code and name tables come from the ``countrycode`` package (Arel-Bundock et
al.; COW, GW, ISO, V-Dem codes, English regular expressions and CLDR/UN names
in dozens of languages). Spells where codes change over time (Germany 255/260,
Yemen 678/679/680, Yugoslavia/Serbia 345/340, South Sudan 626, Kosovo 347, ...)
are data in ``data/country_rules.yaml``. State-system *membership* (which states
existed when) is not shipped: users load the official COW or GW files with
``detente.core.state_system.load_state_system``.

``resolve`` turns one piece of user text into a ``Country`` or fails with
suggestions; ``convert`` maps whole columns (a million rows in well under a
second) by converting each distinct value once.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from detente.core.errors import UnknownCountryError, ValidationError

__all__ = [
    "CODES",
    "Country",
    "convert",
    "countries",
    "iso3",
    "resolve",
]

RULES = Path(__file__).with_name("data") / "country_rules.yaml"

# origin/destination names accepted by `convert` -> codelist column
CODES = {
    "iso3": "iso3c",
    "iso2": "iso2c",
    "isonum": "iso3n",
    "cow": "cown",
    "cowc": "cowc",
    "gw": "gwn",
    "gwc": "gwc",
    "vdem": "vdem",
    "name": "country.name.en",
}
YEARLESS = date(9999, 1, 1)  # "now": the latest spell applies


@dataclass(frozen=True)
class Country:
    """One country (or historical state) with its codes; missing codes are None."""

    name: str
    iso3: str | None
    iso2: str | None = None
    isonum: int | None = None
    cow: int | None = None
    cowc: str | None = None
    gw: int | None = None
    gwc: str | None = None
    vdem: int | None = None

    def code(self, system: str) -> Any:
        """The code in ``system`` (``iso3``, ``cow``, ``gw``, ...), or None."""
        return getattr(self, system)


@dataclass(frozen=True)
class Spell:
    system: str
    code: int
    iso3: str
    start: date
    end: date
    name: str


def _fold(text: str) -> str:
    """Case- and accent-insensitive key: 'Côte d’Ivoire' -> 'cote d ivoire'."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[\W_]+", " ", text).strip()
    return text.removeprefix("the ")


def _as_date(value: Any, default: date) -> date:
    if value is None:
        return default
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass
class _Crosswalk:
    countries: list[Country]
    by_code: dict[str, dict[Any, int]]
    names: dict[str, set[int]]
    regexes: list[tuple[re.Pattern[str], int]]
    spells: dict[str, list[Spell]]
    spells_by_code: dict[tuple[str, int], list[Spell]] = field(default_factory=dict)
    spells_by_iso3: dict[tuple[str, str], list[Spell]] = field(default_factory=dict)
    continues: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for system, spells in self.spells.items():
            for s in spells:
                self.spells_by_code.setdefault((system, s.code), []).append(s)
                self.spells_by_iso3.setdefault((system, s.iso3), []).append(s)
        # a modern code also reaches its predecessors' spells (SRB in 2000 -> Yugoslavia's 345)
        for modern, older in self.continues.items():
            for system in self.spells:
                own = self.spells_by_iso3.get((system, modern), [])
                for iso3 in older:
                    own = own + self.spells_by_iso3.get((system, iso3), [])
                if own:
                    self.spells_by_iso3[(system, modern)] = sorted(own, key=lambda s: s.start)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _countries(table: dict[str, list[Any]], extras: list[dict[str, Any]]) -> list[Country]:
    """Every country of the code table, with the ISO codes (3166-3 or XKX) the static table
    lacks given to historical states and Kosovo (``extra_iso3`` of the rules)."""
    countries: list[Country] = []
    for i in range(len(table["iso3c"])):
        countries.append(
            Country(
                name=table["country.name.en"][i],
                iso3=table["iso3c"][i],
                iso2=table["iso2c"][i],
                isonum=_opt_int(table["iso3n"][i]),
                cow=_opt_int(table["cown"][i]),
                cowc=table["cowc"][i],
                gw=_opt_int(table["gwn"][i]),
                gwc=table["gwc"][i],
                vdem=_opt_int(table["vdem"][i]),
            )
        )
    for extra in extras:
        match = next(
            (
                i
                for i, c in enumerate(countries)
                if extra.get("cown") is not None and c.cow == extra["cown"] and not c.iso3
            ),
            None,
        )
        if match is None:
            match = next((i for i, c in enumerate(countries) if c.name == extra["name"]), None)
        if match is None:
            countries.append(
                Country(
                    name=extra["name"],
                    iso3=extra["iso3"],
                    cow=extra.get("cown"),
                    gw=extra.get("gwn"),
                    cowc=extra.get("cowc"),
                    gwc=extra.get("gwc"),
                )
            )
        else:
            c = countries[match]
            countries[match] = Country(**{**c.__dict__, "iso3": extra["iso3"]})
    return countries


def _names(
    table: dict[str, list[Any]], countries: list[Country], aliases: dict[str, list[str]], iso3: dict[Any, int]
) -> dict[str, set[int]]:
    """Folded name -> the countries it may mean, in every language of the table; the curated
    ``aliases`` of the rules override any clash."""
    names: dict[str, set[int]] = defaultdict(set)
    name_columns = [
        k
        for k in table
        if k.startswith(("country.name.", "iso.name.", "un.name.", "cldr.")) and not k.endswith(".regex")
    ]
    name_columns += ["cow.name", "p4.name", "vdem.name"]
    for column in name_columns:
        for i, value in enumerate(table[column]):
            if value:
                names[_fold(str(value))].add(i)
    for i, c in enumerate(countries):
        names[_fold(c.name)].add(i)
    for code, listed in aliases.items():
        i = iso3[code]
        for alias in listed:
            names[_fold(alias)] = {i}  # curated: overrides any clash
    return dict(names)


def _spells(rules: dict[str, list[dict[str, Any]]]) -> dict[str, list[Spell]]:
    """The spells in which COW and GW codes hold (``spells`` of the rules)."""
    spells: dict[str, list[Spell]] = {}
    for system, rows in rules.items():
        spells[system] = [
            Spell(
                system,
                int(r["code"]),
                r["iso3"],
                _as_date(r.get("from"), date.min),
                _as_date(r.get("to"), date.max),
                r.get("name", ""),
            )
            for r in rows
        ]
    return spells


@cache
def _crosswalk() -> _Crosswalk:
    from countrycode.countrycode import prepare_codelist  # type: ignore[import-untyped]

    table = prepare_codelist()
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    countries = _countries(table, rules["extra_iso3"])
    by_code: dict[str, dict[Any, int]] = {k: {} for k in CODES if k != "name"}
    for i, c in enumerate(countries):
        for system in by_code:
            value = c.code(system)
            if value is not None:
                by_code[system].setdefault(value, i)
    names = _names(table, countries, rules["aliases"], by_code["iso3"])
    regexes = [(re.compile(p, re.IGNORECASE), i) for i, p in enumerate(table["country.name.en.regex"]) if p]
    spells = _spells(rules["spells"])
    return _Crosswalk(countries, by_code, names, regexes, spells, continues=rules.get("continues", {}))


def countries() -> list[Country]:
    """Every country and historical state in the crosswalk."""
    return list(_crosswalk().countries)


# ------------------------------------------------------------------ resolve
@cache
def _suggestion_choices() -> dict[str, int]:
    return {k: next(iter(v)) for k, v in _crosswalk().names.items() if len(v) == 1 and len(k) > 3}


def _suggest(text: str, limit: int = 3) -> list[str]:
    from rapidfuzz import fuzz, process

    cw = _crosswalk()
    choices = _suggestion_choices()
    found: list[str] = []
    for key, _score, _ in process.extract(_fold(text), list(choices), scorer=fuzz.WRatio, limit=12):
        name = cw.countries[choices[key]].name
        if name not in found:
            found.append(name)
        if len(found) == limit:
            break
    return found


def _lookup(text: str, *, suggest: bool = True) -> int:
    """The crosswalk index of ``text``; ``suggest=False`` skips the fuzzy suggestions
    on a miss (``convert`` maps whole columns and only needs to know it missed)."""
    cw = _crosswalk()
    raw = text.strip()
    if not raw:
        raise UnknownCountryError(text, [])
    if raw.isalpha() and len(raw) in (2, 3):
        # ISO alpha-3 first, then alpha-2, then COW/GW letters ('AUS' is Australia in ISO,
        # Austria in COW: ISO wins; ask `convert(origin="cowc")` for COW letters)
        for system in ("iso3", "cowc", "gwc") if len(raw) == 3 else ("iso2",):
            hit = cw.by_code[system].get(raw.upper())
            if hit is not None:
                return hit
    if raw.isdigit():
        # a bare number could be ISO numeric, COW or GW: say which countries it could be
        options = [
            f"{cw.countries[i].name} ({system.upper()} {raw})"
            for system in ("cow", "gw", "isonum")
            if (i := cw.by_code[system].get(int(raw))) is not None
        ]
        raise UnknownCountryError(text, list(dict.fromkeys(options)))
    key = _fold(raw)
    hits = cw.names.get(key, set())
    if len(hits) == 1:
        return next(iter(hits))
    if not hits:
        hits = {i for pattern, i in cw.regexes if pattern.search(raw.casefold())}
        if len(hits) == 1:
            return next(iter(hits))
    if len(hits) > 1:
        raise UnknownCountryError(text, sorted(cw.countries[i].name for i in hits)[:5])
    raise UnknownCountryError(text, _suggest(raw) if suggest else [])


@cache
def _resolve_cached(text: str) -> Country:
    return _crosswalk().countries[_lookup(text)]


def resolve(value: str, *, field: str | None = None) -> Country:
    """The country a user means: a name in many languages, an ISO code, or COW/GW letters.

    Raises ``UnknownCountryError`` with up to three suggestions when nothing (or
    more than one country) matches.
    """
    try:
        return _resolve_cached(str(value))
    except UnknownCountryError as exc:
        raise UnknownCountryError(exc.value, exc.suggestions, field=field) from None


def iso3(value: str, *, field: str | None = None) -> str:
    """The ISO 3166 alpha-3 code of the country a user means; a clear error for a country
    that has none (a historical state known by its COW code only)."""
    country = resolve(value, field=field)
    if not country.iso3:
        from detente.core.errors import ValidationError

        raise ValidationError(f"{value!r} has no ISO 3166 code (a historical state?)", field=field)
    return country.iso3


# ------------------------------------------------------------------ convert
def _day(when: Any) -> date:
    if when is None or (isinstance(when, float) and np.isnan(when)):
        return YEARLESS
    if isinstance(when, date):
        return when
    if isinstance(when, np.datetime64):
        return date.fromisoformat(str(when.astype("datetime64[D]")))
    if isinstance(when, str) and not when.strip().isdigit():
        return date.fromisoformat(when.strip()[:10])
    return date(int(when), 7, 1)  # a bare year means mid-year: the spell that held most of it


def _spell_at(spells: list[Spell], day: date) -> Spell | None:
    if day == YEARLESS:
        return max(spells, key=lambda s: s.end)
    return next((s for s in spells if s.start <= day <= s.end), None)


def _convert_one(value: Any, origin: str, destination: str, day: date) -> Any:
    cw = _crosswalk()
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    index: int | None
    if origin == "name":
        try:
            index = _lookup(str(value), suggest=False)
        except UnknownCountryError:
            return None
    else:
        key = int(value) if origin in ("cow", "gw", "isonum", "vdem") else str(value).upper()
        if origin in ("cow", "gw") and isinstance(key, int) and (origin, key) in cw.spells_by_code:
            spell = _spell_at(cw.spells_by_code[(origin, key)], day)
            if spell is None:
                return None
            index = cw.by_code["iso3"].get(spell.iso3)
            if destination == "iso3":
                return spell.iso3
            if index is None:
                return None
        else:
            index = cw.by_code[origin].get(key)
            if index is None:
                return None
    country = cw.countries[index]
    if destination in ("cow", "gw") and country.iso3 and (destination, country.iso3) in cw.spells_by_iso3:
        spell = _spell_at(cw.spells_by_iso3[(destination, country.iso3)], day)
        return None if spell is None else spell.code
    return country.name if destination == "name" else country.code(destination)


def _to_numpy(values: Any) -> np.ndarray:
    if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
        try:
            return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
        except TypeError:
            return np.asarray(values.to_numpy(), dtype=object)
    return np.asarray(values, dtype=object)


def _factorize(values: np.ndarray) -> tuple[np.ndarray, list[Any]]:
    """Integer codes and the distinct values, via Arrow's hash table (C speed)."""
    import pyarrow as pa  # type: ignore[import-untyped]

    try:
        encoded = pa.array(values, from_pandas=True).dictionary_encode()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        encoded = pa.array([None if v is None else str(v) for v in values]).dictionary_encode()
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    uniques = encoded.dictionary.to_pylist()
    # nulls come back as NaN in a float array: give them their own slot
    if encoded.indices.null_count:
        indices = np.where(np.isnan(indices), len(uniques), indices).astype(np.int64)
        uniques.append(None)
    return indices.astype(np.int64, copy=False), uniques


def convert(
    values: Iterable[Any] | np.ndarray | Any,
    origin: str,
    destination: str,
    *,
    year: int | date | Sequence[Any] | np.ndarray | None = None,
    strict: bool = False,
) -> np.ndarray:
    """Map a column of codes or names from ``origin`` to ``destination``.

    Systems: iso3, iso2, isonum, cow, cowc, gw, gwc, vdem, and name (free text in
    any supported language as origin; the English name as destination).
    ``year`` (one value, or one per row: a year or a date) makes COW and GW codes
    follow the spells in ``country_rules.yaml`` (Germany 1980 -> COW 260). Without
    it the newest spell applies. Returns an object array with None where nothing
    matched; ``strict=True`` raises ``UnknownCountryError`` naming the first misses.
    """
    for system in (origin, destination):
        if system not in CODES:
            raise ValidationError(f"unknown code system {system!r}; one of {', '.join(CODES)}")
    arr = _to_numpy(values)
    value_codes, uniques = _factorize(arr)
    if year is None or isinstance(year, int | date) or np.ndim(year) == 0:
        day = _day(year)
        mapped = [_convert_one(u, origin, destination, day) for u in uniques]
        out = np.empty(len(mapped), dtype=object)
        out[:] = mapped
        result = out[value_codes]
    else:
        years = _to_numpy(year)
        if len(years) != len(arr):
            raise ValidationError(f"year has {len(years)} values for {len(arr)} rows")
        year_codes, year_uniques = _factorize(years)
        pair = value_codes * (len(year_uniques) + 1) + year_codes
        pairs, inverse = np.unique(pair, return_inverse=True)
        days = [_day(y) for y in year_uniques]
        out = np.empty(len(pairs), dtype=object)
        out[:] = [
            _convert_one(
                uniques[p // (len(year_uniques) + 1)], origin, destination, days[p % (len(year_uniques) + 1)]
            )
            for p in pairs
        ]
        result = out[inverse]
    if strict:
        missing = [
            u
            for u, m in zip(uniques, (result[value_codes == i][:1] for i in range(len(uniques))), strict=True)
            if u is not None and len(m) and m[0] is None
        ]
        if missing:
            raise UnknownCountryError(
                ", ".join(map(str, missing[:5])), _suggest(str(missing[0])) if origin == "name" else []
            )
    return result
