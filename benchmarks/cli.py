"""Wall time of the CLI commands a user waits for, each a new process as a user runs it.

* start-up (both runs): ``detente --version``, ``detente --help`` and ``detente
  engagements list`` (on a new workspace) against ``python -c pass`` (the interpreter's own
  start, the floor), alternating, 5 runs each; the aim is under 0.3 s for each (wall time;
  the note gives the CPU time too, which a busy machine's queue for a core does not inflate),
  and, as the floor of a record command, the libraries it cannot do without imported alone;
* the demo's commands (full run only; a demo workspace with the open data it finds in
  ``DETENTE_SHARED_DATA`` or ../shared/data): ``init``, ``vet screen`` (a new process: the
  lists and matcher read from disk), ``vet decisions``, ``plan check`` and ``warning
  forecast`` against ``detente --version`` in the same rounds.

    .venv/bin/python benchmarks/cli.py [--quick] [--repeat 5] [--data FOLDER]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import REPEAT, emit, fmt, row, spread, value_row

DETENTE = str(Path(sys.executable).with_name("detente"))
PYTHON = "__python__"
FLOOR = ("sqlalchemy.orm", "pydantic_settings", "typer", "rich.console")


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Seconds one command takes, start to exit (it must succeed)."""
    return run_once(args, cwd, env)["seconds"]


def run_once(args: list[str], cwd: Path, env: dict[str, str]) -> dict[str, float]:
    """One command, start to exit (it must succeed): its wall seconds and the CPU seconds
    (user + system) its process used, which waiting for a busy core does not inflate."""
    command = [sys.executable, *args[1:]] if args[:1] == [PYTHON] else [DETENTE, *args]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"detente {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"seconds": elapsed, "cpu": cpu, "peak": 0}


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


def pair(
    commands: dict[str, list[str]], base: list[str], folder: Path, env: dict[str, str], repeat: int
) -> dict[str, tuple[list[dict[str, float]], list[dict[str, float]]]]:
    """Each command next to a run of the baseline, ``repeat`` rounds, the order flipping:
    {command: (its runs, the baseline runs made next to them)}."""
    times: dict[str, tuple[list[dict[str, float]], list[dict[str, float]]]] = {n: ([], []) for n in commands}
    for r in range(repeat):
        for name, args in commands.items():
            order = [(1, base), (0, args)]
            for side, what in order if r % 2 else order[::-1]:
                times[name][side].append(run_once(what, folder, env))
    return times


def startup(folder: Path, env: dict[str, str], repeat: int) -> list[dict[str, object]]:
    init_env = {**env, "DETENTE_PASSWORD": "benchmark-password-1"}
    ws = folder / "empty"
    timed(
        ["--workspace", str(ws), "init", "--org", "Bench MoD", "--country", "FRA", "--admin", "b"],
        folder,
        init_env,
    )
    commands = {"--version": ["--version"], "--help": ["--help"],
                "engagements list": ["--workspace", str(ws), "engagements", "list"]}  # fmt: skip
    rows: list[dict[str, object]] = []
    for name, args in commands.items():
        mine, base = pair({name: args}, [PYTHON, "-c", "pass"], folder, env, repeat)[name]
        median = statistics.median(r["seconds"] for r in mine)
        cpu = spread(r["cpu"] for r in mine)
        rows.append(
            row(f"detente {name}", mine, base, "python -c pass",
                note=f"aim under 0.3 s: {'met' if median < 0.3 else 'NOT met'}; CPU time (user + system) "
                f"{fmt(cpu, 's')}, the interpreter's {fmt(spread(r['cpu'] for r in base), 's')}; the ratio: "
                "the interpreter's share (under 1: the rest is detente's)")
        )  # fmt: skip
    # why a record command cannot reach the aim: the libraries it cannot do without, alone
    floor = [run_once([PYTHON, "-c", f"import {', '.join(FLOOR)}"], folder, env) for _ in range(repeat)]
    wall, cpu = spread(r["seconds"] for r in floor), spread(r["cpu"] for r in floor)
    rows.append(
        value_row(
            f"importing {', '.join(FLOOR)} alone",
            f"{fmt(wall, 's')}; CPU {fmt(cpu, 's')}",
            "the least a record command imports (its store: SQLAlchemy's ORM; settings; the command line); "
            f"{repeat} runs",
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=REPEAT)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--quick", action="store_true")
    opts = parser.parse_args()
    beside = Path(__file__).parents[2] / "shared" / "data"
    data = opts.data or Path(os.environ.get("DETENTE_SHARED_DATA", beside))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DETENTE_")}
    env.update(DETENTE_SHARED_DATA=str(data), COLUMNS="120")
    with tempfile.TemporaryDirectory() as tmp:
        rows = startup(Path(tmp), env, opts.repeat)
        if not opts.quick:
            rows += demo_commands(Path(tmp) / "demo", env, opts.repeat)
    emit("cli", "wall time of a CLI command, start to exit, each a new process", rows)


def demo_commands(folder: Path, env: dict[str, str], repeat: int) -> list[dict[str, object]]:
    folder.mkdir()
    print("building the demo with the open data ...", flush=True)
    timed(["demo", "--no-serve"], folder, env)
    init_env = {**env, "DETENTE_PASSWORD": "benchmark-password-1"}
    commands: dict[str, list[str]] = {
        "vet screen (a new process)": ["--as", "gbr-vetting", "vet", "screen", "Viktor Bout"],
        "vet decisions": ["--as", "gbr-vetting", "vet", "decisions"],
        "plan check": ["plan", "check"],
        "warning forecast": ["warning", "forecast"],
    }
    times = pair(commands, ["--version"], folder, env, repeat)
    inits = [{"seconds": timed(["--workspace", str(folder / f"init-{i}"), "init", "--org", "Bench MoD",
                                "--country", "FRA", "--admin", "b"], folder, init_env), "peak": 0}
             for i in range(repeat)]  # fmt: skip
    out = [row("init (a new workspace)", inits, times["plan check"][1], "detente --version")]
    out += [row(name, *times[name], "detente --version") for name in commands]
    return out


if __name__ == "__main__":
    main()
