"""The peacekeeping loaders on real files: IPI contributions (a contributor's own file and one
month of contributor-mission rows), Geo-PKO v2.3 deployments and HKS 2013 country-months;
rows checked by value against the files, provenance like every source, bad input refused by
file, line and field with the lake unchanged."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from detente.core.errors import ValidationError
from detente.sources import peacekeeping
from detente.sources.lake import sha256

Run = Callable[..., str]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _n(value: str) -> int:
    return 0 if value in ("", "NA") else int(float(value))


def test_ipi_loads_with_provenance_and_checks_against_the_files(cli: Run, shared: Path, lake_sql) -> None:  # type: ignore[no-untyped-def]
    ipi = shared / "peacekeeping_ipi"
    kenya, month = ipi / "countries" / "Kenya.csv", ipi / "current_month_current_month.csv"
    files = [kenya, month, ipi / "update_archive_csv_20140331.csv", ipi / "data_continent.csv"]
    out = cli("sources", "load", "peacekeeping_ipi", *map(str, files))
    assert "data_continent.csv: IPI aggregates, not loaded" in out
    assert "573 rows appeared in more than one file with the same figures: kept once" in out
    # a contributor's own file: its last month, by value
    last = _rows(kenya)[-1]
    assert lake_sql(
        "SELECT contributor, iso3, troops, police, experts, total, basis FROM peacekeeping_ipi "
        f"WHERE iso3 = 'KEN' AND date = DATE '{last['Date']}'"
    ) == [("Kenya", "KEN", _n(last["Troops"]), _n(last["Police"]), _n(last["Experts"]),
           _n(last["Troops"]) + _n(last["Police"]) + _n(last["Experts"]), "contributor")]  # fmt: skip
    # IPI's full layout: police = formed units + individual police, experts = experts on mission
    unmiss = next(r for r in _rows(month) if r["Contributor"] == "Kenya" and r["Mission"] == "UNMISS")
    assert lake_sql(
        "SELECT mission_country, mission_iso3, troops, police, experts, total FROM peacekeeping_ipi_missions "
        "WHERE iso3 = 'KEN' AND mission = 'UNMISS'"
    ) == [("South Sudan", "SSD", _n(unmiss["Troops"]),
           _n(unmiss["Formed_Police_Units"]) + _n(unmiss["Inidividual_Police"]),
           _n(unmiss["Experts_on_Mission"]), _n(unmiss["Total"]))]  # fmt: skip
    # Kenya's own total for that month equals the sum of its missions in the other file
    kenya_missions = [r for r in _rows(month) if r["Contributor"] == "Kenya"]
    assert sum(_n(r["Troops"]) for r in kenya_missions) == _n(last["Troops"])
    # France has no total row here: its month is the sum of its missions, and says so
    france = [r for r in _rows(month) if r["Contributor"] == "France"]
    assert lake_sql("SELECT troops, basis FROM peacekeeping_ipi WHERE iso3 = 'FRA'") == [
        (sum(_n(r["Troops"]) for r in france), "missions")
    ]
    assert "contributor-months summed from their missions" in out
    prov = lake_sql(
        "SELECT version, files, sha256, rows, coverage, first_year, last_year, tables "
        "FROM provenance WHERE source = 'peacekeeping_ipi'"
    )[0]
    contributors = lake_sql("SELECT count(*), count(DISTINCT contributor) FROM peacekeeping_ipi")[0]
    assert prov[0] == "IPI to 2014-03" and prov[1].split("\n") == [str(f.resolve()) for f in files]
    assert prov[2] == sha256(files) and prov[3] == contributors[0]
    assert prov[4].startswith(f"1990-11 to 2014-03, {contributors[1]} contributors")
    assert (prov[5], prov[6]) == (1990, 2014)
    assert prov[7] == "peacekeeping_ipi,peacekeeping_ipi_missions"
    listed = cli("sources", "list")
    assert "peacekeeping_ipi" in listed and "peacekeeping_geopko" in listed and "peacekeeping_hks" in listed
    # no stable download address: fetch says where to get the files
    assert "ipinst.org" in cli("sources", "fetch", "peacekeeping_ipi", code=2)


def test_ipi_bad_input_is_named_and_the_lake_kept(cli: Run, shared: Path, tmp_path: Path, lake_sql) -> None:  # type: ignore[no-untyped-def]
    kenya = shared / "peacekeeping_ipi" / "countries" / "Kenya.csv"
    cli("sources", "load", "peacekeeping_ipi", str(kenya))
    before = lake_sql("SELECT count(*), sum(troops), max(date) FROM peacekeeping_ipi")
    lines = kenya.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "copy" / "Kenya.csv"
    bad.parent.mkdir()
    # a troop count that is not a number, on line 41
    fields = lines[40].split(",")
    bad.write_text("\n".join([*lines[:40], ",".join([fields[0], "many", *fields[2:]]), *lines[41:]]))
    out = cli("sources", "load", "peacekeeping_ipi", str(bad), code=2)
    assert "Kenya.csv, line 41, field Troops: 'many' is not a whole number" in out
    # the same month in two files with different figures: both places named
    changed = ",".join([fields[0], str(_n(fields[1]) + 1), *fields[2:]])
    bad.write_text("\n".join([*lines[:40], changed, *lines[41:]]))
    out = " ".join(cli("sources", "load", "peacekeeping_ipi", str(kenya), str(bad), code=2).split())
    assert f"{bad}, line 41: troops {_n(fields[1]) + 1}," in out
    assert f"where {kenya}, line 41 has troops {_n(fields[1])}," in out
    # a file of no IPI layout
    bad.write_text("when,who,how many\n2014-03-31,Kenya,3\n")
    assert "not an IPI Peacekeeping Database file" in cli(
        "sources", "load", "peacekeeping_ipi", str(bad), code=2
    )
    assert lake_sql("SELECT count(*), sum(troops), max(date) FROM peacekeeping_ipi") == before
    # an extra column is loaded around and reported
    extra = tmp_path / "Kenya.csv"
    extra.write_text("\n".join([lines[0] + ',"Civilians"', *(line + ",1" for line in lines[1:])]))
    out = " ".join(cli("sources", "load", "peacekeeping_ipi", str(extra)).split())
    assert "Kenya.csv: column(s) Civilians are not in the peacekeeping_ipi layout: not loaded" in out


def test_geopko_deployments_contributors_and_unit_types(shared: Path, tmp_path: Path) -> None:
    geo = shared / "peacekeeping_geopko"
    files = [geo / "FrontMap_v.2.3.csv", geo / "TCCMap_v.2.3.csv", geo / "TTMap_v.2.3.csv"]
    parsed = peacekeeping.parse_geopko(files)
    deployments = parsed.tables[""].to_pylist()
    gao = [
        r for r in _rows(files[0]) if (r["mission"], r["year"], r["location"]) == ("MINUSMA", "2015", "Gao")
    ]
    assert len(gao) > 1  # one row per distinct troop count of the year's maps: kept as one
    row = next(r for r in deployments if (r["mission"], r["year"], r["location"]) == ("MINUSMA", 2015, "Gao"))
    assert (row["country"], row["iso3"]) == ("Mali", "MLI")
    assert row["troops_avg"] == int(gao[0]["ave.no.troops"])
    assert row["troops_max"] == max(int(r["NoTroops"]) for r in gao)
    assert row["hq"] == max(int(r["hq"]) for r in gao) and row["infantry"] == int(gao[0]["Infantry"])
    assert parsed.rows == len(
        {(r["mission"], r["year"], r["country"], r["location"]) for r in _rows(files[0])}
    )
    # contributors: "Nepal (size unknown), ..." split into rows; an unknown size is null
    first = _rows(files[1])[0]
    place = (first["mission"], int(first["year"]), first["location"])
    tcc = [
        r
        for r in parsed.tables["_contributors"].to_pylist()
        if (r["mission"], r["year"], r["location"]) == place
    ]
    assert len(tcc) == int(first["No.TCC"]) and first["year.overview"].startswith(tcc[0]["contributor"])
    assert ("size unknown" in first["year.overview"]) == (tcc[0]["troops"] is None)
    assert parsed.tables["_units"].num_rows == len(_rows(files[2]))
    assert "country=Ethiopia/Eritrea" in parsed.unmapped.summary()  # UNMEE's two hosts: named, not dropped
    # a contributor list that disagrees with its count is refused by line and field
    lines = files[1].read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "TCCMap_v.2.3.csv"
    bad.write_text("\n".join([lines[0], lines[1], lines[2].replace(",1,", ",2,", 1)]), encoding="utf-8")
    with pytest.raises(
        ValidationError, match=r"line 3, field year.overview: 1 contributors where No.TCC says 2"
    ):
        peacekeeping.parse_geopko([files[0], bad])
    with pytest.raises(ValidationError, match="no Geo-PKO deployments file"):
        peacekeeping.parse_geopko([files[2]])


def test_hks_country_months(cli: Run, shared: Path, tmp_path: Path, lake_sql) -> None:  # type: ignore[no-untyped-def]
    hks = shared / "peacekeeping_hks2013" / "hks2013_country_month.csv"
    out = cli("sources", "load", "peacekeeping_hks", str(hks))
    rows = _rows(hks)
    assert f"{len(rows):,} country-months" in out
    with_pko = next(r for r in rows if float(r["troopLag"]) > 1)
    where = f"country = '{with_pko['location']}' AND year = {with_pko['year']} AND month = {with_pko['mon']}"
    got = lake_sql(
        "SELECT osv, troops_lag, police_lag, observers_lag, brd_lag, pko_present FROM peacekeeping_hks "
        f"WHERE {where}"
    )
    expected = (int(with_pko["osvAll"]), float(with_pko["troopLag"]), float(with_pko["policeLag"]))
    expected += (float(with_pko["militaryobserversLag"]), int(with_pko["brv_AllLag"]), 1)
    assert got == [expected]
    names = dict(lake_sql("SELECT DISTINCT country, iso3 FROM peacekeeping_hks"))
    assert names["Democratic Republic of Congo (Zaire)"] == "COD" and names["Cote D_Ivoire"] == "CIV"
    assert None not in names.values()
    lines = hks.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "hks.csv"
    fields = lines[9].split(",")
    fields[2] = "13"  # mon
    bad.write_text("\n".join([*lines[:9], ",".join(fields), *lines[10:20]]))
    before = lake_sql("SELECT count(*) FROM peacekeeping_hks")
    out = cli("sources", "load", "peacekeeping_hks", str(bad), code=2)
    assert "hks.csv, line 10, field mon: 13 is outside [1, 12]" in out
    assert lake_sql("SELECT count(*) FROM peacekeeping_hks") == before
    shutil.copyfile(hks, tmp_path / "again.csv")  # the same bytes from elsewhere: nothing changes
    assert "unchanged" in cli("sources", "load", "peacekeeping_hks", str(tmp_path / "again.csv"))
