"""Where the CLI's words go: results on stdout, progress and errors on stderr.

Colours only on a terminal and only without NO_COLOR (https://no-color.org). With --json,
stdout carries exactly one JSON document and nothing else.
"""

from __future__ import annotations

import _thread  # threading's own lock, without importing threading (start-up time)
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

STYLES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "cyan": "36",
}


def wants_color(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Options:
    """The global options, resolved."""

    def __init__(
        self,
        workdir: Path,
        *,
        json: bool = False,
        verbose: bool = False,
        quiet: bool = False,
        lock_timeout: float = 0.0,
        store: str = "file",
    ) -> None:
        self.workdir = workdir
        self.json = json
        self.verbose = verbose
        self.quiet = quiet
        self.lock_timeout = lock_timeout
        self.store = store  # "file" or a postgresql:// URL (see statemgr.store.select)


class Console:
    """The CLI's output. Every print of the CLI goes through one of these methods."""

    def __init__(
        self, options: Options, stdout: TextIO | None = None, stderr: TextIO | None = None
    ) -> None:
        self.options = options
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.lock = _thread.allocate_lock()  # what threading.Lock() makes
        self.color_out = wants_color(self.stdout)
        self.color_err = wants_color(self.stderr)
        self.err_is_terminal = _isatty(self.stderr)

    @property
    def json_mode(self) -> bool:
        return self.options.json

    # --- stdout --------------------------------------------------------------------------

    def out(self, text: str = "") -> None:
        """A line of the human result; suppressed with --json (stdout is the JSON's)."""
        if not self.json_mode:
            print(text, file=self.stdout, flush=True)

    def json(self, document: Any) -> None:
        print(json.dumps(document, indent=2), file=self.stdout, flush=True)

    def paint(self, text: str, style: str) -> str:
        """``text`` styled for stdout."""
        return _styled(text, style) if self.color_out else text

    # --- stderr --------------------------------------------------------------------------

    def err(self, text: str = "") -> None:
        with self.lock:
            print(text, file=self.stderr, flush=True)

    def err_raw(self, text: str) -> None:
        """Write without a newline (the live timer's line)."""
        with self.lock:
            self.stderr.write(text)
            self.stderr.flush()

    def paint_err(self, text: str, style: str) -> str:
        """``text`` styled for stderr."""
        return _styled(text, style) if self.color_err else text

    def info(self, text: str) -> None:
        """A message for the person at the terminal (not progress); silenced by -q."""
        if not self.options.quiet:
            self.err(text)

    def error(self, message: str, hint: str | None = None) -> None:
        """``statemgr: error: MESSAGE`` and ``hint: HINT``: never more than two lines."""
        self.err(self.paint_err("statemgr: error: ", "red") + _one_line(message))
        if hint:
            self.err(self.paint_err("hint: ", "yellow") + _one_line(hint))

    def error_lines(self, message: str, lines: Sequence[str]) -> None:
        """``statemgr: error: MESSAGE``, then one indented line each (config problems)."""
        self.err(self.paint_err("statemgr: error: ", "red") + _one_line(message))
        for line in lines:
            self.err(f"  {_one_line(line)}")


def shown(path: Path) -> str:
    """``path`` as a person would type it: relative to the current folder when inside it."""
    here = Path.cwd().absolute()
    path = path.absolute()
    return str(path.relative_to(here)) if path.is_relative_to(here) else str(path)


def _styled(text: str, style: str) -> str:
    codes = ";".join(STYLES[part] for part in style.split("+"))
    return f"\x1b[{codes}m{text}\x1b[0m"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
