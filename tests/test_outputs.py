"""Outputs as text: the $STATEMGR_OUTPUT forms, what ``statemgr output`` prints, the limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statemgr.cli.render import outputs_text
from statemgr.model.outputs import (
    MAX_TOTAL_BYTES,
    MAX_VALUE_BYTES,
    OutputProblem,
    checked_outputs,
    merged,
    parse_outputs,
)


def test_the_two_forms_empty_lines_and_a_later_value() -> None:
    """Tried: KEY=VALUE, KEY<<DELIM, CRLF line ends, empty lines, a key set twice."""
    data = b"a=1\r\n\nb=x=y\nmotd<<END\nline one\n\nkey=not a key here\nEND\na=2\nempty=\n"
    assert parse_outputs(data) == {
        "a": "2",
        "b": "x=y",
        "motd": "line one\n\nkey=not a key here",
        "empty": "",
    }
    assert parse_outputs(b"") == {}
    assert parse_outputs(b"k<<E\nE\n") == {"k": ""}
    assert parse_outputs(b"k=v") == {"k": "v"}  # no newline at the end


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a=1\nplain text\n", "line 2: expected KEY=VALUE or KEY<<DELIMITER, got 'plain text'"),
        (b"my-key=1\n", "line 1: 'my-key=1': the key 'my-key' is not a name"),
        (b"=1\n", "line 1: '=1': the key '' is not a name"),
        (b"k<<END\nx\n", "line 1: 'k<<END' starts a multi-line value that no line 'END' ends"),
        (b"k<<\n", "line 1: 'k<<' names no delimiter"),
        (b"k=\xff\n", "line 1: 'k=\\\\xff' is not UTF-8 text"),
        (b"k=a\x00b\n", "line 1: output 'k' holds a NUL byte"),
        (b"k=" + b"x" * (MAX_VALUE_BYTES + 1), "line 1: output 'k' is 65537 bytes, over"),
        (b"k=" + b"y" * 200, "expected"),
    ],
    ids=["no-form", "bad-key", "no-key", "unclosed", "no-delimiter", "utf8", "nul", "big", "ok"],
)
def test_malformed_files_say_which_line(data: bytes, message: str) -> None:
    """Tried: each way a file can be wrong (and one long line that is fine)."""
    if message == "expected":
        assert parse_outputs(data) == {"k": "y" * 200}
        return
    with pytest.raises(OutputProblem) as problem:
        parse_outputs(data)
    assert message in str(problem.value)


def test_a_long_line_is_shown_cut() -> None:
    with pytest.raises(OutputProblem) as problem:
        parse_outputs(b"z" * 500)
    assert "'" + "z" * 80 + "...'" in str(problem.value) and len(str(problem.value)) < 200


def test_a_python_steps_dict_and_the_environments_limit() -> None:
    assert checked_outputs({"a": "1"}) == {"a": "1"}
    for bad, why in [
        ({"a": 1}, "'a' is int, not a string"),
        ({1: "a"}, "key 1 is not a name"),
        ({"a b": "c"}, "key 'a b' is not a name"),
        ([("a", "1")], "returned list"),
    ]:
        with pytest.raises(OutputProblem, match=why):
            checked_outputs(bad)
    almost = {f"k{n}": "v" * 60_000 for n in range(17)}
    assert len(merged({}, almost)) == 17
    with pytest.raises(OutputProblem, match=f"over the limit of {MAX_TOTAL_BYTES}"):
        merged(almost, {"more": "v" * 60_000})
    assert merged({"a": "1", "b": "2"}, {"a": "3"}) == {"a": "3", "b": "2"}


keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
values = st.text(st.characters(codec="utf-8", exclude_characters="\0\r"), max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, values, max_size=6))
def test_what_output_prints_reads_back_as_the_same_outputs(outputs: dict[str, str]) -> None:
    """Tried: random outputs (multi-line ones, and lines that are "EOF"), printed as
    ``statemgr output`` prints them, then read as a $STATEMGR_OUTPUT file."""
    assert parse_outputs(outputs_text(outputs).encode()) == outputs
