"""Outputs: the values a step hands to later steps (``{outputs.KEY}``, ``$STATEMGR_OUTPUT_KEY``).

A step writes them to the file named by ``$STATEMGR_OUTPUT``, in the GitHub Actions forms

    KEY=VALUE                 one line
    KEY<<DELIMITER            a multi-line value: the lines up to the one that is
    line one                  exactly DELIMITER, joined by newlines
    line two
    DELIMITER

(empty lines are ignored), or a Python step returns a dict of strings. Keys follow the
var rule (``^[A-Za-z_][A-Za-z0-9_]*$``). A value may not hold a NUL (it could not reach a
later step's environment) nor be over ``MAX_VALUE_BYTES``; an environment's outputs
together may not be over ``MAX_TOTAL_BYTES``. Anything else is an ``OutputProblem``: the
step fails with error kind ``error`` and that message. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from statemgr.model.placeholders import KEY_PATTERN, KEY_RULE

MAX_VALUE_BYTES = 64 * 1024
MAX_TOTAL_BYTES = 1024 * 1024
_SHOWN_CHARS = 80
FORMS = "KEY=VALUE or KEY<<DELIMITER"


class OutputProblem(ValueError):
    """Outputs a step may not hand on; the message says which and why."""


def parse_outputs(data: bytes) -> dict[str, str]:
    """The outputs written in ``data`` (the bytes of a step's ``$STATEMGR_OUTPUT`` file)."""
    lines = _lines(data)
    found: dict[str, str] = {}
    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index]
        index += 1
        if not line.strip():
            continue
        key, delimiter, value = _split(number, line)
        if delimiter is not None:
            body: list[str] = []
            while index < len(lines) and lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            if index == len(lines):
                raise OutputProblem(
                    f"line {number}: {_shown(line)} starts a multi-line value that no line "
                    f"{_shown(delimiter)} ends"
                )
            index += 1
            value = "\n".join(body)
        found[key] = _checked_value(key, value, f"line {number}: ")
    return found


def checked_outputs(returned: object) -> dict[str, str]:
    """A Python step's returned mapping as outputs (``OutputProblem`` when it is not one)."""
    if not isinstance(returned, Mapping):
        raise OutputProblem(
            f"the function returned {type(returned).__name__}: return a dict of strings "
            "(its outputs) or None"
        )
    found: dict[str, str] = {}
    for key, value in returned.items():
        if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
            raise OutputProblem(f"returned output key {key!r} is not a name ({KEY_RULE})")
        if not isinstance(value, str):
            raise OutputProblem(f"returned output {key!r} is {type(value).__name__}, not a string")
        found[key] = _checked_value(key, value, "")
    return found


def merged(current: Mapping[str, str], new: Mapping[str, str]) -> dict[str, str]:
    """``current`` with ``new``'s values (a later value of a KEY replaces the earlier one)."""
    outputs = {**current, **new}
    total = total_bytes(outputs)
    if total > MAX_TOTAL_BYTES:
        raise OutputProblem(
            f"the environment's outputs would take {total} bytes, over the limit of "
            f"{MAX_TOTAL_BYTES} (1 MiB): hand on smaller values, or a path to a file"
        )
    return outputs


def total_bytes(outputs: Mapping[str, str]) -> int:
    """What ``outputs`` weigh: their keys' and values' UTF-8 bytes."""
    return sum(len(_utf8(key)) + len(_utf8(value)) for key, value in outputs.items())


def _lines(data: bytes) -> list[str]:
    lines: list[str] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8").removesuffix("\r"))
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="backslashreplace")
            raise OutputProblem(f"line {number}: {_shown(text)} is not UTF-8 text") from None
    if lines and lines[-1] == "":
        lines.pop()  # the file's last newline
    return lines


def _split(number: int, line: str) -> tuple[str, str | None, str]:
    """(key, delimiter, "") of a ``KEY<<DELIMITER`` line, (key, None, value) of ``KEY=VALUE``."""
    equals, heredoc = line.find("="), line.find("<<")
    if heredoc >= 0 and (equals < 0 or heredoc < equals):
        key, delimiter = line[:heredoc], line[heredoc + 2 :]
        if not delimiter:
            raise OutputProblem(f"line {number}: {_shown(line)} names no delimiter after '<<'")
    elif equals >= 0:
        key, delimiter = line[:equals], None
    else:
        raise OutputProblem(f"line {number}: expected {FORMS}, got {_shown(line)}")
    if not KEY_PATTERN.fullmatch(key):
        raise OutputProblem(
            f"line {number}: {_shown(line)}: the key {key!r} is not a name ({KEY_RULE})"
        )
    return key, delimiter, line[equals + 1 :] if delimiter is None else ""


def _checked_value(key: str, value: str, where: str) -> str:
    if "\0" in value:
        raise OutputProblem(f"{where}output {key!r} holds a NUL byte")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise OutputProblem(f"{where}output {key!r} is not valid text (a lone surrogate)") from None
    if size > MAX_VALUE_BYTES:
        raise OutputProblem(
            f"{where}output {key!r} is {size} bytes, over the limit of {MAX_VALUE_BYTES} "
            "(64 KiB) for one value"
        )
    return value


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


def _shown(text: str) -> str:
    if len(text) > _SHOWN_CHARS:
        text = text[:_SHOWN_CHARS] + "..."
    return repr(text)
