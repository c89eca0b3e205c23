"""How the config checks collect problems and word them."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any


class Problems:
    """Every problem found so far, each as ``key.path: what was expected``."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, key: str, text: str) -> None:
        self.items.append(f"{key}: {text}")

    def __bool__(self) -> bool:
        return bool(self.items)


def shown(value: object) -> str:
    """A value as the user wrote it in TOML, for "got ..." in messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__} ({value})"


def expected(what: str, value: object) -> str:
    return f"expected {what}, got {shown(value)}"


def join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def unknown_keys(
    table: Mapping[str, object], allowed: Iterable[str], where: str, problems: Problems
) -> None:
    known = tuple(allowed)
    for key in table:
        if key in known:
            continue
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "known keys: " + ", ".join(known)
        problems.add(join(where, key), f"unknown key ({hint})")


def as_table(value: object, where: str, problems: Problems) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    problems.add(where, expected("a table", value))
    return None


def non_empty_string(value: object, where: str, problems: Problems) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    problems.add(where, expected("a non-empty string", value))
    return None
