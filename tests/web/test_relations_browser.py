"""The relations pages in a real Chromium: the network page (an SVG graph whose states
highlight their ties on hover and open their partners), the partner page's cooperation-index
and alignment charts, and the pair comparison; a SECRET exercise moves the index for the
planner who may read it and not for a colleague without the clearance, and the page
banners follow. Every page passes axe-core.

The pages that read registry records the viewer may or may not see (the partner page and
the pair comparison) run on SQLite and PostgreSQL. The network page of 2005 draws the lake's
layers only (the registry has no engagement that year) and its work is the same on both
stores, so it runs once, on SQLite; the registry's layer and its markings are checked on
both stores by tests/relations/test_api.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from detente.core.workspace import Workspace
from detente.sharing.service import Sharing
from detente.sources.lake import LAKE_FILE, Lake
from detente.sources.service import load
from detente.store.service import Store
from tests import factories as f
from tests.live import live_server
from tests.web.test_browser import accessible, browser, page_banner, shoot, sign_in_with_keyboard  # noqa: F401


@pytest.fixture(scope="module")
def lake_file(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lake behind the pages, loaded once for the module: the pages only read it, and
    each store's workspace gets its own copy."""
    folder = tmp_path_factory.mktemp("lake")
    cameo, votes = shared / "cameo", shared / "unga_votes"
    with Lake(folder) as lake:
        for name, files in {
            "cow_states": [shared / "cow" / "states2016.csv"],
            "atop": [shared / "peacesciencer" / "atop_alliance.csv.gz"],
            "dcad": [shared / "dcad" / "DCAD-v1.0-main.csv"],
            "exercises": [shared / "military_exercises" / "troopdata_mme_long.csv.gz"],
            "unga_ideal": [votes / "IdealpointsJuly2025.dta"],
            "cameo": [cameo / "CAMEO.eventcodes.txt", cameo / "CAMEO.goldsteinscale.txt"],
            "icews": sorted((shared / "icews" / "ICEWS14_tkg").glob("*.txt")),
        }.items():
            load(lake, name, files, user="t")
    return folder / LAKE_FILE


@pytest.fixture
def site(ws: Workspace, lake_file: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with ws.session() as session:
        world = f.two_organisations(session)
        sharing = Sharing(session)
        f.clerk(session, world["gbr"])
        reg = Store(session, sharing.principal("gbr-planner"))
        s = world["states"]
        f.engagement(
            reg, s["GBR"], [s["KEN"]], title="Exercise Askari Storm", kind="joint_exercise",
            status="executed", start_date=date(2014, 6, 9), marking="SECRET//REL TO GBR",
        )  # fmt: skip
    shutil.copyfile(lake_file, ws.path / LAKE_FILE)
    with live_server(ws) as base:
        yield base, world


def chart_rows(page: Page, caption: str) -> list[list[str]]:
    figure = page.locator("figure.chart", has_text=caption)
    rows = figure.locator("table tbody tr")
    return [rows.nth(i).locator("td").all_text_contents() for i in range(rows.count())]


def index_of(rows: list[list[str]], pair: str, month: str) -> float:
    return next(float(v) for p, m, v in rows if p == pair and m == month)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_network_page_highlights_ties_and_opens_partners(
    browser: Browser,  # noqa: F811
    site: tuple[str, dict[str, Any]],
    database_url: str,
) -> None:
    base, _world = site
    store = database_url.split(":")[0].split("+")[0]
    planner = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_with_keyboard(planner, base, "gbr-planner")

    # the network page: an SVG graph with brokers, hubs, communities
    planner.goto(f"{base}/relations?year=2005")
    expect(planner.get_by_role("heading", level=1)).to_have_text("Defense-cooperation network 2005")
    edges = planner.locator("svg.network line.edge")
    assert edges.count() > 1000
    assert planner.locator("#brokers tbody tr").first.locator("td").first.inner_text() == "USA"
    accessible(planner)
    # hovering a state highlights exactly its ties
    usa = planner.locator('svg.network g.node[data-id="USA"]')
    usa.hover()
    highlighted = planner.locator("svg.network line.edge.hl")
    expect(highlighted.first).to_be_visible()
    degree = int(planner.locator("#brokers tbody tr").first.locator("td").nth(1).inner_text())
    assert highlighted.count() == degree
    shoot(planner, "20-network", store)
    # a state opens its partners, ranked with changes
    usa.click()
    expect(planner).to_have_url(f"{base}/relations?year=2005&focus=USA")
    expect(planner.locator("#h-focus")).to_have_text("Partners of USA in 2005")
    assert planner.locator("#focus-partners tbody tr").count() > 20
    accessible(planner)


def test_partner_and_pair_pages_and_what_each_user_sees(
    browser: Browser,  # noqa: F811
    site: tuple[str, dict[str, Any]],
    database_url: str,
) -> None:
    base, world = site
    store = database_url.split(":")[0].split("+")[0]
    planner = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_with_keyboard(planner, base, "gbr-planner")

    # the partner page: index and alignment charts; the SECRET exercise counts for the planner
    gbr_id = world["states"]["GBR"].id
    planner.goto(f"{base}/partners/{gbr_id}")
    caption = "Military cooperation index with the five strongest partners, 2014"
    seen = chart_rows(planner, caption)
    assert index_of(seen, "GBR-KEN", "2014-06") > 0
    assert (
        planner.locator("figure.chart", has_text=caption)
        .locator(".record-banner")
        .inner_text()
        .startswith("SECRET")
    )
    assert page_banner(planner).startswith("SECRET")
    assert chart_rows(planner, "UN ideal-point distance to the permanent members")
    accessible(planner)
    shoot(planner, "21-partner-relations", store)

    clerk = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in_with_keyboard(clerk, base, "gbr-clerk")
    clerk.goto(f"{base}/partners/{gbr_id}")
    unseen = chart_rows(clerk, caption)
    assert not any(p == "GBR-KEN" and m == "2014-06" and float(v) >= index_of(seen, "GBR-KEN", "2014-06")
                   for p, m, v in unseen)  # fmt: skip
    assert "SECRET" not in page_banner(clerk)
    assert "Askari" not in clerk.content()

    # the pair comparison: ties, index and alignment side by side
    planner.goto(f"{base}/relations/dyads?a=GBR&b=KEN&c=FRA&year=2014")
    expect(planner.locator("#pair-ties tbody tr")).to_have_count(2)
    ties = dict(r.split("\t") for r in planner.locator("#pair-ties tbody tr").all_inner_texts())
    assert "registry" in ties["GBR-KEN"] and "alliance" in ties["GBR-FRA"]
    compared = chart_rows(planner, "Military cooperation index per month, 2014")
    assert {p for p, _, _ in compared} == {"GBR-KEN", "GBR-FRA"}
    assert chart_rows(planner, "UN ideal-point distance")
    accessible(planner)
    shoot(planner, "22-compare-pairs", store)
    clerk.goto(f"{base}/relations/dyads?a=GBR&b=KEN&c=FRA&year=2014")
    clerk_ties = dict(r.split("\t") for r in clerk.locator("#pair-ties tbody tr").all_inner_texts())
    assert "registry" not in clerk_ties["GBR-KEN"]
