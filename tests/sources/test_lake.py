"""The lake's guarantees: a killed load leaves it as it was; the CAMEO parser never crashes
on arbitrary input with anything but a clear ValidationError."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detente.core.errors import ValidationError
from detente.sources import cameo
from detente.sources.lake import LAKE_FILE, Lake
from detente.sources.service import load

KILLER = """
import os, signal, sys
from pathlib import Path
import pyarrow as pa
from detente.sources.lake import Lake, Provenance, now

lake = Lake(Path(sys.argv[1]))
db = lake.db
real = db.execute

def execute(sql, *args):
    if sql.startswith("INSERT INTO provenance"):
        os.kill(os.getpid(), signal.SIGKILL)  # die mid-transaction, after the table was replaced
    return real(sql, *args)

class Spy:
    def __getattr__(self, name):
        return execute if name == "execute" else getattr(db, name)

lake.db = Spy()
table = pa.table({"code": [f"{i:04d}" for i in range(200_000)], "description": ["x"] * 200_000})
lake.replace("cameo", table, Provenance("cameo", "v-killed", "", "f" * 64, 200_000, "", now(), "killer"))
"""


def test_a_load_killed_mid_transaction_leaves_the_lake_as_it_was(tmp_path: Path, shared: Path) -> None:
    files = [shared / "cameo" / "CAMEO.eventcodes.txt", shared / "cameo" / "CAMEO.goldsteinscale.txt"]
    with Lake(tmp_path) as lake:
        load(lake, "cameo", files, user="analyst")
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == -9, done.stderr  # it really was killed
    with duckdb.connect(str(tmp_path / LAKE_FILE), read_only=True) as db:
        assert db.execute("SELECT count(*) FROM cameo").fetchone() == (311,)
        assert db.execute("SELECT version, loaded_by, rows FROM provenance").fetchall() == [
            ("GDELT lookups", "analyst", 311)
        ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(codes=st.binary(max_size=400), scale=st.binary(max_size=400))
def test_the_cameo_parser_accepts_or_refuses_clearly(tmp_path: Path, codes: bytes, scale: bytes) -> None:
    a, b = tmp_path / "CAMEO.eventcodes.txt", tmp_path / "CAMEO.goldsteinscale.txt"
    a.write_bytes(b"CAMEOEVENTCODE\tEVENTDESCRIPTION\n" + codes)
    b.write_bytes(b"CAMEOEVENTCODE\tGOLDSTEINSCALE\n" + scale)
    try:
        table = cameo.parse([a, b])
    except ValidationError as exc:
        assert str(a) in exc.message or str(b) in exc.message or "CAMEO" in exc.message
    else:
        assert set(table.column("quad_class").to_pylist()) <= {1, 2, 3, 4}


def test_a_new_version_drops_the_tables_the_old_one_had_and_refuses_foreign_names(tmp_path: Path) -> None:
    import pyarrow as pa

    from detente.sources.lake import Provenance, now

    def record(digest: str) -> Provenance:
        return Provenance("sipri", "v", "", digest, 2, "", now(), "analyst")

    deals = pa.table({"recipient": ["Kenya", "Ghana"]})
    with Lake(tmp_path) as lake:
        assert lake.replace("sipri", {"sipri": deals, "sipri_rejects": pa.table({"line": [7]})}, record("a"))
        assert lake.has("sipri_rejects")
        assert not lake.replace("sipri", {"sipri": deals}, record("a"))  # same files: nothing changes
        assert lake.has("sipri_rejects")
        assert lake.replace("sipri", {"sipri": deals}, record("b"))
        assert not lake.has("sipri_rejects") and lake.rows("sipri") == 2
        with pytest.raises(ValidationError, match="bad lake table name 'provenance'"):
            lake.replace("sipri", {"provenance": deals}, record("c"))
        assert [p.sha256 for p in lake.provenance()] == ["b"]
