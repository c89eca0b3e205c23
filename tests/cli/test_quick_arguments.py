"""The reading commands' plain command lines are parsed without argparse's parser
(statemgr.cli.quick); whenever that parser answers, it must answer as argparse does."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statemgr.cli import quick
from statemgr.cli.parser import ArgumentFailure, parse

TOKENS = [
    *quick.COMMANDS,
    "diagram",
    "provision",
    "web",
    "url",
    "list",
    "",
    "--json",
    "-v",
    "--verbose",
    "-q",
    "--quiet",
    "--workdir",
    "/srv/ws",
    "--store",
    "file",
    "--lock-timeout",
    "3",
    "--js",
    "--work",
    "-vq",
    "--",
    "--workdir=/x",
    "-x",
    "-1",
    "--help",
    "--version",
    "--format",
]


def argparse_answer(argv: list[str]) -> dict[str, object] | str:
    try:
        return vars(parse(argv))
    except ArgumentFailure as failure:
        return f"error: {failure.message}"
    except SystemExit:
        return "exit"


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=6))
def test_whenever_the_quick_parser_answers_argparse_gives_the_same(argv: list[str]) -> None:
    """Tried: command lines of up to six tokens from the reading commands, the global
    options (spelled right, abbreviated, combined, with '='), names and odd tokens."""
    found = quick.parse(argv)
    if found is not None:
        assert vars(found) == argparse_answer(argv), (
            "statemgr.cli.quick must give argparse's namespace; a global option added to "
            "statemgr/cli/parser.py needs its default in quick.DEFAULTS"
        )


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "web", "--json"],
        ["--json", "status", "web"],
        ["--workdir", "/srv/ws", "list", "--json"],
        ["history", "web", "-q"],
        ["status", "web"],
        ["list"],
        ["-v", "status", "web", "--workdir", "/srv/ws"],
        ["output", "web"],
        ["output", "web", "url", "--json"],
    ],
)
def test_the_usual_reading_command_lines_take_the_quick_path(argv: list[str]) -> None:
    """Tried: the forms people and scripts type; each is answered by the quick parser."""
    found = quick.parse(argv)
    assert found is not None
    assert vars(found) == argparse_answer(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["status"],
        ["status", "web", "--help"],
        ["status", "--workdir"],
        ["status", "web", "--workdir", "--json"],
        ["status", "-web"],
        ["list", "web"],
        ["output"],
        ["output", "web", "url", "port"],
        ["status", "web", "--lock-timeout", "1"],
        ["status", "web", "--js"],
        ["diagram"],
    ],
)
def test_anything_else_is_left_to_argparse(argv: list[str]) -> None:
    """Tried: missing or extra arguments, help, abbreviations, options it does not know."""
    assert quick.parse(argv) is None


def test_the_quick_handlers_are_the_parsers() -> None:
    """Tried: every command the quick parser answers, against the full grammar's table."""
    from statemgr.cli.parser import HANDLERS

    assert set(quick.HANDLERS) == set(quick.COMMANDS)
    assert all(HANDLERS[command] == found for command, found in quick.HANDLERS.items())
