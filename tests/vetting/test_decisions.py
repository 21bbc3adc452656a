"""Vetting decisions on both stores: recorded with the screening they rested on, marked
and hidden like any registry record, valid for a year by default, flagged when the
subject newly matches a list, and bad decisions refused with the field named."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from detente.core.errors import NotFoundError, TransitionError, ValidationError
from detente.core.workspace import Workspace
from detente.sharing.service import Sharing
from detente.sources.lake import Lake
from detente.sources.service import load
from detente.store.service import ListQuery, Store
from detente.vetting.decisions import decide, review
from detente.vetting.screen import Screener
from tests import factories as f


@pytest.fixture(scope="module")
def screeners() -> dict[tuple[str, ...], Screener]:
    """The screener after each sequence of loads, made once for the module (screening and
    decisions only read it)."""
    return {}


@pytest.fixture
def lists(
    shared: Path, tmp_path_factory: pytest.TempPathFactory, screeners: dict[tuple[str, ...], Screener]
) -> Callable[[str], Screener]:
    """A screener over the lake after loading one more list (UN 2018, then OFAC 2024)."""
    files = {
        "un_sanctions": shared / "un_consolidated" / "un_consolidated_2018-10-29.xml",
        "ofac": shared / "ofac_sdn" / "sdn_2024-05-03.csv.gz",
    }
    loaded: list[str] = []

    def load_and_screen(name: str) -> Screener:
        loaded.append(name)
        key = tuple(loaded)
        if key not in screeners:
            with Lake(tmp_path_factory.mktemp("lake")) as lake:
                for each in key:
                    load(lake, each, [files[each]], user="t")
                screeners[key] = Screener.from_lake(lake)
        return screeners[key]

    return load_and_screen


def test_decisions_keep_their_evidence_follow_markings_and_flag_new_listings(
    ws: Workspace, lists: Callable[[str], Screener]
) -> None:
    un = lists("un_sanctions")
    with ws.session() as session:
        f.two_organisations(session)
        planner = Store(session, Sharing(session).principal("gbr-planner"))
        wagner = planner.create(
            "actors", {"name": "PMC Wagner", "kind": "private_military_company", "country": "RUS",
                       "marking": "UNCLASSIFIED//TLP:CLEAR"}
        )  # fmt: skip
        haqqani = planner.create(
            "actors",
            {
                "name": "Haqqani Network",
                "kind": "insurgent_group",
                "country": "AFG",
                "marking": "SECRET//REL TO GBR",
            },
        )
        cleared = decide(
            planner, un, actor="PMC Wagner", outcome="cleared_with_conditions",
            checklist=["sanctions_listing=no", "gross_violations=UNKNOWN"], conditions="No lethal training",
            officer="Maj. Reed", marking="UNCLASSIFIED//TLP:CLEAR",
        )  # fmt: skip
        refused = decide(
            planner, un, actor=haqqani.id, outcome="refused", checklist=["designated_terrorist=yes"],
            marking="SECRET//REL TO GBR",
        )  # fmt: skip
        assert cleared.actor_id == wagner.id and cleared.valid_until == date.today() + timedelta(days=365)
        assert cleared.checklist == ["sanctions_listing=no", "gross_violations=unknown"]
        assert cleared.screening is None and cleared.screened_lists.startswith("un_sanctions 2018-10-29")
        assert (
            refused.screening.startswith("un_sanctions:TAe.012\t") and "HAQQANI NETWORK" in refused.screening
        )
        with pytest.raises(TransitionError):
            planner.update("vetting_decisions", refused.id, {"outcome": "cleared"}, expected_version=1)
        analyst = Store(session, Sharing(session).principal("ken-analyst"))
        seen = {d.subject_name for d in analyst.list("vetting_decisions", ListQuery(limit=None))}
        assert seen == {"PMC Wagner"}  # the SECRET//REL TO GBR decision is not KEN's to see
        with pytest.raises(NotFoundError):
            analyst.get("vetting_decisions", refused.id)
        before = {r.decision.subject_name: r for r in review(planner, un)}
    assert not before["PMC Wagner"].flagged and before["PMC Wagner"].standing == "valid"
    assert before["Haqqani Network"].standing == "refused"
    ofac = lists("ofac")  # Wagner is on OFAC's 2024 list: its clearance is flagged for re-vetting
    with ws.session() as session:
        planner = Store(session, Sharing(session).principal("gbr-planner"))
        after = {
            r.decision.subject_name: r for r in review(planner, ofac, date.today() + timedelta(days=400))
        }
    assert [m.listed.key for m in after["PMC Wagner"].new_matches] == ["ofac:ofac-22543"]
    assert after["PMC Wagner"].standing == "expired"  # and 400 days on, it has expired
    assert not after["Haqqani Network"].flagged  # refused already: nothing to re-vet


def test_bad_decisions_are_refused_with_the_field(ws: Workspace, lists: Callable[[str], Screener]) -> None:
    un = lists("un_sanctions")
    with ws.session() as session:
        world: dict[str, Any] = f.two_organisations(session)
        reg = Store(session, Sharing(session).principal("gbr-planner"))
        kenya = world["states"]["KEN"].id
        cases = [
            ({"actor": kenya, "outcome": "cleared_with_conditions"}, "say what the conditions are"),
            (
                {"actor": kenya, "outcome": "cleared", "checklist": ["bribery=no"]},
                "ITEM=ANSWER with ITEM one of",
            ),
            (
                {"actor": kenya, "outcome": "cleared", "checklist": ["gross_violations=maybe"]},
                "is not one of yes",
            ),
            ({"actor": kenya, "outcome": "approved"}, "unknown status 'approved'"),
            ({"actor": kenya, "outcome": "cleared", "valid_until": "2001-01-01"}, "is before decided_on"),
            ({"outcome": "cleared"}, "an actor or a person"),
            ({"actor": "Atlantis", "outcome": "cleared"}, "actor"),
        ]
        for kwargs, message in cases:
            with pytest.raises(ValidationError, match=message):
                decide(reg, un, **kwargs)
        assert reg.count("vetting_decisions") == 0


def test_the_guard_flags_engagements_and_audits_overrides(
    ws: Workspace, lists: Callable[[str], Screener]
) -> None:
    from detente.core import audit
    from detente.vetting.guard import check, override

    un = lists("un_sanctions")
    today = date.today()
    with ws.session() as session:
        world = f.two_organisations(session)
        reg = Store(session, Sharing(session).principal("gbr-planner"))
        gbr = world["states"]["GBR"]

        def actor(name: str, kind: str) -> Any:
            return reg.create("actors", {"name": name, "kind": kind, "marking": "UNCLASSIFIED//TLP:CLEAR"})

        militia, unit, ngo = (
            actor("Ruga Militia", "militia"),
            actor("3rd Rifles", "unit"),
            actor("Helping Hands", "ngo"),
        )
        expiring = actor("Delta Security", "private_military_company")
        decide(reg, un, actor=ngo.id, outcome="cleared")
        decide(reg, un, actor=unit.id, outcome="refused")
        decide(reg, un, actor=expiring.id, outcome="cleared", valid_until=str(today + timedelta(days=30)))
        start = today + timedelta(days=60)
        eng = f.engagement(
            reg, gbr, [world["states"]["KEN"], militia, unit, ngo, expiring], title="Exercise Safe Passage",
            status="planned", start_date=start, end_date=start + timedelta(days=5),
        )  # fmt: skip
        found = {x.actor: x for x in check(reg)}
        assert set(found) == {
            "Ruga Militia",
            "3rd Rifles",
            "Delta Security",
        }  # states and the cleared NGO pass
        assert found["Ruga Militia"].problem == "missing" and found["3rd Rifles"].problem == "refused"
        assert found["Delta Security"].problem == "expired" and "runs to" in found["Delta Security"].detail
        with pytest.raises(ValidationError, match="reason"):
            override(reg, eng.id, "because")
        override(reg, "Exercise Safe Passage", "Ministerial direction 2026/14: observe only")
        entry = session.scalars(
            select(audit.AuditEntry).where(audit.AuditEntry.action == "vetting.override")
        ).one()
        assert entry.record_id == eng.id and "Ministerial direction" in str(entry.detail)
        assert "3rd Rifles: refused" in str(entry.detail)
        analyst = Store(session, Sharing(session).principal("ken-analyst"))
        assert {x.actor for x in check(analyst)} == set()  # not KEN's engagement to see
