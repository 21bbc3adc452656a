"""The demonstration's intelligence exchange: the British ministry's intelligence-sharing
arrangements (with Kenya, in force up to SECRET; with France, expired, so a release to
France is refused with the reason), two protected sources, and graded reports with mixed
portion markings: one corroborated by another and released to Kenya (its SECRET paragraph
withheld), a rumour from an F source graded 5 (the caution; released only with an
override, then withdrawn), and one contradicted.

Reports are written through the exchange service as a user would, so their releases,
consents and verification steps are on the audit trail. Nothing here draws at random.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from detente.exchange.service import Exchange
from detente.sharing.service import Sharing
from detente.store.service import Store

__all__ = ["build_intel"]

KEN_RELEASE = "CONFIDENTIAL//REL TO GBR, KEN"
PUBLIC = "UNCLASSIFIED//TLP:CLEAR"

REPORTS: tuple[dict[str, Any], ...] = (
    {
        "key": "mombasa",
        "header": {
            "title": "Night-time transfers between fishing vessels off Mombasa",
            "source_reliability": "B",
            "info_credibility": 2,
            "marking": KEN_RELEASE,
            "countries": ["KEN", "SOM"],
            "summary": "Repeated ship-to-ship transfers at night outside the port limits.",
        },
        "days_ago": 12,
        "source": "KESTREL",
        "paragraphs": (
            (
                KEN_RELEASE,
                "Two fishing vessels met about 14 nautical miles east of Mombasa at 0200 local time "
                "on three nights in one week; each meeting lasted under an hour.",
            ),
            (
                "SECRET//REL TO GBR",
                "The meetings were arranged by a harbour employee who passes patrol "
                "schedules to the vessels' operator.",
            ),
            ("RESTRICTED//REL TO GBR, KEN", "The port authority had not been informed of the meetings."),
        ),
    },
    {
        "key": "harbour-log",
        "header": {
            "title": "Harbour log confirms unscheduled departures",
            "source_reliability": "A",
            "info_credibility": 1,
            "marking": KEN_RELEASE,
            "countries": ["KEN"],
        },
        "days_ago": 9,
        "paragraphs": (
            (
                KEN_RELEASE,
                "The harbour log records two unscheduled departures on the nights in "
                "question, both returning before dawn.",
            ),
        ),
    },
    {
        "key": "rumour",
        "header": {
            "title": "Rumoured arms cache near Lamu",
            "source_reliability": "F",
            "info_credibility": 5,
            "marking": "RESTRICTED//REL TO GBR, KEN",
            "countries": ["KEN"],
        },
        "days_ago": 6,
        "paragraphs": (
            (
                "RESTRICTED//REL TO GBR, KEN",
                "A trader repeated a market rumour of weapons buried near Lamu; nothing corroborates it.",
            ),
        ),
    },
    {
        "key": "strait",
        "header": {
            "title": "Unannounced naval activity in the Dover Strait",
            "source_reliability": "C",
            "info_credibility": 3,
            "marking": "CONFIDENTIAL//REL TO GBR, FRA",
            "countries": ["FRA", "GBR"],
        },
        "days_ago": 20,
        "source": "OSPREY",
        "paragraphs": (
            ("CONFIDENTIAL//REL TO GBR, FRA", "A survey vessel loitered near the cable route for six hours."),
            ("SECRET", "The vessel's tasking was reported by a crew member."),
        ),
    },
)
SOURCES = (
    ("KESTREL", "B", "A shipping agent at the port of Mombasa", "Sees vessel movements and crew lists"),
    ("OSPREY", "C", "A crew member of a survey vessel", "Occasional, through a relative"),
)


def _arrangement(reg: Store, a: str, b: str, signed: date, expires: date | None, up_to: str) -> Any:
    parties = [reg.resolve_ref("actors", f"demo:state:{c}") for c in (a, b)]
    agreement = reg.create(
        "agreements",
        {
            "title": f"Intelligence-sharing arrangement {a}-{b}",
            "kind": "intelligence_sharing_arrangement",
            "parties": parties,
            "signed_on": signed,
            "expires_on": expires,
            "external_id": f"demo:agr:isa-{a}-{b}",
            "marking": PUBLIC,
            "notes": "DEMONSTRATION: a notional arrangement.",
        },
    )
    terms = {
        "title": f"Release terms {a}-{b}",
        "agreement_id": agreement.id,
        "up_to": up_to,
        "marking": PUBLIC,
        "external_id": f"demo:terms:{a}-{b}",
    }
    reg.create("release_terms", terms)
    return agreement


def build_intel(session: Session, as_of: date) -> None:
    """The demo's arrangements, sources, reports, releases and verification (once)."""
    reg = Store(session, Sharing(session).principal("gbr-admin"))
    if reg.find_id("agreements", record_id=None, external_id="demo:agr:isa-GBR-KEN"):
        return
    _arrangement(reg, "GBR", "KEN", as_of - timedelta(days=700), None, "SECRET")
    _arrangement(reg, "GBR", "FRA", date(2015, 3, 1), date(2021, 3, 1), "CONFIDENTIAL")
    sources = {
        code: reg.create(
            "intel_sources",
            {
                "codename": code,
                "reliability": grade,
                "identity": who,
                "access": access,
                "handler": "gbr-admin",
                "marking": "SECRET//NOFORN",
                "external_id": f"demo:source:{code}",
            },
        ).id
        for code, grade, who, access in SOURCES
    }
    ex = Exchange(reg)
    made: dict[str, str] = {}
    for spec in REPORTS:
        when = datetime.combine(as_of - timedelta(days=spec["days_ago"]), datetime.min.time(), UTC)
        header = {**spec["header"], "report_time": when + timedelta(hours=9), "info_time": when,
                  "external_id": f"demo:intel:{spec['key']}"}  # fmt: skip
        if "source" in spec:
            header["source_id"] = sources[spec["source"]]
        made[spec["key"]] = ex.write(header, list(spec["paragraphs"])).report.id
    ex.verify(made["mombasa"], "corroborated", related=made["harbour-log"], note="the harbour log agrees")
    ex.verify(made["harbour-log"], "corroborated", note="official record")
    ex.release(made["mombasa"], "KEN")
    ex.release(made["harbour-log"], "KEN")
    ex.release(made["rumour"], "KEN", override="Kenyan partners asked for raw reporting on Lamu")
    ex.verify(made["strait"], "contradicted", note="the vessel's AIS track shows it in port")
    ex.withdraw(made["rumour"], "the trader retracted the story")
