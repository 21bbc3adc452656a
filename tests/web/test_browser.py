"""The web app in a real browser: Debian's Chromium driven by Playwright, against a live
server on loopback, on SQLite and PostgreSQL.

One planner creates a SECRET//NOFORN exercise through the form and moves it through its
lifecycle; it shows on the calendar and the partner page. An analyst of another
organisation then looks everywhere (table, calendar, partner page, search, chart data,
export, the record's own URL) and must not find it. Screenshots of the main pages are
saved as artefacts (``DETENTE_TEST_ARTIFACTS``, default ``test-artifacts/``), and every
page passes axe-core's WCAG 2 A/AA rules.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from detente.core.workspace import Workspace
from tests import factories as f
from tests.conftest import ROOT
from tests.live import live_server

CHROMIUM = os.environ.get("DETENTE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("DETENTE_TEST_ARTIFACTS", ROOT / "test-artifacts"))
TITLE = "Exercise SILENT HARBOUR"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Chromium not found at {CHROMIUM}: `apt-get install chromium` (.ci/run does)")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def site(ws: Workspace) -> Iterator[tuple[str, dict[str, Any]]]:
    with ws.session() as session:
        world = f.two_organisations(session)
        reg = f.Store(session, f.Sharing(session).principal("gbr-planner"))
        s = world["states"]
        f.engagement(
            reg, s["GBR"], [s["FRA"], s["KEN"]], title="Open staff talks", start_date=date.today(),
            marking="UNCLASSIFIED//TLP:CLEAR",
        )  # fmt: skip
    with live_server(ws) as base:
        yield base, world


AXE = Axe()


def accessible(page: Page) -> None:
    """axe-core's WCAG 2 A and AA rules (labels, names, contrast, structure) find nothing.
    Every rule runs and every violation comes back with all its nodes; the rules that pass
    come back with one node each (axe's ``resultTypes``), not every node of the page."""
    results = AXE.run(
        page,
        options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}, "resultTypes": ["violations"]},
    )
    assert {"label", "color-contrast"} <= {r["id"] for r in results.response["passes"]}, "axe did not run"
    violations = results.response["violations"]
    assert not violations, f"{page.url}: " + "; ".join(
        f"{v['id']} ({len(v['nodes'])}): {v['nodes'][0]['target']}" for v in violations
    )


def shoot(page: Page, name: str, store: str) -> None:
    folder = ARTIFACTS / "screenshots" / store
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert (folder / f"{name}.png").stat().st_size > 5000


def sign_in_with_keyboard(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/engagements")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator("#username")).to_be_focused()  # the form starts where the user types
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    expect(page.locator("#password")).to_be_focused()
    page.keyboard.type(f.PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/engagements", timeout=20_000)  # back where they were going
    expect(page.locator("header .who")).to_contain_text(username)


def map_counts(page: Page) -> dict[str, int]:
    """The world map's data table: engagements per country."""
    rows = page.locator("figure.chart table tbody tr")
    cells = [rows.nth(i).locator("td").all_text_contents() for i in range(rows.count())]
    assert page.locator("figure.chart svg").count() == 1
    return {country: int(n) for country, n in cells}


def page_banner(page: Page) -> str:
    top = page.locator("#page-banner-top").inner_text()
    assert page.locator("#page-banner-bottom").inner_text() == top
    return top


def test_engagement_lifecycle_in_the_browser_and_what_another_organisation_sees(
    browser: Browser, site: tuple[str, dict[str, Any]], database_url: str
) -> None:
    base, _world = site
    store = database_url.split(":")[0].split("+")[0]
    start = (date.today().replace(day=1) + timedelta(days=40)).replace(day=10)
    month = f"{start:%Y-%m}"

    gbr = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    gbr.goto(f"{base}/login")
    accessible(gbr)
    shoot(gbr, "01-sign-in", store)
    sign_in_with_keyboard(gbr, base, "gbr-planner")

    # create through the form
    gbr.goto(f"{base}/engagements/new")
    accessible(gbr)
    gbr.get_by_label("Title").fill(TITLE)
    gbr.get_by_label("Kind").select_option("joint_exercise")
    gbr.get_by_label("Lead").select_option(label="United Kingdom")
    gbr.get_by_label("Partners (hold Ctrl to pick several)").select_option(label=["France"])
    gbr.get_by_label("Start date").fill(start.isoformat())
    gbr.get_by_label("End date").fill((start + timedelta(days=2)).isoformat())
    gbr.get_by_label("Troops").fill("1200")
    gbr.get_by_label("Marking", exact=True).fill("SECRET//NOFORN")
    shoot(gbr, "02-new-engagement", store)
    gbr.get_by_role("button", name="Create engagement").click()
    expect(gbr.get_by_role("heading", level=1)).to_have_text(TITLE)
    record_url = gbr.url
    record_id = record_url.rsplit("/", 1)[1]
    assert gbr.locator(".record-banner").first.inner_text() == "SECRET//NOFORN"
    assert page_banner(gbr).startswith("SECRET//NOFORN")
    expect(gbr.locator("#status")).to_have_text("proposed")

    # through its lifecycle, one button per allowed move
    for status in ("planned", "approved", "executed", "assessed"):
        gbr.get_by_role("button", name=f"Mark {status}").click()
        expect(gbr.locator("#status")).to_have_text(status)
    expect(gbr.get_by_role("button", name=re.compile("^Mark "))).to_have_count(0)  # assessed is final
    accessible(gbr)
    shoot(gbr, "03-engagement", store)

    # on the calendar, on France's partner page (table and chart data), in search
    gbr.goto(f"{base}/engagements/calendar?month={month}")
    weeks = len({(start + timedelta(days=i)).isocalendar()[:2] for i in range(3)})
    expect(gbr.get_by_role("link", name=TITLE)).to_have_count(weeks)  # a bar across its days, per week
    accessible(gbr)
    shoot(gbr, "04-calendar", store)
    gbr.goto(f"{base}/partners/FRA")
    expect(gbr.get_by_role("link", name=TITLE)).to_have_count(1)
    expect(gbr.get_by_role("heading", name="Engagements over time (2)")).to_be_visible()
    assert month in gbr.locator("figure.chart table").text_content(), "the chart's data has the new month"
    assert gbr.locator("figure.chart svg").count() == 1
    assert page_banner(gbr).startswith("SECRET//NOFORN")
    accessible(gbr)
    shoot(gbr, "05-partner", store)
    gbr.goto(f"{base}/partners")  # the world map counts it for France
    assert map_counts(gbr)["FRA"] == 2
    accessible(gbr)
    shoot(gbr, "05b-partners-map", store)
    gbr.goto(f"{base}/search?q=silent")
    expect(gbr.get_by_role("link", name=TITLE)).to_have_count(1)
    pages = {"/": "06-dashboard", "/engagements": "07-engagements", "/agreements": "08-agreements",
             "/people": "09-people", "/relations": "10-relations-to-come"}  # fmt: skip
    for path, name in pages.items():
        gbr.goto(base + path)
        accessible(gbr)
        shoot(gbr, name, store)
    gbr.get_by_role("button", name="Sign out").click()
    expect(gbr).to_have_url(f"{base}/login")

    # another organisation: nowhere to be found
    ken = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_with_keyboard(ken, base, "ken-analyst")
    visited = []
    for path in (
        "/",
        "/engagements",
        f"/engagements?from={start}&to={start}",
        f"/engagements/calendar?month={month}",
        "/partners/FRA",
        "/partners/GBR",
        "/search?q=silent",
        "/search?q=exercise",
    ):
        ken.goto(base + path)
        html = ken.content()
        assert TITLE not in html and record_id not in html and "SILENT" not in html, path
        assert "SECRET" not in page_banner(ken), path
        visited.append(path)
    ken.goto(f"{base}/engagements")
    expect(ken.get_by_role("link", name="Open staff talks")).to_have_count(1)  # the public one is there
    ken.goto(f"{base}/partners/FRA")
    expect(ken.get_by_role("heading", name="Engagements over time (1)")).to_be_visible()
    assert month not in ken.locator("figure.chart table").text_content()
    accessible(ken)
    shoot(ken, "11-partner-other-organisation", store)
    ken.goto(f"{base}/partners")
    assert map_counts(ken) == {"GBR": 1, "FRA": 1, "KEN": 1}  # the open talks only
    ken.goto(record_url)
    expect(ken.get_by_role("heading", level=1)).to_have_text("Not found")
    exported = ken.request.get(f"{base}/api/v1/export?table=engagements&format=csv")
    assert exported.status == 200 and "Open staff talks" in exported.text()
    assert TITLE not in exported.text() and record_id not in exported.text()
    # the API's own documentation renders from packaged assets (no CDN): every tag is there
    ken.goto(f"{base}/api/v1/docs")
    for tag in ("engagements", "agreements", "bulk", "sharing"):  # the first /openapi.json is built
        expect(ken.locator(f"#operations-tag-{tag}")).to_be_visible(timeout=30_000)  # for ~190 routes
    listed = ken.request.get(f"{base}/api/v1/engagements?limit=1000").json()
    assert listed["total"] == 1 and TITLE not in str(listed)
    assert len(visited) == 8


def test_forms_report_errors_and_refuse_forged_posts(
    browser: Browser, site: tuple[str, dict[str, Any]]
) -> None:
    base, _world = site
    page = browser.new_context().new_page()
    sign_in_with_keyboard(page, base, "gbr-planner")
    page.goto(f"{base}/engagements/new")
    page.get_by_label("Title").fill("Bad marking")
    page.get_by_label("Start date").fill("2026-05-01")
    page.get_by_label("Marking", exact=True).fill("SECRET//REL TO")
    page.get_by_role("button", name="Create engagement").click()
    expect(page.get_by_role("alert")).to_contain_text("marking")
    assert page.get_by_label("Title").input_value() == "Bad marking"  # what was typed is kept
    accessible(page)
    # a POST without the form's CSRF token is refused, even with the session cookie
    forged = page.request.post(
        f"{base}/engagements/new", form={"title": "Forged", "kind": "port_call", "start_date": "2026-05-01"}
    )
    assert forged.status == 403
    page.goto(f"{base}/engagements?q=forged")
    expect(page.get_by_text("0 engagements")).to_be_visible()
    # a wrong password is refused on the page, with the reason and no session
    other = browser.new_context().new_page()
    other.goto(f"{base}/login")
    other.get_by_label("User name").fill("gbr-planner")
    other.get_by_label("Password").fill("not the password")
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("alert")).to_have_text("wrong username or password")
    assert not [c for c in other.context.cookies() if c["name"] == "detente_session"]


def test_import_shows_progress_then_the_report_or_every_bad_row(
    browser: Browser, site: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    base, world = site
    gbr_id, ken_id = world["states"]["GBR"].id, world["states"]["KEN"].id
    header = "title,kind,lead_actor_id,partners,start_date,marking\n"
    rows = [f"Imported visit {i},senior_visit,{gbr_id},{ken_id},2026-0{1 + i % 9}-01,UNCLASSIFIED//TLP:CLEAR"
            for i in range(40)]  # fmt: skip
    good = tmp_path / "engagements.csv"  # it claims an author: ignored, and the page says so
    good.write_text(header.replace("\n", ",created_by\n") + "\n".join(f"{r},mallory" for r in rows) + "\n")
    bad = tmp_path / "bad" / "engagements.csv"
    bad.parent.mkdir()
    bad.write_text(header + rows[0] + "\nBroken,parade,x,y,2026-02-30,SECRET//REL TO\n")
    page = browser.new_context().new_page()
    sign_in_with_keyboard(page, base, "gbr-planner")
    page.goto(f"{base}/import")
    accessible(page)
    page.get_by_label("File").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("bad row(s); nothing was written", timeout=20_000)
    assert "engagements.csv [engagements], row 3" in page.locator(".row-errors").inner_text()
    assert "/tmp" not in page.content()  # errors name the user's file, not where it was saved
    page.goto(f"{base}/import")
    page.get_by_label("File").set_input_files(str(good))
    page.get_by_role("button", name="Import").click()
    expect(page).to_have_url(re.compile(r"/import/jobs/[0-9a-f]{32}$"))
    job_url = page.url
    expect(page.get_by_role("status")).to_have_text("Imported.", timeout=20_000)
    assert page.locator("table.data td").nth(1).inner_text() == "40"
    expect(page.get_by_role("list", name="Left out")).to_contain_text("created_by ignored")
    accessible(page)
    page.goto(f"{base}/engagements?q=imported+visit")
    expect(page.get_by_text("40 engagements")).to_be_visible()
    # a job is its starter's only
    other = browser.new_context().new_page()
    sign_in_with_keyboard(other, base, "ken-analyst")
    other.goto(job_url)
    expect(other.get_by_role("heading", level=1)).to_have_text("Not found")


def test_administrators_manage_users_and_others_cannot(
    browser: Browser, site: tuple[str, dict[str, Any]]
) -> None:
    base, _world = site
    admin = browser.new_context().new_page()
    sign_in_with_keyboard(admin, base, "gbr-admin")
    admin.goto(f"{base}/admin")
    accessible(admin)
    admin.get_by_label("User name", exact=True).fill("gbr-viewer")
    admin.get_by_label("Role", exact=True).select_option("viewer")
    admin.get_by_label("National clearance", exact=True).fill("CONFIDENTIAL")
    admin.get_by_label("Password (12 characters or more)").fill(f.PASSWORD)
    admin.get_by_role("button", name="Add user").click()
    expect(admin.get_by_role("status")).to_have_text("added user gbr-viewer")
    expect(admin.get_by_role("rowheader", name="gbr-viewer")).to_be_visible()
    admin.get_by_label("User name", exact=True).fill("gbr-viewer")  # taken: refused with the reason
    admin.get_by_label("Password (12 characters or more)").fill("a long enough password")
    admin.get_by_role("button", name="Add user").click()
    expect(admin.get_by_role("alert")).to_contain_text("exists")
    # change a user in place: their clearance, within the administrator's own
    admin.get_by_label("National clearance of gbr-viewer").fill("SECRET")
    admin.get_by_role("button", name="Save gbr-viewer").click()
    expect(admin.get_by_role("status")).to_have_text("updated user gbr-viewer")
    expect(admin.get_by_label("Role of gbr-viewer")).to_have_value("viewer")
    expect(admin.get_by_label("National clearance of gbr-viewer")).to_have_value("SECRET")
    # a partner's administrator manages their own users only: no organisations, no coalitions
    partner = browser.new_context().new_page()
    sign_in_with_keyboard(partner, base, "ken-admin")
    partner.goto(f"{base}/admin")
    accessible(partner)
    expect(partner.get_by_role("button", name="Add organisation")).to_have_count(0)
    expect(partner.get_by_role("button", name="Record the change")).to_have_count(0)
    expect(partner.get_by_role("rowheader", name="gbr-viewer")).to_have_count(0)
    planner = browser.new_context().new_page()
    sign_in_with_keyboard(planner, base, "gbr-planner")
    planner.goto(f"{base}/admin")
    expect(planner.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(planner.get_by_role("link", name="Administration")).to_have_count(0)
    viewer = browser.new_context().new_page()
    sign_in_with_keyboard(viewer, base, "gbr-viewer")
    expect(viewer.get_by_role("link", name="New engagement")).to_have_count(0)
    expect(viewer.get_by_role("link", name="Export CSV")).to_have_count(0)


def test_the_engagement_form_is_usable_from_the_keyboard(
    browser: Browser, site: tuple[str, dict[str, Any]]
) -> None:
    base, _world = site
    page = browser.new_context().new_page()
    sign_in_with_keyboard(page, base, "gbr-planner")
    page.goto(f"{base}/engagements/new")
    page.locator("#title").focus()
    order = []
    for _ in range(30):
        focused = page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        order.append(focused)
        if focused == "Create engagement":
            break
        page.keyboard.press("Tab")
    fields = ["title", "kind", "status", "lead_actor_id", "partners", "start_date", "end_date",
              "location_country", "location_place", "troops", "objectives", "marking", "notes"]  # fmt: skip
    walked = [f for i, f in enumerate(order) if f in fields and (i == 0 or order[i - 1] != f)]
    assert walked == fields, order  # (a date field's day, month and year are stops of their own)
    assert order[-1] == "Create engagement"
    # and it submits from the keyboard too: fill the required fields, press Enter in one
    page.locator("#title").fill("Keyboard-made dialogue")
    page.locator("#start_date").fill("2026-09-01")
    page.locator("#title").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Keyboard-made dialogue")
