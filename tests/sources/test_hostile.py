"""Hostile files given to `detente sources load` (issue #11, point 5): a gzip bomb is
refused while it inflates, in bounded memory; JSON nested 10,000 deep is refused before
it is parsed; columns named in a header that no loader reads and no provider documents
are reported, never dropped silently. The lake keeps what it had after every refusal."""

from __future__ import annotations

import csv
import io
import json
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

Run = Callable[..., str]
GIB = 1 << 30
PEAK_LIMIT_MB = 300


def gzip_of_zeros(path: Path, size: int = GIB) -> Path:
    """A valid gzip file of ``size`` zero bytes, about 1 MB for 1 GiB. One mebibyte of zeros
    is deflated once, ending in a full flush (a block boundary that forgets the history),
    and that block is repeated: the same stream ``gzip.compress`` would write, in 0.5 s
    instead of 5 s of compressing a gibibyte."""
    chunk = bytes(1 << 20)
    block = (z := zlib.compressobj(9, zlib.DEFLATED, -15)).compress(chunk) + z.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty last block
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    path.write_bytes(header + block * (size // len(chunk)) + final + trailer)
    return path


# the child reports its own peak at exit: VmHWM, the high-water mark of its resident memory
# since it started (``ru_maxrss`` would not do: Linux carries the parent's, this test
# process's, over the fork and exec into the child's)
_MEASURED = """
import atexit, os, sys

def _peak():
    with open("/proc/self/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    with open(os.environ["DETENTE_TEST_PEAK_FILE"], "w") as out:
        out.write(str(kb))

atexit.register(_peak)
from detente.cli.app import main
sys.argv[0] = "detente"
main()
"""


def run_measured(args: list[str], peak_file: Path) -> tuple[int, str, float]:
    """Run the CLI in a child process: (exit code, output, peak resident memory in MB).

    Peak memory is the most physical memory the child ever held (VmHWM). A limit on
    address space (``RLIMIT_AS``) would count what allocators and thread stacks only
    reserve, which varies with the machine's cores, so that is not what is measured."""
    child = subprocess.run(
        [sys.executable, "-c", _MEASURED, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "200", "DETENTE_TEST_PEAK_FILE": str(peak_file)},
        check=False,
    )
    return child.returncode, child.stdout.decode(), int(peak_file.read_text()) / 1024


def test_a_gzip_bomb_is_refused_in_bounded_memory(cli: Run, shared: Path, tmp_path: Path, lake_sql) -> None:  # type: ignore[no-untyped-def]
    cli("sources", "load", "gdelt", str(shared / "gdelt" / "20191024143000.export.CSV"))
    before = (
        lake_sql("SELECT count(*), min(source_id), max(source_id) FROM gdelt"),
        lake_sql("SELECT source, sha256, rows FROM provenance ORDER BY source"),
    )
    bomb = gzip_of_zeros(tmp_path / "20191025.export.CSV.gz")
    assert bomb.stat().st_size < 1_100_000
    code, output, peak = run_measured(
        ["--workspace", str(tmp_path / "ws"), "sources", "load", "gdelt", str(bomb)], tmp_path / "peak"
    )
    print(f"peak resident memory of the refused load: {peak:.0f} MB")
    assert peak < PEAK_LIMIT_MB, f"peak resident memory {peak:.0f} MB"
    message = " ".join(output.split())
    assert code == 2, output
    assert "would inflate more than 200 times its compressed size" in message and "refused" in message
    assert "Traceback" not in output
    after = (
        lake_sql("SELECT count(*), min(source_id), max(source_id) FROM gdelt"),
        lake_sql("SELECT source, sha256, rows FROM provenance ORDER BY source"),
    )
    assert after == before and before[0][0][0] == 2111


def test_extra_columns_named_in_the_header_are_reported(
    cli: Run, shared: Path, tmp_path: Path, lake_sql
) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.reader((shared / "ucdp_acd" / "ucdp-prio-acd-221.csv").open(encoding="utf-8")))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*rows[0], "injected", "comment"])
    writer.writerows([*row, "1", "x"] for row in rows[1:])
    padded = tmp_path / "ucdp-prio-acd-221-padded.csv"
    padded.write_text(out.getvalue(), encoding="utf-8")
    note = (
        "ucdp-prio-acd-221-padded.csv: column(s) injected, comment are not in the ucdp_acd layout: not loaded"
    )
    assert note in " ".join(cli("sources", "load", "ucdp_acd", str(padded)).split())
    assert note in " ".join(cli("sources", "show", "ucdp_acd").split())
    columns = {name for (name,) in lake_sql("SELECT column_name FROM information_schema.columns "
                                             "WHERE table_name = 'ucdp_acd'")}  # fmt: skip
    assert "conflict_id" in columns and not {"injected", "comment"} & columns
    # the provider's own file, with its documented columns the lake leaves out: no note
    official = cli("sources", "load", "ucdp_acd", str(shared / "ucdp_acd" / "ucdp-prio-acd-221.csv"))
    assert "not in the ucdp_acd layout" not in official


def test_deep_json_files_are_refused_before_parsing(cli: Run, shared: Path, tmp_path: Path, lake_sql) -> None:  # type: ignore[no-untyped-def]
    entities = (shared / "opensanctions").glob("*.ftm.json")
    real = min(entities, key=lambda p: p.stat().st_size)
    cli("sources", "load", "opensanctions", str(real))
    before = lake_sql("SELECT count(*) FROM opensanctions")
    lines = real.read_text(encoding="utf-8").splitlines()
    deep = "[" * 10_000 + "]" * 10_000
    bad = tmp_path / "entities.ftm.json"
    bad.write_text("\n".join([*lines[:3], deep, *lines[3:]]), encoding="utf-8")
    out = cli("sources", "load", "opensanctions", str(bad), code=2)
    assert f"{bad}, line 4: JSON nested deeper than 64 levels; refused" in " ".join(out.split())
    geo = tmp_path / "GEDEvent.geojson"
    geo.write_text(json.dumps({"type": "FeatureCollection", "features": []})[:-1] + ', "x": ' + deep + "}")
    out = cli("sources", "load", "ucdp_ged", str(geo), code=2)
    assert "JSON nested deeper than 64 levels" in out and "Traceback" not in out
    assert lake_sql("SELECT count(*) FROM opensanctions") == before
