"""The event pipeline's portable SQL gives the same rows on DuckDB and on Apache Spark
(local mode), and the same rows as the loader that validates files row by row."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from detente.sources import events, pipeline


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = pipeline.spark_session()
    try:
        yield session
    finally:
        session.stop()


def _inputs(shared: Path, tmp_path: Path) -> list[tuple[list[Path], int, str]]:
    """A real GDELT 2.0 export (61 columns) and the real 58-column GDELT 1.0 rows of the
    sample file, each as the provider's headerless tab-separated layout."""
    sample = (shared / "gdelt" / "gdelt1_sample_1000_events.csv").read_text(encoding="utf-8")
    daily = tmp_path / "gdelt1_daily.tsv"
    daily.write_text(
        "".join(line + "\n" for line in sample.splitlines() if line.count("\t") == 57), encoding="utf-8"
    )
    return [([shared / "gdelt" / "20191024143000.export.CSV"], 61, "gdelt2"), ([daily], 58, "gdelt1")]


def _lookup(files: list[Path], names: list[str], dataset: str) -> Any:
    with duckdb.connect() as db:
        pipeline.duckdb_raw_view(db, files, names, dataset=dataset)
        codes = [
            r[0]
            for r in db.execute(
                "SELECT Actor1CountryCode FROM raw_events UNION ALL SELECT Actor2CountryCode FROM raw_events"
            ).fetchall()
        ]
    return events.country_lookup(codes)[0]


def _duckdb(files: list[Path], names: list[str], lookup: Any, dataset: str, aggregate: bool) -> list[tuple]:  # type: ignore[type-arg]
    with duckdb.connect() as db:
        pipeline.duckdb_raw_view(db, files, names, dataset=dataset)
        db.register("country_lookup", lookup)
        if aggregate:
            return pipeline.run_duckdb(db).fetchall()
        return db.execute(f"{pipeline.NORMALISE} ORDER BY source_id").fetchall()


def _same(a: list[tuple], b: list[tuple]) -> None:  # type: ignore[type-arg]
    assert len(a) == len(b)
    for left, right in zip(a, b, strict=True):
        assert len(left) == len(right)
        for x, y in zip(left, right, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                assert math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9), (left, right)
            else:
                assert x == y, (left, right)


def test_duckdb_and_spark_give_the_same_rows(spark: Any, shared: Path, tmp_path: Path) -> None:
    for files, width, dataset in _inputs(shared, tmp_path):
        names = events.gdelt_names(width)
        lookup = _lookup(files, names, dataset)
        for aggregate in (False, True):
            on_duckdb = _duckdb(files, names, lookup, dataset, aggregate)
            on_spark = pipeline.run_spark(spark, files, names, lookup, dataset=dataset, aggregate=aggregate)
            assert len(on_duckdb) > (400 if aggregate is False else 50)
            _same(on_duckdb, on_spark)


def test_the_loader_and_the_file_pipeline_agree(shared: Path, tmp_path: Path) -> None:
    for files, width, dataset in _inputs(shared, tmp_path):
        names = events.gdelt_names(width)
        from_files = _duckdb(files, names, _lookup(files, names, dataset), dataset, aggregate=False)
        loaded = events.parse_gdelt(files).tables[""].sort_by("source_id")
        rows = [tuple(r.values()) for r in loaded.to_pylist()]
        _same(from_files, rows)
        # and the dyad-month aggregate counts every event with two mapped countries once
        dyads = _duckdb(files, names, _lookup(files, names, dataset), dataset, aggregate=True)
        both = sum(1 for r in rows if r[3] is not None and r[5] is not None)
        assert sum(r[6] for r in dyads) == both
