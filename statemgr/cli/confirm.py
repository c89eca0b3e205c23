"""Confirmations: ``destroy`` of an environment that is not destroyed, and ``purge --force``,
ask the person at the terminal to type the environment's name (as terraform asks for
"yes"). ``-y/--yes`` skips the question; there is none without a terminal on stdin, or
with --json (a script is answering)."""

from __future__ import annotations

import sys
from typing import TextIO

from statemgr.cli.console import Console
from statemgr.errors import EnvironmentNotFound, NotConfirmed


def asks(console: Console, yes: bool, stdin: TextIO | None = None) -> bool:
    """Whether a question may be asked: a terminal on stdin, no --yes, no --json."""
    stream = stdin or sys.stdin
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        terminal = False
    return terminal and not yes and not console.json_mode


def confirm(console: Console, name: str, command: str, what: str) -> None:
    """Ask to type ``name``; ``NotConfirmed`` (exit 2, nothing done) unless it was typed."""
    console.err(f"{command} {name}: {what}")
    console.err_raw(f"type the environment's name ({name}) to go on, anything else to stop: ")
    typed = sys.stdin.readline().strip()
    if typed != name:
        raise NotConfirmed(name, command, typed)


def confirm_destroy(console: Console, name: str, yes: bool) -> None:
    """Before ``destroy``: ask, unless it is destroyed already (or missing: that fails later)."""
    if not asks(console, yes):
        return
    from statemgr.cli.reading import workspace

    try:
        snapshot = workspace(console).load(name)
    except EnvironmentNotFound:
        return
    if snapshot.state.name.value == "destroyed":
        return
    steps = len(snapshot.environment.phases.destroy)
    confirm(
        console,
        name,
        "destroy",
        f"it is {snapshot.display_name}; its {steps} destroy step"
        f"{'' if steps == 1 else 's'} will run and tear it down",
    )


def confirm_purge(console: Console, name: str, yes: bool) -> None:
    """Before ``purge --force``: its files go, whatever state it is in."""
    if asks(console, yes):
        what = f"data/{name} and build/{name} will be removed as they are, in any state"
        confirm(console, name, "purge --force", what)
