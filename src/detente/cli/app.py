"""The ``detente`` console entry point (``detente.cli.app:main``).

``detente --version`` is answered here, before Typer and Rich are imported (a third of
the interpreter's start), and the objects a command loaded are frozen before the
interpreter's exit collects them; every other command line goes to the root command in
``detente.cli.root``, whose names (``app``, ``COMMANDS``, ``full_command``...) this
module also gives, as it always has.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

__all__ = ["main"]  # and, through __getattr__, every name of detente.cli.root


def main() -> None:
    """Console entry point."""
    if sys.argv[1:] == ["--version"]:  # what the root's eager --version prints, and exits 0
        from detente import __version__

        print(f"detente {__version__}")
        return
    from detente.cli.root import main as root_main

    try:
        root_main()  # ends with SystemExit: the process is ending
    finally:
        # The interpreter's last garbage collections at exit scan every object the command
        # loaded (models, tables, schemas): about 0.2 s of `detente engagements list`.
        # Frozen, they are skipped; atexit handlers still run, and what refcounting frees
        # is still finalized (the OS takes back the rest, as it would a second later).
        gc.freeze()


def __getattr__(name: str) -> Any:
    """The root command's names, imported from ``detente.cli.root`` when first asked for."""
    if name.startswith("__"):
        raise AttributeError(name)
    from detente.cli import root

    return getattr(root, name)
