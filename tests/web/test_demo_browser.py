"""The assessment and planning pages in a real Chromium on the demo workspace.

Assessment: the dashboard with its overdue list, the Kenya initiative's scorecard with
charts, the annual report as HTML and as PDF (page 1 rendered to PNG into the test
artefacts), each as two viewers see it: the British planner sees a UK-only indicator
that Kenya's analyst must not, and the banners and the PDF's text follow. Pages pass
axe-core.

The demo workspace is built on SQLite here; the assessment tables' sharing rules on
PostgreSQL (row-level security) are covered in tests/assessment/test_monitor.py.

Planning: the planner's board shows their ministry's own plans, every kind of finding the
demo's plans trip (each Vienna Document rule, each legal prerequisite, each calendar check)
ranked by rule with the API's counts and folded, none from a rule that does not apply; it
filters by rule, shows every organisation's plans on request, and opens the drafts. The
optimised plan says its budget's currency, what it converted and what it excluded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from playwright.sync_api import Browser, Page, expect

from detente.core.settings import Settings
from detente.core.workspace import Workspace, create_workspace
from detente.demo import build_demo
from detente.sources.lake import Lake
from detente.sources.service import load
from tests.live import live_server
from tests.web.test_browser import ARTIFACTS, accessible, browser, page_banner, shoot  # noqa: F401

KENYA = "Kenya peacekeeping readiness partnership"
UK_ONLY = "Credible allegations against trained units (national)"


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory, shared: Path) -> Iterator[str]:
    ws: Workspace = create_workspace(
        Settings(workspace=tmp_path_factory.mktemp("demo") / "ws", database_url="")
    )
    build_demo(ws, as_of=date.today())
    # what the effect study reads (not UCDP/PRIO's conflicts: the page names them as missing)
    with Lake(ws.path) as lake:
        for name, file in (
            ("cow_states", "cow/states2016.csv"),
            ("dcad", "dcad/DCAD-v1.0-main.csv"),
            ("ucdp_brd", "ucdp_small/BattleDeaths_v23_1_to2019.csv"),
        ):
            load(lake, name, [shared / file], user="test")
    try:
        with live_server(ws) as base:
            yield base
    finally:
        ws.close()


def _sign_in(browser: Browser, base: str, user: str) -> Page:  # noqa: F811
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(f"demo-{user}-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("header .who")).to_contain_text(user)
    return page


def _pdf_text(body: bytes, png: Path) -> str:
    pdf = pdfium.PdfDocument(body)
    png.parent.mkdir(parents=True, exist_ok=True)
    pdf[0].render(scale=1.5).to_pil().save(png)
    assert png.stat().st_size > 20_000  # a rendered page, not a blank one
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


def test_dashboard_scorecard_and_report_follow_each_viewer(browser: Browser, demo_site: str) -> None:  # noqa: F811
    gbr = _sign_in(browser, demo_site, "gbr-planner")
    gbr.goto(f"{demo_site}/assessment")
    rows = gbr.locator("#initiatives tbody tr")
    expect(rows).to_have_count(2)
    assert KENYA in rows.all_inner_texts()[1]
    assert "Kenyan instructors qualified" in gbr.locator("#overdue").inner_text()
    assert page_banner(gbr) == "CONFIDENTIAL//REL TO GBR"  # the UK-only indicator is counted
    accessible(gbr)
    shoot(gbr, "50-assessment-dashboard", "sqlite")

    gbr.get_by_role("link", name=KENYA).click()
    expect(gbr.get_by_role("heading", level=1)).to_have_text(KENYA)
    indicators = gbr.locator("tr.indicator")
    expect(indicators).to_have_count(5)
    statuses = [indicators.nth(i).get_attribute("data-status") for i in range(5)]
    assert {"on_track", "off_track"} <= set(statuses)
    assert UK_ONLY in gbr.locator("main").inner_text()
    assert gbr.locator("figure.chart svg").count() == 5  # every indicator with values is charted
    assert "Book ranges a year ahead" in gbr.locator("#lessons").inner_text()
    assert "partly satisfactory" in gbr.locator("#evaluations").inner_text()
    accessible(gbr)
    shoot(gbr, "51-assessment-scorecard", "sqlite")

    year = date.today().year
    gbr.goto(f"{demo_site}/assessment/report?year={year}")
    assert gbr.locator("#report-banner-top").inner_text() == "CONFIDENTIAL//REL TO GBR"
    assert gbr.locator("#report-banner-bottom").inner_text() == "CONFIDENTIAL//REL TO GBR"
    assert gbr.locator("img[src^='data:image/svg+xml']").count() >= 7
    response = gbr.request.get(f"{demo_site}/assessment/report.pdf?year={year}")
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.headers["x-detente-marking"] == "CONFIDENTIAL//REL TO GBR"
    text = _pdf_text(response.body(), ARTIFACTS / "reports" / "assessment-report-gbr-planner-p1.png")
    assert text.count("CONFIDENTIAL//REL TO GBR") >= 2 and KENYA in text and UK_ONLY in text

    ken = _sign_in(browser, demo_site, "ken-analyst")
    ken.goto(f"{demo_site}/assessment")
    assert page_banner(ken) == "RESTRICTED//REL TO GBR, KEN"
    ken.get_by_role("link", name=KENYA).click()
    expect(ken.locator("tr.indicator")).to_have_count(4)
    assert UK_ONLY not in ken.locator("main").inner_text()
    response = ken.request.get(f"{demo_site}/assessment/report.pdf?year={year}")
    assert response.headers["x-detente-marking"] == "RESTRICTED//REL TO GBR, KEN"
    text = _pdf_text(response.body(), ARTIFACTS / "reports" / "assessment-report-ken-analyst-p1.png")
    assert "RESTRICTED//REL TO GBR, KEN" in text and KENYA in text
    assert UK_ONLY not in text and "CONFIDENTIAL" not in text


def test_an_effect_study_says_what_it_can_and_cannot_claim(browser: Browser, demo_site: str) -> None:  # noqa: F811
    page = _sign_in(browser, demo_site, "ken-analyst")
    page.goto(f"{demo_site}/assessment/effects")
    page.get_by_label("Treatment").select_option("dcad_first")
    page.get_by_label("Outcome").select_option("brd_log")
    page.get_by_label("Placebo draws").fill("40")
    page.get_by_role("button", name="Estimate").click()
    table = page.locator("#effect-table")
    expect(table).to_contain_text("Average effect on the treated")
    assert "Pre-trend test, F(4," in table.inner_text() and "of 40 at p < 0.05" in table.inner_text()
    assert "79 treated" in page.locator("#effect-sample").inner_text()
    assert page.locator("#effect-can li").count() >= 1 and page.locator("#effect-cannot li").count() >= 2
    assert "caus" in page.locator("#effect-cannot").inner_text()  # says it is not a causal effect
    assert page.locator("#effect-result figure svg").count() == 1
    assert page_banner(page) == "UNCLASSIFIED//TLP:CLEAR"  # open data only
    accessible(page)
    shoot(page, "52-effect-study", "sqlite")
    page.get_by_label("Outcome").select_option("conflict")
    page.get_by_role("button", name="Estimate").click()
    expect(page.locator("#effect-error")).to_contain_text("ucdp_acd")


PLANNING_RULES = {
    *("vd:notification", "vd:notice_period", "vd:observation", "vd:calendar", "vd:constraint"),
    *("vd:split_suspect", "sofa", "cooperation_framework", "intelligence_arrangement", "host_consent"),
    *("accreditation", "vetting", "overdue_commitments", "double_booking", "travel", "partner_calendar"),
}  # fmt: skip


def test_the_planning_board_shows_every_kind_of_finding(
    browser: Browser,  # noqa: F811
    demo_site: str,
) -> None:
    """The planner's board: their ministry's own plans only, every kind of finding the demo's
    plans trip, ranked by rule (violations first) with the API's counts, details folded so
    the page is short; no rule that does not apply (no Leahy vetting of the UK's own
    battalion, no SOFA missing for NATO exercises between members: the NATO SOFA covers them)."""
    page = _sign_in(browser, demo_site, "gbr-planner")
    page.goto(f"{demo_site}/planning")
    expect(page.get_by_role("heading", level=1)).to_have_text("Planning board")
    assert "of your organisation's engagements being planned" in page.locator("#board-summary").inner_text()
    api = page.request.get(f"{demo_site}/api/v1/planning/findings").json()
    counts = page.locator("#finding-counts tbody tr")
    table = [
        (r.get_attribute("data-rule"), *(int(c) for c in r.locator("td").all_inner_texts()[2:]))
        for r in counts.all()
    ]
    assert table == [(g["rule"], g["violations"], g["warnings"], g["engagements"]) for g in api["groups"]]
    assert {rule for rule, *_ in table} >= PLANNING_RULES, PLANNING_RULES - {rule for rule, *_ in table}
    severities = counts.locator("td:nth-child(2)").all_inner_texts()
    assert severities == sorted(severities, key=lambda s: s != "violation") and severities[0] == "violation"
    # every group and every engagement's findings folded: the page is short
    assert page.locator("details[open]").count() == 0
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 6000, height  # 47,831 px before, with every finding of every organisation unfolded
    titles = page.locator("#board tbody tr td:nth-child(2) > a:first-child").all_inner_texts()
    assert len(titles) == api["with_findings"] and "Exercise Northern Shield (demo)" in titles
    vetting = page.locator("details.rule-group[data-rule='vetting'] li.finding")
    folded = vetting.text_content() or ""  # folded: in the page, not on screen
    assert vetting.count() == 1 and "Northern Rangers Militia" in folded and "1st Battalion" not in folded
    sofa = page.locator("details.rule-group[data-rule='sofa'] li.finding").all_text_contents()
    assert any("Jungle training team (demo)" in t for t in sofa)
    assert not any(
        name in t for t in sofa for name in ("Northern Shield", "Steadfast Resolve", "Arctic Bridge")
    )
    accessible(page)
    shoot(page, "60-planning-board", "sqlite")

    northern = page.locator("#board tr", has_text="Exercise Northern Shield (demo)")
    northern.locator("summary").click()
    rules = set(northern.locator("li.finding").evaluate_all("els => els.map(e => e.dataset.rule)"))
    assert {"vd:notification", "vd:notice_period", "vd:observation", "vd:calendar"} <= rules
    assert "sofa" not in rules  # the NATO SOFA covers British forces in Poland
    assert "troops 14,500" in northern.inner_text() and "VD2011 para" in northern.inner_text()
    page.locator("details.rule-group[data-rule='vetting'] summary").click()
    shoot(page, "61-planning-board-unfolded", "sqlite")
    northern.get_by_role("link", name="notification draft").click()
    draft = page.locator("#draft").inner_text()
    assert "Exercise Northern Shield (demo)" in draft and "14,500" in draft

    page.goto(f"{demo_site}/planning?rule=vd:split_suspect")
    rows = page.locator("#board tbody tr")
    expect(rows).to_have_count(2)
    assert all("Exercise Arctic Bridge, phase" in t for t in rows.all_inner_texts())
    assert page.locator("details.rule-group[data-rule='vd:split_suspect'][open]").count() == 1
    page.goto(f"{demo_site}/planning?rule=double_booking")
    assert (
        rows.count() == 2 and "1st Battalion, The Rifles (demo)" in page.locator("#rule-groups").inner_text()
    )
    # every organisation's plans on request (the filter kept)
    page.locator("#scope-all").click()
    assert "every organisation's" in page.locator("#board-summary").inner_text()
    everyone = page.request.get(f"{demo_site}/api/v1/planning/findings?scope=all&rule=double_booking").json()
    assert everyone["engagements"] == api["engagements"] + api["others"]
    expect(rows).to_have_count(everyone["with_findings"])
    page.goto(f"{demo_site}/planning/calendar")  # next year's by default
    expect(page.locator("h1")).to_contain_text(f"Annual calendar {date.today().year + 1}")


def test_the_optimiser_proposes_a_plan_and_explains_it(browser: Browser, demo_site: str) -> None:  # noqa: F811
    page = _sign_in(browser, demo_site, "gbr-planner")
    page.goto(f"{demo_site}/planning/proposal")
    page.get_by_label("Budget", exact=True).fill("600000")
    page.get_by_label("Year").fill(str(date.today().year + 1))
    page.get_by_label("Priority partners").fill("Norway:1")
    page.get_by_role("button", name="Propose").click()
    summary = page.locator("#proposal-summary").inner_text()
    assert "of 600,000 GBP" in summary and "optimal" in summary and "greedy heuristic" in summary
    assert page.locator("#proposal-currency").inner_text().startswith("The budget is in GBP")
    assert page.locator("#chosen tbody tr").count() >= 1
    reasons = set(page.locator("#left-out tbody tr").evaluate_all("els => els.map(e => e.dataset.reason)"))
    assert "blocked" in reasons  # the demo's plans without a SOFA cannot go ahead
    jungle = page.locator("#left-out tbody tr", has_text="Jungle training team (demo)")
    assert jungle.get_attribute("data-reason") == "blocked" and "sofa" in jungle.inner_text()
    # engagements without a cost are listed as excluded, with the reason
    assert "excluded: no cost recorded" in page.locator("#excluded").inner_text()
    expect(page.locator("#budget-steps tbody tr")).to_have_count(3)
    accessible(page)
    shoot(page, "62-optimised-plan", "sqlite")
    # a budget in euros: the pounds converted at the ECB's dated rates, said so
    page.get_by_label("Budget currency").fill("EUR")
    page.get_by_role("button", name="Propose").click()
    said = page.locator("#proposal-currency").inner_text()
    assert said.startswith("The budget is in EUR")
    if "European Central Bank" not in said:  # the shipped rates end in 2024; used for three years after
        assert "no rate for GBP in" in page.locator("#excluded").inner_text()
    page.get_by_label("Priority partners").fill("Atlantis:2")
    page.get_by_role("button", name="Propose").click()
    expect(page.locator("#proposal-error")).to_contain_text("Atlantis")
