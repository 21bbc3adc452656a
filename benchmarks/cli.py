"""Wall time of the CLI commands a user waits for, against ``detente --version`` (the
process start: Python, detente's imports) measured in the same run.

Builds a demo workspace with the open data it finds (``DETENTE_SHARED_DATA`` or
../shared/data) once, then times each command as a user runs it, a separate process each
time, ``--repeat`` times, and reports the median and the spread, and the ratio of the
median to the baseline's median:

- ``init``: a new empty workspace (migrations, the first organisation and administrator);
- ``vet screen`` first (a fresh process after the demo: the matcher's data and the index
  read from disk) and warm (the same again, with whatever the first left on disk);
- ``vet decisions``: every decision re-screened;
- ``plan check``: the planning board;
- ``warning forecast``: the default ensemble, every country, 36 months, 1,000 draws;
- ``vet screen (server)``: with ``detente serve`` running on the workspace, which the CLI
  asks (the server keeps the lists and the matcher loaded), after its first screen.

    .venv/bin/python benchmarks/cli.py [--repeat 3] [--data FOLDER]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

DETENTE = str(Path(sys.executable).with_name("detente"))


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds one command takes, start to exit (it must succeed)."""
    start = time.perf_counter()
    done = subprocess.run([DETENTE, *args], cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"detente {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def _served_screens(folder: Path, env: dict[str, str], screen: list[str], repeat: int) -> list[float]:
    """``vet screen`` with ``detente serve`` running on the workspace (it announces itself
    there; the CLI asks it): the server's first screen loads the lists, then each is warm."""
    server = subprocess.Popen(
        [DETENTE, "serve", "--port", "8791"], cwd=folder, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(600):  # a readiness poll, not a timing
            try:
                with urllib.request.urlopen("http://127.0.0.1:8791/api/v1/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        timed(screen, folder, env)  # the server's own first screen (loading)
        return [timed(screen, folder, env) for _ in range(repeat)]
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None)
    opts = parser.parse_args()
    beside = Path(__file__).parents[2] / "shared" / "data"
    data = opts.data or Path(os.environ.get("DETENTE_SHARED_DATA", beside))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DETENTE_")}
    env.update(DETENTE_SHARED_DATA=str(data), COLUMNS="120")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"building the demo with the open data in {data} ...", flush=True)
        build = timed(["demo", "--no-serve"], folder, env)
        print(f"demo built in {build:.1f} s", flush=True)
        commands: dict[str, list[str]] = {
            "--version (baseline)": ["--version"],
            "vet screen (warm)": ["--as", "gbr-vetting", "vet", "screen", "Viktor Bout"],
            "vet decisions": ["--as", "gbr-vetting", "vet", "decisions"],
            "plan check": ["plan", "check"],
            "warning forecast": ["warning", "forecast"],
        }
        screen = ["--as", "gbr-vetting", "vet", "screen", "Viktor Bout"]
        times: dict[str, list[float]] = {name: [] for name in ["init", "vet screen (first)", *commands]}
        times["vet screen (first)"].append(timed(screen, folder, env))  # once: the first after the demo
        for round_ in range(opts.repeat):
            ws = folder / f"init-{round_}"
            init_env = {**env, "DETENTE_PASSWORD": "benchmark-password-1"}
            init = ["--workspace", str(ws), "init", "--org", "Bench MoD", "--country", "FRA", "--admin", "b"]
            times["init"].append(timed(init, folder, init_env))
            for name, args in commands.items():
                times[name].append(timed(args, folder, env))
            print(f"round {round_ + 1} of {opts.repeat} done", flush=True)
        times["vet screen (server)"] = _served_screens(folder, env, screen, opts.repeat)
    base = statistics.median(times["--version (baseline)"])
    head = f"{'command':24} {'median':>9} {'min-max':>17} {'x --version':>12}"
    print(f"\n{head}   ({opts.repeat} runs; the first screen once)")
    for name, runs in times.items():
        median = statistics.median(runs)
        print(f"{name:24} {median:8.2f}s {min(runs):7.2f}-{max(runs):6.2f}s {median / base:11.1f}x")
    print(f"(cores: {os.cpu_count()}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()
