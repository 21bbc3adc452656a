"""Legal prerequisites and calendar checks on both stores: each rule fires on the record it
names and falls silent once that record is there; hidden records satisfy nothing."""

from __future__ import annotations

from datetime import date

from detente.core.workspace import Workspace
from detente.planning.prerequisites import check_calendar, check_legal
from detente.sharing.service import Sharing
from detente.store.service import Store
from tests import factories as f

TODAY = date(2027, 1, 10)
START, END = date(2027, 3, 1), date(2027, 3, 14)
PUBLIC = "UNCLASSIFIED//TLP:CLEAR"


def _rules(findings: list, engagement_id: str) -> list[str]:  # type: ignore[type-arg]
    return sorted(x.rule for x in findings if x.engagement_id == engagement_id)


def test_legal_prerequisites_name_the_missing_record(ws: Workspace) -> None:
    with ws.session() as session:
        s = f.two_organisations(session)["states"]
        gbr = Store(session, Sharing(session).principal("gbr-planner"))
        ken = Store(session, Sharing(session).principal("ken-analyst"))
        uk, kenya, france = s["GBR"], s["KEN"], s["FRA"]
        exercise = f.engagement(
            gbr,
            uk,
            [kenya],
            title="Askari Storm",
            kind="joint_exercise",
            status="planned",
            start_date=START,
            end_date=END,
            location_country="KEN",
            marking=PUBLIC,
        )
        findings = check_legal(gbr, TODAY)
        assert _rules(findings, exercise.id) == ["host_consent", "sofa"]
        sofa = next(x for x in findings if x.rule == "sofa")
        assert "GBR and KEN" in sofa.missing and "2027-03-01 to 2027-03-14" in sofa.missing
        # a SOFA that expires during the exercise does not cover it; one in force does
        short = f.agreement(
            gbr,
            uk,
            kenya,
            kind="status_of_forces_agreement",
            title="SOFA (old)",
            signed_on=date(2010, 1, 1),
            expires_on=date(2027, 3, 10),
            marking=PUBLIC,
        )
        assert "sofa" in _rules(check_legal(gbr, TODAY), exercise.id)
        gbr.update("agreements", short.id, {"expires_on": date(2030, 1, 1)}, expected_version=1)
        gbr.update("engagements", exercise.id, {"host_consent_on": date(2027, 3, 2)}, expected_version=1)
        late = [x for x in check_legal(gbr, TODAY) if x.engagement_id == exercise.id]
        assert [x.rule for x in late] == ["host_consent"] and "recorded only on 2027-03-02" in late[0].message
        gbr.update("engagements", exercise.id, {"host_consent_on": date(2027, 1, 5)}, expected_version=2)
        assert _rules(check_legal(gbr, TODAY), exercise.id) == []

        # capacity building needs a framework covering the kind; an intelligence exchange its own
        course = f.engagement(
            gbr,
            uk,
            [kenya, france],
            title="Staff course",
            kind="capacity_building",
            status="proposed",
            start_date=START,
            location_country="GBR",
            marking=PUBLIC,
        )
        intel = f.engagement(
            gbr,
            uk,
            [kenya],
            title="Intel talks",
            kind="intelligence_exchange",
            status="approved",
            start_date=START,
            location_country="GBR",
            marking=PUBLIC,
        )
        findings = check_legal(gbr, TODAY)
        assert _rules(findings, course.id) == ["cooperation_framework", "cooperation_framework"]
        assert _rules(findings, intel.id) == ["intelligence_arrangement"]
        f.agreement(
            gbr,
            uk,
            kenya,
            title="DCA ports",
            activity_types=["port_call"],
            signed_on=date(2020, 1, 1),
            marking=PUBLIC,
        )
        assert len(_rules(check_legal(gbr, TODAY), course.id)) == 2  # it does not cover capacity building
        f.agreement(
            gbr,
            uk,
            kenya,
            title="DCA",
            kind="memorandum_of_understanding",
            signed_on=date(2020, 1, 1),
            marking=PUBLIC,
        )
        hidden = f.agreement(
            gbr, uk, france, title="DCA France", signed_on=date(2020, 1, 1), marking="SECRET//REL TO GBR"
        )
        remaining = [x for x in check_legal(gbr, TODAY) if x.engagement_id == course.id]
        assert [x.rule for x in remaining] == []
        gbr.delete("agreements", hidden.id)
        remaining = [x for x in check_legal(gbr, TODAY) if x.engagement_id == course.id]
        assert len(remaining) == 1 and "FRA" in remaining[0].missing

        # attachés: accepted is fine, notified is a warning, persona non grata a violation
        attache = f.person(
            gbr,
            name="Col. A. Smith",
            sending_state="GBR",
            receiving_state="KEN",
            accreditation_status="notified",
            marking=PUBLIC,
        )
        gbr.update("engagements", intel.id, {"people": [attache.id]}, expected_version=1)
        warn = [x for x in check_legal(gbr, TODAY) if x.rule == "accreditation"]
        assert [(x.severity, x.engagement_id) for x in warn] == [("warning", intel.id)]
        gbr.update("people", attache.id, {"accreditation_status": "persona_non_grata"}, expected_version=1)
        assert [x.severity for x in check_legal(gbr, TODAY) if x.rule == "accreditation"] == ["violation"]

        # an overdue commitment with Kenya, and an unvetted militia
        old = f.engagement(
            gbr,
            uk,
            [kenya],
            title="Old talks",
            status="executed",
            start_date=date(2026, 1, 5),
            marking=PUBLIC,
        )
        f.commitment(gbr, old, uk, due_on=date(2026, 12, 1), marking=PUBLIC)
        militia = gbr.create(
            "actors", {"name": "Lakes Militia", "kind": "militia", "country": "KEN", "marking": PUBLIC}
        )
        liaison = f.engagement(
            gbr,
            uk,
            [militia],
            title="Liaison",
            status="planned",
            start_date=START,
            location_country="GBR",
            marking=PUBLIC,
        )
        findings = check_legal(gbr, TODAY)
        assert "overdue_commitments" in _rules(findings, exercise.id)
        assert _rules(findings, liaison.id) == ["overdue_commitments", "vetting"]  # the militia is Kenyan

        # Kenya's analyst sees only the open records: the SECRET engagement below is not theirs
        secret = f.engagement(
            gbr,
            uk,
            [kenya],
            title="Quiet visit",
            kind="joint_exercise",
            status="planned",
            start_date=START,
            location_country="KEN",
            marking="SECRET//REL TO GBR",
        )
        assert "sofa" not in _rules(check_legal(gbr, TODAY), secret.id)  # the SOFA covers it for GBR
        assert secret.id not in {x.engagement_id for x in check_legal(ken, TODAY)}


def test_calendar_checks_find_double_bookings_travel_and_partner_holidays(ws: Workspace) -> None:
    with ws.session() as session:
        s = f.two_organisations(session)["states"]
        gbr = Store(session, Sharing(session).principal("gbr-planner"))
        uk, kenya, france = s["GBR"], s["KEN"], s["FRA"]
        unit = gbr.create(
            "actors",
            {
                "name": "1st Battalion",
                "kind": "unit",
                "country": "GBR",
                "parent_id": gbr.create(
                    "actors",
                    {"name": "British Army", "kind": "armed_service", "country": "GBR", "parent_id": uk.id},
                ).id,
            },
        )
        a = f.engagement(
            gbr,
            unit,
            [kenya],
            title="A",
            status="planned",
            start_date=START,
            end_date=END,
            location_country="KEN",
        )
        b = f.engagement(
            gbr,
            unit,
            [france],
            title="B",
            status="approved",
            start_date=END,
            end_date=END,
            location_country="FRA",
        )
        c = f.engagement(
            gbr, unit, [france], title="C", status="cancelled", start_date=START, location_country="FRA"
        )
        found = check_calendar(gbr)
        doubles = {(x.engagement_id, x.others) for x in found if x.rule == "double_booking"}
        assert doubles == {(a.id, (b.id,)), (b.id, (a.id,))}  # the cancelled one books nobody
        assert c.id not in {x.engagement_id for x in found}
        gbr.update(
            "engagements",
            b.id,
            {"start_date": date(2027, 3, 16), "end_date": date(2027, 3, 16)},
            expected_version=1,
        )
        assert not [x for x in check_calendar(gbr) if x.rule == "double_booking"]

        leader = f.person(
            gbr, name="Gen. B. Jones", sending_state="GBR", receiving_state="FRA", role="liaison_officer"
        )
        gbr.update("engagements", a.id, {"people": [leader.id]}, expected_version=1)
        d = f.engagement(
            gbr,
            uk,
            [france],
            title="D",
            kind="senior_visit",
            status="planned",
            start_date=date(2027, 3, 15),
            location_country="FRA",
        )
        gbr.update("engagements", d.id, {"people": [leader.id]}, expected_version=1)
        travel = [x for x in check_calendar(gbr) if x.rule == "travel"]
        assert {x.engagement_id for x in travel} == {a.id, d.id} and "no day to travel" in travel[0].message

        gbr.create(
            "calendar_entries",
            {
                "country": "Kenya",
                "title": "General election",
                "kind": "election",
                "start_date": date(2027, 3, 10),
                "end_date": date(2027, 3, 12),
            },
        )
        holiday = [x for x in check_calendar(gbr) if x.rule == "partner_calendar"]
        assert [x.engagement_id for x in holiday] == [a.id] and "General election" in holiday[0].message
