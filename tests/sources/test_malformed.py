"""Bad input is refused with the file and line, safely, and the lake keeps what it had;
the ICEWS official layout (built from its documented columns) normalises like GDELT."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from detente.core.errors import ValidationError
from detente.sources import events, sanctions, ucdp

Run = Callable[..., str]


def _lines(path: Path) -> list[str]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return raw.decode("utf-8-sig").splitlines()


def test_broken_files_are_refused_by_file_and_line(cli: Run, shared: Path, tmp_path: Path, lake_sql) -> None:  # type: ignore[no-untyped-def]
    brd = shared / "ucdp_brd" / "ucdp-brd-dyadic-221_to2019.csv"
    cli("sources", "load", "ucdp_brd", str(brd))
    before = lake_sql("SELECT count(*), sum(bd_best) FROM ucdp_brd")
    lines = _lines(brd)
    bad = tmp_path / "bad.csv"

    # truncated gzip
    gz = tmp_path / "brd.csv.gz"
    whole = gzip.compress("\n".join(lines).encode())
    gz.write_bytes(whole[: len(whole) // 2])
    assert "truncated or corrupt gzip" in cli("sources", "load", "ucdp_brd", str(gz), code=2)
    # wrong delimiter
    bad.write_text("\n".join(line.replace(",", ";") for line in lines), encoding="utf-8")
    out = cli("sources", "load", "ucdp_brd", str(bad), code=2)
    assert "line 1: expected comma-separated columns; this looks semicolon-separated" in out
    # a missing column
    header = lines[0].split(",")
    drop = header.index("bd_best")
    out_rows = io.StringIO()
    csv.writer(out_rows, lineterminator="\n").writerows(
        [c for i, c in enumerate(row) if i != drop] for row in csv.reader(lines[:5])
    )
    bad.write_text(out_rows.getvalue(), encoding="utf-8")
    assert "missing column(s) bd_best" in cli("sources", "load", "ucdp_brd", str(bad), code=2)
    # non-UTF-8 bytes on line 7
    data = "\n".join(lines).encode()
    at = sum(len(line) + 1 for line in lines[:6]) + 3
    bad.write_bytes(data[:at] + b"\xff" + data[at:])
    assert "line 7: not UTF-8 text (byte 0xff)" in cli("sources", "load", "ucdp_brd", str(bad), code=2)
    # a value of the wrong kind, and a row with a field too many
    rows = list(csv.reader(lines[:6]))
    rows[3][header.index("bd_best")] = "many"
    out_rows = io.StringIO()
    csv.writer(out_rows, lineterminator="\n").writerows(rows)
    bad.write_text(out_rows.getvalue(), encoding="utf-8")
    out = cli("sources", "load", "ucdp_brd", str(bad), code=2)
    assert "line 4, field bd_best: 'many' is not a whole number" in out
    bad.write_text("\n".join([*lines[:4], lines[4] + ",extra", *lines[5:7]]), encoding="utf-8")
    assert "line 5: 26 fields where the header has 25" in cli("sources", "load", "ucdp_brd", str(bad), code=2)
    assert lake_sql("SELECT count(*), sum(bd_best) FROM ucdp_brd") == before


def test_dates_out_of_range_are_refused(shared: Path, tmp_path: Path) -> None:
    ged = shared / "ucdp_ged" / "uncertainUCDP_ucdpged_sample1000_v23.csv.gz"
    lines = _lines(ged)
    head = lines[0].split(",")
    row = next(iter(csv.reader([lines[1]])))
    row[head.index("date_start")] = "2999-01-03"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row)
    bad = tmp_path / "ged.csv"
    bad.write_text(lines[0] + "\n" + out.getvalue(), encoding="utf-8")
    with pytest.raises(
        ValidationError, match=r"ged.csv, line 2, field date_start: date 2999-01-03 is out of range"
    ):
        ucdp.parse_ged([bad])
    gdelt = (shared / "gdelt" / "20191024143000.export.CSV").read_text(encoding="utf-8").splitlines()
    fields = gdelt[2].split("\t")
    fields[1] = "17991024"
    tsv = tmp_path / "export.CSV"
    tsv.write_text("\n".join([gdelt[0], gdelt[1], "\t".join(fields)]), encoding="utf-8")
    with pytest.raises(
        ValidationError, match=r"export.CSV, line 3, field SQLDATE: date 1799-10-24 is out of range"
    ):
        events.parse_gdelt([tsv])
    fields[1] = "20191024"
    tsv.write_text("\n".join([gdelt[0], "\t".join(fields[:40])]), encoding="utf-8")
    with pytest.raises(ValidationError, match=r"line 2: 40 fields; GDELT events have 57"):
        events.parse_gdelt([tsv])
    tsv.write_text(gdelt[0].replace("\t", ","), encoding="utf-8")
    with pytest.raises(ValidationError, match=r"line 1: expected GDELT's tab-separated columns"):
        events.parse_gdelt([tsv])


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>&lol9;</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>
"""

EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY secret SYSTEM "file://{path}"> ]>
<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>&secret;</FIRST_NAME>
</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>
"""


def test_hostile_xml_is_refused_without_expanding_or_fetching(
    cli: Run, shared: Path, tmp_path: Path, lake_sql
) -> None:  # type: ignore[no-untyped-def]
    cli("sources", "load", "un_sanctions", str(shared / "un_consolidated" / "un_consolidated_2018-10-29.xml"))
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(BOMB, encoding="utf-8")
    assert "refused: the XML declares or references entities" in cli(
        "sources", "load", "un_sanctions", str(bomb), code=2
    )
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET PASSWORD", encoding="utf-8")
    external = tmp_path / "external.xml"
    external.write_text(EXTERNAL.format(path=secret), encoding="utf-8")
    out = cli("sources", "load", "un_sanctions", str(external), code=2)
    assert "refused" in out and "TOP SECRET" not in out
    broken = tmp_path / "broken.xml"
    broken.write_text("<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL></INDIVIDUALS>", encoding="utf-8")
    assert "broken.xml, line 3, column" in cli("sources", "load", "un_sanctions", str(broken), code=2)
    with pytest.raises(ValidationError, match="refused"):
        sanctions.parse_ofac([bomb])
    assert lake_sql("SELECT count(*) FROM un_sanctions") == [(1093,)]
    assert lake_sql("SELECT count(*) FROM un_sanctions WHERE name LIKE '%lol%' OR name LIKE '%SECRET%'") == [
        (0,)
    ]


def test_other_broken_formats(cli: Run, shared: Path, tmp_path: Path) -> None:
    ftm = tmp_path / "entities.ftm.json"
    lines = _lines(shared / "opensanctions" / "yente_fixture_t1_entities.ftm.json")
    ftm.write_text("\n".join([lines[0], lines[1][:-20], lines[2]]), encoding="utf-8")
    assert "entities.ftm.json, line 2: not a JSON object" in cli(
        "sources", "load", "opensanctions", str(ftm), code=2
    )
    junk = tmp_path / "ideal.dta"
    junk.write_bytes(b"<stata_dta><header>nonsense")
    assert "not a readable Stata .dta file" in cli("sources", "load", "unga_ideal", str(junk), code=2)
    parquet = tmp_path / "cm.parquet"
    parquet.write_bytes(b"PAR1 not really")
    assert "not a readable Parquet file" in cli("sources", "load", "views", str(parquet), code=2)
    sipri = tmp_path / "trade-register.csv"
    sipri.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    assert "not a SIPRI trade register export" in cli("sources", "load", "sipri", str(sipri), code=2)
    sdn = tmp_path / "sdn.csv"
    sdn.write_text('36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA"\n', encoding="utf-8")
    assert "sdn.csv, line 1: 4 fields; OFAC's sdn.csv has 12" in cli(
        "sources", "load", "ofac", str(sdn), code=2
    )


def test_a_zip_bomb_is_refused_and_a_providers_zip_is_opened(cli: Run, shared: Path, tmp_path: Path) -> None:
    bomb = tmp_path / "ged231-csv.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("GEDEvent_v23_1.csv", b"0" * 50_000_000)
    assert "would inflate" in cli("sources", "load", "ucdp_ged", str(bomb), code=2)
    good = tmp_path / "ucdp-brd-dyadic-221-csv.zip"
    with zipfile.ZipFile(good, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.write(shared / "ucdp_brd" / "ucdp-brd-dyadic-221_to2019.csv", "ucdp-brd-dyadic-221.csv")
        z.writestr("readme.pdf", b"%PDF-1.4 codebook")
    assert "ucdp_brd: loaded 1,293 rows" in cli("sources", "load", "ucdp_brd", str(good))


ICEWS_ROWS = [
    # Event ID, Event Date, Source Name, Source Sectors, Source Country, Event Text, CAMEO Code,
    # Intensity, Target Name, Target Sectors, Target Country, Story ID, Sentence Number,
    # Publisher, City, District, Province, Country, Latitude, Longitude
    [
        "26838791", "2018-01-01", "Armed Forces (Japan)", "Military,Government", "Japan",
        "Engage in military cooperation", "062", "7.4", "Military (United States)",
        "Military,Armed Forces", "United States", "47171512", "2", "Kyodo", "Tokyo", "", "Tokyo",
        "Japan", "35.6895", "139.6917",
    ],
    [
        "26838792", "2018-01-02", "Citizen (Nigeria)", "Civilian", "Nigeria", "Protest violently, riot",
        "145", "-7.5", "Police (Nigeria)", "Police", "Nigeria", "47171513", "1", "AFP", "Lagos", "",
        "Lagos", "Nigeria", "6.45", "3.39",
    ],
    [
        "26838793", "2018-01-03", "Rebel Group (Colombia)", "Rebel", "Colombia", "Fight with small arms",
        "190", "-10.0", "Colombian Army", "Military", "Colombia", "47171514", "3", "EFE", "", "",
        "Antioquia", "Colombia", "", "",
    ],
]  # fmt: skip


def test_icews_official_tab_separated_layout(tmp_path: Path) -> None:
    path = tmp_path / "events.2018.20190101.tab"
    path.write_text(
        "\n".join("\t".join(row) for row in [list(events.ICEWS_COLUMNS), *ICEWS_ROWS]) + "\n",
        encoding="utf-8",
    )
    table = events.parse_icews([path]).tables[""]
    got = [
        (r["date"].isoformat(), r["source_country"], r["source_type"], r["target_country"], r["target_type"],
         r["cameo_code"], r["root"], r["quad_class"], r["goldstein"], r["location"], r["dataset"])
        for r in table.to_pylist()
    ]  # fmt: skip
    assert got == [
        ("2018-01-01", "JPN", "MIL", "USA", "MIL", "062", "06", 2, 7.4, "Tokyo, Tokyo", "icews"),
        ("2018-01-02", "NGA", "CVL", "NGA", "COP", "145", "14", 4, -7.5, "Lagos, Lagos", "icews"),
        ("2018-01-03", "COL", "REB", "COL", "MIL", "190", "19", 4, -10.0, "Antioquia", "icews"),
    ]
    broken = tmp_path / "broken.tab"
    rows = [list(events.ICEWS_COLUMNS), ICEWS_ROWS[0], [*ICEWS_ROWS[1][:1], "2018-13-02", *ICEWS_ROWS[1][2:]]]
    broken.write_text("\n".join("\t".join(r) for r in rows), encoding="utf-8")
    with pytest.raises(
        ValidationError, match=r"broken.tab, line 3, field Event Date: '2018-13-02' is not a date"
    ):
        events.parse_icews([broken])


def test_an_error_wider_than_the_terminal_keeps_its_path_whole(cli: Run, tmp_path: Path) -> None:
    """A user copies the file named in an error: Rich must not break its line inside the
    path (the terminal wraps it, so a copy keeps it whole), however narrow the terminal."""
    from typer.testing import CliRunner

    from detente.cli.app import app

    deep = tmp_path / "a-rather-long-folder-name" / "and-another-one-beneath-it"
    deep.mkdir(parents=True)
    sipri = deep / "trade-register.csv"
    sipri.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    args = ["--workspace", str(tmp_path / "ws"), "sources", "load", "sipri", str(sipri)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "40"})
    assert result.exit_code == 2, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("error:"))
    assert str(sipri) in line and line.endswith("not a SIPRI trade register export"), result.output
