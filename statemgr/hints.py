"""Suggested commands: every command statemgr tells a person to run is made by ``suggest``.

A suggestion must work when pasted where the person is. The CLI knows what that takes
(``--workdir DIR`` when the workspace is not the current folder and not the one
STATEMGR_WORKDIR names; ``--store`` when it was given on the command line) and sets it
with ``suggesting_with`` for the command's run; the library and the CLI word their hints
with ``suggest("status web")``, and get ``statemgr --workdir ../ws status web`` then.
Used as a library, without the CLI, suggestions are plain ``statemgr status web``.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

_OPTIONS: ContextVar[tuple[str, ...]] = ContextVar("statemgr_suggested_options", default=())


def suggest(arguments: str) -> str:
    """``statemgr ARGUMENTS``, with the global options the person needs where they are."""
    options = _OPTIONS.get()
    if not options:
        return f"statemgr {arguments}"
    return f"statemgr {shlex.join(options)} {arguments}"


@contextmanager
def suggesting_with(options: Sequence[str]) -> Iterator[None]:
    """Suggestions made inside the block carry ``options`` (e.g. ``["--workdir", "../ws"]``)."""
    token = _OPTIONS.set(tuple(options))
    try:
        yield
    finally:
        _OPTIONS.reset(token)


def shown_path(path: str | os.PathLike[str]) -> str:
    """``path`` as a person types it here: relative to the current folder when inside it."""
    absolute = Path(path).absolute()
    here = Path.cwd().absolute()
    return str(absolute.relative_to(here)) if absolute.is_relative_to(here) else str(absolute)


def config_argument(config_file: str | None) -> str:
    """The config file recorded at create, as an argument to paste (``CONFIG`` if unknown)."""
    return shlex.quote(shown_path(config_file)) if config_file else "CONFIG"
