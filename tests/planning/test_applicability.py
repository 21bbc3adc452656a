"""Rules that know to whom they apply, on both stores: a multilateral agreement covers its
members (an organisation party stands for its coalition's members on the engagement's
dates), the Leahy laws apply to foreign units in engagements the United States leads (not to
a state's own units, nor to others' engagements), overdue commitments count between the
same two countries only, and host consent is a warning until it falls due."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from detente.core.errors import ConfigError
from detente.core.workspace import Workspace
from detente.planning.prerequisites import check_legal, covered_by
from detente.sharing.service import Sharing
from detente.store.service import Store
from detente.vetting import guard
from tests import factories as f

TODAY = date(2027, 1, 10)
PUBLIC = "UNCLASSIFIED//TLP:CLEAR"


def _exercise(reg: Store, lead: Any, partner: Any, where: str, start: date) -> Any:
    """A one-day exercise abroad, planned, with the host's consent recorded on its first day."""
    title = f"{lead.name} exercise in {where} {start}"
    return f.engagement(reg, lead, [partner], title=title, kind="joint_exercise", status="planned",
                        start_date=start, end_date=start, location_country=where, host_consent_on=start,
                        marking=PUBLIC)  # fmt: skip


def _rules(reg: Store, *engagements: Any) -> list[list[str]]:
    """The rules each engagement trips, from one run of the checks."""
    found = check_legal(reg, TODAY)
    return [sorted(x.rule for x in found if x.engagement_id == e.id) for e in engagements]


def test_a_multilateral_agreement_covers_its_members_on_the_dates(ws: Workspace) -> None:
    with ws.session() as session:
        s = f.two_organisations(session)["states"]
        gbr = Store(session, Sharing(session).principal("gbr-planner"))
        fin = f.state(gbr, "FIN", name="Finland", marking=PUBLIC)
        kaz = f.state(gbr, "KAZ", name="Kazakhstan", marking=PUBLIC)
        nato = gbr.create("actors", {"name": "North Atlantic Treaty Organization", "abbreviation": "NATO",
                                     "kind": "regional_organisation", "marking": PUBLIC})  # fmt: skip
        in_france = _exercise(gbr, s["GBR"], s["FRA"], "FRA", date(2027, 3, 1))
        in_kenya = _exercise(gbr, s["GBR"], s["KEN"], "KEN", date(2027, 3, 1))
        in_finland_2022 = _exercise(gbr, s["GBR"], fin, "FIN", date(2022, 9, 1))
        in_finland_2027 = _exercise(gbr, s["GBR"], fin, "FIN", date(2027, 9, 1))
        in_kazakhstan = _exercise(gbr, s["GBR"], kaz, "KAZ", date(2027, 5, 1))
        every = (in_france, in_kenya, in_finland_2022, in_finland_2027, in_kazakhstan)
        assert _rules(gbr, *every) == [["sofa"]] * 5
        # NATO stands for its members on each engagement's dates (Finland joined on 4 April 2023);
        # Kazakhstan is a party in its own right; Kenya is neither
        sofa = "status_of_forces_agreement"
        pfp = f.agreement(gbr, nato, kaz, kind=sofa, title="PfP SOFA", signed_on=date(1995, 6, 19),
                          in_force_on=date(1996, 1, 13), marking=PUBLIC)  # fmt: skip
        assert _rules(gbr, *every) == [[], ["sofa"], ["sofa"], [], []]
        assert [n.agreement.id for n in covered_by(gbr, in_france.id)] == [pfp.id]
        assert [n.agreement for n in covered_by(gbr, in_kenya.id)] == [None]
        # an agreement among states covers any two of its parties, for the kinds it lists
        f.agreement(gbr, s["GBR"], s["KEN"], kind=sofa, title="Ports only",
                    parties=[s["GBR"].id, s["KEN"].id, s["FRA"].id], activity_types=["port_call"],
                    signed_on=date(2020, 1, 1), marking=PUBLIC)  # fmt: skip
        assert _rules(gbr, in_kenya) == [["sofa"]]
        among = f.agreement(gbr, s["GBR"], s["KEN"], kind=sofa, title="Three states",
                            parties=[s["GBR"].id, s["KEN"].id, s["FRA"].id], signed_on=date(2020, 1, 1),
                            marking=PUBLIC)  # fmt: skip
        assert _rules(gbr, in_kenya, in_finland_2022) == [[], ["sofa"]]
        assert covered_by(gbr, in_kenya.id)[0].agreement.id == among.id


def test_vetting_commitments_and_consent_apply_where_their_rules_say(ws: Workspace) -> None:
    with ws.session() as session:
        s = f.two_organisations(session)["states"]
        gbr = Store(session, Sharing(session).principal("gbr-planner"))
        usa = f.state(gbr, "USA", name="United States", marking=PUBLIC)

        def unit(name: str, parent: Any) -> Any:
            army = gbr.create("actors", {"name": f"{name} army", "kind": "armed_service",
                                         "parent_id": parent.id, "country": parent.country,
                                         "marking": PUBLIC})  # fmt: skip
            return gbr.create(
                "actors", {"name": name, "kind": "unit", "parent_id": army.id, "marking": PUBLIC}
            )

        kenyan, american, british = (
            unit("Kenyan rifles", s["KEN"]),
            unit("US rangers", usa),
            unit("UK rifles", s["GBR"]),
        )
        militia = gbr.create(
            "actors", {"name": "Lakes Militia", "kind": "militia", "country": "KEN", "marking": PUBLIC}
        )
        start = date(2027, 4, 1)
        us_trains_kenyans = _exercise(gbr, usa, kenyan, "KEN", start)
        us_own_unit = _exercise(gbr, american, s["KEN"], "KEN", start)
        us_visit = f.engagement(gbr, usa, [kenyan], title="Visit", kind="senior_visit", status="planned",
                                start_date=start, location_country="USA", marking=PUBLIC)  # fmt: skip
        uk_own_unit = _exercise(gbr, british, s["FRA"], "FRA", start)
        uk_with_kenyans = _exercise(gbr, s["GBR"], kenyan, "KEN", start)
        uk_with_militia = f.engagement(gbr, s["GBR"], [militia], title="Liaison", status="planned",
                                       start_date=start, location_country="GBR", marking=PUBLIC)  # fmt: skip
        found = {(x.engagement_id, x.actor, x.rule) for x in guard.check(gbr)}
        assert found == {
            (us_trains_kenyans.id, "Kenyan rifles", "leahy"),  # a foreign unit receiving US training
            (uk_with_militia.id, "Lakes Militia", "non_state_due_diligence"),
        }  # not the US's own unit (its country found through its army), not a visit, not UK units
        board = [x for x in check_legal(gbr, TODAY) if x.rule == "vetting"]
        assert {x.engagement_id for x in board} == {us_trains_kenyans.id, uk_with_militia.id}
        leahy = next(x for x in board if x.engagement_id == us_trains_kenyans.id)
        assert "Leahy laws" in leahy.message and "22 U.S.C. 2378d" in leahy.basis
        assert not {us_own_unit.id, us_visit.id, uk_own_unit.id, uk_with_kenyans.id} & {
            x.engagement_id for x in board
        }
        # a decision on record refusing a unit is shown wherever it takes part, rule or not
        gbr.create("vetting_decisions", {"actor_id": kenyan.id, "subject_name": "Kenyan rifles",
                                         "outcome": "refused", "decided_on": date(2026, 12, 1),
                                         "valid_until": date(2027, 12, 1), "marking": PUBLIC})  # fmt: skip
        refused = {
            (x.engagement_id, x.rule, x.problem) for x in guard.check(gbr) if x.actor == "Kenyan rifles"
        }
        recorded = guard.RECORDED
        assert refused == {(us_trains_kenyans.id, "leahy", "refused"), (us_visit.id, recorded, "refused"),
                           (uk_with_kenyans.id, recorded, "refused")}  # fmt: skip
        _overdue_and_consent(gbr, s, uk_with_militia)


def _overdue_and_consent(gbr: Store, s: dict[str, Any], militia_liaison: Any) -> None:
    """Overdue commitments count between the same two countries; host consent is a warning
    until 30 days before the start."""
    uk, kenya, france = s["GBR"], s["KEN"], s["FRA"]
    theirs = f.engagement(gbr, france, [kenya], title="French visit", status="executed",
                          start_date=date(2026, 1, 5), marking=PUBLIC)  # fmt: skip
    f.commitment(gbr, theirs, france, due_on=date(2026, 6, 1), marking=PUBLIC)
    soon = f.engagement(gbr, uk, [kenya], title="Soon", status="planned", start_date=date(2027, 1, 25),
                        location_country="KEN", marking=PUBLIC)  # fmt: skip
    later = f.engagement(gbr, uk, [kenya], title="Later", status="planned", start_date=date(2027, 6, 1),
                         location_country="KEN", marking=PUBLIC)  # fmt: skip
    found = {(x.engagement_id, x.rule): x for x in check_legal(gbr, TODAY)}
    assert (soon.id, "overdue_commitments") not in found  # France's promise to Kenya is not the UK's
    assert found[soon.id, "host_consent"].severity == "violation"  # due 30 days before the start
    assert "due by 2026-12-26" in found[soon.id, "host_consent"].message
    assert found[later.id, "host_consent"].severity == "warning"
    ours = f.engagement(gbr, uk, [kenya], title="UK visit", status="executed",
                        start_date=date(2026, 2, 1), marking=PUBLIC)  # fmt: skip
    f.commitment(gbr, ours, uk, due_on=date(2026, 6, 1), marking=PUBLIC)
    late = [x for x in check_legal(gbr, TODAY) if x.rule == "overdue_commitments"]
    assert {x.engagement_id for x in late} == {soon.id, later.id, militia_liaison.id}  # the militia is Kenyan
    assert "between GBR and KEN" in late[0].message


def test_the_vetting_rules_file_is_checked(tmp_path: Path) -> None:
    leahy = next(r for r in guard.rules() if r.rule == "leahy")
    assert leahy.applied_by == {"USA"} and leahy.foreign_only and "unit" in leahy.actor_kinds
    assert leahy.applies("USA", "unit", "KEN", "training_education")
    assert not leahy.applies("USA", "unit", "USA", "training_education")
    assert not leahy.applies("GBR", "unit", "KEN", "training_education")
    assert leahy.applies("USA", "unit", None, "joint_exercise")  # no known country: treated as foreign
    assert guard.needs_vetting("unit") and guard.needs_vetting("militia") and not guard.needs_vetting("state")
    bad = tmp_path / "guard.yaml"
    rule = "rules:\n  - rule: x\n    title: X\n"
    bad.write_text(rule + "    basis: B\n    actor_kinds: [regiment]\n    foreign_only: true\n")
    with pytest.raises(ConfigError, match=r"rules\[0\] \(x\): unknown kind\(s\) regiment"):
        guard.rules(bad)
    bad.write_text(rule)
    with pytest.raises(ConfigError, match=r"rules\[0\] \(x\).*basis"):
        guard.rules(bad)
