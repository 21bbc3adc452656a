"""The warning tests drive the same CLI workspace as the lake's tests, and read one lake of
the prediction challenge's files, loaded once per session (``views_lake``): a test or module
gets its own copy of the file (``lake_copy``), so one that changes its lake changes no other."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from detente.sources.lake import LAKE_FILE, Lake
from detente.sources.service import load
from tests.sources.conftest import cli  # noqa: F401  (fixture, shared)


def views_files(shared: Path) -> list[Path]:
    """UCDP's country-months to October 2019 and the challenge's 2018 and 2019 files."""
    return [
        shared / "ucdp_ged_cm" / "ged_cm_postpatch_to_oct2019.parquet",
        shared / "ucdp_ged_cm" / "country.parquet",
        *sorted((shared / "views_cm").glob("cm_*201[89].parquet")),
    ]


@pytest.fixture(scope="session")
def views_lake(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lake file with ``views_files`` loaded as the ``views`` source (never opened again:
    tests open copies)."""
    folder = tmp_path_factory.mktemp("views")
    with Lake(folder) as lake:
        load(lake, "views", views_files(shared), user="t")
    return folder / LAKE_FILE


def lake_copy(views_lake: Path, folder: Path) -> Path:
    """``folder`` (a workspace or a lake folder) holding its own copy of the views lake."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(views_lake, folder / LAKE_FILE)
    return folder


def quiet_and_active_fold(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A calibration fold of ``n`` countries: half quiet (forecast 0; deaths, onsets, in 10%
    of months), half active and calibrated (draws and outcomes from the same spread)."""
    level = np.where(np.arange(n) < n // 2, 0, 2)
    centre = rng.uniform(50, 500, n)
    draws = np.round(centre[:, None, None] * np.exp(0.5 * rng.standard_normal((n, 14, 400))))
    truth = np.round(centre[:, None] * np.exp(0.5 * rng.standard_normal((n, 14))))
    draws[level == 0] = 0
    truth[level == 0] = np.where(rng.uniform(size=(n // 2, 14)) < 0.1, 5.0, 0.0)
    return draws, truth, level
