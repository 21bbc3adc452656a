"""The index validation: the AUC and its bootstrap interval behave as they should, and the
analysis runs end to end on the real files with its designs and populations stated."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from detente.relations.validation import auc_with_interval
from tests.conftest import ROOT


def test_auc_and_interval_on_known_cases() -> None:
    y = np.array([0, 0, 0, 1, 1, 1])
    assert auc_with_interval(y, np.array([1, 2, 3, 4, 5, 6.0]), draws=50)[0] == 1.0
    assert auc_with_interval(y, np.array([6, 5, 4, 3, 2, 1.0]), draws=50)[0] == 0.0
    assert auc_with_interval(np.zeros(5, dtype=int), np.arange(5.0)) == (None, None, None)
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 2000)
    score = y + rng.normal(0, 1.5, 2000)
    auc, low, high = auc_with_interval(y, score, draws=200)
    assert auc == pytest.approx(roc_auc_score(y, score))
    assert low is not None and high is not None and low < auc < high and high - low < 0.1
    noise = rng.normal(size=2000)
    _, low, high = auc_with_interval(y, noise, draws=200)
    assert low is not None and high is not None and low < 0.5 < high
    # groups: resampling whole dyads widens the interval when rows of a dyad repeat
    groups = np.repeat(np.arange(200), 10)
    y2, s2 = np.repeat(y[:200], 10), np.repeat(score[:200], 10)
    _, glow, ghigh = auc_with_interval(y2, s2, groups, draws=200)
    _, rlow, rhigh = auc_with_interval(y2, s2, draws=200)
    assert glow is not None and rlow is not None and ghigh is not None and rhigh is not None
    assert ghigh - glow > 1.5 * (rhigh - rlow)


def test_the_analysis_script_runs_on_the_shared_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "auc.json"
    monkeypatch.setattr(sys, "argv", ["index_validation.py", "--draws", "20", "--out", str(out)])
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(ROOT / "analyses" / "index_validation.py"), run_name="__main__")
    assert done.value.code == 0
    rows = json.loads(out.read_text())
    labels = {r["label"] for r in rows}
    assert len(labels) == 4 and {r["score"] for r in rows} == {"coop_index", "mil_goldstein", "events_total"}
    for r in rows:
        assert 0 < r["positives"] < r["n"]
        assert 0 <= r["auc"] <= 1
        assert r["low"] <= r["high"]
    strict = [r for r in rows if r["label"].startswith("strict")]
    assert strict and all(r["n"] < 20000 for r in strict)  # one covered month inside DCAD's years
    carried = next(r for r in rows if "carried" in r["label"] and r["population"].startswith("all"))
    assert carried["n"] > 90000  # 2011-2014, the COW system's undirected dyads
