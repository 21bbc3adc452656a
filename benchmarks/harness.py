"""The one harness every benchmark uses: repeated, alternating runs in fresh processes,
reported as median with min-max, and written as data for ``run.py`` and the docs tables.

The rules it enforces (issue #16 point 1):

* each measurement runs ``repeat`` times (at least 5), every run in a fresh process (so
  each run pays its own imports and its peak memory, ``VmHWM``, is its own);
* the sides alternate: detente, baseline, baseline, detente, detente, baseline, ... (the
  order flips every round, so neither side always runs first or on a warmer machine);
* the figure is the median with min-max over the runs; a ratio is computed per round
  (the two sides of one round ran next to each other) and reported the same way.

What a benchmark must do itself (and its docstring says how it does it): imports and file
reads inside or outside the timer the same way on both sides, the same queries and counts
on both sides, a warm-up for both or for neither. Where the baseline does strictly less work
than detente, pass ``note=`` to :func:`row` so the table says so next to the ratio.

The API, in a benchmark script::

    import sys; sys.path.insert(0, str(Path(__file__).resolve().parent))
    from harness import alternate, child_main, emit, ratio, row, spread

    def run(name: str, folder: Path) -> dict:          # one run of one side, in a child
        start = time.perf_counter(); ...; return {"seconds": time.perf_counter() - start}

    def main() -> None:
        if child_main(run):                             # this process is a child: done
            return
        runs = alternate(__file__, ["detente", "pandas"], folder, repeat=5)
        emit("events", "what the benchmark measures", [
            row("1M rows", runs["detente"], runs["pandas"], baseline="plain pandas",
                unit="s", note="pandas reads only 5 columns"),
        ])

* ``alternate(script, names, folder, repeat=5, args=())`` runs ``script --child NAME
  FOLDER *args`` ``repeat`` times per name, alternating; returns ``{name: [result, ...]}``,
  each result the dict the child's ``run`` returned plus ``peak`` (bytes).
* ``spread(values)`` -> ``{"median", "min", "max", "n"}``.
* ``ratio(baseline_runs, detente_runs, key="seconds")``: the per-round ratio
  baseline/detente (how many times faster detente is), as a spread.
* ``row(what, detente_runs, baseline_runs, baseline=..., unit=..., key="seconds",
  note="", higher_is_better=False)``: one line of the docs table. With
  ``higher_is_better`` (e.g. req/s) the ratio is detente/baseline instead.
* ``value_row(what, value, note="")``: a line with a single figure (a count, a share, a
  quality ratio) that is not a timing.
* ``emit(name, claim, rows, extra=None)``: prints the table rows and, when ``run.py``
  runs the script (environment ``DETENTE_BENCH_OUT``), writes them as JSON for the
  results file. Call it once per script.
* ``quick()``: True when the script was given ``--quick`` (``run.py --quick`` passes it).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

REPEAT = 5


def quick() -> bool:
    """True when this script runs in the quick mode (``--quick`` on its command line)."""
    return "--quick" in sys.argv


def peak_memory() -> int:
    """This process's own peak resident memory, in bytes: Linux's ``VmHWM``, which a new
    program starts afresh; ``ru_maxrss`` survives fork and exec, so a child started by a
    large parent would report the parent's peak (the fallback where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def report(result: dict[str, Any]) -> None:
    """In the child: add the process's peak memory and print the result as JSON."""
    result["peak"] = peak_memory()
    print(json.dumps(result), flush=True)


def child_main(run: Callable[[str, Path], dict[str, Any]]) -> bool:
    """If this process is a child (``--child NAME FOLDER ...``), run and report; True then."""
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        report(run(sys.argv[2], Path(sys.argv[3])))
        return True
    return False


def one(script: str, name: str, folder: str | Path, args: Sequence[str] = ()) -> dict[str, Any]:
    """One run of one side in a fresh process: the dict its ``run`` returned, with ``peak``."""
    done = subprocess.run(
        [sys.executable, script, "--child", name, str(folder), *args], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"{Path(script).name} --child {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def alternate(
    script: str, names: Sequence[str], folder: str | Path, repeat: int = REPEAT, args: Sequence[str] = ()
) -> dict[str, list[dict[str, Any]]]:
    """``repeat`` runs of each side, each in a fresh process, the order flipping every round."""
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for r in range(repeat):
        for name in names if r % 2 == 0 else list(reversed(names)):
            runs[name].append(one(script, name, folder, args))
            print(".", end="", flush=True, file=sys.stderr)
    print(file=sys.stderr)
    return runs


def spread(values: Iterable[float]) -> dict[str, float]:
    """Median with min-max (and how many values)."""
    v = [float(x) for x in values]
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


def ratio(
    baseline: list[dict[str, Any]], detente: list[dict[str, Any]], key: str = "seconds", higher: bool = False
) -> dict[str, float]:
    """Per-round ratio (baseline/detente for times, detente/baseline for rates), as a spread."""
    pairs = zip(baseline, detente, strict=True)
    return spread((d[key] / b[key]) if higher else (b[key] / d[key]) for b, d in pairs)


def row(
    what: str,
    detente: list[dict[str, Any]],
    base: list[dict[str, Any]],
    baseline: str,
    unit: str = "s",
    key: str = "seconds",
    note: str = "",
    higher_is_better: bool = False,
) -> dict[str, Any]:
    """One line of the table: both sides' spreads and the per-round ratio."""
    return {
        "what": what,
        "unit": unit,
        "detente": spread(r[key] for r in detente),
        "baseline_name": baseline,
        "baseline": spread(r[key] for r in base),
        "ratio": ratio(base, detente, key, higher_is_better),
        "peak_mb": {
            "detente": spread(r["peak"] / 2**20 for r in detente),
            "baseline": spread(r["peak"] / 2**20 for r in base),
        },
        "note": note,
    }


def value_row(what: str, value: str, note: str = "") -> dict[str, Any]:
    """A line with one figure that is not a timing (a count, a share, a quality ratio)."""
    return {"what": what, "value": value, "note": note}


def fmt(s: dict[str, float], unit: str = "") -> str:
    """``median (min-max) unit`` with sensible digits."""

    def num(x: float) -> str:
        a = abs(x)
        return f"{x:,.0f}" if a >= 100 else f"{x:.1f}" if a >= 10 else f"{x:.2f}" if a >= 0.1 else f"{x:.3f}"

    tail = f" {unit}" if unit and unit != "x" else unit
    return f"{num(s['median'])}{tail} ({num(s['min'])}–{num(s['max'])})"


def emit(name: str, claim: str, rows: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> None:
    """Print the rows and hand them to ``run.py`` (``DETENTE_BENCH_OUT``) for the results file."""
    for r in rows:
        if "value" in r:
            print(f"  {r['what']}: {r['value']}" + (f"  [{r['note']}]" if r["note"] else ""))
        else:
            print(
                f"  {r['what']}: detente {fmt(r['detente'], r['unit'])}; {r['baseline_name']} "
                f"{fmt(r['baseline'], r['unit'])}; ratio {fmt(r['ratio'], 'x')}"
                + (f"  [{r['note']}]" if r["note"] else "")
            )
    out = os.environ.get("DETENTE_BENCH_OUT")
    if out:
        data = {"name": name, "claim": claim, "rows": rows, "extra": extra or {}, "quick": quick()}
        Path(out).write_text(json.dumps(data, indent=1), encoding="utf-8")


def in_processes(script: str, names: Iterable[str], folder: str) -> dict[str, dict[str, Any]]:
    """One run of each side (kept for older scripts; new ones use :func:`alternate`)."""
    return {name: one(script, name, folder) for name in names}
