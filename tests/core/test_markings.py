"""Markings: banners parse and render, combination never widens, access decisions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detente.core.markings import (
    Marking,
    MarkingError,
    Principal,
    check_marking_change,
    combine,
    may_read,
    parse,
    schemes,
    tlp_levels,
    tlp_stix_id,
)

COALITIONS = {
    "NATO": {"USA", "GBR", "FRA", "DEU", "POL", "NOR"},
    "FVEY": {"USA", "GBR", "CAN", "AUS", "NZL"},
    "AU": {"GHA", "KEN", "NGA"},
}
COUNTRIES = sorted(set().union(*COALITIONS.values()) | {"JPN", "IND"})


@pytest.mark.parametrize(
    ("banner", "canonical"),
    [
        ("UNCLASSIFIED", "UNCLASSIFIED"),
        ("unclassified//tlp:clear", "UNCLASSIFIED//TLP:CLEAR"),
        ("SECRET//REL TO USA, GBR, NATO", "SECRET//REL TO GBR, USA, NATO"),
        ("TLP:AMBER+STRICT", "UNCLASSIFIED//TLP:AMBER+STRICT"),
        ("NATO CONFIDENTIAL//REL TO NATO//TLP:AMBER", "NATO CONFIDENTIAL//REL TO NATO//TLP:AMBER"),
        ("CONFIDENTIAL//NOFORN", "CONFIDENTIAL//NOFORN"),
        ("RESTRICTED//TLP:RED (alice, BOB)", "RESTRICTED//NOFORN//TLP:RED (ALICE, BOB)"),
        ("COSMIC TOP SECRET//REL TO NATO", "COSMIC TOP SECRET//REL TO NATO"),
    ],
)
def test_banners_parse_and_render(banner: str, canonical: str) -> None:
    assert parse(banner).render() == canonical
    assert parse(canonical) == parse(banner)


@pytest.mark.parametrize(
    ("banner", "message"),
    [
        ("SECRT", "unknown classification 'SECRT'"),
        ("SECRET//REL TO", "bad REL TO entry"),
        ("SECRET//REL TO USA, united kingdom!", "bad REL TO entry 'UNITED KINGDOM!'"),
        ("SECRET//TLP:PINK", "unknown TLP label 'PINK'"),
        ("SECRET//TLP:CLEAR", "TLP:CLEAR cannot mark classified"),
        ("SECRET//NOFORN//REL TO USA", "contradict"),
        ("SECRET//REL TO USA//REL TO GBR", "REL TO given twice"),
        ("SECRET//TLP:AMBER (ALICE)", "named recipients go with TLP:RED only"),
        ("SECRET////TLP:RED", "empty part"),
        ("SECRET//ORCON", "unknown part 'ORCON'"),
        ("", "empty marking"),
    ],
)
def test_malformed_banners_are_refused_clearly(banner: str, message: str) -> None:
    with pytest.raises(MarkingError, match=message):
        parse(banner)


def test_schemes_and_tlp_are_data() -> None:
    assert schemes()["national"][-1] == "TOP SECRET"
    assert schemes()["nato"][-1] == "COSMIC TOP SECRET"
    assert tlp_levels() == ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
    assert tlp_stix_id("AMBER+STRICT") == "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"


# ---------------------------------------------------------------- strategies
tokens = st.sampled_from(COUNTRIES + sorted(COALITIONS))


@st.composite
def markings(draw: st.DrawFn) -> Marking:
    scheme = draw(st.sampled_from(sorted(schemes())))
    level = draw(st.integers(0, len(schemes()[scheme]) - 1))
    tlp = draw(st.none() | st.sampled_from(tlp_levels()))
    if tlp == "CLEAR" and level > 0:
        tlp = "GREEN"
    rel = frozenset(draw(st.lists(tokens, max_size=4)))
    recipients = (
        frozenset(draw(st.lists(st.sampled_from(["ALICE", "BOB", "ORG-1"]), max_size=2)))
        if tlp == "RED"
        else frozenset()
    )
    return Marking(scheme, level, rel, tlp, recipients)


@st.composite
def principals(draw: st.DrawFn) -> Principal:
    country = draw(st.sampled_from(COUNTRIES))
    return Principal(
        user=draw(st.sampled_from(["alice", "bob", "carol"])),
        org=draw(st.sampled_from(["ORG-1", "ORG-2", "ORG-3"])),
        country=country,
        coalitions=frozenset(c for c, members in COALITIONS.items() if country in members),
        clearances={s: draw(st.integers(-1, len(levels) - 1)) for s, levels in schemes().items()},
    )


@settings(max_examples=300)
@given(markings())
def test_render_then_parse_is_identity(marking: Marking) -> None:
    assert parse(marking.render()) == marking


@settings(max_examples=500)
@given(st.lists(markings(), min_size=1, max_size=4), principals())
def test_combination_never_reveals_an_input_to_someone_who_cannot_read_it(
    inputs: list[Marking], principal: Principal
) -> None:
    derived = combine(inputs, COALITIONS)
    # derived data belongs to no one's organisation by default: only the marking decides
    if may_read(principal, derived, owner_org=None):
        for m in inputs:
            assert may_read(principal, m, owner_org=None), (derived.render(), m.render())
    assert derived.level == max(m.level for m in inputs)
    assert parse(derived.render()) == derived


def test_combination_examples() -> None:
    a = parse("SECRET//REL TO USA, NATO")
    b = parse("CONFIDENTIAL//REL TO GBR, FVEY//TLP:AMBER")
    assert combine([a, b], COALITIONS).render() == "SECRET//REL TO GBR, USA//TLP:AMBER"
    assert combine([parse("UNCLASSIFIED//TLP:CLEAR")] * 2).public
    # USA is in NATO: the banner keeps the coalition only
    assert combine([parse("UNCLASSIFIED//TLP:CLEAR"), a], COALITIONS) == parse("SECRET//REL TO NATO")
    assert not combine([parse("UNCLASSIFIED"), parse("UNCLASSIFIED//TLP:CLEAR")]).public
    assert combine([a, parse("RESTRICTED//NOFORN")], COALITIONS).rel_to == frozenset()


def test_read_decisions_carry_reasons() -> None:
    gbr = Principal("alice", "ORG-1", "GBR", frozenset({"NATO", "FVEY"}), {"national": 3, "nato": 2})
    assert may_read(gbr, parse("SECRET//REL TO FVEY"), "ORG-9").reason == "releasable to FVEY"
    assert not may_read(gbr, parse("TOP SECRET//REL TO GBR"), "ORG-9")
    assert "clearance" in may_read(gbr, parse("NATO SECRET//REL TO NATO"), "ORG-9").reason
    assert not may_read(gbr, parse("CONFIDENTIAL//REL TO FRA"), "ORG-9")
    assert may_read(gbr, parse("CONFIDENTIAL//NOFORN"), "ORG-1")  # own organisation
    assert not may_read(gbr, parse("CONFIDENTIAL//NOFORN"), "ORG-2")
    assert may_read(gbr, parse("UNCLASSIFIED//TLP:CLEAR"), "ORG-2")
    assert not may_read(gbr, parse("UNCLASSIFIED"), "ORG-2")  # no REL TO: owner only
    assert may_read(gbr, parse("RESTRICTED//TLP:RED (ALICE)"), "ORG-2")
    assert not may_read(gbr, parse("RESTRICTED//REL TO GBR//TLP:RED (BOB)"), "ORG-2")


def test_downgrade_guard() -> None:
    alice = Principal("alice", "ORG-1", "GBR", frozenset({"NATO"}), {"national": 2, "nato": 3})
    secret = parse("SECRET//REL TO GBR")
    assert "up to your clearance" in check_marking_change(alice, None, secret, "ORG-1").reason
    conf = parse("CONFIDENTIAL//REL TO GBR")
    wider = parse("CONFIDENTIAL//REL TO GBR, NATO")
    assert check_marking_change(alice, conf, wider, "ORG-1")
    assert not check_marking_change(alice, conf, wider, "ORG-2")
    assert check_marking_change(alice, wider, conf, "ORG-2")  # narrowing is anyone's right
    assert not check_marking_change(alice, conf, parse("RESTRICTED//REL TO GBR"), "ORG-2")
    assert not check_marking_change(
        alice, parse("RESTRICTED//NOFORN"), parse("UNCLASSIFIED//TLP:CLEAR"), "ORG-2"
    )
