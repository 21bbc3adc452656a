"""Run every benchmark in this folder (``bench_*.py``, ``events.py``, ``warning.py``,
``vetting.py`` and ``planning.py``), one process each, and print their reports. Each
benchmark measures its own baseline in the same run and prints ratios against it; nothing
here asserts a time.

    .venv/bin/python benchmarks/run.py            # all
    .venv/bin/python benchmarks/run.py countries  # those whose name contains 'countries'
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted([*HERE.glob("bench_*.py"), HERE / "events.py", HERE / "warning.py", HERE / "vetting.py",
                      HERE / "planning.py"])  # fmt: skip
    if argv:
        scripts = [s for s in scripts if any(a in s.stem for a in argv)]
    failed = 0
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        failed += subprocess.call([sys.executable, str(script)]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
