"""Reading state files fast: structure functions generated from the converter, with the
converter itself as the fallback.

``reader_generated`` holds, as plain Python, what the one converter
(``statemgr.serialization``) does to read each class: the same value checks
(``statemgr.model.values``), the same keys, and the same attrs classes, whose checks run
on every read. It imports no cattrs, which is most of what makes ``status`` and ``list``
start fast.

The fast path decides nothing on its own. It takes a document of the current schema
version and refuses anything unusual by raising; then the converter reads the document
as it always did: it migrates an older schema, refuses a newer one, or names every bad
field in a ``StateFileUnreadable``. When the fast path returns, the converter would have
returned the same object (``tests/store/test_reader.py``).

Each generated function builds the classes of a namespace it is given: the attrs classes
(``MODEL``, what the library hands out and the writers change), or their read-only views
(``VIEWS``: ``statemgr.model.views_generated``, which the reading commands read into, so
that they never import attrs; see ``statemgr.model.behaviour``). A fallback to the
converter gives the attrs classes either way: they have the views' every field and method.

The generated modules are rewritten by ``python -m statemgr.store.reader_codegen``; the
tests fail when they differ from what that command would write.
"""

from __future__ import annotations

import importlib
import json
from functools import cache
from types import ModuleType, SimpleNamespace
from typing import TYPE_CHECKING, Any

from statemgr.model.behaviour import SCHEMA_VERSION
from statemgr.store.reader_generated import structure_snapshot, structure_transition

if TYPE_CHECKING:
    from statemgr.model import Snapshot, SnapshotSummary, Transition

Kinds = ModuleType | SimpleNamespace
# The attrs classes of the model, by name (imported on first use).
_MODEL_KINDS = {
    "statemgr.model.snapshot": ("Snapshot", "Transition", "State", "Operation", "Failure"),
    "statemgr.model.environment": ("Environment", "Phases", "SshCredentials", "Step"),
    "statemgr.model.listed": ("ListedFields", "NamePart", "StatePart"),
}


@cache
def model_kinds() -> SimpleNamespace:
    """The attrs classes of the model, by name (imported on first use)."""
    found = {
        name: getattr(importlib.import_module(module), name)
        for module, names in _MODEL_KINDS.items()
        for name in names
    }
    return SimpleNamespace(**found)


def view_kinds() -> ModuleType:
    """The read-only views of those classes (``statemgr.model.views_generated``)."""
    from statemgr.model import views_generated

    return views_generated


def kinds_for(views: bool) -> Kinds:
    return view_kinds() if views else model_kinds()


def _current(document: object) -> dict[str, Any]:
    """``document`` when it is an object of the current schema version; else raise."""
    if type(document) is not dict or document.get("schema_version") != SCHEMA_VERSION:
        raise ValueError("not a document of the current schema version")
    if type(document["schema_version"]) is not int:
        raise TypeError("schema_version is not an integer")
    return document


def fast_snapshot(document: object, kinds: Kinds | None = None) -> Snapshot:
    """The snapshot of a current-schema document, through the generated functions only.

    Raises on anything else (any exception: the caller falls back to the converter).
    """
    return structure_snapshot(_current(document), kinds or model_kinds())


def fast_summary(document: object, kinds: Kinds | None = None) -> SnapshotSummary:
    """What ``list`` shows of a current-schema document, through the generated functions."""
    from statemgr.store.reader_listed_generated import (
        LISTED_KEYS,
        REQUIRED_KEYS,
        SNAPSHOT_KEYS,
        structure_listed_fields,
    )

    current = _current(document)
    if not REQUIRED_KEYS <= current.keys() <= SNAPSHOT_KEYS:
        raise ValueError("missing or extra top-level keys")
    picked = {key: current.get(key) for key in LISTED_KEYS}  # a missing one is None
    return structure_listed_fields(picked, kinds or model_kinds()).summary()


def loads(data: bytes, source: str, kinds: Kinds | None = None) -> Snapshot:
    """The snapshot in the bytes of a state file (``serialization.loads``, faster)."""
    try:
        document = json.loads(data)
    except Exception:
        from statemgr.serialization import loads as converter_loads

        return converter_loads(data, source)  # says what is wrong with the JSON
    try:
        return fast_snapshot(document, kinds)
    except Exception:
        from statemgr.serialization import from_document

        return from_document(document, source)


def summary(data: bytes, source: str, kinds: Kinds | None = None) -> SnapshotSummary:
    """What ``list`` shows of the bytes of a state file (``serialization.summary``, faster)."""
    try:
        return fast_summary(json.loads(data), kinds)
    except Exception:
        from statemgr.serialization import summary as converter_summary

        return converter_summary(data, source)


def transition(line: bytes, source: str, kinds: Kinds | None = None) -> Transition:
    """The transition in a line of history.jsonl (``serialization`` names what is wrong)."""
    try:
        return structure_transition(json.loads(line), kinds or model_kinds())
    except Exception:
        from statemgr.serialization import _parse_json, transition_from_document

        return transition_from_document(_parse_json(line, source), source)
