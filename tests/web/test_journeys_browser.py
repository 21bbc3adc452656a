"""A journey per role through the demo in a real Chromium (#13): the planner fixes a finding
from the board, the partner analyst reads a partner, its relations and the warning, the
vetting officer screens and decides, the administrator changes a user. The demo is built
as `detente demo` builds it (the scenario, the open datasets of the shared folder and the
first forecast). No step shows an error page; each saves a screenshot as a test artefact
(test-artifacts/journeys/<role>/)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from detente.core.settings import Settings
from detente.core.workspace import Workspace, create_workspace
from detente.demo import build_demo
from detente.demo.open_data import first_forecast, load_open_data
from tests.live import live_server
from tests.web.test_browser import ARTIFACTS, browser  # noqa: F401  (fixture)

ERROR_HEADINGS = ("Not found", "Not allowed", "Something is wrong", "Changed by someone else")


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory, shared: Path) -> Iterator[str]:
    ws: Workspace = create_workspace(
        Settings(workspace=tmp_path_factory.mktemp("journeys") / "ws", database_url="")
    )
    build_demo(ws, as_of=date.today())
    opened = load_open_data(ws, shared, user="demo")
    assert not opened.failed and first_forecast(ws, opened) is not None
    try:
        with live_server(ws) as base:
            yield base
    finally:
        ws.close()


class Journey:
    """One role's walk: each step is a page without an error, saved as a screenshot."""

    def __init__(self, browser: Browser, base: str, user: str) -> None:  # noqa: F811
        self.base, self.user, self.n = base, user, 0
        self.page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        self.page.set_default_timeout(60_000)  # the first screening loads the matcher's data
        self.go("/login")
        self.page.get_by_label("User name").fill(user)
        self.page.get_by_label("Password").fill(f"demo-{user}-password")
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.locator("header .who")).to_contain_text(user)

    def go(self, path: str) -> Page:
        reply = self.page.goto(f"{self.base}{path}")
        assert reply is not None and reply.status < 400, f"{path}: {reply and reply.status}"
        return self.page

    def step(self, name: str) -> None:
        heading = self.page.get_by_role("heading", level=1).first.inner_text()
        assert heading not in ERROR_HEADINGS, f"{self.user} at {name}: {heading} ({self.page.url})"
        self.n += 1
        folder = ARTIFACTS / "journeys" / self.user
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.n:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        assert path.stat().st_size > 5000


NOTICE = 'li.finding.violation[data-rule="vd:notice_period"]'


def _late(page: Page) -> set[str]:
    """The engagements the board lists as notified too late (each may appear under its rule
    and under its engagement)."""
    return {str(li.get_attribute("data-engagement")) for li in page.locator(NOTICE).all()}


def test_planner_board_engagement_fix_a_finding(browser: Browser, demo_site: str) -> None:  # noqa: F811
    j = Journey(browser, demo_site, "gbr-planner")
    page = j.go("/planning")
    expect(page.get_by_role("heading", level=1)).to_have_text("Planning board")
    j.step("board")
    late = page.locator(NOTICE).filter(has_text="Exercise Northern Shield (demo)")
    expect(late).to_have_count(1)  # not notified and due: a violation
    engagement = late.first.get_attribute("data-engagement")
    before = _late(page)
    assert engagement in before
    j.go(f"/engagements/{engagement}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Exercise Northern Shield (demo)")
    j.step("engagement")
    page.get_by_role("link", name="Edit", exact=True).click()
    start = date.today() + timedelta(days=100)
    page.get_by_label(re.compile(r"^Start date")).fill(start.isoformat())
    page.get_by_label(re.compile(r"^End date")).fill((start + timedelta(days=13)).isoformat())
    j.step("edit")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Exercise Northern Shield (demo)")
    j.step("saved")
    j.go("/planning")
    # notification is no longer overdue: one violation fewer, this exercise's gone
    expect(page.locator(NOTICE).filter(has_text="Exercise Northern Shield (demo)")).to_have_count(0)
    assert _late(page) == before - {engagement}
    j.step("board-after")


def test_analyst_partner_relations_warning(browser: Browser, demo_site: str) -> None:  # noqa: F811
    j = Journey(browser, demo_site, "ken-analyst")
    page = j.go("/partners/KEN")
    expect(page.get_by_role("heading", level=1)).to_have_text("Kenya")
    expect(page.locator("#h-pko")).to_be_visible()  # IPI contributions, from the lake
    expect(page.locator("#h-agr")).to_contain_text("Agreements in force")
    j.step("partner")
    page = j.go("/relations")
    expect(page.locator("svg").first).to_be_visible()
    j.step("network")
    page = j.go("/relations/dyads?a=GBR&b=KEN")
    expect(page.locator("#h-index")).to_have_text("Military cooperation index")
    j.step("compare-pairs")
    page = j.go("/warning")
    expect(page.locator("#h-top")).to_have_text("Highest risk")
    top = page.locator("section").filter(has=page.locator("#h-top"))
    expect(top.get_by_role("cell", name="AFG", exact=True).first).to_be_visible()
    j.step("warning")


def test_vetting_officer_screens_and_decides(browser: Browser, demo_site: str) -> None:  # noqa: F811
    j = Journey(browser, demo_site, "gbr-vetting")
    page = j.go("/vetting")
    page.get_by_label("Name, in any script").fill("Viktor Bout")
    page.get_by_role("button", name="Screen").click()
    expect(page.locator("#h-candidates")).to_have_text("Candidates for “Viktor Bout”")
    expect(page.locator("table").filter(has_text="BOUT").first).to_be_visible()
    j.step("screen")
    page.get_by_label("Actor").select_option(label="Northern Rangers Militia (fictional) (militia)")
    page.get_by_label("Outcome").select_option("refused")
    page.get_by_role("button", name="Record decision").click()
    decisions = page.locator("section").filter(has=page.locator("#h-decisions"))
    expect(decisions).to_contain_text("Northern Rangers Militia (fictional)")
    expect(decisions).to_contain_text("refused")
    j.step("decided")


def test_administrator_users_and_markings(browser: Browser, demo_site: str) -> None:  # noqa: F811
    j = Journey(browser, demo_site, "gbr-admin")
    page = j.go("/admin")
    expect(page.get_by_label("Role of gbr-vetting")).to_have_value("vetting_officer")
    j.step("users")
    page.get_by_label("National clearance of gbr-analyst").fill("SECRET")
    page.get_by_role("button", name="Save gbr-analyst").click()
    j.go("/admin")
    expect(page.get_by_label("National clearance of gbr-analyst")).to_have_value("SECRET")
    expect(page.get_by_text("NATO").first).to_be_visible()  # coalitions and their members
    j.step("user-changed")
