"""Country identity: names in many languages, code systems, year-aware spells, state systems."""

from __future__ import annotations

import csv
import gzip
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.core.countries import convert, countries, resolve
from detente.core.errors import UnknownCountryError, ValidationError
from detente.core.state_system import load_state_system


@pytest.mark.parametrize(
    ("text", "iso3"),
    [
        ("Germany", "DEU"),
        ("Allemagne", "DEU"),
        ("Deutschland", "DEU"),
        ("Германия", "DEU"),
        ("ألمانيا", "DEU"),
        ("德国", "DEU"),
        ("Alemania", "DEU"),
        ("deu", "DEU"),
        ("DE", "DEU"),
        ("GMY", "DEU"),
        ("UK", "GBR"),
        ("Great Britain", "GBR"),
        ("UKG", "GBR"),
        ("South Korea", "KOR"),
        ("Republic of Korea", "KOR"),
        ("North Korea", "PRK"),
        ("Côte d'Ivoire", "CIV"),
        ("cote d ivoire", "CIV"),
        ("Ivory Coast", "CIV"),
        ("Türkiye", "TUR"),
        ("Burma", "MMR"),
        ("Kenia", "KEN"),
        ("Frankreich", "FRA"),
        ("Soviet Union", "RUS"),
        ("East Germany", "DDR"),
        ("Kosovo", "XKX"),
        ("Democratic Republic of the Congo", "COD"),
        ("Timor-Leste", "TLS"),
        ("Serbia (Yugoslavia)", "SRB"),
        ("Yemen (North Yemen)", "YEM"),
        ("South Yemen", "YMD"),
    ],
)
def test_resolve_names_and_codes(text: str, iso3: str) -> None:
    assert resolve(text).iso3 == iso3


def test_unknown_names_fail_with_suggestions() -> None:
    with pytest.raises(UnknownCountryError) as err:
        resolve("Germny", field="country")
    assert "Germany" in err.value.suggestions and err.value.field == "country"
    with pytest.raises(UnknownCountryError, match=r"France \(COW 220\)"):
        resolve("220")  # numbers are ambiguous between systems: say what they could be
    with pytest.raises(UnknownCountryError):
        resolve("Atlantis")


def test_codes_of_one_country_agree() -> None:
    fra = resolve("France")
    assert (fra.iso2, fra.isonum, fra.cow, fra.cowc, fra.gw) == ("FR", 250, 220, "FRN", 220)


@pytest.mark.parametrize(
    ("iso3", "year", "cow", "gw"),
    [
        ("DEU", 1938, 255, 255),
        ("DEU", 1980, 260, 260),
        ("DEU", 2000, 255, 260),
        ("DDR", 1980, 265, 265),
        ("DDR", 2000, None, None),
        ("YEM", 1985, 678, 678),
        ("YEM", 2000, 679, 678),
        ("YMD", 1985, 680, 680),
        ("SRB", 1980, 345, 345),
        ("SRB", 2004, 345, 345),
        ("SRB", 2010, 345, 340),
        ("SDN", 2015, 625, 625),
        ("SSD", 2005, None, None),
        ("SSD", 2015, 626, 626),
        ("XKX", 2005, None, None),
        ("XKX", 2010, 347, 347),
        ("CSK", 1980, 315, 315),
        ("CZE", 2000, 316, 316),
        ("FRA", 1900, 220, 220),
    ],
)
def test_year_aware_codes(iso3: str, year: int, cow: int | None, gw: int | None) -> None:
    assert convert([iso3], "iso3", "cow", year=year)[0] == cow
    assert convert([iso3], "iso3", "gw", year=year)[0] == gw


@pytest.mark.parametrize(
    ("system", "code", "year", "iso3"),
    [
        ("cow", 260, 1980, "DEU"),
        ("cow", 255, 2000, "DEU"),
        ("cow", 265, 1980, "DDR"),
        ("cow", 345, 1980, "YUG"),
        ("cow", 345, 2004, "SCG"),
        ("cow", 345, 2010, "SRB"),
        ("cow", 678, 1985, "YEM"),
        ("cow", 680, 1985, "YMD"),
        ("cow", 626, 2010, None),
        ("gw", 340, 2010, "SRB"),
        ("gw", 345, 2010, None),
        ("gw", 678, 2015, "YEM"),
    ],
)
def test_year_aware_codes_back_to_iso(system: str, code: int, year: int, iso3: str | None) -> None:
    assert convert([code], system, "iso3", year=year)[0] == iso3


def test_convert_is_vectorised_with_per_row_years_and_missing_values() -> None:
    out = convert(
        ["DEU", None, "DEU", "XXX", "YEM"], "iso3", "cow", year=[1980, 1980, 2000, 2000, date(1990, 6, 1)]
    )
    assert list(out) == [260, None, 255, None, 679]
    names = convert(np.array(["Deutschland", "France", "nowhere"], dtype=object), "name", "iso3")
    assert list(names) == ["DEU", "FRA", None]
    with pytest.raises(UnknownCountryError, match="nowhere"):
        convert(["France", "nowhere"], "name", "iso3", strict=True)
    with pytest.raises(ValidationError, match="unknown code system"):
        convert(["FRA"], "iso3", "fips")


def test_convert_accepts_arrow_arrays() -> None:
    import pyarrow as pa

    assert list(convert(pa.array([2, 200, None]), "cow", "iso3")) == ["USA", "GBR", None]


ISO3 = sorted({c.iso3 for c in countries() if c.iso3 and c.cow})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(ISO3), min_size=1, max_size=50), st.integers(1950, 2020))
def test_iso_cow_iso_round_trip(values: list[str], year: int) -> None:
    cow = convert(values, "iso3", "cow", year=year)
    back = convert(cow, "cow", "iso3", year=year)
    for iso, code, again in zip(values, cow, back, strict=True):
        if code is not None:
            # SRB maps to Yugoslavia's 345 before 2006 and comes back as YUG/SCG: the state of the day
            assert again == iso or (iso == "SRB" and again in ("YUG", "SCG"))


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.sampled_from(["France", "Kenia", "UK", "Deutschland", "Atlantis", "日本"]), min_size=1, max_size=40
    )
)
def test_column_convert_equals_row_by_row_resolve(values: list[str]) -> None:
    column = convert(values, "name", "iso3")
    for value, got in zip(values, column, strict=True):
        try:
            expected = resolve(value).iso3
        except UnknownCountryError:
            expected = None
        assert got == expected


# ---------------------------------------------------------------- state systems
def cow_rows(shared: Path) -> list[dict[str, str]]:
    with (shared / "cow" / "states2016.csv").open(newline="") as h:
        return list(csv.DictReader(h))


def test_cow_state_system_from_the_official_file(shared: Path) -> None:
    cow = load_state_system(shared / "cow" / "states2016.csv")
    assert cow.system == "cow" and cow.years == (1816, 2016)
    raw = cow_rows(shared)
    for year in (1816, 1950, 1990, 2016):  # counted independently from the raw rows
        expected = {int(r["ccode"]) for r in raw if int(r["styear"]) <= year <= int(r["endyear"])}
        assert cow.members(year) == expected
    assert len(cow.members(2016)) == 195
    assert cow.is_member(626, 2012) and not cow.is_member(626, 2010)
    assert cow.is_member(255, 2000) and cow.is_member(260, 1980) and not cow.is_member(260, 2000)
    assert cow.is_member(255, date(1990, 10, 3)) and not cow.is_member(255, date(1990, 10, 2))


def test_gw_state_system_csv_and_official_tab_layout(shared: Path, tmp_path: Path) -> None:
    gw = load_state_system(shared / "peacesciencer" / "gw_states.csv.gz")
    assert gw.system == "gw"
    assert gw.is_member(260, 2000) and gw.is_member(340, 2010) and not gw.is_member(345, 2010)
    with gzip.open(shared / "peacesciencer" / "gw_states.csv.gz", "rt") as h:
        rows = list(csv.DictReader(h))
    # the same data in ksgmdw.txt's own layout: tab-separated, no header, dd:mm:yyyy dates
    lines = []
    for r in rows:
        s, e = date.fromisoformat(r["startdate"]), date.fromisoformat(r["enddate"])
        lines.append(
            f"{int(float(r['gwcode']))}\t{r['stateabb']}\t{r['statename']}\t{s:%d:%m:%Y}\t{e:%d:%m:%Y}"
        )
    (tmp_path / "ksgmdw.txt").write_text("\n".join(lines) + "\n")
    official = load_state_system(tmp_path / "ksgmdw.txt")
    assert official.system == "gw"
    for year in (1900, 1960, 2017):
        assert official.members(year) == gw.members(year)


def test_state_system_gw_membership_agrees_with_crosswalk(shared: Path) -> None:
    """Every GW member of 2015 converts to an ISO code and back (the crosswalk covers the system)."""
    gw = load_state_system(shared / "peacesciencer" / "gw_states.csv.gz")
    codes = sorted(gw.members(2015))
    iso = convert(codes, "gw", "iso3", year=2015)
    missing = [c for c, i in zip(codes, iso, strict=True) if i is None]
    assert missing == []
    assert list(convert(iso, "iso3", "gw", year=2015)) == codes


def test_bad_state_files_name_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "states2016.csv"
    bad.write_text(
        "stateabb,ccode,statenme,styear,stmonth,stday,endyear,endmonth,endday,version\n"
        "USA,2,United States,1816,1,1,2016,12,31,2016\n"
        "CAN,twenty,Canada,1920,1,10,2016,12,31,2016\n"
    )
    with pytest.raises(ValidationError, match=r"states2016.csv, line 3, field 'ccode'"):
        load_state_system(bad)
    bad.write_text("stateabb,ccode,statenme\nUSA,2,United States\n")
    with pytest.raises(ValidationError, match="line 1: missing column"):
        load_state_system(bad)
    gw = tmp_path / "gw.txt"
    gw.write_text("2\tUSA\tUnited States\t01:01:1816\t31:13:2017\n")
    with pytest.raises(ValidationError, match=r"gw.txt, line 1, field 'enddate'"):
        load_state_system(gw)
