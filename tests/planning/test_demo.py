"""The demo's planner (gbr-planner), on both stores: the default board shows only the British
ministry's own engagements, ranked, with no finding from a rule that does not apply: no
Leahy vetting of its own battalion, and the NATO exercises between members covered by the
NATO SOFA (the exercise in Indonesia still needs a SOFA).

The demo is built with one year of drawn engagements (next year's, the ones being planned)
beside every scripted plan and agreement, as of a fixed day; the whole demo (four years) is
walked in Chromium on SQLite in tests/web/test_demo_browser.py."""

from __future__ import annotations

from datetime import date

from detente.core.workspace import Workspace
from detente.demo import build_demo
from detente.planning.board import board
from detente.planning.prerequisites import OPEN, covered_by
from detente.sharing.coalitions import shipped
from detente.sharing.service import Sharing
from detente.store.service import ListQuery, Store

AS_OF = date(2026, 12, 6)
ALL = ListQuery(limit=None)
NATO_SOFA = "Agreement between the Parties to the North Atlantic Treaty regarding the Status of their Forces"


def test_the_planners_default_board_on_the_demo(ws: Workspace) -> None:
    build_demo(ws, as_of=AS_OF, years=1)
    with ws.session() as session:
        planner = Sharing(session).principal("gbr-planner")
        reg = Store(session, planner)
        made = board(reg, today=AS_OF)
        country = {a.id: a.country for a in reg.list("actors", ALL)}
        planned = [e for e in reg.list("engagements", ALL) if e.status in OPEN]
        # only the ministry's own: recorded by it and led by the United Kingdom; the rest on request
        assert made.scope == "own" and len(made.engagements) >= 20
        assert all(
            e.owner_org_id == planner.org and country[e.lead_actor_id] == "GBR" for e in made.engagements
        )
        assert made.others == len(planned) - len(made.engagements) > 50
        assert {f.engagement_id for f in made.shown()} <= {e.id for e in made.engagements}
        # ranked: rules with violations first, the most first; engagements by violations, then warnings
        groups = made.groups()
        assert [(g.severity != "violation", -g.violations, -g.warnings) for g in groups] == sorted(
            (g.severity != "violation", -g.violations, -g.warnings) for g in groups
        )
        assert groups[0].severity == "violation" and groups[-1].severity == "warning"
        rows = made.rows()
        assert [(-r.violations, -r.warnings) for r in rows] == sorted(
            (-r.violations, -r.warnings) for r in rows
        )
        report = made.report()
        assert (
            report["violations"] + report["warnings"] == sum(report["counts"].values()) == len(made.shown())
        )
        # no Leahy vetting of the UK's own battalion: only the militia (a non-state actor) is to vet
        vetting = made.shown("vetting")
        assert [(f.engagement, "Due diligence on non-state actors" in f.message) for f in vetting] == [
            ("Liaison with community defence groups (demo)", True)
        ]
        battalion = {e.title for e in made.engagements if e.title.startswith("Battalion")}
        assert battalion == {
            "Battalion exchange with Kenya (demo)",
            "Battalion range package in France (demo)",
        }
        assert not [f for f in made.shown() if f.engagement in battalion and f.rule == "vetting"]
        # NATO exercises between members are covered by the NATO SOFA; one in Indonesia is not
        by_title = {e.title: e for e in made.engagements}
        northern = by_title["Exercise Northern Shield (demo)"]  # British troops in Poland
        assert [n.agreement.title.startswith(NATO_SOFA) for n in covered_by(reg, northern.id)] == [True]
        flagged = {f.engagement_id: f for f in made.shown("sofa")}
        assert northern.id not in flagged and by_title["Jungle training team (demo)"].id in flagged
        nato = shipped()["NATO"].members
        for e in made.engagements:
            if e.id in flagged:  # never between two members on its dates
                joined = nato.get(e.location_country or "", (date.max, None))[0]
                assert joined > e.start_date, e.title
