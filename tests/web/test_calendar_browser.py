"""The engagement calendar in Chromium, on SQLite and PostgreSQL: a crowded March 2025.

Month view: an engagement is one bar per week it runs in (across its days, never one
link per day); a day shows at most three bars, then "+n more" leading to its week; bars
never overlap. Week view: every engagement of the week, once. What another organisation
may not read is neither drawn nor counted in "+n more". Both views pass axe-core.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from detente.core.workspace import Workspace
from tests import factories as f
from tests.live import live_server
from tests.web.test_browser import accessible, browser, shoot, sign_in_with_keyboard  # noqa: F401  (fixture)

PUBLIC = "UNCLASSIFIED//TLP:CLEAR"
LONG = "Exercise LONG REACH"  # 5 to 19 March: three weeks
SECRET = "Exercise HIDDEN PIER"
BUSY = date(2025, 3, 12)  # a Wednesday: the long exercise, six talks and (for GBR) the secret one


@pytest.fixture
def site(ws: Workspace) -> Iterator[str]:
    with ws.session() as session:
        world = f.two_organisations(session)
        s = world["states"]
        reg = f.Store(session, f.Sharing(session).principal("gbr-planner"))
        f.engagement(reg, s["GBR"], [s["KEN"]], title=LONG, start_date=date(2025, 3, 5),
                     end_date=date(2025, 3, 19), marking=PUBLIC)  # fmt: skip
        for i in range(6):
            f.engagement(reg, s["GBR"], [s["FRA"]], title=f"Staff talks {i + 1}", start_date=BUSY,
                         end_date=date(2025, 3, 12 + i % 2), marking=PUBLIC)  # fmt: skip
        f.engagement(reg, s["GBR"], [], title=SECRET, start_date=BUSY, marking="SECRET//NOFORN")
        f.engagement(
            reg, s["GBR"], [s["FRA"]], title="Port call", start_date=date(2025, 3, 28), marking=PUBLIC
        )
    with live_server(ws) as base:
        yield base


def _box(locator: Locator) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return box


def _bars_over(page: Page, day: date) -> int:
    """Bars drawn across ``day``'s cell (by their boxes on the page)."""
    cell = _box(page.locator(f'.cal-day:has(a[href$="day={day.isoformat()}"])'))
    middle = cell["x"] + cell["width"] / 2
    boxes = [_box(b) for b in page.locator(".cal-bar").all()]
    return sum(
        1
        for b in boxes
        if b["x"] <= middle <= b["x"] + b["width"] and cell["y"] <= b["y"] <= cell["y"] + cell["height"]
    )


def _no_overlaps(page: Page) -> None:
    boxes = [_box(b) for b in page.locator(".cal-bar").all()]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = a["x"] + a["width"] <= b["x"] + 1 or b["x"] + b["width"] <= a["x"] + 1
            assert apart or a["y"] + a["height"] <= b["y"] + 1 or b["y"] + b["height"] <= a["y"] + 1, (a, b)


def _month(page: Page, base: str, user: str, store: str) -> None:
    page.goto(f"{base}/engagements/calendar?month=2025-03")
    expect(page.get_by_role("heading", level=1)).to_have_text("Engagements in March 2025")
    expect(page.get_by_role("link", name=LONG)).to_have_count(3)  # one bar a week, not one link a day
    middle = page.locator(".cal-week", has=page.locator('a[href$="day=2025-03-10"]')).get_by_role(
        "link", name=LONG
    )
    assert "grid-column: 1 / span 7" in (middle.get_attribute("style") or "")
    assert "cont-before" in (middle.get_attribute("class") or "") and "cont-after" in (
        middle.get_attribute("class") or ""
    )
    assert _bars_over(page, BUSY) == 3  # at most three lines a day
    _no_overlaps(page)
    accessible(page)
    shoot(page, f"40-calendar-month-{user}", store)


def test_month_and_week_views_show_bars_at_most_three_a_day_and_only_what_the_viewer_may_read(
    browser: Browser,  # noqa: F811  (the fixture of test_browser)
    site: str,
    database_url: str,
) -> None:
    base = site
    store = database_url.split(":")[0].split("+")[0]
    gbr = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_with_keyboard(gbr, base, "gbr-planner")
    _month(gbr, base, "gbr-planner", store)
    # 1 long + 6 talks + 1 secret on the 12th: three drawn, five more
    more = gbr.get_by_role("link", name=re.compile(r"^\+\d+ more on 12 March$"))
    expect(more).to_have_text("+5 more on 12 March")
    more.click()
    expect(gbr).to_have_url(re.compile(r"view=week&day=2025-03-12$"))
    expect(gbr.get_by_role("heading", level=1)).to_have_text("Engagements, week of 10 March 2025")
    for title in (LONG, SECRET, *(f"Staff talks {i}" for i in range(1, 7))):
        expect(gbr.get_by_role("link", name=title, exact=False)).to_have_count(1)
    expect(gbr.get_by_role("link", name="Port call")).to_have_count(0)  # another week
    long_bar = gbr.get_by_role("link", name=LONG)
    assert "grid-column: 1 / span 7" in (long_bar.get_attribute("style") or "")
    _no_overlaps(gbr)
    accessible(gbr)
    shoot(gbr, "41-calendar-week-gbr-planner", store)
    gbr.get_by_role("link", name="Next week").click()
    expect(gbr.get_by_role("heading", level=1)).to_have_text("Engagements, week of 17 March 2025")
    expect(gbr.get_by_role("link", name=LONG)).to_have_count(1)
    gbr.get_by_role("link", name="Month", exact=True).click()
    expect(gbr.get_by_role("heading", level=1)).to_have_text("Engagements in March 2025")
    # the search page (grouped, highlighted, linking to each record) passes axe-core too
    gbr.goto(f"{base}/search?q=talks")
    expect(gbr.get_by_role("heading", name="Engagements (6)")).to_be_visible()
    expect(gbr.locator("ol.hits a mark")).to_have_count(6)
    accessible(gbr)
    shoot(gbr, "42-search-gbr-planner", store)

    # another organisation: the secret one neither drawn nor counted
    ken = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_with_keyboard(ken, base, "ken-analyst")
    _month(ken, base, "ken-analyst", store)
    expect(ken.get_by_role("link", name=re.compile(r"^\+\d+ more on 12 March$"))).to_have_text(
        "+4 more on 12 March"
    )
    ken.goto(f"{base}/engagements/calendar?view=week&day={BUSY.isoformat()}")
    assert SECRET not in ken.content()
    expect(ken.locator(".cal-bar")).to_have_count(7)
    # bad input is named, not crashed on
    answer = ken.goto(f"{base}/engagements/calendar?view=week&day=2025-02-30")
    assert answer is not None and answer.status == 422
    expect(ken.get_by_role("main")).to_contain_text("'2025-02-30' is not a date (YYYY-MM-DD)")
