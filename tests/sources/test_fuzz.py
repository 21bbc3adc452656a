"""Fuzzing every parser: real files, mutated by Hypothesis (bytes flipped, inserted,
deleted; delimiters, quotes, newlines, invalid UTF-8), are either read or refused with
``ValidationError``; never another exception. Bounded: a few dozen cases per parser."""

from __future__ import annotations

import functools
import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detente.core.errors import ValidationError
from detente.sources import alliances, cameo, events, sanctions, sipri, ucdp, unga, views

# cases per parser: bounded for CI; raise it (DETENTE_FUZZ_EXAMPLES=500) for a long hunt
EXAMPLES = int(os.environ.get("DETENTE_FUZZ_EXAMPLES", "30"))
NASTY = [
    b",",
    b"\t",
    b'"',
    b"\n",
    b"\r",
    b";",
    b"\xff",
    b"\x00",
    b"-",
    b"9",
    b"<",
    b">",
    b"&",
    b"{",
    b"}",
    b"?",
]


def _head(path: Path, lines: int) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return b"\n".join(raw.split(b"\n")[:lines]) + b"\n"


def _xml_head(path: Path, end_tag: bytes, count: int, closing: bytes) -> bytes:
    raw = path.read_bytes()
    at = 0
    for _ in range(count):
        at = raw.index(end_tag, at) + len(end_tag)
    return raw[:at] + closing


def _geojson_head(path: Path, features: int) -> bytes:
    lines = path.read_bytes().split(b"\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(b'"features"'))
    body = lines[start + 1 : start + 1 + features]
    body[-1] = body[-1].rstrip(b",")
    return b"\n".join([*lines[: start + 1], *body, b"]}"]) + b"\n"


def _parquet_head(path: Path, rows: int) -> bytes:
    import io

    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pq.read_table(path).slice(0, rows), out)
    return out.getvalue()


mutations = st.lists(
    st.tuples(
        st.floats(0, 1, exclude_max=True),
        st.sampled_from(["flip", "insert", "delete"]),
        st.sampled_from(NASTY),
    ),
    min_size=1,
    max_size=6,
)


def _mutate(data: bytes, ops: list[tuple[float, str, bytes]]) -> bytes:
    out = bytearray(data)
    for where, op, byte in ops:
        i = int(where * len(out)) if out else 0
        if op == "flip" and out:
            out[i : i + 1] = byte
        elif op == "insert":
            out[i:i] = byte
        elif out:
            del out[i : i + 8]
    return bytes(out)


@functools.cache
def _codebook(shared: Path) -> dict[str, tuple[str, float]]:
    table = cameo.parse(
        [shared / "cameo" / "CAMEO.eventcodes.txt", shared / "cameo" / "CAMEO.goldsteinscale.txt"]
    )
    return {r["code"]: (r["description"], r["goldstein"]) for r in table.to_pylist()}


def _icews_graph(path: Path, shared: Path, tmp: Path) -> Any:
    """The triples with the id files cut to the entities of the seed's 60 lines (real rows)."""
    folder = tmp / "ICEWS14"
    if not folder.is_dir():
        folder.mkdir()
        used = {int(x) for line in _head(shared / "icews/ICEWS14_tkg/train.txt", 60).split(b"\n") if line
                for x in line.split(b"\t")[0:3:2]}  # fmt: skip
        entities = (shared / "icews/ICEWS14_tkg/entity2id.txt").read_text(encoding="utf-8").splitlines()
        keep = [e for e in entities if int(e.rsplit("\t", 1)[1]) in used]
        (folder / "entity2id.txt").write_text("\n".join(keep) + "\n", encoding="utf-8")
        (folder / "relation2id.txt").write_bytes((shared / "icews/ICEWS14_tkg/relation2id.txt").read_bytes())
    return events.parse_icews([path, folder / "entity2id.txt", folder / "relation2id.txt"], _codebook(shared))


# name -> (seed: a file under shared and the lines kept, or a function of shared that
# builds a small valid file from a real one; the file name to write; parse(path, shared, tmp))
Parse = Callable[[Path, Path, Path], Any]
CASES: dict[str, tuple[Any, ...]] = {
    "gdelt2": (
        "gdelt/20191024143000.export.CSV",
        30,
        "x.export.CSV",
        lambda p, s, t: events.parse_gdelt([p]),
    ),
    "gdelt1-header": (
        "gdelt/georgia_gdelt1_2011_2013/june2011.csv.gz",
        30,
        "june.csv",
        lambda p, s, t: events.parse_gdelt([p]),
    ),
    "icews-graph": ("icews/ICEWS14_tkg/train.txt", 60, "train.txt", lambda p, s, t: _icews_graph(p, s, t)),
    "ucdp_ged": (
        "ucdp_ged/uncertainUCDP_ucdpged_sample1000_v23.csv.gz",
        25,
        "ged.csv",
        lambda p, s, t: ucdp.parse_ged([p]),
    ),
    "ucdp_ged-geojson": (
        lambda s: _geojson_head(s / "ucdp_ged/GEDEvent_v23_1_CAR482.geojson", 10),
        "ged.geojson",
        lambda p, s, t: ucdp.parse_ged([p]),
    ),
    "ucdp_acd": ("ucdp_acd/ucdp-prio-acd-221.csv", 30, "acd.csv", lambda p, s, t: ucdp.parse_acd([p])),
    "ucdp_brd": (
        "ucdp_brd/ucdp-brd-dyadic-221_to2019.csv",
        30,
        "brd.csv",
        lambda p, s, t: ucdp.parse_brd([p]),
    ),
    "ucdp_onesided": (
        "ucdp_small/OneSided_v23_1_to2019.csv",
        30,
        "os.csv",
        lambda p, s, t: ucdp.parse_onesided([p]),
    ),
    "ucdp_nonstate": (
        "ucdp_small/Nonstate_v23_1_to2019.csv",
        30,
        "ns.csv",
        lambda p, s, t: ucdp.parse_nonstate([p]),
    ),
    "ucdp_onsets": (
        "peacesciencer/ucdp_onsets.csv.gz",
        40,
        "onsets.csv",
        lambda p, s, t: ucdp.parse_onsets([p]),
    ),
    "views-csv": ("views_cm/countries/kenya.csv", 15, "kenya.csv", lambda p, s, t: views.parse_views([p])),
    "views-parquet": (
        lambda s: _parquet_head(s / "views_cm/cm_features_to_oct2019.parquet", 40),
        "cm.parquet",
        lambda p, s, t: views.parse_views([p]),
    ),
    "atop": ("peacesciencer/atop_alliance.csv.gz", 40, "atop.csv", lambda p, s, t: alliances.parse_atop([p])),
    "cow_alliance": (
        "peacesciencer/cow_alliance.csv.gz",
        40,
        "cow.csv",
        lambda p, s, t: alliances.parse_cow_alliance([p]),
    ),
    "dcad": ("dcad/DCAD-v1.0-main.csv", 30, "dcad.csv", lambda p, s, t: alliances.parse_dcad([p])),
    "exercises": (
        "military_exercises/troopdata_mme_long.csv.gz",
        30,
        "mme.csv",
        lambda p, s, t: alliances.parse_exercises([p]),
    ),
    "us_troops": (
        "us_troops_bases/troopdata_troopdata_rebuild_long.csv.gz",
        30,
        "troops.csv",
        lambda p, s, t: alliances.parse_us_troops([p]),
    ),
    "unga_votes": (
        "unga_votes/unvotes_un_votes.csv.gz",
        40,
        "un_votes.csv",
        lambda p, s, t: unga.parse_votes([p, s / "unga_votes" / "unvotes_un_roll_calls.csv.gz"]),
    ),
    "unga_ideal": (
        lambda s: (s / "unga_votes/IdealpointsJuly2025.dta").read_bytes(),
        "ideal.dta",
        lambda p, s, t: unga.parse_ideal_points([p]),
    ),
    "sipri": (
        "sipri/sipri_trade-register_generated_2025-03-13.csv.gz",
        40,
        "sipri.csv",
        lambda p, s, t: sipri.parse_sipri([p]),
    ),
    "un_sanctions": (
        lambda s: _xml_head(
            s / "un_consolidated/un_consolidated_2024-09-26.xml",
            b"</INDIVIDUAL>",
            3,
            b"</INDIVIDUALS></CONSOLIDATED_LIST>",
        ),
        "un.xml",
        lambda p, s, t: sanctions.parse_un([p]),
    ),
    "ofac-csv": ("ofac_sdn/sdn_2024-05-03.csv.gz", 30, "sdn.csv", lambda p, s, t: sanctions.parse_ofac([p])),
    "ofac-xml": (
        lambda s: _xml_head(s / "ofac_sdn/ofac_cons_nonsdn_2024-05-06.xml", b"</sdnEntry>", 3, b"</sdnList>"),
        "cons.xml",
        lambda p, s, t: sanctions.parse_ofac([p]),
    ),
    "opensanctions": (
        "opensanctions/yente_fixture_t1_entities.ftm.json",
        10,
        "e.ftm.json",
        lambda p, s, t: sanctions.parse_ftm([p]),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_mutated_files_are_read_or_refused_clearly(case: str, shared: Path, tmp_path: Path) -> None:
    spec = CASES[case]
    if callable(spec[0]):
        build, name, parse = spec
        seed = build(shared)
    else:
        seed_file, lines, name, parse = spec
        seed = _head(shared / seed_file, lines)
    parse_seed = tmp_path / name
    parse_seed.write_bytes(seed)
    parse(parse_seed, shared, tmp_path)  # the unmutated seed is good input

    @settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(ops=mutations)
    def run(ops: list[tuple[float, str, bytes]]) -> None:
        path = tmp_path / name
        path.write_bytes(_mutate(seed, ops))
        try:
            parse(path, shared, tmp_path)
        except ValidationError as exc:
            assert exc.message  # a message, naming what was wrong

    run()
