"""Documentation keeps up with the code: settings, commands and CI are described."""

from __future__ import annotations

import re
from pathlib import Path

from detente.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
CONFIGURATION = (ROOT / "docs" / "reference" / "configuration.md").read_text()


def test_every_setting_is_documented_in_the_configuration_reference() -> None:
    for name in Settings.model_fields:
        assert f"DETENTE_{name.upper()}" in CONFIGURATION, f"DETENTE_{name.upper()} not documented"


def test_the_readme_is_a_short_tour() -> None:
    lines = README.splitlines()
    assert len(lines) <= 150, f"README has {len(lines)} lines"
    headings = [line for line in lines if line.startswith("## ")]
    assert headings[:2] == ["## Two commands", "## A ten-minute tour"]


def test_the_documentation_site_builds_in_strict_mode(tmp_path: Path) -> None:
    """MkDocs with the Material theme, strict: a broken link or a page missing from the
    navigation fails the build. The CLI reference is generated from the CLI at build."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    for command in ("detente plan check", "detente vet screen", "detente engagements add"):
        assert command in cli, command
    guides = sorted(p.name for p in (site / "guides").iterdir())
    assert guides == ["administrator", "analyst", "planner", "vetting-officer"]


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one() -> None:
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    commands = [line for line in blocks[0].splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2 and "detente demo" in commands[0] and "pytest" in commands[1]
    assert all("pip install -c requirements.lock -e " in c for c in commands), "install from the lock file"
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci.splitlines()


def test_ruff_is_clean() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
