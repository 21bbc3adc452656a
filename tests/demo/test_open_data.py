"""The demo's open data: every source whose files the data folder holds is loaded with the
same loader a user runs; the others are named, with the command that loads them."""

from __future__ import annotations

import shutil
from pathlib import Path

from detente.core.settings import Settings
from detente.core.workspace import create_workspace
from detente.demo.load import read_yaml
from detente.demo.open_data import data_folder, load_open_data
from detente.sources.lake import Lake


def test_the_sources_found_are_loaded_and_the_others_named(shared: Path, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    for part in ("cow/states2016.csv", "dcad/DCAD-v1.0-main.csv"):
        (folder / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared / part, folder / part)
    seen: list[str] = []
    with create_workspace(Settings(workspace=tmp_path / "ws", database_url="")) as ws:
        loaded = load_open_data(ws, folder, user="demo", progress=lambda name, i, n: seen.append(name))
        with Lake(ws.path) as lake:
            states = lake.current("cow_states")
            assert states is not None and (states.first_year, states.last_year) == (1816, 2016)
            assert lake.rows("dcad") == loaded.loaded["dcad"] == 1871
    assert set(loaded.loaded) == {"cow_states", "dcad"} and not loaded.failed
    every = [item["source"] for item in read_yaml("open_data.yaml")]
    assert seen == every and sorted(loaded.missing) == sorted(set(every) - {"cow_states", "dcad"})
    assert data_folder(folder) == folder
