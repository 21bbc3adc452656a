"""The assessment records (initiative to lesson) on both stores: the chain, the sharing
rules, indicator status and overdue flags, and indicators computed from the registry."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from detente.assessment.metrics import Context
from detente.assessment.monitor import dashboard, scorecard
from detente.core.errors import NotFoundError, TransitionError, ValidationError
from detente.core.workspace import Workspace
from detente.sharing.service import Sharing
from detente.store.service import ListQuery, Store
from tests import factories as f

TODAY = date(2026, 6, 30)
PUBLIC = "UNCLASSIFIED//TLP:CLEAR"
SECRET_UK = "SECRET//REL TO GBR"


def _chain(reg: Store, states: dict[str, Any]) -> dict[str, Any]:
    gbr, ken = states["GBR"], states["KEN"]
    exercises = [
        f.engagement(reg, gbr, [ken], title=f"Exercise {n}", kind="joint_exercise", status=s, start_date=d,
                     marking=m)
        for n, s, d, m in (
            ("Askari Storm", "executed", date(2026, 3, 1), PUBLIC),
            ("Askari Thunder", "assessed", date(2025, 11, 2), PUBLIC),
            ("Hidden Lion", "executed", date(2026, 4, 5), SECRET_UK),
            ("Old Lion", "executed", date(2024, 4, 5), PUBLIC),
        )
    ]  # fmt: skip
    dca = f.agreement(reg, gbr, ken, marking=PUBLIC)
    initiative = reg.create(
        "initiatives",
        {"title": "Kenya peacekeeping readiness", "partner_country": "Kenya", "status": "active",
         "lead_actor_id": gbr.id, "start_date": date(2025, 1, 1), "marking": PUBLIC},
    )  # fmt: skip
    objective = reg.create(
        "objectives",
        {"initiative_id": initiative.id, "title": "Battalion ready for UN deployment",
         "line_of_effort": "peacekeeping_readiness", "partner_country": "KEN",
         "engagements": [e.id for e in exercises], "agreements": [dca.id],
         "inputs": "Trainers, ranges", "activities": "Exercises", "outputs": "Trained companies",
         "outcomes": "A battalion certified", "assumptions": "Kenya keeps the battalion together",
         "marking": PUBLIC},
    )  # fmt: skip
    manual = reg.create(
        "indicators",
        {"objective_id": objective.id, "name": "Companies certified", "unit": "companies",
         "baseline_value": 0, "baseline_date": date(2025, 1, 1), "target_value": 4,
         "target_date": date(2027, 1, 1), "frequency": "quarterly", "marking": PUBLIC},
    )  # fmt: skip
    computed = reg.create(
        "indicators",
        {"objective_id": objective.id, "name": "Exercises completed", "unit": "exercises",
         "baseline_value": 1, "baseline_date": date(2025, 1, 1), "target_value": 4,
         "target_date": date(2027, 1, 1), "frequency": "quarterly",
         "computed_from": "completed_exercises:Kenya", "marking": PUBLIC},
    )  # fmt: skip
    secret = reg.create(
        "indicators",
        {"objective_id": objective.id, "name": "Readiness rating (national)", "unit": "points",
         "baseline_value": 2, "baseline_date": date(2025, 1, 1), "target_value": 2,
         "higher_is_better": True, "target_date": date(2027, 1, 1), "frequency": "annual",
         "marking": SECRET_UK},
    )  # fmt: skip
    for value, day in ((0, date(2025, 4, 1)), (1, date(2025, 10, 1)), (1, date(2026, 1, 10))):
        reg.create("observations", {"indicator_id": manual.id, "value": value, "observed_on": day,
                                    "source": "certification board", "marking": PUBLIC})  # fmt: skip
    evaluation = reg.create(
        "evaluations",
        {"initiative_id": initiative.id, "title": "Mid-term review", "kind": "formative",
         "independence": "external", "conducted_on": date(2026, 2, 1), "rating": "partly_satisfactory",
         "findings": "Range time is the bottleneck.", "marking": PUBLIC},
    )  # fmt: skip
    future = f.engagement(reg, gbr, [ken], title="Range build", start_date=date(2026, 9, 1), marking=PUBLIC)
    lesson = reg.create(
        "lessons",
        {"title": "Book ranges a year ahead", "initiative_id": initiative.id, "evaluation_id": evaluation.id,
         "observation": "Two exercises lost range days.", "recommendation": "Book a year ahead.",
         "engagements": [future.id], "marking": PUBLIC},
    )  # fmt: skip
    return {"initiative": initiative, "objective": objective, "manual": manual, "computed": computed,
            "secret": secret, "lesson": lesson, "exercises": exercises}  # fmt: skip


def test_the_chain_status_overdue_and_computed_values_follow_markings(ws: Workspace) -> None:
    with ws.session() as session:
        setup = f.two_organisations(session)
        gbr = Store(session, Sharing(session).principal("gbr-planner"))
        made = _chain(gbr, setup["states"])
        ken = Store(session, Sharing(session).principal("ken-analyst"))

        card = scorecard(Context(gbr, None, "GBR"), made["initiative"].id, TODAY)
        reports = {r.indicator.name: r for r in card.indicators}
        assert set(reports) == {"Companies certified", "Exercises completed", "Readiness rating (national)"}
        manual = reports["Companies certified"]
        # 1 company by 2026-01-10 against an expected 4 * 374/730 = 2.05: short by more than 10% of 4
        assert manual.status == "off_track"
        assert manual.expected == pytest.approx(4 * 374 / 730)
        # quarterly: due 2026-04-10, so 81 days overdue on 2026-06-30
        assert (manual.next_due, manual.overdue_days) == (date(2026, 4, 10), 81)
        assert reports["Readiness rating (national)"].status == "no_data"
        assert reports["Readiness rating (national)"].overdue_days == (TODAY - date(2026, 1, 1)).days
        computed = reports["Exercises completed"]
        assert not computed.overdue
        # the planner sees three exercises in the year to 2026-06-30 (Old Lion is too old)
        assert computed.points[-1].on == TODAY and computed.points[-1].value == 3
        # expected 1 + 3 * 545/730 = 3.24: 0.24 short, within 10% of the planned change of 3
        assert computed.status == "at_risk"
        assert sum(card.counts.values()) == 3 and card.counts["off_track"] == 1
        assert {r.marking for r in card.records} >= {SECRET_UK}

        # Kenya's analyst: no secret indicator, the secret exercise neither counted nor linked
        theirs = scorecard(Context(ken, None, "KEN"), made["initiative"].id, TODAY)
        seen = {r.indicator.name: r for r in theirs.indicators}
        assert set(seen) == {"Companies certified", "Exercises completed"}
        assert seen["Exercises completed"].points[-1].value == 2
        assert seen["Exercises completed"].status == "off_track"
        assert SECRET_UK not in {r.marking for r in theirs.records}
        assert len(theirs.objectives[0].engagements) == 3
        assert ken.get("objectives", made["objective"].id).engagements == [
            e.id for e in made["exercises"] if e.marking == PUBLIC
        ]
        with pytest.raises(NotFoundError):
            ken.get("indicators", made["secret"].id)
        assert [c.initiative.title for c in dashboard(Context(ken, None, "KEN"), TODAY)] == [
            "Kenya peacekeeping readiness"
        ]

        # a completed initiative has nothing due
        gbr.update("initiatives", made["initiative"].id, {"status": "completed"}, expected_version=1)
        done = scorecard(Context(gbr, None, "GBR"), made["initiative"].id, TODAY)
        assert not done.overdue
        # lessons follow their lifecycle; a validated one is final
        lesson = gbr.update("lessons", made["lesson"].id, {"status": "action_planned"}, expected_version=1)
        with pytest.raises(TransitionError):
            gbr.update("lessons", lesson.id, {"status": "validated"}, expected_version=lesson.version)
        assert gbr.list("lessons", ListQuery(filters={"initiative_id": made["initiative"].id}))[0].engagements


def test_bad_assessment_records_are_refused_with_the_field(reg: Store) -> None:
    gbr = f.state(reg, "GBR")
    initiative = reg.create("initiatives", {"title": "Gulf of Guinea", "region": "West Africa"})
    objective = reg.create(
        "objectives",
        {"initiative_id": initiative.id, "title": "Patrols", "line_of_effort": "maritime_security"},
    )
    base = {"objective_id": objective.id, "name": "Patrol days", "unit": "days", "baseline_value": 10,
            "baseline_date": date(2025, 1, 1), "target_value": 40,
            "target_date": date(2026, 1, 1)}  # fmt: skip
    cases = [
        ("initiatives", {"title": "Nowhere"}, "partner_country or region"),
        (
            "objectives",
            {**{"initiative_id": initiative.id, "title": "X"}, "line_of_effort": "space"},
            "line_of_effort",
        ),
        ("indicators", {**base, "target_date": date(2024, 1, 1)}, "target_date"),
        ("indicators", {**base, "target_value": 10}, "higher_is_better"),
        ("indicators", {**base, "computed_from": "completed_exercises"}, "computed_from"),
        ("indicators", {**base, "computed_from": "happiness:GHA"}, "unknown metric"),
        ("indicators", {**base, "baseline_value": float("nan")}, "baseline_value"),
        ("observations", {"indicator_id": gbr.id, "value": 1, "observed_on": date(2025, 2, 1)}, "indicator"),
        (
            "evaluations",
            {
                "initiative_id": initiative.id,
                "title": "E",
                "kind": "formative",
                "conducted_on": date(2025, 5, 1),
                "rating": "excellent",
            },
            "rating",
        ),
    ]
    for table, data, words in cases:
        with pytest.raises(ValidationError) as caught:
            reg.create(table, data)
        assert words in str(caught.value) or words == caught.value.field, (table, data, str(caught.value))
    made = reg.create("indicators", {**base, "computed_from": "completed_exercises:ghana"})
    assert made.computed_from == "completed_exercises:GHA"
    assert reg.count("indicators") == 1 and reg.count("observations") == 0
