"""The package's structure (#12 point 5): its layers (import-linter), its types (mypy), and
its sizes. Size limits: no module of ``src/detente`` over 600 lines and
no function (or method) over 80. A module over ~500 lines is a sign it holds two things
(STYLE.md): split it by what it holds, not by length. The figures are those of
``structure.py``: a module's lines as ``str.splitlines`` counts them, a function from its
``def`` line to its last line (decorators not counted), nested functions on their own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "detente"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _modules() -> list[Path]:
    modules = sorted(SRC.rglob("*.py"))
    assert len(modules) > 50, f"expected detente's modules under {SRC}"
    return modules


def _name(path: Path) -> str:
    return str(path.relative_to(SRC.parent))


def test_no_module_is_over_600_lines() -> None:
    sizes = {_name(p): len(p.read_text(encoding="utf-8").splitlines()) for p in _modules()}
    over = sorted(((n, m) for m, n in sizes.items() if n > MAX_MODULE_LINES), reverse=True)
    assert not over, f"modules over {MAX_MODULE_LINES} lines (split each by what it holds):\n" + "\n".join(
        f"  {n:5d} {m}" for n, m in over
    )


def test_no_function_is_over_80_lines() -> None:
    over: list[tuple[int, str]] = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    over.append((length, f"{_name(path)}:{node.lineno} {node.name}"))
    over.sort(reverse=True)
    assert not over, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(
        f"  {n:5d} {where}" for n, where in over
    )


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=SRC.parents[1], capture_output=True, text=True
    )


def test_the_layers_hold_and_no_package_imports_one_above_it() -> None:
    """import-linter's contract (pyproject.toml): interfaces, capabilities, records, the
    store kernel, context and core, each importing only those below it."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=SRC.parents[1], capture_output=True, text=True)
    assert result.returncode == 0 and "1 kept, 0 broken" in result.stdout, result.stdout + result.stderr


def test_mypy_finds_no_error() -> None:
    """mypy over src/ (its settings in pyproject.toml: strict on the store kernel)."""
    result = _run("mypy")
    assert result.returncode == 0 and "Success: no issues found" in result.stdout, result.stdout[-5000:]
