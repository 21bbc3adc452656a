"""Vienna Document 2011 rule table: every threshold and deadline at, below and above its value,
with the paragraph each finding cites checked against the YAML itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.core.errors import ConfigError, ValidationError
from detente.planning.vienna import (
    Activity,
    Finding,
    calendar_draft,
    check,
    notification_draft,
    split_suspects,
)
from detente.planning.vienna_rules import MEASURES, Rules, RuleTableError

SOURCE = Path(__file__).resolve().parents[2] / "src" / "detente" / "planning" / "vienna_2011.yaml"
RAW: dict[str, Any] = yaml.safe_load(SOURCE.read_text())
PARAGRAPH = {rule["id"]: rule["paragraph"] for rule in RAW["rules"]}
RULES = Rules.load()
START = date(2025, 6, 2)
TODAY = date(2025, 1, 10)
JAN, JUNE = date(2025, 1, 1), date(2025, 6, 1)


def activity(**overrides: Any) -> Activity:
    """One small, on-time, in-zone activity; overrides make it what a test needs."""
    values: dict[str, Any] = {
        "id": "A",
        "title": "Exercise Steadfast",
        "start": START,
        "end": START + timedelta(days=9),
        "country": "POL",
        "participants": frozenset({"POL", "DEU"}),
        "troops": 1000,
        "notified_on": START - timedelta(days=60),
        "in_calendar_on": date(START.year - 1, 11, 1),
    }
    values.update(overrides)
    return Activity(**values)


def of_rule(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id and f.kind != "split_suspect"]


def rules_with(tmp_path: Path, edit: Any) -> Path:
    raw = yaml.safe_load(SOURCE.read_text())
    edit(raw)
    path = tmp_path / "vienna_custom.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def rule_of(raw: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(rule for rule in raw["rules"] if rule["id"] == rule_id)


# ------------------------------------------------------------------ the table itself


def test_the_table_names_its_version_and_every_rule_cites_a_paragraph() -> None:
    assert RULES.version == "2011" and RULES.symbol == "FSC.DOC/1/11"
    assert RULES.adopted == date(2011, 11, 30)
    assert "FSC.DOC/1/11" in RULES.source_note
    for rule in RAW["rules"]:
        assert rule["paragraph"] and rule["paragraph_confidence"] in {"high", "medium", "low"}
    assert {rule.kind for rule in RULES.rules} == {
        "zone",
        "notification",
        "notice_period",
        "observation",
        "calendar",
        "constraint",
    }


def test_issue_10_numbers_are_the_ones_in_the_table() -> None:
    assert rule_of(RAW, "notification.land_forces")["at_least"] == {
        "troops": 9000,
        "tanks": 250,
        "acv": 500,
        "artillery": 250,
    }
    assert rule_of(RAW, "notification.air_sorties")["at_least"] == {"sorties": 200}
    assert rule_of(RAW, "notification.amphibious_airborne")["at_least"] == {
        "amphibious_airborne_troops": 3000
    }
    assert rule_of(RAW, "notification.notice_period")["days_before_start"] == 42
    assert rule_of(RAW, "observation.invitation")["at_least"] == {
        "troops": 13000,
        "tanks": 300,
        "acv": 500,
        "artillery": 250,
        "amphibious_airborne_troops": 3500,
    }
    assert (rule_of(RAW, "calendar.annual")["due_month"], rule_of(RAW, "calendar.annual")["due_day"]) == (
        11,
        15,
    )
    limits = {r["id"]: (r["above"], r["max_activities"]) for r in RAW["rules"] if r["kind"] == "constraint"}
    assert limits == {
        "constraint.one_in_three_years": ({"troops": 40000, "tanks": 900}, 1),
        "constraint.six_per_year": ({"troops": 13000, "tanks": 300}, 6),
        "constraint.three_large_per_year": ({"troops": 25000, "tanks": 400}, 3),
        "constraint.simultaneous": ({"troops": 13000, "tanks": 300}, 3),
    }


def test_zone_codes_are_real_countries() -> None:
    from detente.core.countries import resolve

    for code in (*RULES.zone.whole, *RULES.zone.partial):
        assert resolve(code).iso3 == code


# ------------------------------------------------------------------ thresholds (>=)

THRESHOLDS = [
    (rule["id"], measure, value)
    for rule in RAW["rules"]
    if rule["kind"] in {"notification", "observation"}
    for measure, value in rule["at_least"].items()
]


@pytest.mark.parametrize(
    ("rule_id", "measure", "threshold"), THRESHOLDS, ids=[f"{r}-{m}" for r, m, _ in THRESHOLDS]
)
@pytest.mark.parametrize("delta", [-1, 0, 1], ids=["below", "at", "above"])
def test_every_threshold_below_at_and_above(rule_id: str, measure: str, threshold: int, delta: int) -> None:
    value = threshold + delta
    found = of_rule(check([activity(**{"troops": None, measure: value})], RULES, today=TODAY), rule_id)
    if delta < 0:
        assert found == []
        return
    (finding,) = found
    assert finding.paragraph == PARAGRAPH[rule_id]
    assert finding.reference == f"VD2011 para {PARAGRAPH[rule_id]}"
    assert finding.activity_ids == ("A",)
    assert [(c.measure, c.value, c.threshold, c.comparison) for c in finding.basis] == [
        (measure, value, threshold, ">=")
    ]
    assert (
        f"{MEASURES[measure]} {value:,} ≥ {threshold:,} (VD2011 para {PARAGRAPH[rule_id]})" in finding.message
    )


def test_message_names_the_number_that_tripped_it() -> None:
    (finding,) = of_rule(check([activity(troops=9000)], RULES, today=TODAY), "notification.land_forces")
    assert finding.message == "troops 9,000 ≥ 9,000 (VD2011 para 40.1): prior notification required"
    assert finding.severity == "info"


def test_several_crossings_of_one_rule_are_one_finding() -> None:
    (finding,) = of_rule(
        check([activity(troops=9500, tanks=260)], RULES, today=TODAY), "notification.land_forces"
    )
    assert [c.measure for c in finding.basis] == ["troops", "tanks"]


def test_unknown_numbers_trip_nothing() -> None:
    assert check([activity(troops=None)], RULES, today=TODAY) == []


# ------------------------------------------------------------------ notice period (para 38)


@pytest.mark.parametrize(("days", "late"), [(41, True), (42, False), (43, False)])
def test_notice_period_at_41_42_43_days(days: int, late: bool) -> None:
    a = activity(troops=9000, notified_on=START - timedelta(days=days))
    found = of_rule(check([a], RULES, today=TODAY), "notification.notice_period")
    if not late:
        assert found == []
        return
    (finding,) = found
    assert (
        finding.severity == "violation"
        and finding.paragraph == PARAGRAPH["notification.notice_period"] == "38"
    )
    assert "notified 41 days before the start < 42" in finding.message


@pytest.mark.parametrize(("offset", "severity"), [(-1, "info"), (0, "info"), (1, "violation")])
def test_not_yet_notified_is_overdue_only_after_the_42nd_day_before(offset: int, severity: str) -> None:
    due = START - timedelta(days=42)
    a = activity(troops=9000, notified_on=None)
    (finding,) = of_rule(check([a], RULES, today=due + timedelta(days=offset)), "notification.notice_period")
    assert finding.severity == severity and str(due) in finding.message


def test_activities_below_every_notification_threshold_need_no_notice_or_calendar() -> None:
    assert check([activity(troops=8999, notified_on=None, in_calendar_on=None)], RULES, today=START) == []


# ------------------------------------------------------------------ annual calendar (para 61)


@pytest.mark.parametrize(("day", "late"), [(14, False), (15, False), (16, True)])
def test_calendar_on_14_15_16_november(day: int, late: bool) -> None:
    a = activity(troops=9000, in_calendar_on=date(2024, 11, day))
    found = of_rule(check([a], RULES, today=TODAY), "calendar.annual")
    if not late:
        assert found == []
        return
    (finding,) = found
    assert finding.severity == "warning" and finding.paragraph == PARAGRAPH["calendar.annual"] == "61"
    assert "after 2024-11-15" in finding.message


@pytest.mark.parametrize(
    ("today", "severity"), [(date(2024, 11, 15), "info"), (date(2024, 11, 16), "warning")]
)
def test_missing_from_the_calendar(today: date, severity: str) -> None:
    (finding,) = of_rule(
        check([activity(troops=9000, in_calendar_on=None)], RULES, today=today), "calendar.annual"
    )
    assert finding.severity == severity and "2024-11-15" in finding.message


# ------------------------------------------------------------------ constraining provisions (> limits)

CONSTRAINTS = [rule for rule in RAW["rules"] if rule["kind"] == "constraint"]


def constrained(rule: dict[str, Any], count: int, **forces: int) -> list[Activity]:
    """``count`` activities of one State that share a window of ``rule`` and nothing else."""
    out = []
    for i in range(count):
        if rule["window"] == "simultaneous":
            start = date(2025, 6, 1) + timedelta(days=i)
            end = date(2025, 6, 20)
        else:
            start = date(2025 + i % rule.get("years", 1), 1 + i, 1)
            end = start + timedelta(days=5)
        out.append(activity(id=f"A{i}", start=start, end=end, **{"troops": None, **forces}))
    return out


LIMITS = [(rule, measure, value) for rule in CONSTRAINTS for measure, value in rule["above"].items()]


@pytest.mark.parametrize(("rule", "measure", "limit"), LIMITS, ids=[f"{r['id']}-{m}" for r, m, _ in LIMITS])
@pytest.mark.parametrize("delta", [-1, 0, 1], ids=["below", "at", "above"])
def test_every_constraint_limit_is_strictly_above(
    rule: dict[str, Any], measure: str, limit: int, delta: int
) -> None:
    acts = constrained(rule, rule["max_activities"] + 1, **{measure: limit + delta})
    found = of_rule(check(acts, RULES, today=TODAY), rule["id"])
    if delta <= 0:
        assert found == []
        return
    (finding,) = found
    assert finding.severity == "violation" and finding.paragraph == PARAGRAPH[rule["id"]]
    assert finding.activity_ids == tuple(sorted(a.id for a in acts))
    assert f"> {rule['max_activities']} allowed (VD2011 para {rule['paragraph']})" in finding.message


@pytest.mark.parametrize("rule", CONSTRAINTS, ids=[r["id"] for r in CONSTRAINTS])
@pytest.mark.parametrize("extra", [0, 1], ids=["at-the-limit", "one-above"])
def test_every_constraint_count_at_and_above_the_limit(rule: dict[str, Any], extra: int) -> None:
    forces = {m: v + 1 for m, v in rule["above"].items()}
    acts = constrained(rule, rule["max_activities"] + extra, **forces)
    found = of_rule(check(acts, RULES, today=TODAY), rule["id"])
    assert len(found) == extra
    if extra:
        assert found[0].message.startswith(f"POL: {rule['max_activities'] + 1} activities above")


def test_four_activities_in_a_chain_are_not_four_at_the_same_time() -> None:
    acts = [
        activity(
            id=f"A{i}", start=JUNE + timedelta(days=5 * i), end=JUNE + timedelta(days=5 * i + 6), troops=14000
        )
        for i in range(4)
    ]
    assert of_rule(check(acts, RULES, today=TODAY), "constraint.simultaneous") == []


def test_constraints_count_per_conducting_state() -> None:
    acts = [
        activity(
            id=f"A{i}",
            start=date(2025, 1 + i, 1),
            end=date(2025, 1 + i, 5),
            troops=14000,
            conductor="POL" if i < 4 else "DEU",
        )
        for i in range(8)
    ]
    assert of_rule(check(acts, RULES, today=TODAY), "constraint.six_per_year") == []
    acts[4] = replace(acts[4], conductor="POL")
    acts[5] = replace(acts[5], conductor="POL")
    acts[6] = replace(acts[6], conductor="POL")
    (finding,) = of_rule(check(acts, RULES, today=TODAY), "constraint.six_per_year")
    assert finding.message.startswith("POL: 7 activities above 13,000 troops or 300 battle tanks in 2025 > 6")


@pytest.mark.parametrize(("second_year", "expected"), [(2026, 1), (2027, 1), (2028, 0)])
def test_three_calendar_years_window(second_year: int, expected: int) -> None:
    later = activity(id="B", start=date(second_year, 3, 1), end=date(second_year, 3, 9), troops=40001)
    acts = [activity(id="A", troops=40001), later]
    found = of_rule(check(acts, RULES, today=TODAY), "constraint.one_in_three_years")
    assert len(found) == expected
    if expected:
        assert "in 2025-2027 > 1 allowed" in found[0].message


# ------------------------------------------------------------------ zone of application


def test_zone_in_out_and_partly() -> None:
    late = {"troops": 9000, "notified_on": START - timedelta(days=10)}
    inside = check([activity(country="POL", **late)], RULES, today=TODAY)
    assert [f.severity for f in of_rule(inside, "notification.notice_period")] == ["violation"]
    assert of_rule(inside, "zone.application") == []

    assert check([activity(country="USA", participants=frozenset({"USA"}), **late)], RULES, today=TODAY) == []

    partly = check([activity(country="RUS", participants=frozenset({"RUS"}), **late)], RULES, today=TODAY)
    (zone,) = of_rule(partly, "zone.application")
    assert zone.paragraph == PARAGRAPH["zone.application"] and zone.severity == "warning"
    assert zone.message.startswith("uncertain (VD2011 Annex I): confirm the location is within the zone")
    assert "European part" in zone.message
    (notice,) = of_rule(partly, "notification.notice_period")
    assert notice.severity == "warning" and "applies only if the location is in the zone" in notice.message


def test_partly_covered_activity_below_thresholds_is_silent() -> None:
    assert check([activity(country="TUR", participants=frozenset({"TUR"}))], RULES, today=TODAY) == []


def test_constraints_and_splits_in_a_partly_covered_state_are_hedged() -> None:
    russian = {"country": "RUS", "participants": frozenset({"RUS", "BLR"})}
    acts = [
        activity(id=f"A{i}", start=date(2025, 1 + i, 1), end=date(2025, 1 + i, 5), troops=14000, **russian)
        for i in range(7)
    ]
    (finding,) = of_rule(check(acts, RULES, today=TODAY), "constraint.six_per_year")
    assert finding.severity == "warning" and "applies only if the location is in the zone" in finding.message
    both = [replace(a, **russian) for a in pair()]
    (split,) = [f for f in check(both, RULES, today=TODAY) if f.kind == "split_suspect"]
    assert split.severity == "warning" and "European part" in split.message


def test_activities_outside_the_zone_do_not_count_towards_constraints() -> None:
    acts = [
        activity(
            id=f"A{i}",
            country="USA",
            participants=frozenset({"USA"}),
            start=date(2025, 1 + i, 1),
            end=date(2025, 1 + i, 5),
            troops=14000,
        )
        for i in range(7)
    ]
    assert check(acts, RULES, today=TODAY) == []


# ------------------------------------------------------------------ split activities


def pair(**second: Any) -> list[Activity]:
    first = activity(id="A", troops=5000, end=START + timedelta(days=4))
    values = {
        "id": "B",
        "troops": 5000,
        "start": START + timedelta(days=7),
        "end": START + timedelta(days=12),
        "participants": frozenset({"POL", "DEU", "LTU"}),
    }
    values.update(second)
    return [first, activity(**values)]


def test_split_suspect_found_and_reported_by_check() -> None:
    (suspect,) = split_suspects(pair(), RULES)
    assert suspect.activity_ids == ("A", "B") and suspect.country == "POL"
    assert suspect.paragraph == PARAGRAPH[suspect.rule_id] == "40.1"
    assert dict(suspect.totals)["troops"] == 10000
    assert "troops 10,000 ≥ 9,000 (VD2011 para 40.1)" in suspect.message
    (finding,) = [f for f in check(pair(), RULES, today=TODAY) if f.kind == "split_suspect"]
    assert (
        finding.severity == "warning" and finding.paragraph == "40.1" and finding.activity_ids == ("A", "B")
    )


@pytest.mark.parametrize(
    "second",
    [
        {"start": START + timedelta(days=12), "end": START + timedelta(days=14)},  # 8 days after A ends
        {"country": "LTU"},
        {"participants": frozenset({"FRA", "ITA", "ESP"}), "conductor": "FRA"},
        {"troops": 3999},
        {"troops": 9000},  # notifiable on its own: nothing hidden
    ],
    ids=["gap-8-days", "other-country", "other-participants", "sum-below", "one-notifiable"],
)
def test_split_negative(second: dict[str, Any]) -> None:
    assert split_suspects(pair(**second), RULES) == []


def test_split_gap_boundary_and_override() -> None:
    seven = pair(start=START + timedelta(days=11), end=START + timedelta(days=14))  # 7 days after A ends
    assert len(split_suspects(seven, RULES)) == 1
    assert split_suspects(seven, RULES, max_gap_days=6) == []
    assert split_suspects(pair(), RULES, min_participant_overlap=1.0) == []


def test_split_chains_three_activities() -> None:
    acts = [
        activity(
            id=f"A{i}",
            troops=3500,
            start=START + timedelta(days=6 * i),
            end=START + timedelta(days=6 * i + 3),
        )
        for i in range(3)
    ]
    (suspect,) = split_suspects(acts, RULES)
    assert suspect.activity_ids == ("A0", "A1", "A2")


# ------------------------------------------------------------------ drafts


def test_notification_draft_has_every_field_of_the_format() -> None:
    a = activity(
        troops=12000,
        tanks=260,
        place="Drawsko Pomorskie",
        purpose="Brigade defensive operations",
        command_level="Multinational Corps Northeast",
    )
    draft = notification_draft(a, RULES)
    for section in RAW["notification_format"]["sections"]:
        assert section["title"] in draft
        for item in section["fields"]:
            assert item["label"] + ":" in draft
    for value in (
        "Exercise Steadfast",
        "Brigade defensive operations",
        "Multinational Corps Northeast",
        "DEU, POL",
        "2025-06-02 to 2025-06-11",
        "12,000",
        "260",
        "Drawsko Pomorskie",
    ):
        assert value in draft
    assert "Geographic coordinates of the area: [geographic coordinates: to be completed]" in draft
    assert "VD2011 para 42" in draft and "To be transmitted by: 2025-04-21 (VD2011 para 38)" in draft
    assert "Notifiable because: troops 12,000 ≥ 9,000; battle tanks 260 ≥ 250 (VD2011 para 40.1)" in draft


def test_notification_draft_says_when_below_thresholds_or_partly_in_zone() -> None:
    draft = notification_draft(activity(country="RUS", participants=frozenset({"RUS"})), RULES)
    assert "below every notification threshold" in draft and "European part" in draft


def test_calendar_draft_lists_the_states_notifiable_activities_of_the_year() -> None:
    acts = [
        activity(id="B", title="Late exercise", troops=9500, start=date(2025, 9, 1), end=date(2025, 9, 9)),
        activity(id="A", title="Early exercise", troops=9000, start=date(2025, 3, 1), end=date(2025, 3, 9)),
        activity(id="C", title="Small exercise", troops=8999),
        activity(id="D", title="Next year", troops=9000, start=date(2026, 3, 1), end=date(2026, 3, 9)),
        activity(id="E", title="Someone else's", troops=9000, country="FRA", participants=frozenset({"FRA"})),
    ]
    draft = calendar_draft(acts, 2025, RULES, "POL")
    assert "1. Early exercise [A]" in draft and "2. Late exercise [B]" in draft
    for absent in ("[C]", "[D]", "[E]"):
        assert absent not in draft
    assert "To be exchanged by: 2024-11-15 (VD2011 para 61)" in draft
    for item in RAW["calendar_format"]["sections"][0]["fields"]:
        assert item["label"] + ":" in draft
    assert "No military activities" in calendar_draft(acts, 2027, RULES, "POL")


# ------------------------------------------------------------------ other versions and broken tables


def test_a_custom_table_changes_the_results(tmp_path: Path) -> None:
    def lower(raw: dict[str, Any]) -> None:
        rule_of(raw, "notification.land_forces")["at_least"]["troops"] = 5000
        rule_of(raw, "notification.land_forces")["paragraph"] = "99.9"
        rule_of(raw, "notification.notice_period")["days_before_start"] = 30
        raw["version"] = "2099"

    custom = Rules.load(path=rules_with(tmp_path, lower))
    a = activity(troops=5000, notified_on=START - timedelta(days=35))
    assert check([a], RULES, today=TODAY) == []
    found = check([a], custom, today=TODAY)
    assert [(f.rule_id, f.paragraph) for f in found] == [("notification.land_forces", "99.9")]
    late = replace(a, notified_on=START - timedelta(days=29))
    assert [
        f.severity for f in of_rule(check([late], custom, today=TODAY), "notification.notice_period")
    ] == ["violation"]


def test_sorties_can_be_made_part_of_another_notification(tmp_path: Path) -> None:
    custom = Rules.load(
        path=rules_with(
            tmp_path, lambda raw: rule_of(raw, "notification.air_sorties").update(standalone=False)
        )
    )
    assert check([activity(troops=None, sorties=250)], custom, today=TODAY) == []
    found = check([activity(troops=9000, sorties=250)], custom, today=TODAY)
    assert of_rule(found, "notification.air_sorties")[0].paragraph == "40.1.1"


def _drop_threshold(raw: dict[str, Any]) -> None:
    del rule_of(raw, "notification.land_forces")["at_least"]


def _null_threshold(raw: dict[str, Any]) -> None:
    rule_of(raw, "notification.land_forces")["at_least"]["troops"] = None


def _unknown_kind(raw: dict[str, Any]) -> None:
    rule_of(raw, "notification.land_forces")["kind"] = "prohibition"


def _no_kind(raw: dict[str, Any]) -> None:
    del rule_of(raw, "observation.invitation")["kind"]


def _zero_limit(raw: dict[str, Any]) -> None:
    rule_of(raw, "constraint.simultaneous")["above"]["tanks"] = 0


def _unknown_measure(raw: dict[str, Any]) -> None:
    rule_of(raw, "notification.land_forces")["at_least"]["helicopters"] = 10


def _no_paragraph(raw: dict[str, Any]) -> None:
    del rule_of(raw, "calendar.annual")["paragraph"]


def _31_november(raw: dict[str, Any]) -> None:
    rule_of(raw, "calendar.annual")["due_day"] = 31


def _twice(raw: dict[str, Any]) -> None:
    raw["rules"].append(dict(rule_of(raw, "calendar.annual")))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_drop_threshold, "rules[1] (notification.land_forces).at_least: Field required"),
        (_null_threshold, "rules[1] (notification.land_forces).at_least.troops:"),
        (_unknown_kind, "rules[1] (notification.land_forces).kind: unknown rule kind 'prohibition'; one of"),
        (_no_kind, "rules[5] (observation.invitation).kind: missing rule kind"),
        (_zero_limit, "rules[10] (constraint.simultaneous).above.tanks: Input should be greater than 0"),
        (_unknown_measure, "rules[1] (notification.land_forces).at_least.helicopters"),
        (_no_paragraph, "rules[6] (calendar.annual).paragraph: Field required"),
        (_31_november, "rules[6] (calendar.annual): Value error, day is out of range"),
        (_twice, "rule ids used twice: calendar.annual"),
    ],
)
def test_a_broken_table_is_refused_naming_the_field(tmp_path: Path, edit: Any, expected: str) -> None:
    with pytest.raises(RuleTableError) as caught:
        Rules.load(path=rules_with(tmp_path, edit))
    assert caught.value.message.startswith("vienna_custom.yaml: ")
    assert expected in caught.value.message
    assert isinstance(caught.value, ConfigError)


def test_unknown_version_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(RuleTableError, match="no such rule table; shipped versions: 2011"):
        Rules.load("1999")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [unclosed\n")
    with pytest.raises(RuleTableError, match="bad.yaml: not valid YAML"):
        Rules.load(path=bad)
    bad.write_text("- a list\n")
    with pytest.raises(RuleTableError, match="mapping at the top level"):
        Rules.load(path=bad)


@pytest.mark.parametrize(
    ("overrides", "field_name"),
    [
        ({"end": START - timedelta(days=1)}, "end"),
        ({"country": "pol"}, "country"),
        ({"conductor": "PL"}, "conductor"),
        ({"participants": frozenset({"POL", "Germany"})}, "participants"),
        ({"tanks": -1}, "tanks"),
    ],
)
def test_activity_refuses_bad_values(overrides: dict[str, Any], field_name: str) -> None:
    with pytest.raises(ValidationError) as caught:
        activity(**overrides)
    assert caught.value.field == field_name


def test_duplicate_activity_ids_are_refused() -> None:
    with pytest.raises(ValidationError, match="unique"):
        check([activity(), activity()], RULES, today=TODAY)


# ------------------------------------------------------------------ properties

forces = st.fixed_dictionaries({m: st.one_of(st.none(), st.integers(0, 60000)) for m in MEASURES})


@settings(max_examples=150, deadline=None)
@given(forces, st.sampled_from(sorted(MEASURES)), st.integers(1, 60000))
def test_more_forces_never_remove_a_notification_or_observation(
    values: dict[str, int | None], measure: str, more: int
) -> None:
    def obligations(a: Activity) -> set[str]:
        return {
            f.rule_id for f in check([a], RULES, today=TODAY) if f.kind in {"notification", "observation"}
        }

    before = activity(**values)
    after = replace(before, **{measure: (values[measure] or 0) + more})
    assert obligations(before) <= obligations(after)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(forces, st.integers(0, 400), st.integers(0, 20)), min_size=1, max_size=8), st.randoms()
)
def test_findings_do_not_depend_on_the_order_of_activities(rows: list[Any], rnd: Any) -> None:
    acts = [
        activity(
            id=f"A{i}", start=JAN + timedelta(days=day), end=JAN + timedelta(days=day + length), **values
        )
        for i, (values, day, length) in enumerate(rows)
    ]
    shuffled = list(acts)
    rnd.shuffle(shuffled)
    assert check(acts, RULES, today=TODAY) == check(shuffled, RULES, today=TODAY)
