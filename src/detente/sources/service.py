"""Sources: what each dataset is, and loading, fetching and checking them into the lake.

A ``Source`` names its parser and the provider's official URLs. ``load`` validates the
files a user names and writes them to the lake with provenance; ``fetch`` downloads the
official release first (from ``mirror`` instead, when given: tests serve the shared files
on loopback); ``check`` re-hashes the files each loaded table came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detente.core.errors import NotFoundError, ValidationError
from detente.sources import cameo
from detente.sources.lake import Lake, Provenance, now, sha256

__all__ = ["SOURCES", "Source", "check", "fetch", "load", "source"]

MAX_DOWNLOAD = 2 * 1024**3


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    parse: Callable[[list[Path]], Any]
    urls: dict[str, str]
    version: str
    coverage: Callable[[Any], str]


SOURCES = {
    s.name: s
    for s in (
        Source(
            name="cameo",
            title="CAMEO event codes, Goldstein scale and quad class (GDELT lookup tables)",
            parse=cameo.parse,
            urls=cameo.URLS,
            version="GDELT lookups",
            coverage=lambda t: f"{t.num_rows} event codes",
        ),
    )
}


def source(name: str) -> Source:
    key = name.strip().lower()
    if key not in SOURCES:
        raise NotFoundError(f"no source {name!r}; one of {', '.join(SOURCES)}")
    return SOURCES[key]


def load(
    lake: Lake, name: str, paths: list[Path], *, user: str, version: str | None = None
) -> tuple[bool, Provenance]:
    """Validate ``paths`` and replace the source's lake table; (changed, provenance)."""
    src = source(name)
    for path in paths:
        if not path.is_file():
            raise ValidationError(f"{path}: no such file")
    table = src.parse(paths)
    record = Provenance(
        source=src.name,
        version=version or src.version,
        files="\n".join(str(p.resolve()) for p in paths),
        sha256=sha256(paths),
        rows=table.num_rows,
        coverage=src.coverage(table),
        loaded_at=now(),
        loaded_by=user,
    )
    changed = lake.replace(src.name, table, record)
    return changed, (record if changed else lake.current(src.name) or record)


def fetch(
    lake: Lake, name: str, folder: Path, *, user: str, mirror: str | None = None
) -> tuple[bool, Provenance]:
    """Download the source's files (into ``folder``) and load them."""
    import httpx

    src = source(name)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for file, url in src.urls.items():
        if mirror:
            url = mirror.rstrip("/") + "/" + file
        target = folder / file
        partial = target.with_suffix(target.suffix + ".part")
        size = 0
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as response:
            if response.status_code != 200:
                raise ValidationError(f"{url}: HTTP {response.status_code}")
            with partial.open("wb") as out:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_DOWNLOAD:
                        raise ValidationError(f"{url}: more than {MAX_DOWNLOAD:,} bytes; refused")
                    out.write(chunk)
        partial.replace(target)
        paths.append(target)
    return load(lake, name, paths, user=user)


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
