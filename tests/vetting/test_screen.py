"""Screening on the real lists: UN-listed entities found by their own names, transliterated
and reordered variants found too, dates and countries weakening a match, and hostile names
refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from detente.core.errors import ValidationError
from detente.sources.lake import Lake
from detente.sources.service import load
from detente.vetting.match import THRESHOLD, Listed, Subject, clean_name
from detente.vetting.screen import Screener, rank_key


@pytest.fixture(scope="module")
def screener(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Screener]:
    with Lake(tmp_path_factory.mktemp("lake")) as lake:
        load(lake, "un_sanctions", [shared / "un_consolidated" / "un_consolidated_2024-09-26.xml"], user="t")
        yield Screener.from_lake(lake)


def _schema(listed: Listed) -> str:
    return listed.schema if listed.schema in ("Person", "Organization") else "LegalEntity"


def _first(screener: Screener, subject: Subject, key: str) -> bool:
    """``key`` is ranked first; ties count: two entries may share a name (the same score, or
    both listing the name exactly as given when the first does)."""
    found = screener.screen(subject, limit=10)
    if not found:
        return False
    top = rank_key(found[0])[:2]
    return any(m.listed.key == key for m in found if rank_key(m)[:2] == top or (m.exact and found[0].exact))


def test_un_entities_are_found_first_by_their_own_names(screener: Screener) -> None:
    """Every 20th name on the list (primary names, aliases, original scripts), screened in full."""
    assert screener.versions["un_sanctions"].startswith("2024-09-26")
    assert len(screener.listed) == 875  # 682 individuals and 193 entities
    names = [(listed, name) for listed in screener.listed for name in listed.all_names]
    asked = names[::20]
    missed = [
        (listed.key, name)
        for listed, name in asked
        if not _first(screener, Subject(name, _schema(listed)), listed.key)
    ]
    assert len(names) > 3900 and len(asked) > 195 and missed == []


def test_transliterated_and_reordered_variants_are_found(screener: Screener) -> None:
    import icu

    cyrillic = icu.Transliterator.createInstance("Latin-Cyrillic")
    people = [e for e in screener.listed if e.schema == "Person" and e.name.isascii()][::12]
    assert len(people) > 50
    variants = {
        "Cyrillic": lambda n: cyrillic.transliterate(n.title()),
        "reordered": lambda n: " ".join(reversed(n.split())),
        "honorific, lower case": lambda n: "Mr " + n.lower(),
    }
    for kind, make in variants.items():
        found = sum(_first(screener, Subject(make(e.name)), e.key) for e in people)
        assert found / len(people) >= 0.95, (kind, found, len(people))


def test_a_different_birth_year_or_country_weakens_a_match(screener: Screener) -> None:
    person = next(e for e in screener.listed if e.schema == "Person" and e.birth_dates and e.countries)
    same = screener.screen(Subject(person.name, birth_date=person.birth_dates[0][:4]))[0]
    other_year = str(int(person.birth_dates[0][:4]) + 15)
    older = screener.screen(Subject(person.name, birth_date=other_year))
    score = next(m.score for m in older if m.listed.key == person.key)
    assert same.listed.key == person.key and same.score >= THRESHOLD and score < same.score
    assert same.features["dob_agree"][1] > 0 and same.base_features["name_match"][0] == 1.0
    assert next(m for m in older if m.listed.key == person.key).counter_evidence[0][0] == "dob_conflict"
    elsewhere = "NOR" if person.countries[0] != "NOR" else "SWE"
    away = screener.screen(Subject(person.name, countries=(elsewhere,)))
    assert next(m.score for m in away if m.listed.key == person.key) < same.score


def test_hostile_names_are_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="10,485,760 characters"):
        Subject("A" * 10 * 1024 * 1024)
    with pytest.raises(ValidationError, match="control character U\\+0000 at position 4"):
        Subject("Ali\x00 Hassan")
    with pytest.raises(ValidationError, match="U\\+202E"):
        Subject("Ali \u202enassaH")  # a right-to-left override hides the real text
    with pytest.raises(ValidationError, match="dob"):
        Subject("Ali Hassan", birth_date="next year")
    assert clean_name("  Ali\u200b  Hassan ") == "Ali Hassan"  # invisible marks dropped
    assert "\u200c" in clean_name("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645")  # Persian ZWNJ kept


def test_every_schema_the_lists_use_can_be_scored() -> None:
    from detente.vetting.match import SCHEMAS, compare, entity

    for schema in SCHEMAS:
        listed = Listed(f"t:{schema}", "t", schema, "Ocean Star Trading", identifiers=("9123456",))
        exact = compare(entity(Subject("Ocean Star Trading", schema)), listed)
        assert exact.score >= THRESHOLD, schema
    vessel = Listed("t:v", "t", "Vessel", "OCEAN STAR", identifiers=("IMO 9074729",))
    same_imo = compare(entity(Subject("Ocean Starr", "Vessel", identifiers=("IMO 9074729",))), vessel)
    no_imo = compare(entity(Subject("Ocean Starr", "Vessel")), vessel)
    assert same_imo.score > no_imo.score  # an identifier confirms a near name


def test_ucdp_one_sided_violence_actors_are_screened_as_a_record(shared: Path, tmp_path: Path) -> None:
    with Lake(tmp_path) as lake:
        load(lake, "ucdp_onesided", [shared / "ucdp_small" / "OneSided_v23_1_to2019.csv"], user="t")
        screener = Screener.from_lake(lake)
        actors = lake.db.execute("SELECT count(DISTINCT actor_id) FROM ucdp_onesided").fetchall()[0][0]
    assert len(screener.listed) == actors > 100 and set(screener.versions) == {"ucdp_onesided"}
    top = screener.screen(Subject("Lords Resistance Army", "Organization"))[0]
    assert top.matched and top.listed.name == "LRA" and top.listed.source == "ucdp_onesided"
    assert top.listed.aliases == ("Lord's Resistance Army",)  # UCDP's full name, kept as an alias
    record = top.listed.programs[0]
    assert record.startswith("UCDP one-sided violence 19") and record.endswith(
        "civilian deaths (best estimate)"
    )
