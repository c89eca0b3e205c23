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
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.preconf.json import make_converter
from cattrs.v import format_exception

from statemgr.errors import InvalidName, NewerSchema, StateFileUnreadable
from statemgr.model import (
    SCHEMA_VERSION,
    EnvironmentName,
    Snapshot,
    SnapshotSummary,
    Step,
    Transition,
)
from statemgr.model.listed import (
    REQUIRED_KEYS,
    SNAPSHOT_KEYS,
    ListedFields,
    NamePart,
    StatePart,
    picked,
)
from statemgr.model.values import (
    ENUM_WORDS,
    aware_datetime,
    enum_member,
    environment_name,
    step_run,
    strict_float,
    strict_int,
    strict_str,
    uuid_from_text,
)

Document = dict[str, Any]
Migration = Callable[[Document], Document]


def _adds_defaulted_fields(document: Document) -> Document:
    """A migration for a version that only added fields with defaults (the structure hooks
    fill them in): the document is read as it is."""
    return document


# The schema version that moved the history out of state.json (into history.jsonl).
HISTORY_MOVED_OUT = 4


def _history_moves_out(document: Document) -> Document:
    """State.json keeps its latest transition, which records the revision that wrote it
    (for a transition of an older file: that file's revision, the latest it is known at).

    Document to document: the file store moves the rest of the history into history.jsonl
    itself, on the next write (``legacy_history``).
    """
    history = document.pop("history", None)
    if isinstance(history, list) and history and isinstance(history[-1], dict):
        document["latest"] = {**history[-1], "revision": document.get("revision")}
    return document


def _state_since_from_latest(document: Document) -> Document:
    """``state.since``, when the environment entered its state: an older file knows only
    its latest transition's time, which is what ``status`` showed as "since" then."""
    state, latest = document.get("state"), document.get("latest")
    if isinstance(state, dict) and isinstance(latest, dict) and "at" in latest:
        state.setdefault("since", latest["at"])
    return document


# MIGRATIONS[n] turns a version-n document into a version-(n + 1) document.
MIGRATIONS: dict[int, Migration] = {
    # 2: failure.completed_steps and operation.completed_steps (what --resume skips), and
    # history entries' vars (a command's --var values).
    1: _adds_defaulted_fields,
    # 3: the environment's outputs; steps' retries and retry_delay; the check steps
    # (environment.phases.check) and failure phase "check".
    2: _adds_defaulted_fields,
    # 4: the history moves to history.jsonl; state.json keeps its latest transition.
    3: _history_moves_out,
    # 5: environment.config_hash (the config as create or update read it).
    4: _adds_defaulted_fields,
    # 6: state.since (when the environment entered its state; an update leaves it).
    5: _state_since_from_latest,
}


def _describe(exception: BaseException, expected: type | None) -> str:
    """Our hooks' messages as they are; cattrs' own wording for the rest."""
    if type(exception) in (ValueError, TypeError) or isinstance(exception, InvalidName):
        return str(exception)
    return format_exception(exception, expected)


def _make_converter() -> cattrs.Converter:
    converter = make_converter(forbid_extra_keys=True)
    converter.register_structure_hook(str, strict_str)
    converter.register_structure_hook(int, strict_int)
    converter.register_structure_hook(float, strict_float)
    converter.register_structure_hook(datetime, aware_datetime)
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_structure_hook(uuid.UUID, uuid_from_text)
    converter.register_unstructure_hook(uuid.UUID, str)
    for enum_type in ENUM_WORDS:
        converter.register_structure_hook(enum_type, enum_member)
    converter.register_structure_hook(EnvironmentName, environment_name)
    converter.register_unstructure_hook(EnvironmentName, str)
    run_type = tuple[str, ...] | str | None
    converter.register_structure_hook_func(lambda t: t == run_type, step_run)
    converter.register_unstructure_hook_func(
        lambda t: t == run_type, lambda v: list(v) if isinstance(v, tuple) else v
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
        Transition,
        make_dict_unstructure_fn(
            Transition, converter, from_state=from_key, vars=override(omit_if_default=True)
        ),
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

    orjson writes them (the same bytes as ``json.dumps(indent=2, ensure_ascii=False)``,
    but for a float it writes in exponent form the other way, ``0.00001`` for ``1e-05``:
    the same number); json writes what orjson refuses.
    A lone surrogate (say, from a file name decoded with surrogateescape in a step's error
    message) cannot be UTF-8: it is written as its JSON escape (``\\udcff``), which reads back
    as the same string.
    """
    document = to_document(snapshot)
    try:
        import orjson  # 40 times faster than json's pure-Python indenting encoder
    except ImportError:  # pragma: no cover - a dependency, but json does the same
        pass
    else:
        try:
            return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # orjson.JSONEncodeError: a lone surrogate, an int over 64 bits
            pass
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return text.encode("utf-8", errors="backslashreplace")


def migrate(document: Document, source: str, up_to: int | None = None) -> Document:
    """Bring a document of an older schema version up to ``SCHEMA_VERSION`` (or ``up_to``)."""
    version = document.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise StateFileUnreadable(
            source,
            [f"schema_version must be a positive integer @ $.schema_version, got {version!r}"],
        )
    if version > SCHEMA_VERSION:
        raise NewerSchema(source, found=version, supported=SCHEMA_VERSION)
    while version < (SCHEMA_VERSION if up_to is None else up_to):
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
    version = document.get("schema_version")
    if isinstance(version, int) and not isinstance(version, bool) and version < HISTORY_MOVED_OUT:
        document = migrate(document, source, up_to=HISTORY_MOVED_OUT - 1)
        # An older file's history is checked as it always was, then moved out of it.
        _structured(document.get("history", []), tuple[Transition, ...], source, "$.history")
    return _structured(migrate(document, source), Snapshot, source, "$")


_T = TypeVar("_T")


def _structured(document: object, kind: type[_T], source: str, path: str) -> _T:
    """``document`` structured as ``kind``; every problem in one ``StateFileUnreadable``."""
    try:
        found: _T = _converter.structure(document, kind)
    except cattrs.BaseValidationError as invalid:
        problems = cattrs.transform_error(invalid, path=path, format_exception=_describe)
        raise StateFileUnreadable(source, problems) from None
    except (ValueError, TypeError, KeyError, AttributeError) as invalid:
        raise StateFileUnreadable(source, [f"{type(invalid).__name__}: {invalid}"]) from None
    return found


def legacy_history(document: object, source: str) -> tuple[Transition, ...] | None:
    """The history held in a state document older than ``HISTORY_MOVED_OUT``, oldest
    first, each transition with the document's revision; None for a newer document (its
    history is in history.jsonl). Checked as strictly as the rest of a state file."""
    if not isinstance(document, dict):
        return None
    version = document.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        return None
    if version >= HISTORY_MOVED_OUT:
        return None
    older = migrate(document, source, up_to=HISTORY_MOVED_OUT - 1)
    history = _structured(older.get("history", []), tuple[Transition, ...], source, "$.history")
    revision = older.get("revision")
    known = revision if isinstance(revision, int) and not isinstance(revision, bool) else None
    return tuple(attrs.evolve(line, revision=known) for line in history)


def transition_line(line: Transition) -> bytes:
    """A line of history.jsonl: ``line`` as one JSON object (the keys of state.json's
    ``latest``), UTF-8, ending in a newline."""
    document = _converter.unstructure(line)
    try:
        import orjson
    except ImportError:  # pragma: no cover - a dependency, but json does the same
        pass
    else:
        try:
            return orjson.dumps(document, option=orjson.OPT_APPEND_NEWLINE)
        except TypeError:  # a lone surrogate, an int over 64 bits: json writes those
            pass
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
    return text.encode("utf-8", errors="backslashreplace")


def transition_from_document(document: object, source: str) -> Transition:
    """A transition from a parsed line of history; every problem in a ``StateFileUnreadable``."""
    return _structured(document, Transition, source, "$")


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


for _part in (NamePart, StatePart):
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
        f"required field missing @ $.{key}" for key in sorted(REQUIRED_KEYS - current.keys())
    ]
    extra = sorted(current.keys() - SNAPSHOT_KEYS)
    if extra:
        problems.append(f"extra fields found ({', '.join(extra)}) @ $")
    if problems:
        raise StateFileUnreadable(source, problems)
    try:
        fields: ListedFields = _converter.structure(picked(current), ListedFields)
    except cattrs.BaseValidationError as invalid:
        found = cattrs.transform_error(invalid, path="$", format_exception=_describe)
        raise StateFileUnreadable(source, found) from None
    return fields.summary()
