"""Names made comparable: transliteration by script, consonant skeletons, initialisms,
honorifics and legal forms; the learned matcher's features on pairs that show each; and
the candidate index's keys."""

from __future__ import annotations

import pytest

from detente.vetting.features import Rarity, align, name_features
from detente.vetting.index import NameIndex, keys
from detente.vetting.names import prepare, romanize, skeleton

FLAT = Rarity.from_counts({}, 1000)  # every token equally rare


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("أسامة بن لادن", "asama bin ladn"),  # Arabic: long vowels kept, "bin" as a word
        ("عبد الفتاح السيسي", "abd al ftah al sisi"),  # the article split off
        ("محمد عبدالكريم الغماري", "mhmd abd al krim al ghmari"),  # "Abd al-" written as one word
        ("قاسم سلیمانی", "qasm slimani"),  # Persian letters (ی)
        ("مسعود پزشک‌فر", "msud pzshkfr"),  # Persian: pe, and the zero-width non-joiner joins
        ("习近平", "xi jinping"),  # Chinese: the family name, then the given name as one word
        ("Виктор Бут", "viktor but"),  # Cyrillic by ICU through rigour
        ("Κυριάκος Μητσοτάκης", "kyriakos mitsotakis"),
    ],
)
def test_each_script_is_romanized_by_its_own_rules(text: str, expected: str) -> None:
    assert romanize(text) == expected


def test_skeletons_meet_across_transliterations() -> None:
    assert skeleton("usama") == skeleton("osama") == skeleton("asama") == "sm"
    assert skeleton("Qaddafi") == "kdf" and skeleton("Kadhafi") == "kdf"
    assert skeleton("Abdullah") == skeleton("abdulla") == "bdl"
    assert skeleton("Soleimani") == skeleton("slimani") == "slmn"
    assert skeleton("Hamza") != skeleton("Usama")


def test_people_are_reordered_and_stripped_of_honorifics_bodies_of_legal_forms() -> None:
    usama = prepare("BIN LADIN, Usama bin Muhammad bin Awad")
    assert usama.tokens == ("usama", "bin", "muhammad", "bin", "awad", "bin", "ladin")
    assert prepare("Sheikh Dr. Ramadan Abdullah").tokens == ("ramadan", "abdullah")
    assert prepare("Bill Clinton").tokens == ("william", "clinton")  # a nickname's full form
    mall = prepare("LIMITED LIABILITY COMPANY 3D MALL", person=False)
    assert mall.tokens == ("3d", "mall") and mall.org_forms == {"llc"}
    assert prepare("OOO 3D MALL", person=False).org_forms == {"llc"}  # Russian forms too
    ltte = prepare("LIBERATION TIGERS OF TAMIL EELAM", person=False)
    assert ltte.initials == "ltte" and prepare("L.T.T.E.", person=False).acronyms == {"ltte"}
    assert prepare("KHATIBA AL-TAWHID WAL-JIHAD (KTJ)", person=False).acronyms == {"ktj"}


def _features(a: str, b: str, person: bool = True) -> dict[str, float]:
    from detente.vetting.features import NAME_FEATURES

    values, _ = name_features(prepare(a, person), prepare(b, person), FLAT, person=person)
    return dict(zip(NAME_FEATURES, values, strict=True))


def test_features_see_acronyms_initial_runs_and_translated_org_words() -> None:
    assert _features("LTTE", "Liberation Tigers of Tamil Eelam", person=False)["acronym"] == 1.0
    assert _features("LET", "Liberation Tigers of Tamil Eelam", person=False)["acronym"] == 0.0
    # "SG" spells the initials of "Strakhovaya Gruppa" (insurance group) inside the name
    pairs = align(
        prepare("SG MSK, AO", False), prepare("AKTSIONERNOE OBSHCHESTVO STRAKHOVAYA GRUPPA MSK", False)
    )
    assert sorted((i, j) for i, j, _ in pairs.pairs) == [(0, 0), (0, 1), (1, 2)]
    assert (
        _features("ZAO NOVYE FINANSOVYE TEKHNOLOGII", "NEW FINANCIAL TECHNOLOGIES OOO", False)["cover_query"]
        == 1.0
    )
    # a person's one-word name is not an acronym unless written as one
    assert _features("SHIBL, Hajji", "Sirajuddin Haqqani")["acronym"] == 0.0


def test_a_shared_family_name_with_another_given_name_is_a_conflict() -> None:
    hamza = _features("أسامة بن لادن", "HAMZA USAMA MUHAMMAD BIN LADEN")
    assert hamza["given_name_conflict"] == 1.0  # Usama is Hamza's father's name in his
    assert _features("أسامة بن لادن", "BIN LADIN, Usama bin Muhammad bin Awad")["given_name_conflict"] == 0.0
    assert _features("Putin Vladimir", "Vladimir Putin")["given_name_conflict"] == 0.0  # order only
    assert _features("Igor Deripaska", "Oleg Deripaska")["given_name_conflict"] == 1.0
    across = _features("Виктор Бут", "BOUT, Viktor Anatolijevitch")
    assert across["cross_script"] == 1.0 and across["cover_query"] >= 0.9


def test_places_numbers_swapped_fathers_and_weak_rare_parts_count_against() -> None:
    """What the written names carry beyond their prepared tokens: countries in brackets,
    Roman numerals, a father and son swapped around "bin"; and a rare part only alike."""
    hk = _features("Bank of China (Hong Kong) Limited", "Bank of China (Singapore) Limited", False)
    assert (hk["place_conflict"], hk["place_extra"]) == (1.0, 0.0)
    chile = _features("Banco Santander S.A.", "Banco Santander Chile S.A.", False)
    assert (chile["place_conflict"], chile["place_extra"]) == (0.0, 1.0)
    assert _features("Bank of China", "BANK OF CHINA LIMITED", False)["place_extra"] == 0.0
    bowne = _features("Bowne Global Solutions, Inc.", "Bowne Global Solutions II, Inc.", False)
    assert bowne["number_extra"] == 1.0
    assert _features("Hans Friedrich II", "Hans Friedrich")["number_extra"] == 0.0  # people: not read
    swapped = _features("AHMAD BIN HASAN AL-UBAIDI", "HASAN BIN AHMAD AL-UBAIDI")
    assert swapped["parent_swap"] == 1.0
    assert _features("AHMAD BIN HASAN AL-UBAIDI", "Ahmed ibn Hassan al-Ubaidi")["parent_swap"] == 0.0
    assert _features("Pedro Sancho", "Pedro Sánchez")["rare_weak"] > 0.2
    assert _features("Pedro Sanchez", "Pedro Sánchez")["rare_weak"] == 0.0


def test_misspelt_legal_words_say_nothing_of_who_it_is() -> None:
    from detente.vetting.features import legal_word

    assert legal_word("granichennoi") and legal_word("otvetstvennostyu") and legal_word("stok")
    assert not legal_word("rieltsiti") and not legal_word("gazprom")
    rarity = Rarity.from_counts({}, 1000)
    assert rarity("obshchestvo") < 0.1 < rarity("rieltsiti")


def test_index_keys_reach_across_scripts_forms_and_initialisms() -> None:
    index = NameIndex.build(
        [["USAMA BIN LADEN"], ["LIBERATION TIGERS OF TAMIL EELAM"], ["SADUDDIN SAYYED"],
         ["LIMITED LIABILITY COMPANY VTB FACTORING"], ["GAZPROMBANK"], ["HARAKAT-UL JIHAD ISLAMI"]]
    )  # fmt: skip
    first = {q: index.candidates([q], 1)[0][0] for q in (
        "أسامة بن لادن", "LTTE", "Sadruddin", "OBSHCHESTVO S OGRANICHENNOI OTVETSTVENNOSTYU VTB FAKTORING",
        "Gazprom Bank", "HUJI",
    )}  # fmt: skip
    assert first == {
        "أسامة بن لادن": 0, "LTTE": 1, "Sadruddin": 2,
        "OBSHCHESTVO S OGRANICHENNOI OTVETSTVENNOSTYU VTB FAKTORING": 3, "Gazprom Bank": 4, "HUJI": 5,
    }  # fmt: skip
    assert not any(
        k.startswith("t:obshchestvo") for k in keys("OBSHCHESTVO S OGRANICHENNOI OTVETSTVENNOSTYU VTB")
    )
    assert index.candidates(["Sadruddin"], 5, exclude=set(index.rows_of(2).tolist())) == []
