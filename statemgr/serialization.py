"""The JSON form of a snapshot: the one cattrs converter, the schema version, migrations.

This module owns the on-disk format. It is strict: unknown keys, wrong types, unknown
state names and naive datetimes are errors, reported together as one
``StateFileUnreadable`` that lists every bad field path. A file with a newer
``schema_version`` is refused with both versions named; an older one is migrated.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.preconf.json import make_converter
from cattrs.v import format_exception

from statemgr.errors import InvalidName, NewerSchema, StateFileUnreadable
from statemgr.model import (
    SCHEMA_VERSION,
    EnvironmentName,
    ErrorKind,
    Operation,
    Phase,
    Snapshot,
    SnapshotSummary,
    StateName,
    Step,
    Transition,
)

Document = dict[str, Any]
Migration = Callable[[Document], Document]

# MIGRATIONS[n] turns a version-n document into a version-(n + 1) document.
MIGRATIONS: dict[int, Migration] = {}


def _strict_str(value: object, _type: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _strict_int(value: object, _type: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value


def _strict_float(value: object, _type: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _aware_datetime(value: object, _type: object) -> datetime:
    text = _strict_str(value, str)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"time {text!r} has no UTC offset")
    return parsed


def _uuid(value: object, _type: object) -> uuid.UUID:
    return uuid.UUID(_strict_str(value, str))


def _environment_name(value: object, _type: object) -> EnvironmentName:
    return EnvironmentName(_strict_str(value, str))


def _enum_member(value: object, enum_type: type[Enum]) -> Enum:
    text = _strict_str(value, str)
    try:
        return enum_type(text)
    except ValueError:
        known = ", ".join(member.value for member in enum_type)
        raise ValueError(f"unknown {_ENUM_WORDS[enum_type]} {text!r} (known: {known})") from None


_ENUM_WORDS: dict[type[Enum], str] = {
    StateName: "state",
    Phase: "phase",
    ErrorKind: "error kind",
}


def _step_run(value: object, _type: object) -> tuple[str, ...] | str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list) and value and all(isinstance(part, str) for part in value):
        return tuple(value)
    raise TypeError("expected a string or a non-empty list of strings")


def _describe(exception: BaseException, expected: type | None) -> str:
    """Our hooks' messages as they are; cattrs' own wording for the rest."""
    if type(exception) in (ValueError, TypeError) or isinstance(exception, InvalidName):
        return str(exception)
    return format_exception(exception, expected)


def _make_converter() -> cattrs.Converter:
    converter = make_converter(forbid_extra_keys=True)
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(int, _strict_int)
    converter.register_structure_hook(float, _strict_float)
    converter.register_structure_hook(datetime, _aware_datetime)
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_structure_hook(uuid.UUID, _uuid)
    converter.register_unstructure_hook(uuid.UUID, str)
    for enum_type in _ENUM_WORDS:
        converter.register_structure_hook(enum_type, _enum_member)
    converter.register_structure_hook(EnvironmentName, _environment_name)
    converter.register_unstructure_hook(EnvironmentName, str)
    step_run = tuple[str, ...] | str | None
    converter.register_structure_hook_func(lambda t: t == step_run, _step_run)
    converter.register_unstructure_hook_func(
        lambda t: t == step_run, lambda v: list(v) if isinstance(v, tuple) else v
    )
    converter.register_structure_hook(
        Step, make_dict_structure_fn(Step, converter, _cattrs_forbid_extra_keys=True)
    )
    from_key = override(rename="from")
    converter.register_structure_hook(
        Transition,
        make_dict_structure_fn(
            Transition, converter, _cattrs_forbid_extra_keys=True, from_state=from_key
        ),
    )
    converter.register_unstructure_hook(
        Transition, make_dict_unstructure_fn(Transition, converter, from_state=from_key)
    )
    return converter


_converter = _make_converter()


def to_document(snapshot: Snapshot) -> Document:
    """The snapshot as plain JSON-ready data, ``schema_version`` first (what a reader, or a
    person opening the file, needs to know before anything else)."""
    document: Document = _converter.unstructure(snapshot)
    return {"schema_version": document.pop("schema_version"), **document}


def dumps(snapshot: Snapshot) -> bytes:
    """The bytes of state.json for ``snapshot``: UTF-8, indented, ending in a newline.

    A lone surrogate (say, from a file name decoded with surrogateescape in a step's error
    message) cannot be UTF-8: it is written as its JSON escape (``\\udcff``), which reads back
    as the same string.
    """
    text = json.dumps(to_document(snapshot), indent=2, ensure_ascii=False) + "\n"
    return text.encode("utf-8", errors="backslashreplace")


def migrate(document: Document, source: str) -> Document:
    """Bring a document of an older schema version up to ``SCHEMA_VERSION``."""
    version = document.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise StateFileUnreadable(
            source,
            [f"schema_version must be a positive integer @ $.schema_version, got {version!r}"],
        )
    if version > SCHEMA_VERSION:
        raise NewerSchema(source, found=version, supported=SCHEMA_VERSION)
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise StateFileUnreadable(source, [f"no migration from schema_version {version}"])
        document = step(dict(document))
        version += 1
        document["schema_version"] = version
    return document


def from_document(document: object, source: str = "<document>") -> Snapshot:
    """A snapshot from parsed JSON; every problem becomes one ``StateFileUnreadable``."""
    if not isinstance(document, dict):
        raise StateFileUnreadable(
            source, [f"expected a JSON object at the top, got {type(document).__name__}"]
        )
    current = migrate(document, source)
    try:
        snapshot: Snapshot = _converter.structure(current, Snapshot)
    except cattrs.BaseValidationError as invalid:
        problems = cattrs.transform_error(invalid, path="$", format_exception=_describe)
        raise StateFileUnreadable(source, problems) from None
    except (ValueError, TypeError, KeyError, AttributeError) as invalid:
        raise StateFileUnreadable(source, [f"{type(invalid).__name__}: {invalid}"]) from None
    return snapshot


def _parse_json(data: bytes | str, source: str) -> object:
    try:
        return json.loads(data)
    except ValueError as bad:  # JSONDecodeError, UnicodeDecodeError, int digit limit
        raise StateFileUnreadable(source, [f"not valid JSON: {bad}"]) from None
    except RecursionError:
        raise StateFileUnreadable(source, ["not valid JSON: nested too deeply"]) from None


def loads(data: bytes | str, source: str = "<bytes>") -> Snapshot:
    """A snapshot from the bytes of a state file, or ``StateFileUnreadable`` naming ``source``."""
    return from_document(_parse_json(data, source), source)


# --- the summary that `list` reads --------------------------------------------------------


@attrs.frozen
class _NamePart:
    name: EnvironmentName


@attrs.frozen
class _StatePart:
    name: StateName


@attrs.frozen
class _SummaryDocument:
    """The fields of a state file that ``list`` shows, in the file's own shape."""

    lineage: uuid.UUID
    revision: int
    environment: _NamePart
    state: _StatePart
    updated_at: datetime
    operation: Operation | None


_SNAPSHOT_KEYS = frozenset(field.name for field in attrs.fields(Snapshot))
_REQUIRED_KEYS = frozenset(
    field.name for field in attrs.fields(Snapshot) if field.default is attrs.NOTHING
)
_SUMMARY_KEYS = tuple(field.name for field in attrs.fields(_SummaryDocument))
for _part in (_NamePart, _StatePart):
    _converter.register_structure_hook(
        _part, make_dict_structure_fn(_part, _converter, _cattrs_forbid_extra_keys=False)
    )


def summary(data: bytes | str, source: str = "<bytes>") -> SnapshotSummary:
    """The summary of a state file, checked as strictly as ``loads`` checks those fields.

    Reads the JSON, the schema version (a newer one is refused; an older one migrated), the
    top-level keys, and the fields ``list`` shows; it does not structure the history, which
    is what makes listing thousands of environments fast. ``loads`` checks everything.
    """
    document = _parse_json(data, source)
    if not isinstance(document, dict):
        raise StateFileUnreadable(
            source, [f"expected a JSON object at the top, got {type(document).__name__}"]
        )
    current = migrate(document, source)
    problems = [
        f"required field missing @ $.{key}" for key in sorted(_REQUIRED_KEYS - current.keys())
    ]
    extra = sorted(current.keys() - _SNAPSHOT_KEYS)
    if extra:
        problems.append(f"extra fields found ({', '.join(extra)}) @ $")
    if problems:
        raise StateFileUnreadable(source, problems)
    picked = {key: current.get(key) for key in _SUMMARY_KEYS}
    try:
        part: _SummaryDocument = _converter.structure(picked, _SummaryDocument)
    except cattrs.BaseValidationError as invalid:
        found = cattrs.transform_error(invalid, path="$", format_exception=_describe)
        raise StateFileUnreadable(source, found) from None
    return SnapshotSummary(
        name=str(part.environment.name),
        state=part.state.name,
        updated_at=part.updated_at,
        revision=part.revision,
        lineage=part.lineage,
        operation=part.operation,
    )
