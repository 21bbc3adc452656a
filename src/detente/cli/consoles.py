"""The CLI's two consoles: what a command answers goes to standard output, and errors,
warnings and progress go to standard error.

Rich never breaks a line of the error console (``soft_wrap``): a path or an id in an error
stays whole when the user copies it, and the terminal still wraps what is too long. Nor does
it colour numbers and paths in them by guesswork (``highlight``). Both import nothing of
detente, so the root command can say an error without loading the rest.
"""

from __future__ import annotations

from rich.console import Console

__all__ = ["console", "err_console"]

console = Console()
err_console = Console(stderr=True, soft_wrap=True, highlight=False)
