"""Any record, in a real browser (Chromium), through the pages generated from its declaration.

A planner creates an agreement in the web app, corrects its end date, and sees the change
in the record's history; a form with three bad fields shows all three errors at once,
each beside its field; a draft engagement is withdrawn. A partner's analyst asking for
the edit page of a record not releasable to them gets the same 404 as for its detail page
(and as for a record that does not exist). Every page passes axe-core.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from detente.core.workspace import Workspace
from tests import factories as f
from tests.live import live_server
from tests.web.test_browser import accessible, browser, sign_in_with_keyboard  # noqa: F401  (fixture)


@pytest.fixture
def site(ws: Workspace) -> Iterator[tuple[str, dict[str, Any]]]:
    with ws.session() as session:
        world = f.two_organisations(session)
        reg = f.Store(session, f.Sharing(session).principal("gbr-planner"))
        s = world["states"]
        world["draft"] = f.engagement(
            reg, s["GBR"], [s["KEN"]], title="Draft staff talks", start_date=date(2027, 3, 1),
            marking="UNCLASSIFIED//REL TO KEN",
        )  # fmt: skip
        world["secret"] = f.agreement(
            reg, s["GBR"], s["FRA"], title="UK-France arrangement", marking="SECRET"
        )
    with live_server(ws) as base:
        yield base, world


def test_create_edit_history_errors_and_withdraw_in_the_browser(
    browser: Browser,  # noqa: F811
    site: tuple[str, dict[str, Any]],
) -> None:
    base, world = site
    page = browser.new_context().new_page()
    sign_in_with_keyboard(page, base, "gbr-planner")
    # create an agreement through the generated form
    page.goto(f"{base}/records/agreements/new")
    accessible(page)
    page.get_by_label("Title of the agreement").fill("Defence cooperation agreement UK-Kenya")
    page.get_by_label("Kind of agreement").select_option("defense_cooperation_agreement")
    page.get_by_label("Its parties").select_option([world["states"]["GBR"].id, world["states"]["KEN"].id])
    page.get_by_label("Date signed").fill("2025-05-01")
    page.get_by_label("Date it expires").fill("2030-05-01")
    page.get_by_label("Marking: who may read it").select_option("RESTRICTED//REL TO GBR, KEN")
    page.get_by_role("button", name="Create agreement").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Defence cooperation agreement UK-Kenya")
    expect(page.locator(".record-banner")).to_have_text("RESTRICTED//REL TO GBR, KEN")
    accessible(page)
    # correct its end date, and see the change in its history
    page.get_by_role("link", name="Edit").click()
    accessible(page)
    page.get_by_label("Date it expires").fill("2031-12-31")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("dl.fields")).to_contain_text("2031-12-31")
    page.get_by_role("link", name="History").click()
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("update")
    expect(rows.nth(1)).to_contain_text("expires_on")
    expect(rows.nth(1)).to_contain_text("gbr-planner")
    accessible(page)
    # three bad fields: three errors at once, each beside its field
    page.goto(f"{base}/records/people/new")
    page.get_by_label("Full name").fill("Colonel X")
    page.get_by_label("Sending state (the officer's country)").fill("Atlantis")
    page.get_by_label("Receiving (host) state").fill("Nowhereland")
    page.get_by_label("Post, e.g. 'Embassy in Nairobi'").fill("Embassy " * 50)  # over 300 characters
    page.get_by_role("button", name="Create person").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Please correct 3 fields")
    for field in ("sending_state", "receiving_state", "post"):
        expect(page.locator(f"#{field}-error")).to_be_visible()
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Full name")).to_have_value("Colonel X")  # what was typed is kept
    accessible(page)
    # withdraw a draft engagement: it becomes cancelled and stays on file
    page.goto(f"{base}/engagements/{world['draft'].id}")
    page.get_by_role("button", name="Withdraw (cancel)").click()
    expect(page.locator("#status")).to_have_text("cancelled")


def test_a_hidden_records_edit_page_is_the_same_404_as_its_detail_page(
    browser: Browser,  # noqa: F811
    site: tuple[str, dict[str, Any]],
) -> None:
    base, world = site
    page = browser.new_context().new_page()
    sign_in_with_keyboard(page, base, "ken-analyst")
    hidden, absent = world["secret"].id, str(uuid.uuid4())
    answers = []
    for record_id in (hidden, absent):
        for suffix in ("", "/edit", "/history"):
            response = page.goto(f"{base}/records/agreements/{record_id}{suffix}")
            assert response is not None
            text = page.locator("main").inner_text().replace(record_id, "<id>")
            answers.append((suffix, response.status, text))
    assert answers[:3] == answers[3:]  # hidden and absent: the same
    assert {status for _, status, _ in answers} == {404}
    # a record they may read but not change: the edit page says so
    page.goto(f"{base}/records/engagements/{world['draft'].id}/edit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
