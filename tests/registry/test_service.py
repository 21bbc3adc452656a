"""Store services on SQLite and PostgreSQL: validation, lifecycle, concurrency, deletion."""

from __future__ import annotations

from datetime import date

import pytest

from detente.core.errors import (
    ConflictError,
    StaleVersionError,
    TransitionError,
    ValidationError,
)
from detente.core.workspace import Workspace
from detente.store.service import ListQuery, Store
from tests import factories as f


def test_create_and_read_every_kind(reg: Store) -> None:
    fra, gha = f.state(reg, "FRA", "France"), f.state(reg, "GHA", "Ghana")
    mod = f.ministry(reg, fra)
    ag = f.agreement(reg, fra, gha)
    eng = f.engagement(reg, mod, [gha], agreement_id=ag.id, troops=120, cost="1500.50", currency="eur")
    att = f.person(reg, organisation_id=mod.id)
    com = f.commitment(reg, eng, mod)

    got = reg.get("engagements", eng.id)
    assert got.partners == [gha.id]
    assert got.currency == "EUR" and str(got.cost) == "1500.50"
    assert got.status == "proposed" and got.version == 1
    assert got.created_by == "tester" and got.created_at.tzinfo is not None
    assert reg.get("agreements", ag.id).parties == [fra.id, gha.id]
    assert reg.get("people", att.id).accreditation_status == "proposed"
    assert reg.get("commitments", com.id).status == "open"
    assert reg.get("actors", mod.id).parent_id == fra.id


def test_country_names_are_resolved_to_iso3(reg: Store) -> None:
    de = reg.create("actors", {"name": "Deutschland", "kind": "state", "country": "Allemagne"})
    assert de.country == "DEU"
    p = f.person(reg, sending_state="United Kingdom", receiving_state="Côte d'Ivoire")
    assert (p.sending_state, p.receiving_state) == ("GBR", "CIV")


def test_unknown_country_is_refused_with_suggestions(reg: Store) -> None:
    with pytest.raises(ValidationError) as err:
        reg.create("actors", {"name": "X", "kind": "state", "country": "Germny"})
    assert "country" in err.value.message and "Germany" in err.value.message


@pytest.mark.parametrize(
    ("table", "data", "fragment"),
    [
        ("actors", {"name": "Nowhere", "kind": "state"}, "needs its country"),
        ("actors", {"name": "X", "kind": "warlord_band"}, "unknown value 'warlord_band'"),
        ("people", {"name": "A", "sending_state": "FRA", "receiving_state": "FRA"}, "must differ"),
        ("actors", {"name": "bad\x07bell", "kind": "ngo"}, "control"),
        ("actors", {"name": "X", "kind": "ngo", "colour": "red"}, "colour: unknown field"),
    ],
)
def test_invalid_records_are_refused(reg: Store, table: str, data: dict, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        reg.create(table, data)


def test_agreement_rules(reg: Store) -> None:
    fra, gha = f.state(reg, "FRA"), f.state(reg, "GHA")
    with pytest.raises(ValidationError, match="parties"):
        f.agreement(reg, fra, fra)  # one distinct party
    with pytest.raises(ValidationError, match="expires_on .* is before signed_on"):
        f.agreement(reg, fra, gha, signed_on=date(2020, 1, 1), expires_on=date(2019, 1, 1))
    with pytest.raises(ValidationError, match="no actor with id"):
        reg.create(
            "agreements",
            {
                "title": "T",
                "kind": "alliance_treaty",
                "parties": [fra.id, "00000000-0000-0000-0000-000000000001"],
            },
        )


def test_engagement_rules(reg: Store) -> None:
    fra = f.state(reg, "FRA")
    with pytest.raises(ValidationError, match="lead actor cannot also be a partner"):
        f.engagement(reg, fra, [fra])
    with pytest.raises(ValidationError, match="currency"):
        f.engagement(reg, fra, cost="10.00")
    with pytest.raises(ValidationError, match="end_date"):
        f.engagement(reg, fra, end_date=date(2025, 3, 1))
    with pytest.raises(ValidationError, match="troops"):
        f.engagement(reg, fra, troops=-5)


def test_lifecycle_allows_only_legal_moves(reg: Store) -> None:
    fra = f.state(reg, "FRA")
    eng = f.engagement(reg, fra)
    with pytest.raises(TransitionError, match="cannot move from 'proposed' to 'executed'"):
        reg.update("engagements", eng.id, {"status": "executed"}, expected_version=1)
    v = 1
    for status in ("planned", "approved", "executed", "assessed"):
        eng = reg.update("engagements", eng.id, {"status": status}, expected_version=v)
        v = eng.version
    assert eng.status == "assessed" and eng.version == 5
    with pytest.raises(TransitionError, match="'assessed' is final"):
        reg.update("engagements", eng.id, {"status": "cancelled"}, expected_version=v)
    with pytest.raises(ValidationError, match="unknown status 'done'"):
        reg.update("engagements", eng.id, {"status": "done"}, expected_version=v)


def test_accreditation_lifecycle(reg: Store) -> None:
    with pytest.raises(TransitionError, match="cannot start as 'persona_non_grata'"):
        f.person(reg, accreditation_status="persona_non_grata")
    p = f.person(reg, accreditation_status="accepted")
    p = reg.update("people", p.id, {"accreditation_status": "persona_non_grata"}, expected_version=1)
    with pytest.raises(TransitionError):
        reg.update("people", p.id, {"accreditation_status": "accepted"}, expected_version=2)


def test_stale_version_is_refused_and_nothing_is_overwritten(reg: Store) -> None:
    fra = f.state(reg, "FRA")
    reg.update("actors", fra.id, {"notes": "first"}, expected_version=1)
    with pytest.raises(StaleVersionError, match="changed by tester .* you edited version 1"):
        reg.update("actors", fra.id, {"notes": "second"}, expected_version=1)
    assert reg.get("actors", fra.id).notes == "first"


def test_concurrent_writers_one_wins(ws: Workspace) -> None:
    with ws.session() as s:
        fra = f.state(f.registry(s), "FRA")
    # two users read version 1, then both write
    with ws.session() as s1:
        f.registry(s1).update("actors", fra.id, {"notes": "alice"}, expected_version=1)
    with pytest.raises(StaleVersionError), ws.session() as s2:
        f.registry(s2).update("actors", fra.id, {"notes": "bob"}, expected_version=1)
    with ws.session() as s3:
        got = f.registry(s3).get("actors", fra.id)
    assert (got.notes, got.version, got.updated_by) == ("alice", 2, "tester")


def test_partial_update_revalidates_the_whole_record(reg: Store) -> None:
    fra = f.state(reg, "FRA")
    eng = f.engagement(reg, fra, end_date=date(2025, 3, 10))
    with pytest.raises(ValidationError, match="end_date"):
        reg.update("engagements", eng.id, {"start_date": "2025-04-01"}, expected_version=1)
    unchanged = reg.update("engagements", eng.id, {"title": "Staff talks"}, expected_version=1)
    assert unchanged.version == 1  # no change, no new version


def test_natural_keys_and_external_ids_are_unique(reg: Store) -> None:
    f.state(reg, "FRA", "France", external_id="fr")
    with pytest.raises(ConflictError, match="already exists"):
        f.state(reg, "FRA", "France")
    with pytest.raises(ConflictError, match="external id 'fr'"):
        f.state(reg, "GHA", "Ghana", external_id="fr")


def test_parents_must_fit_and_never_cycle(reg: Store) -> None:
    fra = f.state(reg, "FRA")
    ngo = reg.create("actors", {"name": "Relief NGO", "kind": "ngo", "country": "FRA"})
    with pytest.raises(ValidationError, match="cannot sit under a ngo"):
        reg.create("actors", {"name": "MoD", "kind": "defense_ministry", "parent_id": ngo.id})
    mod = f.ministry(reg, fra)
    army = reg.create("actors", {"name": "Army", "kind": "armed_service", "parent_id": mod.id})
    unit = reg.create("actors", {"name": "1st Brigade", "kind": "unit", "parent_id": army.id})
    sub = reg.create("actors", {"name": "1st Battalion", "kind": "unit", "parent_id": unit.id})
    with pytest.raises(ValidationError, match="cycle"):
        reg.update("actors", unit.id, {"parent_id": sub.id}, expected_version=1)


def test_delete_is_refused_while_referenced(reg: Store) -> None:
    fra, gha = f.state(reg, "FRA"), f.state(reg, "GHA")
    eng = f.engagement(reg, fra, [gha])
    with pytest.raises(ConflictError, match="engagements.lead_actor_id"):
        reg.delete("actors", fra.id)
    with pytest.raises(StaleVersionError):
        reg.delete("engagements", eng.id, expected_version=7)
    reg.delete("engagements", eng.id, expected_version=1)
    reg.delete("actors", gha.id)  # partner links went with the engagement
    assert reg.count("actors") == 1


def test_list_filters_sorting_and_paging(reg: Store) -> None:
    fra, gha, ken = f.state(reg, "FRA"), f.state(reg, "GHA"), f.state(reg, "KEN")
    for i, (partner, day) in enumerate([(gha, 3), (ken, 1), (gha, 2)]):
        f.engagement(reg, fra, [partner], title=f"Talks {i}", start_date=date(2025, 5, day))
    f.engagement(reg, ken, [], title="Exercise Coral", kind="joint_exercise", start_date=date(2024, 1, 1))
    titles = [e.title for e in reg.list("engagements", ListQuery(involving=gha.id))]
    assert titles == ["Talks 2", "Talks 0"]  # sorted by start date
    q = ListQuery(filters={"kind": "joint_exercise"})
    assert [e.title for e in reg.list("engagements", q)] == ["Exercise Coral"]
    q = ListQuery(date_from=date(2025, 5, 2), order_by="title", descending=True)
    assert [e.title for e in reg.list("engagements", q)] == ["Talks 2", "Talks 0"]
    assert reg.count("engagements", ListQuery(search="talks")) == 3
    page = reg.list("engagements", ListQuery(limit=2, offset=1))
    assert [e.title for e in page] == ["Talks 1", "Talks 2"]
    with pytest.raises(ValidationError, match="cannot filter"):
        reg.list("engagements", ListQuery(filters={"password": "x"}))


def test_references_resolve_by_id_external_id_name_or_country(reg: Store) -> None:
    fra = f.state(reg, "FRA", "France", external_id="FR-STATE")
    mod = f.ministry(reg, fra)
    assert reg.resolve_ref("actors", fra.id) == fra.id
    assert reg.resolve_ref("actors", "FR-STATE") == fra.id
    assert reg.resolve_ref("actors", "ministry of defence (fra)") == mod.id
    assert reg.resolve_ref("actors", "Frankreich") == fra.id
    with pytest.raises(ValidationError, match="no state actor for GHA"):
        reg.resolve_ref("actors", "Ghana")
    with pytest.raises(ValidationError, match="no actor 'Atlantis'"):
        reg.resolve_ref("actors", "Atlantis")
