"""The plain command lines of the reading commands, parsed without building argparse's parser.

``statemgr status web --json`` is typed (and scripted) far more often than anything else,
and building the whole grammar costs more than the status itself. ``parse`` understands
only plain forms: a reading command, its NAME, and the global options spelled out in full
(``--workdir DIR`` and ``--store STORE`` with a value that is not an option). For anything
else, --help, an unknown or abbreviated option, ``--opt=value``, ``--``, a NAME that starts
with a dash, it returns None and the caller asks argparse, which also writes the errors.

When it answers, its namespace equals the one argparse gives for the same arguments:
``tests/cli/test_quick_arguments.py`` compares them over generated command lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    import argparse

# The reading commands, and how many positional arguments each needs.
COMMANDS: dict[str, int] = {"status": 1, "list": 0, "history": 1, "output": 1}
# Their handlers (as in ``statemgr.cli.parser.HANDLERS``: a test checks they agree).
HANDLERS: dict[str, tuple[str, str]] = {
    "status": ("statemgr.cli.reading", "status"),
    "list": ("statemgr.cli.reading", "list_environments"),
    "history": ("statemgr.cli.reading", "history"),
    "output": ("statemgr.cli.reading", "output"),
}
# The positional arguments each takes; those past the needed ones are None when absent.
POSITIONALS: dict[str, tuple[str, ...]] = {
    "status": ("name",),
    "list": (),
    "history": ("name",),
    "output": ("name", "key"),
}
# The global options (statemgr.cli.parser), their attributes and defaults.
FLAGS = {
    "--json": "json",
    "-v": "verbose",
    "--verbose": "verbose",
    "-q": "quiet",
    "--quiet": "quiet",
}
VALUED = {"--workdir": "workdir", "--store": "store"}
DEFAULTS: dict[str, object] = {
    "workdir": None,
    "json": False,
    "verbose": False,
    "quiet": False,
    "lock_timeout": 0.0,
    "store": None,
    "yes": False,
}


def parse(argv: Sequence[str]) -> argparse.Namespace | None:
    """The namespace argparse would give for ``argv``, or None when ``argv`` is not plain."""
    values = dict(DEFAULTS)
    command: str | None = None
    positionals: list[str] = []
    groups = 0  # runs of positionals: argparse reads an optional one only next to the rest
    previous: str | None = None
    tokens = iter(argv)
    for token in tokens:
        if token in FLAGS:
            values[FLAGS[token]] = True
        elif token in VALUED:
            value = next(tokens, None)
            if value is None or value.startswith("-"):
                return None
            values[VALUED[token]] = value
        elif token.startswith("-"):
            return None
        elif command is None:
            if token not in COMMANDS:
                return None
            command = token
        else:
            groups += previous is None or previous.startswith("-") or previous == command
            positionals.append(token)
        previous = token
    if command is None or not COMMANDS[command] <= len(positionals) <= len(POSITIONALS[command]):
        return None
    if groups > 1:
        return None
    values["command"] = command
    names = POSITIONALS[command]
    values.update(
        zip(names, [*positionals, *[None] * (len(names) - len(positionals))], strict=True)
    )
    # Not argparse's class (importing argparse costs what this module saves), but the same
    # attributes: the handlers only read them.
    return cast("argparse.Namespace", SimpleNamespace(**values))
