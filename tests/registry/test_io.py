"""Import and export: formats, all-or-nothing imports, idempotent re-imports, bad files."""

from __future__ import annotations

import csv
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest

from detente.bulk.io import FORMATS, export_tables, import_file
from detente.core.errors import ImportRowsError, ValidationError
from detente.core.workspace import Workspace
from detente.store.records import record_types
from detente.store.service import Store
from tests import factories as f
from tests.conftest import start_migrated


def snapshot(ws: Workspace) -> dict[str, dict[str, dict]]:
    """Every record of every table, keyed by id. The owning organisation is left out."""
    with ws.session() as s:
        reg = f.registry(s)
        return {
            name: {r.id: r.model_dump(exclude={"owner_org_id"}) for r in reg.iter_all(name)}
            for name in record_types()
        }


BOOKKEEPING = {"owner_org_id", "created_at", "created_by", "updated_at", "updated_by", "version"}


def contents(ws: Workspace) -> dict[str, dict[str, dict]]:
    """Every record of every table, as content that does not depend on the workspace (what
    'without loss' compares across workspaces). An import gives records new ids and keeps
    the file's id as the external id (when there was none), so a record is keyed by its
    external id, else its id, and references name their target the same way. Bookkeeping
    (owner, authors, times, version) is the importer's in the other workspace: left out."""
    with ws.session() as s:
        reg = f.registry(s)
        records = {name: list(reg.iter_all(name)) for name in record_types()}
    key = {r.id: r.external_id or r.id for rs in records.values() for r in rs}

    def named(value: object) -> object:
        if isinstance(value, list):
            return [key.get(v, v) if isinstance(v, str) else v for v in value]
        return key.get(value, value) if isinstance(value, str) else value

    out: dict[str, dict[str, dict]] = {}
    for name, rows in records.items():
        res = record_types()[name]
        refs = {*res.refs, *res.links}
        out[name] = {
            key[r.id]: {
                k: named(v) if k in refs else v
                for k, v in r.model_dump(exclude={"id", "external_id", *BOOKKEEPING}).items()
            }
            for r in rows
        }
    return out


def fill(reg: Store) -> None:
    fra, gha = f.state(reg, "FRA", "France"), f.state(reg, "GHA", "Ghana", aliases=["Gold Coast"])
    mod = f.ministry(reg, fra, notes="line one\nline two; with semicolon")
    ag = f.agreement(
        reg,
        fra,
        gha,
        activity_types=["joint_exercise", "port_call"],
        expires_on=date(2030, 5, 1),
        marking="RESTRICTED",
    )
    eng = f.engagement(
        reg,
        mod,
        [gha, fra],
        agreement_id=ag.id,
        kind="joint_exercise",
        troops=1200,
        tanks=4,
        cost="250000.75",
        currency="EUR",
        title='=HYPERLINK("http://evil")',
        status="approved",
    )
    f.person(reg, organisation_id=mod.id, start_date=date(2024, 8, 1))
    f.commitment(reg, eng, mod)
    plan = reg.create("initiatives", {"title": "Gulf of Guinea", "region": "West Africa", "status": "active"})
    goal = reg.create(
        "objectives",
        {"initiative_id": plan.id, "title": "Patrols", "line_of_effort": "maritime_security",
         "engagements": [eng.id], "agreements": [ag.id], "assumptions": "Fuel; budgets\nhold"},
    )  # fmt: skip
    gauge = reg.create(
        "indicators",
        {"objective_id": goal.id, "name": "Patrol days", "unit": "days", "baseline_value": 40.5,
         "baseline_date": date(2025, 1, 1), "target_value": 40.5, "higher_is_better": True,
         "target_date": date(2026, 1, 1), "computed_from": "completed_exercises:GHA"},
    )  # fmt: skip
    reg.create("observations", {"indicator_id": gauge.id, "value": -0.25, "observed_on": date(2025, 4, 1)})
    review = reg.create(
        "evaluations",
        {"initiative_id": plan.id, "title": "Review", "kind": "formative", "conducted_on": date(2025, 6, 1),
         "rating": "satisfactory", "marking": "RESTRICTED"},
    )  # fmt: skip
    reg.create("lessons", {"title": "Fuel first", "observation": "Boats idle", "evaluation_id": review.id,
                           "initiative_id": plan.id, "engagements": [eng.id]})  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_every_format(ws: Workspace, tmp_path: Path, fmt: str, migrated_sqlite: Path) -> None:
    with ws.session() as s:
        fill(f.registry(s))
    out = tmp_path / ("export" if fmt in ("csv", "parquet") else f"export.{fmt}")
    with ws.session() as s:
        files = export_tables(f.registry(s), fmt, out)
    from detente.core.settings import Settings
    from detente.core.workspace import create_workspace

    start_migrated(migrated_sqlite, tmp_path / "copy" / "registry.sqlite")
    with create_workspace(
        Settings(workspace=tmp_path / "copy", database_url=""),
    ) as copy:
        with copy.session() as s:
            for file in files:
                import_file(f.registry(s), file)
        assert contents(copy) == contents(ws)
        # the same files again change nothing
        first = snapshot(copy)
        with copy.session() as s:
            reports = [import_file(f.registry(s), file) for file in files]
        assert sum(r.total("created") + r.total("updated") for r in reports) == 0
        assert sum(r.total("unchanged") for r in reports) == 13
        assert snapshot(copy) == first
        # authorship in the files was set aside, and the report says so
        assert all(
            "created_at, created_by, updated_at, updated_by" in " ".join(r.warnings)
            for r in reports
            if r.total("unchanged")
        )


def test_xlsx_values_never_become_formulas(ws: Workspace, tmp_path: Path) -> None:
    import openpyxl

    with ws.session() as s:
        fill(f.registry(s))
        export_tables(f.registry(s), "xlsx", tmp_path / "r.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "r.xlsx")["engagements"]
    titles = [c for c in sheet[2] if c.value and str(c.value).startswith("=HYPERLINK")]
    assert titles and all(c.data_type == "s" for c in titles)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as h:
        w = csv.writer(h)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_user_spreadsheet_with_names_imports_and_reimports_without_duplicates(
    reg: Store, tmp_path: Path
) -> None:
    actors = write_csv(
        tmp_path / "actors.csv",
        ["Name", "Kind", "Country", "parent_id"],
        [
            ["Kenya", "state", "Kenya", ""],
            ["Kenya Defence Forces", "armed_service", "KEN", "Ministry of Defence of Kenya"],
            ["Ministry of Defence of Kenya", "defense_ministry", "Kenia", "Kenya"],  # parent later
            ["France", "state", "FRA", ""],
        ],
    )
    engagements = write_csv(
        tmp_path / "engagements.csv",
        ["title", "kind", "lead_actor_id", "partners", "start_date", "location_country", "status"],
        [
            [
                "Maritime staff talks",
                "defense_dialogue",
                "France",
                "Kenya; Ministry of Defence of Kenya",
                "2025-02-11",
                "Kenya",
                "executed",
            ]
        ],
    )
    first = import_file(reg, actors)
    assert first.created == {"actors": 4}
    again = import_file(reg, actors)
    assert again.total("created") == 0 and again.unchanged == {"actors": 4}
    import_file(reg, engagements)
    import_file(reg, engagements)
    (eng,) = reg.list("engagements")
    assert eng.location_country == "KEN" and len(eng.partners) == 2
    kdf = reg.get("actors", reg.resolve_ref("actors", "Kenya Defence Forces"))
    assert reg.get("actors", kdf.parent_id).name == "Ministry of Defence of Kenya"


def test_half_bad_file_writes_nothing_and_names_every_bad_row(ws: Workspace, tmp_path: Path) -> None:
    with ws.session() as s:
        f.state(f.registry(s), "FRA", "France")
    before = snapshot(ws)
    bad = write_csv(
        tmp_path / "engagements.csv",
        ["title", "kind", "lead_actor_id", "start_date", "troops", "colour"],
        [
            ["Good one", "senior_visit", "France", "2025-01-01", "3", ""],
            ["Bad kind", "picnic", "France", "2025-01-02", "", ""],
            ["Bad date", "senior_visit", "France", "2025-13-45", "", ""],
            ["Bad lead", "senior_visit", "Atlantis", "2025-01-03", "", ""],
            ["Bad count", "senior_visit", "France", "2025-01-04", "many", "blue"],
        ],
    )
    with pytest.raises(ImportRowsError) as err, ws.session() as s:
        import_file(f.registry(s), bad)
    problems = {(e.row, e.field) for e in err.value.errors}
    assert problems == {(1, "colour"), (3, "kind"), (4, "start_date"), (5, "lead_actor_id"), (6, "troops")}
    assert (2, None) not in problems and all(e.row != 2 for e in err.value.errors)
    assert "engagements.csv [engagements], row 3, field 'kind'" in err.value.message
    assert snapshot(ws) == before  # not even the good row was written


def test_stale_row_in_file_is_refused(ws: Workspace, tmp_path: Path) -> None:
    with ws.session() as s:
        reg = f.registry(s)
        fra = f.state(reg, "FRA", "France")
        export_tables(reg, "csv", tmp_path / "x", ["actors"])
        reg.update("actors", fra.id, {"notes": "changed meanwhile"}, expected_version=1)
    rows = list(csv.DictReader((tmp_path / "x" / "actors.csv").open()))
    rows[0]["notes"] = "my offline edit"
    path = write_csv(tmp_path / "actors.csv", list(rows[0]), [list(rows[0].values())])
    with (
        pytest.raises(ImportRowsError, match="file has version 1 .* registry has version 2"),
        ws.session() as s,
    ):
        import_file(f.registry(s), path)


def test_bad_files_get_clear_errors(reg: Store, tmp_path: Path) -> None:
    (tmp_path / "actors.json").write_text("{not json")
    with pytest.raises(ValidationError, match="actors.json: cannot read as json"):
        import_file(reg, tmp_path / "actors.json")
    (tmp_path / "stuff.csv").write_text("name,kind\nA,ngo\n")
    with pytest.raises(ValidationError, match="cannot tell which table"):
        import_file(reg, tmp_path / "stuff.csv")
    (tmp_path / "actors.txt").write_text("x")
    with pytest.raises(ValidationError, match="unsupported file type"):
        import_file(reg, tmp_path / "actors.txt")
    big = write_csv(tmp_path / "people.csv", ["name"], [["x" * 100]] * 20)
    with pytest.raises(ValidationError, match="over the import limit"):
        import_file(reg, big, max_bytes=1000)
    ragged = tmp_path / "actors.csv"
    ragged.write_text("name,kind\nA,ngo,extra,cells\n")
    with pytest.raises(ValidationError, match=r"actors.csv, row 2: 4 cells but the header has 2"):
        import_file(reg, ragged)
    (tmp_path / "actors.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValidationError, match="actors.xlsx: cannot read as xlsx"):
        import_file(reg, tmp_path / "actors.xlsx")


def test_hostile_xlsx_is_refused(reg: Store, tmp_path: Path) -> None:
    """A workbook whose XML declares entities (billion laughs) must not be expanded."""
    import openpyxl

    good = tmp_path / "good.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "actors"
    book.active.append(["name", "kind"])
    book.active.append(["A", "ngo"])
    book.save(good)
    evil = tmp_path / "actors.xlsx"
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{"&lol{};".format(i - 1 if i > 1 else "") * 10}">' for i in range(1, 9)
        ).replace("&lol0;", "&lol;")
        + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol8;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(evil, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = bomb.encode()
            dst.writestr(item, data)
    with pytest.raises(ValidationError, match="actors.xlsx"):
        import_file(reg, evil)
    assert reg.count("actors") == 0


def test_json_document_with_several_tables(reg: Store, tmp_path: Path) -> None:
    doc = {
        "tables": {
            "engagements": [
                {
                    "title": "Port call Mombasa",
                    "kind": "port_call",
                    "lead_actor_id": "fr-navy",
                    "start_date": "2025-06-01",
                    "troops": 340,
                }
            ],
            "actors": [
                {"name": "France", "kind": "state", "country": "FRA"},
                {
                    "name": "French Navy",
                    "kind": "armed_service",
                    "parent_id": "France",
                    "external_id": "fr-navy",
                },
            ],
        }
    }
    (tmp_path / "batch.json").write_text(json.dumps(doc))
    report = import_file(reg, tmp_path / "batch.json")
    assert report.created == {"actors": 2, "engagements": 1}
    (eng,) = reg.list("engagements")
    assert reg.get("actors", eng.lead_actor_id).external_id == "fr-navy"


def test_packed_files_are_refused_by_what_they_declare_before_parsing(reg: Store, tmp_path: Path) -> None:
    """A Parquet file or workbook that would unpack past ten times the import limit is
    refused from its footer or zip directory, before it is inflated."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    packed = tmp_path / "actors.parquet"
    names = pa.array(["Same name"] * 200_000)
    pq.write_table(pa.table({"name": names, "kind": names}), packed, use_dictionary=False, compression="zstd")
    assert packed.stat().st_size < 20_000
    with pytest.raises(ValidationError, match=r"actors.parquet: would inflate to more than 1,000,000 bytes"):
        import_file(reg, packed, max_bytes=100_000)
    book = tmp_path / "actors.xlsx"
    with zipfile.ZipFile(book, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b" " * 2_000_000)
    with pytest.raises(
        ValidationError, match=r"actors.xlsx: would inflate to 2,000,000 bytes, over 1,000,000"
    ):
        import_file(reg, book, max_bytes=100_000)
    assert reg.count("actors") == 0
