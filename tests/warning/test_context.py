"""Context from the rest of the lake (SIPRI arms orders, UN ideal points, event-data
conflict): values checked against the loaded tables, and the strict cutoff: changing every
value dated after the cutoff, in every source, leaves the history and the forecasts as
they were."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from detente.sources.lake import Lake
from detente.sources.service import load
from detente.sources.views import month_id
from detente.warning.boost import Boost
from detente.warning.context import CONTEXT
from detente.warning.data import history
from detente.warning.features import NAMES, features
from tests.warning.conftest import lake_copy

CUTOFF = month_id(2014, 6)  # inside the ICEWS 2014 year, so event months count


@pytest.fixture(scope="module")
def lake(shared: Path, views_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lake]:
    with Lake(lake_copy(views_lake, tmp_path_factory.mktemp("context"))) as lake:
        load(lake, "sipri", [shared / "sipri" / "sipri_trade-register_generated_2026-05-18.csv.gz"], user="t")
        load(lake, "unga_ideal", [shared / "unga_votes" / "IdealpointsJuly2025.dta"], user="t")
        cameo = shared / "cameo"
        load(lake, "cameo", [cameo / "CAMEO.eventcodes.txt", cameo / "CAMEO.goldsteinscale.txt"], user="t")
        load(lake, "icews", sorted((shared / "icews" / "ICEWS14_tkg").glob("*.txt")), user="t")
        yield lake


def test_context_values_match_the_loaded_tables(lake: Lake) -> None:
    h = history(lake, CUTOFF)
    assert set(CONTEXT) <= set(h.extra)
    nga, j = h.iso3.index("NGA"), h.months.tolist().index(month_id(2014, 3))
    tiv = lake.db.execute(
        "SELECT coalesce(sum(tiv_total), 0) FROM sipri WHERE recipient_iso3 = 'NGA' AND order_year = 2013"
    ).fetchall()[0][0]
    assert h.extra["arms_imports"][nga, j] == pytest.approx(np.log1p(tiv))  # last year's orders
    ideal = lake.db.execute(
        "SELECT avg(ideal_point) FROM unga_ideal WHERE iso3 = 'NGA' AND year = 2013"
    ).fetchall()[0][0]
    assert h.extra["un_ideal_point"][nga, j] == pytest.approx(ideal)
    events = lake.db.execute(
        "SELECT count(*) FROM events WHERE quad_class = 4 AND year = 2014 AND month = 3 "
        "AND 'NGA' IN (source_country, target_country)"
    ).fetchall()[0][0]
    assert h.extra["event_conflict"][nga, j] == pytest.approx(np.log1p(events)) and events > 0
    assert np.isnan(h.extra["event_conflict"][nga, j - 12])  # 2013: no event data loaded, missing
    f = features(h)
    assert np.array_equal(f[..., NAMES.index("arms_imports")], h.extra["arms_imports"], equal_nan=True)


def test_nothing_after_the_cutoff_reaches_the_context_or_the_boosted_model(lake: Lake) -> None:
    before = history(lake, CUTOFF)
    small = Boost(trees=40, years=6)
    draws = small.draws(before, 6, 100, np.random.default_rng(0))
    later_before = history(lake, month_id(2015, 6)).extra
    year = 2014
    changed = {
        "sipri": f"UPDATE sipri SET tiv_total = tiv_total * 7 + 13 WHERE order_year >= {year}",
        "unga_ideal": f"UPDATE unga_ideal SET ideal_point = ideal_point * 7 + 13 WHERE year >= {year}",
        "icews": f"UPDATE icews SET quad_class = 4 WHERE year * 12 + month > {year * 12 + 6}",
        "views": f"UPDATE views SET ged_best_sb = ged_best_sb * 7 + 13 WHERE month_id > {CUTOFF}",
    }
    for table, sql in changed.items():
        assert lake.db.execute(sql).fetchall()[0][0] > 100, table
    after = history(lake, CUTOFF)
    for name in (*CONTEXT, "ns", "os"):
        assert np.array_equal(before.extra[name], after.extra[name], equal_nan=True), name
    assert np.array_equal(draws, small.draws(after, 6, 100, np.random.default_rng(0)))
    # and the changes are real: a later cutoff sees them
    later_after = history(lake, month_id(2015, 6)).extra
    for name in ("arms_imports", "un_ideal_point"):
        assert not np.array_equal(later_before[name], later_after[name], equal_nan=True), name
