"""Run the benchmarks and write the results file, then the docs tables from it.

Each benchmark script runs in its own process and hands its figures back through the
harness (``harness.emit``); this collects them with the machine (cores, memory, CPU
model), the load average before and after each script (the machine may be shared), its
wall time and the CPU time its processes used (which a busy machine's wait does not add to), the
git commit and the exact version of every installed package, and writes them as JSON
(``benchmarks/results/latest.json`` unless ``--out``). Then ``tables.py`` rewrites the
tables of docs/reference/benchmarks.md from that file (tests/test_benchmarks_docs.py
fails when the two disagree). Nothing here asserts a time.

    .venv/bin/python benchmarks/run.py --quick        # under 10 minutes on 2 cores
    .venv/bin/python benchmarks/run.py                # the full run (about an hour)
    .venv/bin/python benchmarks/run.py events dyads   # only these (merged into the file)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "latest.json"
# in the order of the docs table; name -> script
SCRIPTS = {
    "events": "events.py",
    "dyads": "bench_dyads.py",
    "warning": "warning.py",
    "vetting": "vetting.py",
    "planning": "planning.py",
    "enforcement": "bench_enforcement.py",
    "countries": "bench_countries.py",
    "api_load": "bench_api_load.py",
    "cli": "cli.py",
    "exchange": "exchange.py",  # run when the script is there
    "channels": "channels.py",
}


def machine() -> dict[str, Any]:
    """Cores, memory and CPU model of this machine, and the Python that ran the benchmarks."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cores": len(os.sched_getaffinity(0)),
        "memory_gb": round(memory / 2**30, 1),
        "cpu": model or platform.processor(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def packages() -> dict[str, str]:
    """Every installed distribution with its exact version."""
    found = {(d.metadata["Name"] or "").lower(): d.version for d in metadata.distributions()}
    return dict(sorted((k, v) for k, v in found.items() if k))


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() + (" (src modified)" if dirty.stdout.strip() else "")


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_one(name: str, quick: bool) -> dict[str, Any]:
    script = HERE / SCRIPTS[name]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        env = {**os.environ, "DETENTE_BENCH_OUT": str(out)}
        before, started, used = load(), time.perf_counter(), cpu()
        code = subprocess.call([sys.executable, str(script), *(["--quick"] if quick else [])], env=env)
        if code != 0 or not out.exists():
            return {"name": name, "error": f"{script.name} exited with {code}", "rows": []}
        data: dict[str, Any] = json.loads(out.read_text())
    data["load_before"], data["load_after"], data["commit"] = before, load(), commit()
    data["wall_s"] = round(time.perf_counter() - started, 1)
    data["cpu_s"] = round(cpu() - used, 1)
    return data


def cpu() -> float:
    """CPU seconds (user + system) used so far by this process's finished children: a
    script's own and those of the processes it started and waited for. Unlike the wall
    time, a busy machine's queue for a core does not add to it."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("only", nargs="*", help="run only the benchmarks whose names contain these")
    parser.add_argument("--quick", action="store_true", help="smaller sizes; under 10 minutes on 2 cores")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite the docs tables")
    args = parser.parse_args(argv)
    present = [n for n in SCRIPTS if (HERE / SCRIPTS[n]).exists()]
    names = [n for n in present if not args.only or any(a in n for a in args.only)]
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}  # kept until remeasured
    results: dict[str, Any] = {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": "quick" if args.quick else "full",  # of this run; each benchmark says its own
        "commit": commit(),
        "machine": machine(),
        "load_start": load(),
        "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
        "packages": packages(),
        "benchmarks": dict(previous.get("benchmarks", {})),
    }
    started, used = time.perf_counter(), cpu()
    for name in names:  # the file is written after each script: an interrupted run keeps what it measured
        print(f"\n=== {name} ({SCRIPTS[name]}) ===", flush=True)
        results["benchmarks"][name] = run_one(name, args.quick)
        results["benchmarks"] = {n: results["benchmarks"][n] for n in SCRIPTS if n in results["benchmarks"]}
        results["load_end"] = load()
        results["wall_s"] = round(time.perf_counter() - started, 1)
        results["cpu_s"] = round(cpu() - used, 1)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out} ({results['wall_s']:.0f} s; its processes' CPU {results['cpu_s']:.0f} s)")
    if not args.no_docs and args.out == RESULTS:
        sys.path.insert(0, str(HERE))
        import tables

        tables.write()
        print(f"rewrote the tables of {tables.DOC.relative_to(ROOT)}")
    return 1 if any("error" in b for b in results["benchmarks"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
