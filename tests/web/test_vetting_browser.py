"""The vetting page in a real Chromium, on SQLite and PostgreSQL: screen a name in another
order, compare two candidates side by side with the subject, see a bad date named, and
the decisions list follow each viewer's markings. The page passes axe-core."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from detente.core.workspace import Workspace
from detente.sharing.service import Sharing
from detente.sources.lake import LAKE_FILE, Lake
from detente.sources.service import load
from detente.store.service import Store
from detente.vetting.decisions import decide
from detente.vetting.screen import Screener
from tests import factories as f
from tests.live import live_server
from tests.web.test_browser import accessible, browser, page_banner, shoot, sign_in_with_keyboard  # noqa: F401


@pytest.fixture(scope="module")
def listed(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Screener]:
    """The UN list in a lake and its screener, made once for the module: the pages only
    read the lake (each workspace gets its own copy) and screening does not change it."""
    folder = tmp_path_factory.mktemp("lake")
    with Lake(folder) as lake:
        load(lake, "un_sanctions", [shared / "un_consolidated" / "un_consolidated_2024-09-26.xml"], user="t")
        screener = Screener.from_lake(lake)
    return folder / LAKE_FILE, screener


@pytest.fixture
def site(ws: Workspace, listed: tuple[Path, Screener]) -> Iterator[str]:
    lake_file, screener = listed
    shutil.copyfile(lake_file, ws.path / LAKE_FILE)
    with ws.session() as session:
        f.two_organisations(session)
        reg = Store(session, Sharing(session).principal("gbr-planner"))
        reg.create(
            "actors", {"name": "Haqqani Network", "kind": "insurgent_group", "marking": "SECRET//REL TO GBR"}
        )
        decide(reg, screener, actor="Haqqani Network", outcome="refused", marking="SECRET//REL TO GBR")
        militia = reg.create("actors", {"name": "Ruga Militia", "kind": "militia", "marking": "UNCLASSIFIED"})
        f.engagement(
            reg, reg.get("actors", reg.resolve_ref("actors", "GBR")), [militia], title="Liaison visit",
            status="planned", start_date=date.today() + timedelta(days=30),
        )  # fmt: skip
    with live_server(ws) as base:
        yield base


def test_screen_compare_and_decisions_in_the_browser(
    browser: Browser,  # noqa: F811
    site: str,
    database_url: str,
) -> None:
    store = database_url.split(":")[0].split("+")[0]
    gbr = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_with_keyboard(gbr, site, "gbr-planner")
    gbr.goto(f"{site}/vetting")
    expect(gbr.get_by_role("heading", level=1)).to_have_text("Vetting")
    assert "Haqqani Network" in gbr.locator("#decisions tbody").inner_text()
    assert page_banner(gbr).startswith("SECRET")  # the decision is SECRET//REL TO GBR
    gbr.get_by_label("Name, in any script").fill("HAQQANI, Sirajuddin")
    gbr.get_by_role("button", name="Screen").click()
    rows = gbr.locator("#candidates tbody tr")
    expect(rows.first).to_contain_text("SIRAJUDDIN")
    assert "MATCH" in rows.first.inner_text() and rows.count() >= 2
    assert "875 listed entities" in gbr.locator("#screen-summary").inner_text()
    rows.nth(0).get_by_role("checkbox").check()
    rows.nth(1).get_by_role("checkbox").check()
    gbr.get_by_role("button", name="Compare selected").click()
    table = gbr.locator("#side-by-side")
    expect(table).to_be_visible()
    assert table.locator("thead th").count() == 4  # field, subject, two candidates
    assert "HAQQANI, Sirajuddin" in table.inner_text() and "Taliban" in table.inner_text()
    accessible(gbr)
    shoot(gbr, "40-vetting", store)
    gbr.get_by_label("Date of birth").fill("next year")
    gbr.get_by_role("button", name="Screen").click()
    expect(gbr.locator("#screen-error")).to_contain_text("give the date of birth as YYYY")
    ken = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_with_keyboard(ken, site, "ken-analyst")
    ken.goto(f"{site}/vetting")
    assert "Haqqani" not in ken.locator("#decisions tbody").inner_text()  # not releasable to KEN
    assert "SECRET" not in page_banner(ken)


def test_record_a_decision_and_override_the_guard_in_the_browser(
    browser: Browser,  # noqa: F811
    site: str,
    database_url: str,
) -> None:
    store = database_url.split(":")[0].split("+")[0]
    gbr = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_with_keyboard(gbr, site, "gbr-planner")
    gbr.goto(f"{site}/engagements")
    gbr.get_by_role("link", name="Liaison visit").click()
    findings = gbr.locator("#vetting-findings")
    expect(findings).to_contain_text("Ruga Militia")
    assert "missing" in findings.inner_text()
    gbr.get_by_label("Reason for going ahead").fill("Observers only, on the CDS's direction")
    gbr.get_by_role("button", name="Record override").click()
    expect(gbr.locator("#override-done")).to_contain_text("Override recorded in the audit trail")
    accessible(gbr)
    shoot(gbr, "41-engagement-vetting", store)
    gbr.goto(f"{site}/vetting")
    gbr.get_by_label("Actor").select_option(label="Ruga Militia (militia)")
    gbr.get_by_label("Outcome").select_option("cleared_with_conditions")
    gbr.get_by_label("Credible information of gross violations of human rights").select_option("unknown")
    gbr.get_by_role("button", name="Record decision").click()
    expect(gbr.locator("#decide-error")).to_contain_text("say what the conditions are")
    gbr.get_by_label("Conditions", exact=True).fill("Liaison only; no weapons training")
    gbr.get_by_role("button", name="Record decision").click()
    expect(gbr.locator("#decided")).to_have_text("Decision recorded.")
    row = gbr.locator("#decisions tbody tr", has_text="Ruga Militia")
    assert "cleared_with_conditions" in row.inner_text() and "valid" in row.inner_text()
    accessible(gbr)
    gbr.goto(f"{site}/engagements")
    gbr.get_by_role("link", name="Liaison visit").click()
    assert gbr.locator("#vetting-findings").count() == 0  # cleared now: nothing to flag
