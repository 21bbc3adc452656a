"""Hotlines on the store (SQLite and PostgreSQL): an urgent message climbs the receiving
side's roster and then the owner, one rung per missed deadline, each step audited; the
whole ladder running out marks it unanswered; an acknowledgement stops it; communications
checks report the time to acknowledge per side."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from detente.channels.hotlines import (
    ack,
    check_report,
    create_hotline,
    escalate_due,
    run_checks,
    send_on_hotline,
)
from detente.channels.messages import message_list
from detente.channels.tables import Alert, Copy
from detente.core.audit import AuditEntry
from detente.core.errors import AuthError, ValidationError
from detente.store.access import system_access
from tests.channels.conftest import SHARED, seal, store_of


@pytest.fixture
def line(world: dict[str, Any]) -> dict[str, Any]:
    with world["ws"].session() as session:
        made = create_hotline(
            store_of(session, "gbr-admin"),
            "London-Nairobi hotline",
            other_org="KEN",
            mine=["gbr-planner"],
            theirs=["ken-analyst", "ken-admin"],
            marking=SHARED,
            ack_seconds=60,
            check_every_minutes=60,
        )
    return {**world, "hotline": made.id, "hotline_conversation": made.conversation_id}


def _urgent(line: dict[str, Any], text: str = "vessel approaching") -> str:
    with line["ws"].session() as session:
        gbr = store_of(session, "gbr-planner")
        body = seal(gbr, line["keys"]["gbr-planner"], line["hotline_conversation"], text, urgent=True)
        return send_on_hotline(gbr, body).id


def _escalate(ws: Any, at: Any) -> list[Any]:
    with ws.session() as session:
        system_access(session)
        return escalate_due(session, at)


def _released(ws: Any, message_id: str) -> list[str]:
    with ws.session() as session:
        rows = session.scalars(
            select(Copy).where(Copy.message_id == message_id, Copy.released_at.is_not(None))
        )
        return sorted(c.recipient for c in rows)


def test_the_whole_ladder_runs_out(line: dict[str, Any]) -> None:
    ws = line["ws"]
    message = _urgent(line)
    with ws.session() as session:
        alert = session.get(Alert, message)
        assert alert is not None and alert.steps == 3  # ken-analyst, ken-admin, then the owner gbr-admin
        deadline = alert.deadline_at
    assert _released(ws, message) == ["ken-analyst"]  # the first rung only
    assert _escalate(ws, deadline - timedelta(milliseconds=1)) == []  # not yet
    first = _escalate(ws, deadline + timedelta(milliseconds=400))
    assert [(n.event, n.step, n.to) for n in first] == [("escalation", 1, ("ken-admin",))]
    assert "ken-admin" in _released(ws, message)
    second = _escalate(ws, deadline + timedelta(seconds=60.9))
    assert [(n.event, n.step, n.to) for n in second] == [("escalation", 2, ("gbr-admin",))]
    last = _escalate(ws, deadline + timedelta(seconds=121.5))
    assert [n.event for n in last] == ["unanswered"] and set(last[0].to) == {"gbr-planner", "gbr-admin"}
    assert _escalate(ws, deadline + timedelta(hours=1)) == []
    with ws.session() as session:
        trail = list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.record_id == message).order_by(AuditEntry.seq)
            )
        )
        steps = [(e.action, json.loads(e.detail).get("step")) for e in trail]
        assert steps == [
            ("channels.send", None),
            ("channels.escalate", 1),
            ("channels.escalate", 2),
            ("channels.unanswered", None),
        ]
        late = [json.loads(e.detail)["late_seconds"] for e in trail[1:]]
        assert all(0 <= s < 1 for s in late)
        assert session.get(Alert, message).status == "exhausted"  # type: ignore[union-attr]


def test_an_acknowledgement_stops_the_ladder(line: dict[str, Any]) -> None:
    ws = line["ws"]
    message = _urgent(line)
    with ws.session() as session, pytest.raises(Exception, match="no message"):
        ack(store_of(session, "ken-admin"), message)  # not released to them yet
    with ws.session() as session:
        alert = ack(store_of(session, "ken-analyst"), message)
        assert alert is not None and alert.status == "acknowledged" and alert.acked_by == "ken-analyst"
        deadline = alert.deadline_at
    assert _escalate(ws, deadline + timedelta(hours=1)) == []
    with ws.session() as session:
        listed = message_list(store_of(session, "ken-analyst"), line["hotline_conversation"])
        assert listed[0]["copy"]["acked_at"] is not None


def test_rosters_are_checked(world: dict[str, Any]) -> None:
    with world["ws"].session() as session:
        with pytest.raises(ValidationError, match="not of that side"):
            create_hotline(
                store_of(session, "gbr-admin"),
                "x",
                other_org="KEN",
                mine=["ken-analyst"],
                theirs=["ken-admin"],
                marking=SHARED,
            )
        with pytest.raises(AuthError):
            create_hotline(
                store_of(session, "gbr-planner"),
                "x",
                other_org="KEN",
                mine=["gbr-planner"],
                theirs=["ken-admin"],
                marking=SHARED,
            )


def test_communications_checks_report_time_to_acknowledge(line: dict[str, Any]) -> None:
    ws = line["ws"]
    with ws.session() as session:
        system_access(session)
        sent = run_checks(session, __import__("datetime").datetime.now(__import__("datetime").UTC))
        assert len(sent) == 2  # one test call to each side
        ids = {s.id for s in sent}
    with ws.session() as session:
        for username in ("gbr-planner", "ken-analyst"):
            mine = [
                m
                for m in message_list(store_of(session, username), line["hotline_conversation"])
                if m["id"] in ids
            ]
            assert len(mine) == 1 and mine[0]["kind"] == "check"
            ack(store_of(session, username), mine[0]["id"])
    with ws.session() as session:
        report = check_report(store_of(session, "gbr-admin"), line["hotline"])
        assert [s["answered"] for s in report["sides"]] == [1, 1]
        assert all(s["median_seconds"] is not None and s["median_seconds"] >= 0 for s in report["sides"])
        system_access(session)
        assert (
            run_checks(session, __import__("datetime").datetime.now(__import__("datetime").UTC)) == []
        )  # not due
