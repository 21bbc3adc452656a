"""The demo's context lake: the open datasets found in a data folder, loaded with the same
loaders a user runs, so the relations, warning, vetting and planning pages show real
figures on first start (``data/open_data.yaml`` says which files each source takes)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from detente.core.errors import DetenteError
from detente.core.workspace import Workspace
from detente.demo.load import read_yaml
from detente.sources.lake import Lake
from detente.sources.service import load

__all__ = ["Loaded", "data_folder", "first_forecast", "load_open_data"]


@dataclass
class Loaded:
    """What the demo put into the lake, what it did not find, and what failed (and why)."""

    loaded: dict[str, int] = field(default_factory=dict)  # source -> rows
    missing: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    forecast: Path | None = None  # the first early-warning forecast, when the outcomes are there


def data_folder(given: Path | None) -> Path | None:
    """The folder of open data: ``--data``, else ``DETENTE_SHARED_DATA``, else the project's
    shared data beside a checkout (``../shared/data``), else none."""
    if given is not None:
        return given
    env = os.environ.get("DETENTE_SHARED_DATA")
    if env:
        return Path(env)
    beside = Path("..") / "shared" / "data"
    return beside if beside.is_dir() else None


def _files(folder: Path, patterns: list[str]) -> list[Path]:
    found: list[Path] = []
    for pattern in patterns:
        matches = sorted(folder.glob(pattern))
        if not matches:
            return []  # a source loads whole or not at all
        found += matches
    return found


def load_open_data(
    ws: Workspace, folder: Path, user: str, progress: Callable[[str, int, int], None] | None = None
) -> Loaded:
    """Load every source of ``open_data.yaml`` whose files are in ``folder`` (a source
    already loaded is loaded again only if its files changed: the lake keeps one version)."""
    plan = read_yaml("open_data.yaml")
    out = Loaded()
    with Lake(ws.path) as lake:
        for i, item in enumerate(plan, start=1):
            name, files = item["source"], _files(folder, item["files"])
            if progress:
                progress(name, i, len(plan))
            if not files:
                out.missing.append(name)
                continue
            try:
                _changed, provenance, _parsed = load(lake, name, files, user=user)
            except DetenteError as exc:  # one bad source does not stop the others
                out.failed[name] = exc.message
                continue
            out.loaded[name] = provenance.rows
    return out


def first_forecast(ws: Workspace, loaded: Loaded) -> Path | None:
    """The early-warning page's first forecast (the default model, as `detente warning
    forecast` makes it), when the lake holds the monthly outcomes it needs; else None."""
    from detente.warning.forecast import forecast, save

    if "views" not in loaded.loaded:
        return None
    with Lake(ws.path) as lake:
        try:
            made = forecast(lake)
        except DetenteError:
            return None
    return save(made, ws.path / "forecasts")
