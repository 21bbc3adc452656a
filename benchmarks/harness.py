"""Shared by the benchmarks: run each contender in its own process, so the peak memory it
reports (``ru_maxrss``) is its own, and collect the JSON each prints."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any


def report(result: dict[str, Any]) -> None:
    """In the child: add the process's peak memory and print the result as JSON."""
    result["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(result))


def in_processes(script: str, names: Iterable[str], folder: str) -> dict[str, dict[str, Any]]:
    """Run ``script --child NAME FOLDER`` for each name; their printed results by name."""
    results = {}
    for name in names:
        done = subprocess.run(
            [sys.executable, script, "--child", name, folder], capture_output=True, text=True, check=True
        )
        results[name] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def child_main(run: Callable[[str, Path], dict[str, Any]]) -> bool:
    """If this process is a child (``--child NAME FOLDER``), run and report; True then."""
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        report(run(sys.argv[2], Path(sys.argv[3])))
        return True
    return False
