"""The docs harness itself: a harness that cannot fail would prove nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from .markdown import DocumentError, parse_blocks, parse_commands
from .matching import line_matches, matches, tidy_actual
from .session import ExampleFailed, Session

FENCE = "```"


def document(text: str) -> list:
    return parse_blocks(text.replace("'''", FENCE), Path("doc.md"))


def run(text: str, folder: Path) -> Session:
    session = Session.start(folder)
    for block in document(text):
        session.run_block(block)
    return session


# --- matching -------------------------------------------------------------------------------


def test_masked_values_match_other_values_of_their_kind() -> None:
    shown = "  since:    2026-11-29T13:54:13.705367+00:00 (0s ago)"
    assert line_matches(shown, "  since:    2027-01-02T03:04:05.000001+00:00 (12m ago)")
    assert line_matches("[1/2] provision: make ok (0.0s)", "[1/2] provision: make ok (12.3s)")
    assert line_matches(
        "trace:    data/web/traces/20261129T135413.680403Z-deploy-69f38c.log",
        "trace:    data/web/traces/20270101T000000.000000Z-deploy-0a1b2c.log",
    )
    assert not line_matches("[1/2] provision: make ok (0.0s)", "[1/2] provision: make FAILED")
    assert not line_matches("state: running", "state: run_failed")


def test_placeholders_and_gaps() -> None:
    assert line_matches("pid <PID> on <HOST>", "pid 4242 on ci-runner-7.example")
    assert not line_matches("pid <PID> on <HOST>", "pid abc on host")
    assert line_matches("NAME  STATE", "NAME     STATE")
    assert not line_matches("NAME  STATE", "NAME STATE")
    assert not line_matches("a b", "a  b")
    assert line_matches("error: <...>; hint", "error: anything at all; hint")


def test_any_lines() -> None:
    assert matches(["first", "...", "last"], ["first", "last"])
    assert matches(["first", "...", "last"], ["first", "a", "b", "last"])
    assert not matches(["first", "...", "last"], ["first", "a", "b"])
    assert not matches(["only"], ["only", "more"])
    assert matches([], [])


def test_actual_output_is_tidied() -> None:
    text = "/tmp/x/you/web.toml\nbash: line 1: 123 Killed      statemgr provision web\n\n"
    assert tidy_actual(text, "/tmp/x/you") == ["/home/you/web.toml", "Killed"]


# --- parsing --------------------------------------------------------------------------------


def test_markers_attach_to_the_next_block() -> None:
    blocks = document("<!-- not-run: needs a cloud -->\n\n'''sh\ntofu apply\n'''\n")
    assert blocks[0].markers == {"not-run": "needs a cloud"}
    with pytest.raises(DocumentError, match="right before a code block"):
        document("<!-- not-run: x -->\ntext\n'''sh\nx\n'''\n")
    with pytest.raises(DocumentError, match="unknown marker"):
        document("<!-- not_run: x -->\n'''sh\nx\n'''\n")
    with pytest.raises(DocumentError, match="never closed"):
        document("'''console\n$ true\n")


def test_commands_outputs_and_exit_codes() -> None:
    (block,) = document("'''console\n$ one \\\n  two   # exit code 3\nout\n\n$ three\n'''\n")
    first, second = parse_commands(block)
    assert (first.text, first.exit_code, first.expected) == (
        "one \\\n  two   # exit code 3",
        3,
        ("out",),
    )
    assert (second.text, second.exit_code, second.expected, second.line) == ("three", 0, (), 6)


# --- running --------------------------------------------------------------------------------


def test_a_console_example_passes_when_it_prints_what_it_shows(tmp_path: Path) -> None:
    session = run(
        "'''console\n$ mkdir a && cd a\n$ pwd\n/home/you/a\n$ false  # exit code 1\n'''\n", tmp_path
    )
    assert session.counts == {"command": 3}
    assert session.cwd == tmp_path / "a"


@pytest.mark.parametrize(
    "example",
    [
        "'''console\n$ echo hello\ngoodbye\n'''\n",
        "'''console\n$ false\n'''\n",
        "'''console\n$ true  # exit code 1\n'''\n",
        "'''console\n$ statemgr status nothere\n'''\n",
        "'''python\nassert 1 == 2\n'''\n",
        "'''pycon\n>>> 1 + 1\n3\n'''\n",
        "'''toml\n[environment]\nname = \"Web\"\n'''\n",
        "'''toml\n[[provision.steps]]\nname = \"x\"\nrn = \"true\"\n'''\n",
        "'''json\n{\"a\": }\n'''\n",
        "'''mermaid\nstateDiagram-v2\n'''\n",
        "<!-- file: web.toml, same as docs/examples/web.toml -->\n'''toml\n[environment]\n'''\n",
    ],
)
def test_a_wrong_example_fails(example: str, tmp_path: Path) -> None:
    with pytest.raises(ExampleFailed):
        run(example, tmp_path)


@pytest.mark.parametrize("language", ["sh", "bash", "", "yaml"])
def test_a_block_that_nothing_checks_is_refused(language: str, tmp_path: Path) -> None:
    with pytest.raises(DocumentError):
        run(f"'''{language}\nrm -rf /\n'''\n", tmp_path)


def test_the_full_disk_simulation_makes_saves_fail(tmp_path: Path) -> None:
    example = (
        "'''console\n$ printf '[environment]\\nname = \"web\"\\n' > web.toml\n'''\n"
        "<!-- simulate: full-disk -->\n"
        "'''console\n$ statemgr create web.toml  # exit code 7\n...\n"
        "statemgr: error: cannot write data/web/history.jsonl: No space left on device<...>\n...\n"
        "'''\n"
    )
    run(example, tmp_path)
