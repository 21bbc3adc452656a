"""The README's ten-minute tour works verbatim: every command of it runs, as a user would
type it, in a fresh demo workspace (built with the open data, as `detente demo` does),
and says what the README says it shows."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DETENTE = Path(sys.executable).with_name("detente")


def tour_commands() -> list[list[str]]:
    """The tour's commands, continuation lines joined and comments dropped."""
    tour = README.split("## A ten-minute tour", 1)[1].split("\n## ", 1)[0]
    commands: list[list[str]] = []
    for block in re.findall(r"```bash\n(.*?)```", tour, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] != "source":
                commands.append(words)
    return commands


# what each command's output shows (a regular expression), by the words it starts with
EXPECTED = {
    "status": r"acting as: gbr-planner \(planner, GBR\)",
    "plan check": r"Findings by rule, violations first",
    "agreements add": r"added agreement",
    "agreements edit": r"now version 2",
    "agreements history": r"update\s*│\s*2\s*│\s*signed_on",
    "engagements list": r"engagements: \d+ of \d+",
    "search": r"Battalion exchange with Kenya",
    "--as ken-analyst engagements list": r"engagements: 5 of \d+",
    "--as ken-analyst relations partner": r"Partners of KEN in \d{4}",
    "--as ken-analyst relations index": r"2025-\d\d\s*│\s*[1-9]\d*\.\d\d",
    "--as ken-analyst relations peacekeeping": r"KEN, \d{4}-\d\d-\d\d: [\d,]+ troops",
    "--as ken-analyst warning alerts": r"Partners at or above P\(>=25\) = 0.5 \(forecast",
    "--as gbr-vetting vet guard": r"Northern Rangers Militia",
    "--as gbr-vetting vet screen": r"│ 1 │\s+0\.\d\d │.*\n?.*BOUT",
    "--as gbr-vetting vet decide": r"pending, valid until",
    "--as gbr-vetting vet decisions": r"1 decision\(s\)",
    "intel view": r"2\. \[portion withheld\]",
    "intel release": r"released version \d+ to KEN",
    "--as ken-analyst intel view": r"2\. \[portion withheld\]",
    "channels list": r"London–Paris defence hotline",
    "channels hotline checks": r"median [\d.]+ s",
    "--as gbr-admin users list": r"gbr-vetting\s*│\s*vetting_officer",
    "--as gbr-admin coalitions list": r"NATO",
    "--as gbr-admin audit verify": r"audit chain intact",
}


def _expected(words: list[str]) -> str:
    line = " ".join(words[1:])
    best = max((k for k in EXPECTED if line.startswith(k)), key=len, default=None)
    assert best is not None, f"no expectation for tour command {line!r}"
    return EXPECTED[best]


def _framework_violations(output: str) -> int:
    found = re.search(r"(\d+) /\s+\d+ /\s+\d+\s+Cooperation framework", output)
    assert found, output
    return int(found.group(1))


def test_the_tour_is_parsed() -> None:
    commands = tour_commands()
    assert len(commands) >= 20 and all(c[0] == "detente" for c in commands)
    roles = {c[2] for c in commands if c[1] == "--as"}
    assert roles == {"ken-analyst", "gbr-vetting", "gbr-admin"}


def test_every_tour_command_runs_verbatim_on_a_fresh_demo(shared: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DETENTE_")}
    env.update(COLUMNS="160", DETENTE_SHARED_DATA=str(shared))
    built = subprocess.run(
        [str(DETENTE), "demo", "--no-serve"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert "open data loaded from" in built.stdout and "not loaded" not in built.stdout
    assert "the early-warning page shows the forecast saved in" in built.stdout
    framework: list[int] = []
    for words in tour_commands():
        done = subprocess.run(
            [str(DETENTE), *words[1:]], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        shown = done.stdout + done.stderr
        assert done.returncode == 0, f"{shlex.join(words)}: exit {done.returncode}\n{shown}"
        assert "Traceback" not in shown and "error:" not in shown, shown
        assert re.search(_expected(words), shown), f"{shlex.join(words)}:\n{shown}"
        if words[1:3] == ["plan", "check"] and "--all" not in words:
            framework.append(_framework_violations(shown))
    # the agreement the planner added covers the battalion exchange: one violation fewer
    assert len(framework) == 2 and framework[1] == framework[0] - 1 >= 0, framework
