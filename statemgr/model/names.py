"""The environment name: the one rule every name obeys, said when a name is refused."""

from __future__ import annotations

import re

from statemgr.errors import InvalidName

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
MAX_NAME_LENGTH = 63


def _reason(value: str) -> str | None:
    if not value:
        return "it is empty"
    if len(value) > MAX_NAME_LENGTH:
        return f"it is {len(value)} characters long, more than {MAX_NAME_LENGTH}"
    if "/" in value or "\\" in value:
        return "it contains a path separator"
    if "." in value:
        return "it contains a dot"
    if any(c.isupper() for c in value):
        return "it contains upper-case letters"
    if value[0].isdigit():
        return "it starts with a digit"
    if "--" in value:
        return "it contains a double dash"
    if value.startswith("-") or value.endswith("-"):
        return "it starts or ends with a dash"
    if not NAME_PATTERN.fullmatch(value):
        bad = sorted({c for c in value if not (c.isascii() and (c.isalnum() or c == "-"))})
        if bad:
            return "it contains characters other than a-z, 0-9 and '-': " + " ".join(
                repr(c) for c in bad
            )
        return "it does not match the pattern"
    return None


class EnvironmentName(str):
    """A validated environment name; safe to use as a folder name."""

    __slots__ = ()

    def __new__(cls, value: str) -> EnvironmentName:
        if isinstance(value, EnvironmentName):
            return value
        if not isinstance(value, str):
            raise InvalidName(repr(value), f"expected a string, got {type(value).__name__}")
        if len(value) > MAX_NAME_LENGTH or not NAME_PATTERN.fullmatch(value):
            raise InvalidName(value, _reason(value) or "it does not match the pattern")
        return super().__new__(cls, value)


def check_name(value: str) -> EnvironmentName:
    """``EnvironmentName(value)``, spelled as a function for readability at call sites."""
    return EnvironmentName(value)
