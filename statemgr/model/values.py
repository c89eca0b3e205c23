"""What a valid value in a state file is: the strict structure hooks of the one converter.

``statemgr.serialization`` registers these on its cattrs converter; the generated reader
(``statemgr.store.reader_generated``) calls the very same functions, so the two agree on
every value. This module imports neither attrs nor cattrs.

- a ``str`` field takes a string only (cattrs would turn ``5`` into ``"5"``);
- an ``int`` field an integer, not a bool; a ``float`` field an int or a float, not a bool;
- a time is ISO 8601 with a UTC offset (a naive time is refused);
- an enum member is named by its value, and an unknown one is said with the known ones.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from machines.names import Phase, StateName
from statemgr.model.behaviour import ErrorKind
from statemgr.model.names import EnvironmentName

E = TypeVar("E", bound=Enum)


def strict_str(value: object, _type: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def strict_int(value: object, _type: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def strict_float(value: object, _type: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def aware_datetime(value: object, _type: object) -> datetime:
    text = strict_str(value, str)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return parsed


def uuid_from_text(value: object, _type: object) -> uuid.UUID:
    return uuid.UUID(strict_str(value, str))


def environment_name(value: object, _type: object) -> EnvironmentName:
    return EnvironmentName(strict_str(value, str))


ENUM_WORDS: dict[type[Enum], str] = {
    StateName: "state",
    Phase: "phase",
    ErrorKind: "error kind",
}


def enum_member(value: object, enum_type: type[E]) -> E:
    text = strict_str(value, str)
    try:
        return enum_type(text)
    except ValueError:
        known = ", ".join(member.value for member in enum_type)
        word = ENUM_WORDS[enum_type]
        raise ValueError(f"unknown {word} {text!r} (known: {known})") from None


def step_run(value: object, _type: object) -> tuple[str, ...] | str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(part, str) for part in value):
        return tuple(value)
    raise TypeError("expected a string or a non-empty list of strings")


# --- the shapes JSON gives (used by the generated reader only) ---------------------------


def json_object(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object; the generated reader refuses anything else."""
    if type(value) is not dict:
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


def json_array(value: object) -> list[Any]:
    """``value`` when it is a JSON array; the generated reader refuses anything else."""
    if type(value) is not list:
        raise TypeError(f"expected an array, got {type(value).__name__}")
    return value
