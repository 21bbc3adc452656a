"""Planning over the REST API and the web page (a real server, both stores) and the CLI: the
board your organisation's engagements by default and every one you may read on request,
grouped by rule and ranked with the same counts everywhere (one function behind the three);
the notification draft; the proposal in the budget's currency with what it converted and
what it excluded, and why; and what another organisation sees."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from detente.api.deps import SESSION_COOKIE
from detente.core.settings import Settings
from detente.core.workspace import Workspace, open_workspace
from detente.planning.board import board
from detente.sharing.service import Sharing
from detente.store.service import Store
from tests import factories as f
from tests.api.test_api import base, error, login  # noqa: F401  (the API tests' server and sign-in)
from tests.sources.conftest import cli  # noqa: F401

SOON = date.today() + timedelta(days=20)
PUBLIC = "UNCLASSIFIED//TLP:CLEAR"


def _plans(reg: Store, states: dict[str, Any]) -> dict[str, Any]:
    big = f.engagement(reg, states["GBR"], [states["FRA"]], title="Exercise Big Lion", kind="joint_exercise",
                       status="planned", start_date=SOON, end_date=SOON + timedelta(days=9),
                       location_country="FRA", troops=9_000, marking=PUBLIC)  # fmt: skip
    quiet = f.engagement(reg, states["GBR"], [states["KEN"]], title="Quiet visit", kind="joint_exercise",
                         status="planned", start_date=SOON, location_country="KEN",
                         marking="SECRET//REL TO GBR")  # fmt: skip
    # what the organisation records of another country's plans: not its own
    french = f.engagement(reg, states["FRA"], [states["KEN"]], title="French exercise",
                          kind="joint_exercise", status="planned", start_date=SOON, location_country="KEN",
                          marking=PUBLIC)  # fmt: skip
    return {"big": big, "quiet": quiet, "french": french}


def _costed(reg: Store, states: dict[str, Any]) -> None:
    """The organisation's plans for 2024 in three currencies and one without a cost, and a
    French plan it recorded (costed in euros: not its own, so not a candidate)."""
    for title, cost, currency in (("Pounds", "100000", "GBP"), ("Euros", "50000", "EUR"),
                                  ("Shillings", "2000000", "KES"), ("No cost", None, None)):  # fmt: skip
        money = {"cost": Decimal(cost), "currency": currency} if cost else {}
        f.engagement(reg, states["GBR"], [states["KEN"]], title=title, status="planned",
                     start_date=date(2024, 5, 1), marking=PUBLIC, **money)  # fmt: skip
    f.engagement(reg, states["FRA"], [states["KEN"]], title="French talks", status="planned",
                 start_date=date(2024, 5, 1), cost=Decimal(70000), currency="EUR",
                 marking=PUBLIC)  # fmt: skip


@pytest.fixture
def world(ws: Workspace) -> dict[str, Any]:
    with ws.session() as session:
        setup = f.two_organisations(session)
        reg = Store(session, Sharing(session).principal("gbr-planner"))
        plans = _plans(reg, setup["states"])
        _costed(reg, setup["states"])
    return {**setup, **plans}


def _web_counts(base: str, token: str, query: str = "") -> list[tuple[str, int, int, int]]:  # noqa: F811
    """The web board's "findings by rule" table: (rule, violations, warnings, engagements)."""
    page = httpx.get(f"{base}/planning{query}", cookies={SESSION_COOKIE: token})
    assert page.status_code == 200, page.text
    rows = re.findall(
        r'<tr data-rule="([^"]+)">.*?</td><td>\w+</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td></tr>',
        page.text,
    )
    return [(rule, int(v), int(w), int(n)) for rule, v, w, n in rows]


def _proposal(gbr: httpx.Client) -> None:
    """The proposal says its budget's currency, what it converted and what it excluded, and why."""
    made = gbr.post("/planning/proposal", json={"budget": 1e6, "year": 2024, "currency": "GBP",
                                                 "priority": {"Kenya": 1}})  # fmt: skip
    assert made.status_code == 200, made.text
    plan = made.json()
    assert plan["currency"] == "GBP" and "European Central Bank" in plan["rates_source"]
    assert [(c["title"], c["currency"], c["rate_year"]) for c in plan["converted"]] == [
        ("Euros", "EUR", 2024)
    ]
    assert plan["converted"][0]["converted"] == pytest.approx(50_000 * 0.84662)
    assert sorted((x["title"], x["reason"]) for x in plan["excluded"]) == [
        ("No cost", "no cost recorded"),
        ("Shillings", "no rate for KES in 2024"),
    ]  # and the French plan is not the UK's to choose: neither a candidate nor excluded
    chosen = {c["title"]: c["cost"] for c in plan["chosen"]}
    assert chosen == {"Pounds": 100_000, "Euros": pytest.approx(50_000 * 0.84662)}
    assert plan["unmet"] == []
    # a budget in a currency with no rate: every cost in another currency is excluded, said so
    kes = gbr.post("/planning/proposal", json={"budget": 5e6, "year": 2024, "currency": "KES"}).json()
    assert kes["chosen"][0]["title"] == "Shillings" and len(kes["chosen"]) == 1
    assert sorted((x["title"], x["reason"]) for x in kes["excluded"]) == [
        ("Euros", "no rate for KES in 2024"), ("No cost", "no cost recorded"),
        ("Pounds", "no rate for KES in 2024")]  # fmt: skip
    error(gbr.post("/planning/proposal", json={"budget": -1, "year": 2027}), 422, "invalid")


def test_the_board_and_the_proposal_over_the_api_and_the_web(
    base: str,  # noqa: F811
    ws: Workspace,
    world: dict[str, Any],
) -> None:
    assert httpx.get(f"{base}/api/v1/planning/findings").status_code == 401
    with login(base, "gbr-planner") as gbr, login(base, "ken-analyst") as ken:
        mine = gbr.get("/planning/findings").json()
        assert mine["scope"] == "own" and mine["marking"].startswith("SECRET")
        assert mine["engagements"] == 6 and mine["others"] == 2  # the French plans are listed apart
        shown = {x["engagement"] for g in mine["groups"] for x in g["findings"]}
        assert "French exercise" not in shown and {"Exercise Big Lion", "Quiet visit"} <= shown
        # ranked: the rules with violations first, the most first; counts add up
        worst = [(g["severity"] != "violation", -g["violations"], -g["warnings"]) for g in mine["groups"]]
        assert worst == sorted(worst) and mine["groups"][0]["severity"] == "violation"
        assert sum(g["violations"] + g["warnings"] for g in mine["groups"]) == sum(mine["counts"].values())
        assert mine["violations"] == sum(r["violations"] for r in mine["by_engagement"])
        sofa = next(g for g in mine["groups"] if g["rule"] == "sofa")
        assert (
            sofa["engagements"] == 2
            and "GBR and FRA" in sofa["findings"][0]["missing"] + sofa["findings"][1]["missing"]
        )
        rows = [(-r["violations"], -r["warnings"]) for r in mine["by_engagement"]]
        assert rows == sorted(rows)
        # the same function answers the API, the web page and (below) the CLI
        with ws.session() as session:
            direct = board(Store(session, Sharing(session).principal("gbr-planner"))).report()
        assert {k: v for k, v in mine.items() if k != "marking"} == direct
        token = gbr.headers["Authorization"].removeprefix("Bearer ")
        expected = [(g["rule"], g["violations"], g["warnings"], g["engagements"]) for g in mine["groups"]]
        assert _web_counts(base, token) == expected
        every = gbr.get("/planning/findings", params={"scope": "all"}).json()
        assert every["scope"] == "all" and every["engagements"] == 8 and every["others"] == 0
        assert "French exercise" in {x["engagement"] for g in every["groups"] for x in g["findings"]}
        assert _web_counts(base, token, "?scope=all") == [
            (g["rule"], g["violations"], g["warnings"], g["engagements"]) for g in every["groups"]
        ]
        error(gbr.get("/planning/findings", params={"scope": "mine"}), 422, "invalid")
        typo = error(gbr.get("/planning/findings", params={"rule": "sofaa"}), 422, "invalid")
        assert "did you mean sofa" in typo["message"]
        only = gbr.get("/planning/findings", params={"rule": "vd:notification"}).json()
        assert [g["rule"] for g in only["groups"]] == ["vd:notification"]
        assert [x["engagement"] for x in only["groups"][0]["findings"]] == ["Exercise Big Lion"]
        assert "9,000 ≥ 9,000" in only["groups"][0]["findings"][0]["message"]
        draft = gbr.get(f"/planning/notification/{world['big'].id}")
        assert draft.status_code == 200 and "Exercise Big Lion" in draft.text and "VD2011" in draft.text
        # Kenya's analyst: nothing of its own; the open plans of others on request
        theirs = ken.get("/planning/findings").json()
        assert theirs["engagements"] == 0 and theirs["groups"] == [] and theirs["others"] == 7
        assert theirs["marking"] == PUBLIC
        assert "Quiet visit" not in str(ken.get("/planning/findings", params={"scope": "all"}).json())
        error(ken.get(f"/planning/notification/{world['quiet'].id}"), 404, "not_found")
        _proposal(gbr)


def test_the_cli_prints_the_ranked_summary_and_the_full_list(cli: Callable[..., str], tmp_path: Path) -> None:  # noqa: F811
    with open_workspace(Settings(workspace=tmp_path / "ws", database_url="")) as ws, ws.session() as session:
        reg = Store(session, Sharing(session).principal("analyst"))
        states = {c: f.state(reg, c) for c in ("GHA", "GBR", "FRA", "KEN")}
        _plans(reg, states)  # Ghana's ministry records British and French plans: not its own
        mine = f.engagement(reg, states["GHA"], [states["KEN"]], title="Ghana exercise",
                            kind="joint_exercise", status="planned", start_date=SOON, location_country="KEN",
                            marking=PUBLIC)  # fmt: skip
    cli("login", "analyst")
    out = cli("plan", "check")
    assert (
        "1 of your organisation's engagements being planned (3 more" in out and "--all-organisations" in out
    )
    assert "Status of forces agreement (sofa)" in out and "Ghana exercise" in out and "Big Lion" not in out
    assert "every finding: --all" in out and len(out.splitlines()) < 30
    assert "did you mean sofa" in cli("plan", "check", "--rule", "sofaa", code=2)
    every = cli("plan", "check", "--all-organisations", "--rule", "sofa", "--all")
    assert "Exercise Big Lion" in every and "Quiet visit" in every and "Ghana exercise" in every
    as_json = json.loads(cli("plan", "check", "--all-organisations", "--json"))
    with open_workspace(Settings(workspace=tmp_path / "ws", database_url="")) as ws, ws.session() as session:
        direct = board(Store(session, Sharing(session).principal("analyst")), scope="all").report()
    assert {k: v for k, v in as_json.items() if k != "marking"} == direct
    assert as_json["marking"].startswith("SECRET") and mine.id in {
        r["engagement_id"] for r in direct["by_engagement"]
    }
    assert "Exercise Big Lion" in cli("plan", "notification", "Exercise Big Lion")
    calendar = cli("plan", "calendar", "--year", str(SOON.year))
    assert "annual calendar" in calendar.lower()
    assert str(date.today().year + 1) in cli("plan", "calendar")  # next year's by default
    assert "no forces or no location" in cli("plan", "notification", "Quiet visit", code=2)
    # the optimiser: nothing of its own costed in the plan year is a plan of nothing, said plainly
    empty = cli("plan", "optimise", "--budget", "100000", "--year", str(SOON.year), "--priority", "KEN=1")
    assert "0 of 0" in empty and "priority KEN: 0 of 1" in empty and "Running HiGHS" not in empty
    assert "excluded: Ghana exercise: no cost recorded" in empty
    assert "COUNTRY=NUMBER" in cli(
        "plan", "optimise", "--budget", "1", "--year", "2027", "--priority", "KEN", code=2
    )
    assert "three letters" in cli(
        "plan", "optimise", "--budget", "1", "--year", "2027", "--currency", "EURO", code=2
    )
