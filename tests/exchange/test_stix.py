"""Intelligence reports as STIX 2.1: only the paragraphs releasable to the reader, the
OASIS validator finds no error, the record's own times (twice the same objects), the
Admiralty confidence, and back into a store with the peer's markings and grading."""

from __future__ import annotations

import json

from stix2validator import ValidationOptions, validate_string

from detente.core.workspace import Workspace
from detente.exchange.service import Exchange
from detente.exchange.stix import REPORT_EXTENSION_ID, report_from_stix, report_to_stix
from detente.sharing.service import Sharing
from detente.store.service import Store
from tests.exchange.test_reports import SECRET_WORD, world


def _bundle(objects: list) -> str:
    import stix2

    return str(stix2.Bundle(objects=objects, allow_custom=False).serialize(pretty=True))


def test_stix_carries_only_releasable_paragraphs_and_validates(ws: Workspace) -> None:
    with ws.session() as session:
        w = world(session)
        ex = w["ex"]
        ken = ex.partner("KEN")
        objects = report_to_stix(ex.view(w["report"].id, "KEN"), ken)
        text = _bundle(objects)
        assert SECRET_WORD not in text and "4471" not in text
        result = validate_string(text, ValidationOptions(version="2.1"))
        assert result.is_valid, [str(e) for e in result.errors]
        by_type = {}
        for o in objects:
            by_type.setdefault(o["type"], []).append(o)
        (report,) = by_type["report"]
        assert report["confidence"] == 70  # credibility 2: probably true
        assert report["extensions"][REPORT_EXTENSION_ID]["withheld"] == [2]
        assert [n["content"] for n in by_type["note"]] == [
            "Two vessels met at 0200 local time.", "Port authorities were not informed."]  # fmt: skip
        assert report["created"].isoformat()[:19] == w["report"].created_at.isoformat()[:19]
        # exporting again gives the very same objects (the records' own times)
        again = report_to_stix(ex.view(w["report"].id, "KEN"), ken)
        assert _bundle(again).split("\n", 3)[3] == text.split("\n", 3)[3]
        # a reader the header is not releasable to gets nothing at all
        assert report_to_stix(ex.view(w["report"].id), ex.partner("CHN")) == []


def test_a_received_report_keeps_the_peers_markings_and_grading(ws: Workspace) -> None:
    with ws.session() as session:
        w = world(session)
        objects = report_to_stix(w["ex"].view(w["report"].id, "KEN"), w["ex"].partner("KEN"))
        payload = report_from_stix([json.loads(o.serialize()) for o in objects], "gbr-peer")
        assert payload["report"]["source_reliability"] == "B" and payload["report"]["info_credibility"] == 2
        assert [p["marking"] for p in payload["portions"]] == [
            "CONFIDENTIAL//REL TO GBR, KEN", "RESTRICTED//REL TO FRA, GBR, KEN"]  # fmt: skip
        ken = Exchange(Store(session, Sharing(session).principal("ken-admin")))
        report_id, action = ken.receive(payload, "gbr-peer")
        assert action == "created"
        assert ken.receive(payload, "gbr-peer") == (report_id, "unchanged")
        view = ken.view(report_id)
        assert (
            view.report.origin == "gbr-peer" and view.report.marking == "CONFIDENTIAL//REL TO FRA, GBR, KEN"
        )
        assert [p.text for p in view.portions] == [
            "Two vessels met at 0200 local time.", "Port authorities were not informed."]  # fmt: skip
