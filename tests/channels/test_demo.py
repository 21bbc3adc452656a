"""The demo's channels (SQLite): the hotline, its checks, messages that the demo users open
with their demo password, and an incident on the crisis log."""

from __future__ import annotations

import pytest

from detente.channels.client import open_message
from detente.channels.crisis import timeline
from detente.channels.crypto import unlock
from detente.channels.hotlines import check_report, hotlines
from detente.channels.keys import current_key, key_by_id, my_keys
from detente.channels.messages import message_list
from detente.core.workspace import Workspace
from detente.demo.channels import build_channels
from detente.sharing.service import Sharing
from detente.store.service import ListQuery
from tests.channels.conftest import store_of
from tests.factories import FULL


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_demo_hotline_opens_with_the_demo_passwords(ws: Workspace) -> None:
    with ws.session() as session:
        sharing = Sharing(session)
        gbr = sharing.add_org("Ministry of Defence (United Kingdom) [demo]", "GBR", actor=None)
        sharing.add_user(
            "gbr-admin",
            gbr.id,
            role="operator",
            clearances=FULL,
            password="demo-gbr-admin-password",
            actor=None,
        )
        boss = sharing.principal("gbr-admin")
        fra = sharing.add_org("Ministère des Armées (France) [demo]", "FRA", actor=boss)
        for name, org, role in (
            ("gbr-planner", gbr, "planner"),
            ("gbr-vetting", gbr, "vetting_officer"),
            ("fra-admin", fra, "administrator"),
            ("fra-planner", fra, "planner"),
            ("fra-vetting", fra, "vetting_officer"),
            ("fra-analyst", fra, "analyst"),
        ):
            sharing.add_user(
                name,
                org.id,
                role=role,
                clearances=FULL,
                password=f"demo-{name}-password",
                actor=boss if org is gbr or role == "administrator" else sharing.principal("fra-admin"),
            )
        build_channels(session)
    with ws.session() as session:
        reader = store_of(session, "fra-planner")
        (line,) = hotlines(reader)
        report = check_report(reader, line.id)
        assert [s["answered"] for s in report["sides"]] == [4, 4]
        pair = unlock(my_keys(reader)[0]["locked"], "demo-fra-planner-password")
        texts = []
        for item in message_list(reader, line.conversation_id):
            if item.get("copy") and item["kind"] == "message":
                sender = key_by_id(session, item["sender_key_id"])
                mine = current_key(session, "fra-planner")
                assert mine is not None
                texts.append(
                    open_message(
                        pair,
                        item,
                        sender.box_public,
                        sender.sign_public,
                        sender.fingerprint,
                        mine.fingerprint,
                    ).text
                )
        assert any("Cap Gris-Nez" in t for t in texts)
        (incident,) = reader.list("incidents", ListQuery())
        kinds = [i.kind for i in timeline(store_of(session, "gbr-planner"), incident.id).items]
        assert kinds.count("message") == 2 and "decision" in kinds
