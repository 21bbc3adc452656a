"""The event pipeline's relational steps, written once as portable SQL.

``NORMALISE`` turns raw CAMEO-coded events (GDELT's column names, all text) into the
lake's normalised events; ``DYAD_MONTH`` aggregates them to directed dyad-month counts
by CAMEO root. Both use only SQL that DuckDB and Spark SQL read the same way (``substr``,
``CAST``, ``CASE``, ``make_date``, joins and ``GROUP BY``), so the same text runs on the
embedded DuckDB engine and, for GDELT-scale history, on Apache Spark. ``run`` executes
them on either; the test suite runs both on the same real files and compares the rows.

Inputs: a table or view ``raw_events`` with the columns of ``RAW_COLUMNS`` (text) and
``country_lookup(code, iso3)`` mapping the raw country values to ISO 3166 alpha-3.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

__all__ = ["DYAD_MONTH", "NORMALISE", "RAW_COLUMNS", "run_duckdb", "run_spark"]

RAW_COLUMNS = (
    "GLOBALEVENTID",
    "SQLDATE",
    "Actor1CountryCode",
    "Actor1Type1Code",
    "Actor1Type2Code",
    "Actor2CountryCode",
    "Actor2Type1Code",
    "Actor2Type2Code",
    "EventCode",
    "GoldsteinScale",
    "ActionGeo_FullName",
    "ActionGeo_CountryCode",
    "ActionGeo_Lat",
    "ActionGeo_Long",
    "SOURCEURL",
    "dataset",
)

NORMALISE = """
SELECT
    make_date(CAST(substr(r.SQLDATE, 1, 4) AS INT), CAST(substr(r.SQLDATE, 5, 2) AS INT),
              CAST(substr(r.SQLDATE, 7, 2) AS INT)) AS date,
    CAST(substr(r.SQLDATE, 1, 4) AS INT) AS year,
    CAST(substr(r.SQLDATE, 5, 2) AS INT) AS month,
    s.iso3 AS source_country,
    COALESCE(r.Actor1Type1Code, r.Actor1Type2Code) AS source_type,
    t.iso3 AS target_country,
    COALESCE(r.Actor2Type1Code, r.Actor2Type2Code) AS target_type,
    r.EventCode AS cameo_code,
    substr(r.EventCode, 1, 2) AS root,
    CASE
        WHEN substr(r.EventCode, 1, 2) <= '05' THEN 1
        WHEN substr(r.EventCode, 1, 2) <= '08' THEN 2
        WHEN substr(r.EventCode, 1, 2) <= '13' THEN 3
        ELSE 4
    END AS quad_class,
    CAST(r.GoldsteinScale AS DOUBLE) AS goldstein,
    r.ActionGeo_FullName AS location,
    r.ActionGeo_CountryCode AS location_fips,
    CAST(r.ActionGeo_Lat AS DOUBLE) AS lat,
    CAST(r.ActionGeo_Long AS DOUBLE) AS lon,
    r.GLOBALEVENTID AS source_id,
    r.SOURCEURL AS url,
    r.dataset AS dataset
FROM raw_events r
LEFT JOIN country_lookup s ON r.Actor1CountryCode = s.code
LEFT JOIN country_lookup t ON r.Actor2CountryCode = t.code
"""

DYAD_MONTH = """
SELECT
    year,
    month,
    source_country,
    target_country,
    root,
    MIN(quad_class) AS quad_class,
    COUNT(*) AS events,
    SUM(goldstein) AS goldstein_sum
FROM events
WHERE source_country IS NOT NULL AND target_country IS NOT NULL
GROUP BY year, month, source_country, target_country, root
"""

ORDER = "year, month, source_country, target_country, root"


def run_duckdb(db: Any, *, aggregate: bool = True) -> Any:
    """Run the pipeline on a DuckDB connection that holds ``raw_events`` and
    ``country_lookup``; returns the relation (normalised events, or dyad-months)."""
    return db.sql(f"{dyad_month_sql()} ORDER BY {ORDER}" if aggregate else NORMALISE)


# NORMALISE then DYAD_MONTH, with the grouping moved before the country lookup: the raw
# events are first counted by their raw keys (month, raw country codes, root), as a bare
# query would, and only those groups, a few per thousand events, are mapped to ISO3 and
# merged (two raw codes may map to one country). The same rows as ``WITH events AS
# (NORMALISE) DYAD_MONTH``; the sums may differ in the last bits (another order of addition).
DYAD_MONTH_FROM_RAW = """
WITH raw AS (
    SELECT
        substr(SQLDATE, 1, 6) AS ym,
        Actor1CountryCode AS source_code,
        Actor2CountryCode AS target_code,
        substr(EventCode, 1, 2) AS root,
        COUNT(*) AS events,
        SUM(CAST(GoldsteinScale AS DOUBLE)) AS goldstein_sum
    FROM raw_events
    WHERE Actor1CountryCode IS NOT NULL AND Actor2CountryCode IS NOT NULL
    GROUP BY substr(SQLDATE, 1, 6), Actor1CountryCode, Actor2CountryCode, substr(EventCode, 1, 2)
)
SELECT
    CAST(substr(r.ym, 1, 4) AS INT) AS year,
    CAST(substr(r.ym, 5, 2) AS INT) AS month,
    s.iso3 AS source_country,
    t.iso3 AS target_country,
    r.root,
    MIN(CASE WHEN r.root <= '05' THEN 1 WHEN r.root <= '08' THEN 2 WHEN r.root <= '13' THEN 3 ELSE 4 END)
        AS quad_class,
    CAST(SUM(r.events) AS BIGINT) AS events,
    SUM(r.goldstein_sum) AS goldstein_sum
FROM raw r
JOIN country_lookup s ON r.source_code = s.code
JOIN country_lookup t ON r.target_code = t.code
WHERE s.iso3 IS NOT NULL AND t.iso3 IS NOT NULL
GROUP BY CAST(substr(r.ym, 1, 4) AS INT), CAST(substr(r.ym, 5, 2) AS INT), s.iso3, t.iso3, r.root
"""


def dyad_month_sql() -> str:
    """Normalise and aggregate in one statement: ``DYAD_MONTH_FROM_RAW`` (the rows of
    ``WITH events AS (NORMALISE) DYAD_MONTH``, grouped before the country lookup)."""
    return DYAD_MONTH_FROM_RAW


def duckdb_raw_view(
    db: Any, files: Sequence[Path], names: Sequence[str], *, dataset: str, delimiter: str = "\t"
) -> None:
    """``raw_events`` over headerless delimited files, read by DuckDB's CSV reader with
    the layout's column names (all text; no quoting, as GDELT writes none)."""
    columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
    listed = "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
    db.execute(
        f"CREATE OR REPLACE VIEW raw_events AS SELECT *, '{dataset}' AS dataset FROM read_csv({listed}, "
        f"delim='{delimiter}', header=false, quote='', escape='', auto_detect=false, columns={columns})"
    )


def spark_session() -> Any:
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName("detente-events")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )


def run_spark(
    spark: Any,
    files: Sequence[Path],
    names: Sequence[str],
    lookup: pa.Table,
    *,
    dataset: str,
    delimiter: str = "\t",
    aggregate: bool = True,
) -> list[tuple[Any, ...]]:
    """Run normalise (+ dyad-month) on Apache Spark over headerless delimited files whose
    columns are ``names``; returns the rows ordered (dyad-months by key, events by id)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    schema = StructType([StructField(n, StringType(), True) for n in names])
    raw = spark.read.csv([str(f) for f in files], sep=delimiter, header=False, schema=schema, quote="")
    raw.withColumn("dataset", F.lit(dataset)).createOrReplaceTempView("raw_events")
    spark.createDataFrame(lookup.to_pandas(), "code string, iso3 string").createOrReplaceTempView(
        "country_lookup"
    )
    sql = f"{dyad_month_sql()} ORDER BY {ORDER}" if aggregate else f"{NORMALISE} ORDER BY source_id"
    return [tuple(r) for r in spark.sql(sql).collect()]
