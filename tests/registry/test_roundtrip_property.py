"""Property: any registry content survives export and import, in every format, without loss."""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detente.bulk.io import FORMATS, export_tables, import_files
from detente.core.settings import Settings
from detente.core.workspace import create_workspace
from detente.registry.taxonomy import taxonomy
from detente.store.service import Store
from tests import factories as f
from tests.conftest import start_migrated
from tests.registry.test_io import contents

# any printable text a user could type, in any script; control characters are refused
# by the models (tested elsewhere), so they are not generated here
line = (
    st.text(
        st.characters(blacklist_categories=("Cc", "Cs", "Cn"), blacklist_characters=";"),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(bool)
)
note = st.text(
    st.characters(blacklist_categories=("Cs", "Cn", "Cc")) | st.sampled_from("\n\t"), max_size=80
).map(str.strip)
dates = st.dates(date(1950, 1, 1), date(2060, 12, 31))
counts = st.none() | st.integers(0, 200_000)
money = st.none() | st.decimals(0, Decimal("9999999999.99"), places=2)
markings = st.sampled_from(
    ["UNCLASSIFIED", "RESTRICTED", "SECRET//REL TO USA, GBR, NATO", "TLP:AMBER+STRICT"]
)
COUNTRIES = ["FRA", "GHA", "KEN", "USA", "JPN", "BRA", "IND", "DEU", "XKX"]


@st.composite
def registry_content(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    n_states = draw(st.integers(2, 4))
    names = draw(st.lists(line, min_size=n_states + 3, max_size=n_states + 3, unique=True))
    actors: list[dict[str, Any]] = []
    for i, iso in enumerate(draw(st.permutations(COUNTRIES))[:n_states]):
        actors.append(
            {
                "name": names[i],
                "kind": "state",
                "country": iso,
                "aliases": draw(st.lists(line, max_size=3, unique=True)),
                "marking": draw(markings),
            }
        )
    for j, name in enumerate(names[n_states:]):
        kinds = [k for k in taxonomy().actor_kinds if k != "state"]
        external = draw(st.none() | line)
        actors.append(
            {
                "name": name,
                "kind": draw(st.sampled_from(kinds)),
                "country": draw(st.sampled_from([None, *COUNTRIES])),
                "abbreviation": draw(st.none() | line.map(lambda s: s[:20])),
                "notes": draw(note) or None,
                "external_id": None if external is None else f"{external} {j}",  # unique, as ids are
            }
        )
    engagements = []
    for i in range(draw(st.integers(0, 4))):
        start = draw(dates)
        engagements.append(
            {
                "title": f"{draw(line)} {i}",
                "kind": draw(st.sampled_from(list(taxonomy().engagement_kinds))),
                "status": draw(st.sampled_from(taxonomy().lifecycles["engagement"].statuses)),
                "lead": draw(st.integers(0, len(actors) - 1)),
                "partners": draw(st.lists(st.integers(0, len(actors) - 1), max_size=3, unique=True)),
                "start_date": start,
                "end_date": draw(st.none() | st.dates(start, date(2060, 12, 31))),
                "troops": draw(counts),
                "tanks": draw(counts),
                "cost": draw(money),
                "location_country": draw(st.sampled_from([None, *COUNTRIES])),
                "objectives": draw(note) or None,
                "marking": draw(markings),
            }
        )
    people = [
        {
            "name": f"{draw(line)} {i}",
            "sending_state": "FRA",
            "receiving_state": "KEN",
            "rank": draw(st.none() | line),
            "start_date": draw(st.none() | dates),
        }
        for i in range(draw(st.integers(0, 2)))
    ]
    return {"actors": actors, "engagements": engagements, "people": people}


def load(reg: Store, content: dict[str, list[dict[str, Any]]]) -> None:
    actor_ids = [reg.create("actors", a).id for a in content["actors"]]
    for e in content["engagements"]:
        e = dict(e)
        lead = actor_ids[e.pop("lead")]
        partners = [actor_ids[i] for i in e.pop("partners") if actor_ids[i] != lead]
        eng = reg.create(
            "engagements",
            {
                **e,
                "lead_actor_id": lead,
                "partners": partners,
                "currency": "EUR" if e["cost"] is not None else None,
            },
        )
        if partners:
            reg.create(
                "commitments",
                {
                    "engagement_id": eng.id,
                    "committed_by_id": partners[0],
                    "description": e["title"],
                    "due_on": e["start_date"],
                },
            )
        if len(partners) >= 2:
            reg.create(
                "agreements",
                {
                    "title": e["title"],
                    "kind": "memorandum_of_understanding",
                    "parties": partners,
                    "signed_on": e["start_date"],
                    "activity_types": [e["kind"]],
                },
            )
    for p in content["people"]:
        reg.create("people", p)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=registry_content(), fmt=st.sampled_from(FORMATS))
def test_export_then_import_loses_nothing(content: dict[str, Any], fmt: str, migrated_sqlite: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("a", "b"):  # two empty registries at head, as two fresh workspaces have
            start_migrated(migrated_sqlite, root / name / "registry.sqlite")
        with create_workspace(Settings(workspace=root / "a", database_url="")) as a:
            with a.session() as s:
                load(f.registry(s), content)
            out = root / ("out" if fmt in ("csv", "parquet") else f"out.{fmt}")
            with a.session() as s:
                files = export_tables(f.registry(s), fmt, out)
            with create_workspace(Settings(workspace=root / "b", database_url="")) as b:
                with b.session() as s:  # an export's files, imported together
                    import_files(f.registry(s), files)
                assert contents(b) == contents(a)
