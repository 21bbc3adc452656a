"""The CAMEO codebook into the context lake: through the CLI, from files and over HTTP."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from detente.core.errors import ValidationError
from detente.sources import cameo
from detente.sources.lake import LAKE_FILE


@pytest.fixture
def files(shared: Path) -> list[Path]:
    return [shared / "cameo" / "CAMEO.eventcodes.txt", shared / "cameo" / "CAMEO.goldsteinscale.txt"]


def lake_rows(tmp_path: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    with duckdb.connect(str(tmp_path / "ws" / LAKE_FILE), read_only=True) as db:
        return db.execute(sql).fetchall()


def test_the_codebook_loads_once_with_provenance(cli, tmp_path: Path, files: list[Path]) -> None:  # type: ignore[no-untyped-def]
    out = cli("sources", "load", "cameo", *map(str, files))
    assert "cameo: loaded 311 rows" in out
    assert lake_rows(
        tmp_path, "SELECT description, goldstein, quad_class, root FROM cameo WHERE code = '062'"
    ) == [("Cooperate militarily", 7.4, 2, "06")]
    assert lake_rows(tmp_path, "SELECT quad_class FROM cameo WHERE code = '0312'") == [(1,)]
    assert lake_rows(tmp_path, "SELECT quad_class FROM cameo WHERE code = '190'") == [(4,)]
    first = lake_rows(tmp_path, "SELECT sha256, loaded_at, loaded_by, rows FROM provenance")
    assert first[0][2] == "analyst" and first[0][3] == 311
    assert "unchanged" in cli("sources", "load", "cameo", *map(str, files))
    assert lake_rows(tmp_path, "SELECT sha256, loaded_at, loaded_by, rows FROM provenance") == first
    listing = cli("sources", "list")
    assert "cameo" in listing and "311" in listing
    assert "ok cameo" in cli("sources", "check")


def test_check_notices_changed_files(cli, tmp_path: Path, files: list[Path]) -> None:  # type: ignore[no-untyped-def]
    copies = []
    for f in files:
        copy = tmp_path / f.name
        copy.write_bytes(f.read_bytes())
        copies.append(copy)
    cli("sources", "load", "cameo", *map(str, copies))
    copies[1].write_text(copies[1].read_text().replace("062\t7.4", "062\t9.9"))
    assert "files changed" in cli("sources", "check", code=7)


def test_bad_files_are_refused_by_file_and_line_and_the_lake_keeps_what_it_had(
    cli, tmp_path: Path, files: list[Path]
) -> None:  # type: ignore[no-untyped-def]
    cli("sources", "load", "cameo", *map(str, files))
    bad = tmp_path / "bad"
    bad.mkdir()
    codes = bad / "CAMEO.eventcodes.txt"
    scale = bad / "CAMEO.goldsteinscale.txt"
    scale.write_bytes(files[1].read_bytes())
    lines = files[0].read_text(encoding="utf-8").splitlines()
    cases = {
        "\n".join(
            [*lines[:5], "06x\tCooperate oddly", *lines[5:]]
        ): "line 6: '06x' is not a CAMEO event code",
        "\n".join(
            [*lines[:3], "0101 Make a statement", *lines[3:]]
        ): "line 4: expected 2 tab-separated columns",
        "CODE,DESC\n01,x": "line 1: expected the header",
    }
    for text, message in cases.items():
        codes.write_text(text, encoding="utf-8")
        assert message in cli("sources", "load", "cameo", str(codes), str(scale), code=2)
    codes.write_bytes(files[0].read_bytes().replace(b"Cooperate militarily", b"Coop\xff militarily"))
    assert "line 90: not UTF-8 text" in cli("sources", "load", "cameo", str(codes), str(scale), code=2)
    assert lake_rows(tmp_path, "SELECT count(*) FROM cameo") == [(311,)]
    assert lake_rows(tmp_path, "SELECT description FROM cameo WHERE code = '062'") == [
        ("Cooperate militarily",)
    ]
    with pytest.raises(ValidationError, match="needs CAMEO.goldsteinscale.txt"):
        cameo.parse([files[0]])


@pytest.fixture
def mirror(shared: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(shared / "cameo"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_fetch_downloads_the_release_and_loads_it(cli, tmp_path: Path, mirror: str) -> None:  # type: ignore[no-untyped-def]
    assert "cameo: loaded 311 rows" in cli("sources", "fetch", "cameo", "--mirror", mirror)
    assert (tmp_path / "ws" / "downloads" / "cameo" / "CAMEO.eventcodes.txt").is_file()
    assert "unchanged" in cli("sources", "fetch", "cameo", "--mirror", mirror)
    assert "HTTP 404" in cli("sources", "fetch", "cameo", "--mirror", mirror + "/nothing-here", code=2)
