"""Intelligence reports: portion markings and tear-lines, protected sources, releases
governed by agreements, originator control, the misinformation guard, verification and
withdrawal, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from detente.core.audit import AuditEntry
from detente.core.errors import AuthError, ConflictError, ValidationError
from detente.core.workspace import Workspace
from detente.exchange.service import Exchange
from detente.sharing.service import Sharing
from detente.store.search import search
from detente.store.service import ListQuery, Store
from tests import factories as f

SECRET_WORD = "zanzibarquokka"


def world(session: Any) -> dict[str, Any]:
    """GBR (originator) and KEN (partner) organisations, an in-force intelligence-sharing
    arrangement GBR-KEN up to SECRET, and a report with a KEN-releasable paragraph and a
    GBR-only one."""
    made = f.two_organisations(session)
    gbr = Store(session, Sharing(session).principal("gbr-planner"))
    states = made["states"]
    arrangement = f.agreement(
        gbr, states["GBR"], states["KEN"], title="GBR-KEN intelligence sharing",
        kind="intelligence_sharing_arrangement", marking="UNCLASSIFIED//TLP:CLEAR",
    )  # fmt: skip
    gbr.create("release_terms", {"title": "GBR-KEN terms", "agreement_id": arrangement.id, "up_to": "SECRET",
                                 "marking": "UNCLASSIFIED//TLP:CLEAR"})  # fmt: skip
    ex = Exchange(gbr)
    view = ex.write(
        {"title": "Night transfers off Mombasa", "source_reliability": "B", "info_credibility": 2,
         "marking": "CONFIDENTIAL//REL TO GBR, KEN, FRA", "verification": "corroborated"},
        [("CONFIDENTIAL//REL TO GBR, KEN", "Two vessels met at 0200 local time."),
         ("SECRET//NOFORN", f"The meeting was arranged by {SECRET_WORD} 4471."),
         ("RESTRICTED//REL TO GBR, KEN, FRA", "Port authorities were not informed.")],
    )  # fmt: skip
    return {**made, "gbr_store": gbr, "ex": ex, "report": view.report, "arrangement": arrangement}


def test_a_partner_sees_the_tear_line_and_a_recomputed_banner(ws: Workspace) -> None:
    with ws.session() as session:
        w = world(session)
        mine = w["ex"].view(w["report"].id)
        assert mine.banner.startswith("SECRET") and [p.withheld for p in mine.portions] == [False] * 3
        theirs = w["ex"].view(w["report"].id, "KEN")
        assert [p.withheld for p in theirs.portions] == [False, True, False]
        assert theirs.banner == "CONFIDENTIAL//REL TO GBR, KEN"
        assert SECRET_WORD not in str(theirs.as_dict()) and "4471" not in str(theirs.as_dict())
        # a KEN analyst reads the same through the kernel: the SECRET portion is not there
        ken = Exchange(Store(session, Sharing(session).principal("ken-analyst")))
        seen = ken.view(w["report"].id)
        assert [p.withheld for p in seen.portions] == [False, True, False]
        assert seen.banner == "CONFIDENTIAL//REL TO GBR, KEN"
        hits = search(ken.store, SECRET_WORD)
        assert hits.total == 0 and search(w["gbr_store"], SECRET_WORD).total == 1
        assert ken.store.count("report_portions", ListQuery(filters={"report_id": w["report"].id})) == 2


def test_release_needs_an_agreement_in_force_covering_partner_and_classification(ws: Workspace) -> None:
    with ws.session() as session:
        w = world(session)
        ex, report = w["ex"], w["report"]
        with pytest.raises(AuthError, match="no intelligence-sharing arrangement between GBR and FRA"):
            ex.release(report.id, "FRA", portions=[3])
        with pytest.raises(AuthError, match="nothing of it is releasable to CHN"):
            ex.release(report.id, "CHN")
        with pytest.raises(AuthError, match="paragraph 2 is marked SECRET//NOFORN: not releasable to KEN"):
            ex.release(report.id, "KEN", portions=[2])
        row = ex.release(report.id, "KEN")
        assert row.portions == [1, 3] and row.banner == "CONFIDENTIAL//REL TO GBR, KEN"
        assert [r.partner for r in ex.disseminations(report.id)] == ["KEN"]
        assert ex.released_to("KEN") == [report.id]
        # the arrangement expires: the next release is refused, saying so
        arrangement = w["arrangement"]
        w["gbr_store"].update("agreements", arrangement.id, {"expires_on": date(2021, 1, 1)},
                              expected_version=arrangement.version)  # fmt: skip
        with pytest.raises(AuthError, match="is no longer in force"):
            ex.release(report.id, "KEN")


def test_terms_below_the_classification_refuse_the_release(ws: Workspace) -> None:
    with ws.session() as session:
        w = world(session)
        terms = w["gbr_store"].list("release_terms")[0]
        w["gbr_store"].update("release_terms", terms.id, {"up_to": "RESTRICTED"}, expected_version=1)
        with pytest.raises(AuthError, match="covers up to RESTRICTED, not CONFIDENTIAL"):
            w["ex"].release(w["report"].id, "KEN")


def test_orcon_re_release_needs_the_originators_consent(ws: Workspace) -> None:
    with ws.session() as session:
        w = world(session)
        w["ex"].release(w["report"].id, "KEN")
        ken_store = Store(session, Sharing(session).principal("ken-admin"))
        ken = Exchange(ken_store)
        with pytest.raises(AuthError, match="originator control"):
            ken.release(w["report"].id, "GBR", portions=[1])
        consent = ken.request_consent(w["report"].id, "GBR", "share back")
        with pytest.raises(AuthError, match="only the report's originator"):
            ken.decide_consent(consent.id, True)
        w["ex"].decide_consent(consent.id, True)
        row = ken.release(w["report"].id, "GBR", portions=[1])  # under the GBR-KEN arrangement
        assert row.consent_id == consent.id and row.released_by == "ken-admin"
        # the originator sees both releases; KEN sees its own only
        assert [r.partner for r in w["ex"].disseminations(w["report"].id)] == ["KEN", "GBR"]
        assert [r.partner for r in ken.disseminations(w["report"].id)] == ["GBR"]


def test_the_guard_override_is_audited(ws: Workspace) -> None:
    with ws.session() as session:
        w = world(session)
        view = w["ex"].write(
            {"title": "Rumour of a coup", "source_reliability": "F", "info_credibility": 5,
             "marking": "RESTRICTED//REL TO GBR, KEN"},
            [("RESTRICTED//REL TO GBR, KEN", "A rumour heard in a market.")],
        )  # fmt: skip
        assert view.caution and "improbable" in view.caution and "not verified" in view.caution
        with pytest.raises(ValidationError, match="misinformation guard"):
            w["ex"].release(view.report.id, "KEN")
        row = w["ex"].release(view.report.id, "KEN", override="partner asked for raw reporting")
        entries = session.scalars(select(AuditEntry).where(AuditEntry.record_id == view.report.id)).all()
        overrides = [e for e in entries if e.action == "guard_override"]
        assert len(overrides) == 1 and "partner asked for raw reporting" in overrides[0].detail
        assert row.id in overrides[0].detail and any(e.action == "release" for e in entries)


def test_verification_history_and_withdrawal(ws: Workspace) -> None:
    with ws.session() as session:
        w = world(session)
        ex = w["ex"]
        other = ex.write({"title": "Harbour log", "source_reliability": "A", "info_credibility": 1,
                          "marking": "RESTRICTED"}, [("RESTRICTED", "Logged two vessels.")])  # fmt: skip
        ex.verify(w["report"].id, "contradicted", related=other.report.id, note="the log disagrees")
        ex.release(w["report"].id, "KEN")
        ex.withdraw(w["report"].id, "source recanted")
        steps = [(s.previous, s.status) for s in ex.verification_history(w["report"].id)]
        assert steps == [("corroborated", "contradicted"), ("contradicted", "withdrawn")]
        ken = Exchange(Store(session, Sharing(session).principal("ken-analyst")))
        assert ken.view(w["report"].id).report.verification == "withdrawn"
        with pytest.raises(ConflictError, match="withdrawn"):
            ex.release(w["report"].id, "KEN")


def test_a_protected_source_shows_only_its_grade(ws: Workspace) -> None:
    with ws.session() as session:
        w = world(session)
        gbr = w["gbr_store"]
        source = gbr.create(
            "intel_sources",
            {
                "codename": "KESTREL",
                "reliability": "B",
                "identity": "the harbour master",
                "marking": "SECRET",
            },
        )
        with pytest.raises(ValidationError, match="not above this report"):
            gbr.create("intel_reports", {"title": "x", "source_id": source.id, "marking": "SECRET"})
        header = {"title": "Harbour", "source_id": source.id, "source_reliability": "B"}
        report = gbr.create("intel_reports", {**header, "marking": "CONFIDENTIAL//REL TO GBR, KEN"})
        assert w["ex"].view(report.id).source.identity == "the harbour master"
        ken = Exchange(Store(session, Sharing(session).principal("ken-analyst")))
        seen = ken.view(report.id)
        assert seen.source is None and seen.report.source_id is None and "source_id" in seen.report.withheld
        assert seen.source_grade == "usually reliable, B"
