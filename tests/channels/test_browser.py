"""Secure channels in a real Chromium, on both stores: a GBR
planner makes new keys in the browser, a KEN analyst unlocks theirs; they exchange
messages live, each decrypted in the other's browser; no response the server sends, the
server-sent events included, carries the plaintext, and neither does the database."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.channels.conftest import PASSPHRASE, channel_server
from tests.channels.test_api import _scan_database
from tests.web.test_browser import accessible, browser, sign_in_with_keyboard  # noqa: F401


def _recording(page: Page) -> list[bytes]:
    """Every body the server sends the page: responses, and each server-sent event (via CDP)."""
    seen: list[bytes] = []

    def keep(response: Any) -> None:
        if "event-stream" in (response.headers.get("content-type") or ""):
            return  # a stream never ends: its events are recorded one by one below
        with contextlib.suppress(Exception):  # a redirect has no body
            seen.append(response.body())

    page.on("response", keep)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on("Network.eventSourceMessageReceived", lambda e: seen.append(e["data"].encode()))
    return seen


def test_two_countries_exchange_live_and_the_server_sees_no_plaintext(
    browser: Browser,  # noqa: F811
    world: dict[str, Any],
    database_url: str,
    tmp_path: Any,
) -> None:
    ws, conv = world["ws"], world["conversation"]
    token_out, token_back = f"OUT-{uuid.uuid4().hex}", f"BACK-{uuid.uuid4().hex}"
    log = tmp_path / "server.log"
    with channel_server(ws, log_file=log) as (base, _app):
        gbr = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        ken = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        bodies = _recording(gbr)
        ken_bodies = _recording(ken)
        sign_in_with_keyboard(gbr, base, "gbr-planner")
        sign_in_with_keyboard(ken, base, "ken-analyst")
        # GBR makes new keys here, in the browser (its old pair is rotated out)
        gbr.goto(f"{base}/channels/keys")
        gbr.get_by_label("Passphrase", exact=True).fill("a browser passphrase")
        gbr.get_by_label("Passphrase again").fill("a browser passphrase")
        gbr.get_by_role("button", name="Rotate my keys").click()
        expect(gbr.locator("#keys-status")).to_contain_text("Published", timeout=30_000)
        fingerprint = gbr.locator("#my-fingerprint").inner_text()
        assert len(fingerprint.split()) == 8
        gbr.goto(f"{base}/channels/c/{conv}")
        expect(gbr.locator("#channel-app")).to_have_attribute("data-live", "yes")
        ken.goto(f"{base}/channels/c/{conv}")
        expect(ken.locator("#channel-app")).to_have_attribute("data-live", "yes")
        ken.get_by_label("Passphrase of your key").fill("a wrong passphrase")
        ken.get_by_role("button", name="Unlock").click()
        expect(ken.locator("#channel-status")).to_contain_text("wrong passphrase", timeout=30_000)
        ken.get_by_label("Passphrase of your key").fill(PASSPHRASE)
        ken.get_by_role("button", name="Unlock").click()
        expect(ken.get_by_label("Message", exact=True)).to_be_visible(timeout=30_000)
        expect(
            gbr.get_by_label("Message", exact=True)
        ).to_be_visible()  # the keys made here are unlocked in this tab
        gbr.get_by_label("Message", exact=True).fill(f"Patrol boats stand off at dawn {token_out}")
        gbr.get_by_label("Attachment").set_input_files(
            files=[{"name": "route.txt", "mimeType": "text/plain", "buffer": f"route {token_out}".encode()}]
        )
        gbr.get_by_role("button", name="Send").click()
        expect(gbr.locator("#channel-status")).to_contain_text("Sent")
        # live: the KEN analyst's page gets it by server-sent events and opens it
        expect(ken.locator("#messages")).to_contain_text(token_out, timeout=15_000)
        with ken.expect_download() as saved:
            ken.get_by_role("button", name="Save route.txt").click()
        assert Path(saved.value.path()).read_bytes() == f"route {token_out}".encode()  # opened in the browser
        ken.get_by_label("Message", exact=True).fill(f"Understood, standing by {token_back}")
        ken.get_by_role("button", name="Send").click()
        expect(gbr.locator("#messages")).to_contain_text(token_back, timeout=15_000)
        accessible(ken)
        gbr.goto(f"{base}/channels")
        expect(gbr.locator("#conversations")).to_contain_text("Liaison")
        accessible(gbr)
        gbr.context.close()  # the event streams end with their pages, before the server stops
        ken.context.close()
    for token in (token_out, token_back):
        assert not any(token.encode() in b for b in bodies + ken_bodies)
    assert any(b"ciphertext" in b for b in ken_bodies) and any(
        b"ciphertext" in b for b in bodies
    )  # the stream did carry the sealed copy
    logged = log.read_bytes()
    assert b"/api/v1/channels/messages" in logged
    assert token_out.encode() not in logged and token_back.encode() not in logged
    assert _scan_database(ws, database_url, token_out.encode()) == 0
    assert _scan_database(ws, database_url, token_back.encode()) == 0
