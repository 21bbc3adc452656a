"""The benchmark tables of docs/reference/benchmarks.md are generated from the results
file (benchmarks/results/latest.json by benchmarks/tables.py): they must match it, and the
results file must say on what it was measured."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tables():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_tables", ROOT / "benchmarks" / "tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_tables_match_the_results_file() -> None:
    tables = _tables()
    results = json.loads(tables.RESULTS.read_text(encoding="utf-8"))
    assert tables.between() == tables.render(results).strip(), (
        "docs/reference/benchmarks.md is out of date: run `.venv/bin/python benchmarks/tables.py`"
    )


def test_results_file_records_machine_packages_and_spread() -> None:
    results = json.loads((ROOT / "benchmarks" / "results" / "latest.json").read_text(encoding="utf-8"))
    machine = results["machine"]
    assert machine["cores"] >= 1 and machine["memory_gb"] > 0 and machine["cpu"]
    assert results["packages"]["duckdb"] and results["packages"]["pandas"]
    assert len(results["load_start"]) == 3
    assert results["benchmarks"], "no benchmark in the results file"
    for name, bench in results["benchmarks"].items():
        for row in bench["rows"]:
            if "detente" in row:
                for side in ("detente", "baseline", "ratio"):
                    s = row[side]
                    assert s["min"] <= s["median"] <= s["max"], (name, row["what"], side)
                    assert s["n"] >= 5, f"{name}: {row['what']} has {s['n']} runs a side (at least 5)"


def test_a_changed_figure_is_caught() -> None:
    tables = _tables()
    results = json.loads(tables.RESULTS.read_text(encoding="utf-8"))
    timed = next(r for b in results["benchmarks"].values() for r in b["rows"] if "detente" in r)
    timed["ratio"]["median"] *= 1.5
    assert tables.between() != tables.render(results).strip()


def test_the_lock_file_pins_every_runtime_and_test_dependency() -> None:
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    lines = (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    pinned = {norm(line.split("==")[0]) for line in lines if "==" in line and not line.startswith("#")}
    for requirement in wanted:
        name = norm(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0])
        assert name in pinned, f"{name} is not pinned in requirements.lock (regenerate it: see its header)"
