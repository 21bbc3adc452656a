"""The demo scenario: deterministic, realistic in kinds, seasons and lifecycle, idempotent."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from detente.core.settings import Settings
from detente.core.workspace import Workspace, create_workspace
from detente.demo import build_demo
from detente.store.service import ListQuery
from tests import factories as f
from tests.registry.test_io import contents, snapshot

AS_OF = date(2026, 11, 23)


def everything(ws: Workspace, table: str) -> list:
    with ws.session() as s:
        return f.registry(s).list(table, ListQuery(limit=None))


def test_demo_is_deterministic_realistic_and_idempotent(ws: Workspace, tmp_path: Path) -> None:
    result = build_demo(ws, seed=7, as_of=AS_OF)
    assert result.created
    assert result.counts["engagements"] >= 300 and result.counts["commitments"] > 50
    assert result.counts["people"] > 50 and result.counts["agreements"] > 30

    engagements = everything(ws, "engagements")
    assert all("DEMONSTRATION" in e.notes for e in engagements)
    # lifecycle follows the calendar: nothing in the future is executed, nothing long past proposed
    for e in engagements:
        if e.start_date > AS_OF:
            assert e.status in ("proposed", "planned", "approved", "cancelled"), e
        if (e.end_date or e.start_date) < AS_OF:
            assert e.status in ("executed", "assessed", "cancelled"), e
    # exercises peak in spring and autumn, not in December-January
    months = Counter(e.start_date.month for e in engagements if e.kind == "joint_exercise")
    assert months[5] + months[10] > 3 * (months[12] + months[1])
    # force sizes are skewed: many small exercises, a few above the OSCE 9,000-troop threshold
    troops = sorted(e.troops for e in engagements if e.kind == "joint_exercise")
    assert troops[len(troops) // 2] < 2000 and troops[-1] >= 9000

    again = build_demo(ws, seed=7, as_of=AS_OF)
    assert not again.created and again.counts == result.counts

    with create_workspace(Settings(workspace=tmp_path / "other", database_url="")) as other:
        build_demo(other, seed=7, as_of=AS_OF)
        # the same records (keyed by external id, references by their target's), other ids
        assert contents(other) == contents(ws)
        ids = {i for rows in snapshot(ws).values() for i in rows}
        assert not ids & {i for rows in snapshot(other).values() for i in rows}  # random, not derived
