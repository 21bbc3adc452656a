"""The report form and page in a real Chromium, on SQLite and PostgreSQL: the banner
updates as paragraph markings are chosen, the partner's view shows a "portion withheld"
marker and a lower banner, a release no agreement covers is refused with the reason on
the page, a covered one lands in the dissemination list. The pages pass axe-core."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Browser, expect

from detente.core.workspace import Workspace
from detente.sharing.service import Sharing
from detente.store.service import Store
from tests import factories as f
from tests.live import live_server
from tests.web.test_browser import accessible, browser, page_banner, sign_in_with_keyboard  # noqa: F401


@pytest.fixture
def site(ws: Workspace) -> Iterator[str]:
    with ws.session() as session:
        made = f.two_organisations(session)
        reg = Store(session, Sharing(session).principal("gbr-planner"))
        states = made["states"]
        arrangement = f.agreement(
            reg, states["GBR"], states["KEN"], title="GBR-KEN intelligence sharing",
            signed_on=date(2024, 1, 1), kind="intelligence_sharing_arrangement",
            marking="UNCLASSIFIED//TLP:CLEAR",
        )  # fmt: skip
        reg.create("release_terms", {"title": "Terms", "agreement_id": arrangement.id, "up_to": "SECRET"})
    with live_server(ws) as base:
        yield base


def test_write_a_report_see_the_banner_and_the_partners_view(
    browser: Browser,  # noqa: F811
    site: str,
) -> None:
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    sign_in_with_keyboard(page, site, "gbr-planner")
    page.goto(f"{site}/intel/new")
    banner = page.locator("#live-banner")
    expect(banner).to_have_text("UNCLASSIFIED//TLP:CLEAR")  # every marking starts at the first choice
    page.get_by_label("Title", exact=True).fill("Night transfers off Mombasa")
    page.get_by_label("Marking of the title and summary").select_option("CONFIDENTIAL//REL TO GBR, KEN")
    expect(banner).to_have_text("CONFIDENTIAL//REL TO GBR, KEN")
    page.get_by_label("Source reliability").select_option("B")
    page.get_by_label("Information credibility").select_option("2")
    markings = page.locator("select[name=para_marking]")
    texts = page.locator("textarea[name=para_text]")
    markings.nth(0).select_option("CONFIDENTIAL//REL TO GBR, KEN")
    texts.nth(0).fill("Two vessels met at 0200 local time.")
    markings.nth(1).select_option("SECRET//REL TO GBR")
    texts.nth(1).fill("The meeting was arranged by a harbour official.")
    expect(banner).to_have_text("SECRET//REL TO GBR")  # the highest portion lifts the banner
    page.get_by_role("button", name="Add a paragraph").click()
    markings.nth(2).select_option("RESTRICTED//REL TO GBR, KEN")
    texts.nth(2).fill("Port authorities were not informed.")
    expect(banner).to_have_text("SECRET//REL TO GBR")
    accessible(page)
    page.get_by_role("button", name="Save the report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Night transfers off Mombasa")
    assert page.locator("#report-banner").inner_text() == "SECRET//REL TO GBR"
    assert page_banner(page) == "SECRET//REL TO GBR"
    assert page.locator("#portions .withheld").count() == 0
    # the partner's view: the SECRET paragraph withheld, the banner recomputed
    page.get_by_label("View as partner").select_option("KEN")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#shown-to")).to_contain_text("as partner KEN")
    expect(page.locator("#portions .withheld")).to_have_text("[portion withheld]")
    assert "harbour official" not in page.content()
    assert page.locator("#report-banner").inner_text() == "CONFIDENTIAL//REL TO GBR, KEN"
    assert page_banner(page) == "CONFIDENTIAL//REL TO GBR, KEN"
    accessible(page)
    # a release no agreement covers is refused, with the reason; a covered one is listed
    page.get_by_label("Release to").select_option("NATO")  # the header is not releasable to NATO
    page.get_by_role("button", name="Release").click()
    expect(page.locator("#action-error")).to_contain_text(
        "release to NATO refused: this report's header is marked"
    )
    page.get_by_label("Release to").select_option("KEN")
    page.get_by_role("button", name="Release").click()
    expect(page.locator("#action-done")).to_contain_text("released to KEN: paragraphs 1, 3")
    expect(page.locator("#releases tbody")).to_contain_text("KEN")
