"""The demo's data files: the shipped ones read cleanly; a mistake is named by file, line and field."""

from __future__ import annotations

from datetime import date

import pytest

from detente.core.errors import ConfigError
from detente.core.workspace import Workspace
from detente.demo import catalogue
from detente.demo.catalogue import CATALOGUE, RECORDER, Scenario
from detente.demo.generator import Generator
from detente.demo.load import DATA, parse_csv, parse_yaml, resolve, validated
from detente.demo.scripted import make_records
from tests import factories as f

AS_OF = date(2026, 11, 23)


def test_the_shipped_files_make_the_catalogue() -> None:
    assert len(CATALOGUE.countries) == 30 and list(CATALOGUE.countries)[:2] == ["USA", "GBR"]
    assert CATALOGUE.scenario.recorder in CATALOGUE.scenario.organisations
    # a kind without its own season or length takes the default's
    assert CATALOGUE.season("hotline") == CATALOGUE.activity.default.seasons
    assert CATALOGUE.length("joint_exercise") == (5, 21)
    # every file in data/ is one the package reads (and ships: see package-data)
    assert sorted(p.name for p in DATA.iterdir()) == [
        "activity.yaml",
        "agreements.yaml",
        "countries.csv",
        "initiatives.yaml",
        "open_data.yaml",
        "people.yaml",
        "planning.yaml",
        "scenario.yaml",
    ]


def test_a_bad_value_is_named_by_file_line_and_field() -> None:
    text = (DATA / "scenario.yaml").read_text(encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "engagements_per_year" in t)
    bad = text.replace("engagements_per_year: 110", "engagements_per_year: many")
    with pytest.raises(ConfigError) as err:
        validated("scenario.yaml", Scenario, parse_yaml(bad, "scenario.yaml"))
    assert f"scenario.yaml: line {line}, sizes.engagements_per_year: Input should be a valid integer" in str(
        err.value
    )


def test_a_bad_country_row_is_named_by_its_line() -> None:
    text = (DATA / "countries.csv").read_text(encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith("GHA,"))
    with pytest.raises(ConfigError, match=f"countries.csv, line {line}: iso3: String should match"):
        catalogue.countries(parse_csv(text.replace("GHA,Ghana", "GH,Ghana"), "countries.csv"))
    with pytest.raises(ConfigError, match=f"countries.csv, line {line}: iso3: KEN is there twice"):
        catalogue.countries(parse_csv(text.replace("GHA,Ghana", "KEN,Ghana"), "countries.csv"))
    with pytest.raises(ConfigError, match=f"countries.csv, line {line}: 4 cells expected"):
        catalogue.countries(parse_csv(text.replace("GHA,Ghana,GHS,Accra", "GHA,Ghana"), "countries.csv"))


def test_tags_resolve_from_the_as_of_date_and_earlier_records() -> None:
    doc = parse_yaml(
        "a: !year [-2, 1, 1]\nb: !days -120\nc: !months 3\nd: [!ref mod:GBR]\ne: !ref nowhere\n", "t.yaml"
    )
    assert resolve({k: doc[k] for k in "abcd"}, AS_OF, {"mod:GBR": "id-1"}, "t.yaml") == {
        "a": date(2024, 1, 1),
        "b": date(2026, 7, 26),
        "c": date(2027, 2, 22),  # 3 months of 30.44 days: 91 days
        "d": ["id-1"],
    }
    with pytest.raises(ConfigError, match="t.yaml, line 5: no demo record 'nowhere' made before"):
        resolve(doc, AS_OF, {"mod:GBR": "id-1"}, "t.yaml")
    with pytest.raises(ConfigError, match=r"t.yaml, line 1, column 4: !days needs a whole number"):
        parse_yaml("a: !days soon", "t.yaml")


def test_a_record_the_store_refuses_is_named_by_file_and_line(ws: Workspace) -> None:
    entries = parse_yaml(
        "- table: calendar_entries\n"
        "  key: cal:fine\n"
        "  country: KEN\n"
        "  title: General election (demo)\n"
        "  kind: election\n"
        "  start_date: !days 178\n"
        "- table: calendar_entries\n"
        "  key: cal:bad\n"
        "  country: KEN\n"
        "  title: General election (demo)\n"
        "  kind: election\n"
        "  start_date: !days 178\n"
        "  end_date: !days 170\n",
        "t.yaml",
    )
    with ws.session() as s:
        g = Generator({RECORDER: f.registry(s)}, seed=1, as_of=AS_OF)
        with pytest.raises(ConfigError, match=r"^demo data t.yaml, line 7: calendar_entries cal:bad: "):
            make_records(g, "t.yaml", entries)
        assert list(g.ids) == ["cal:fine"]
