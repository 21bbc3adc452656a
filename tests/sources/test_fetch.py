"""Fetching releases: the provider's file names (a zip for UCDP, XML for the UN) served on
loopback stand in for the providers (CI has no internet); versions fill the URL."""

from __future__ import annotations

import functools
import http.server
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from detente.sources.service import source

Run = Callable[..., str]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    folder = tmp_path / "provider"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_a_versioned_zip_release_is_fetched_opened_and_loaded(
    cli: Run, shared: Path, served: tuple[Path, str], lake_sql
) -> None:  # type: ignore[no-untyped-def]
    folder, base = served
    assert source("ucdp_brd").resolved_urls("22.1") == {
        "ucdp-brd-dyadic-221-csv.zip": "https://ucdp.uu.se/downloads/brd/ucdp-brd-dyadic-221-csv.zip"
    }
    with zipfile.ZipFile(folder / "ucdp-brd-dyadic-221-csv.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.write(shared / "ucdp_brd" / "ucdp-brd-dyadic-221_to2019.csv", "ucdp-brd-dyadic-221.csv")
    out = cli("sources", "fetch", "ucdp_brd", "--version", "22.1", "--mirror", base)
    assert "ucdp_brd: loaded 1,293 rows" in out
    assert lake_sql("SELECT version FROM provenance WHERE source = 'ucdp_brd'") == [("22.1",)]
    assert "HTTP 404" in cli("sources", "fetch", "ucdp_brd", "--version", "99.1", "--mirror", base, code=2)


def test_lists_fetch_under_their_official_names_and_url_serves_the_rest(
    cli: Run, shared: Path, served: tuple[Path, str], lake_sql
) -> None:  # type: ignore[no-untyped-def]
    folder, base = served
    (folder / "consolidated.xml").write_bytes(
        (shared / "un_consolidated" / "un_consolidated_2024-09-26.xml").read_bytes()
    )
    assert "un_sanctions: loaded 875 rows" in cli("sources", "fetch", "un_sanctions", "--mirror", base)
    out = cli("sources", "fetch", "exercises", code=2)
    assert "publishes no stable download address" in out and "--url" in out
    (folder / "mme_long.csv.gz").write_bytes(
        (shared / "military_exercises" / "troopdata_mme_long.csv.gz").read_bytes()
    )
    out = cli("sources", "fetch", "exercises", "--url", f"{base}/mme_long.csv.gz")
    assert "exercises: loaded 13,818 rows" in out
    assert lake_sql("SELECT count(*) FROM exercises") == [(13818,)]
