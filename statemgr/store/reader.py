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

The generated modules are rewritten by ``python -m statemgr.store.reader_codegen``; the
tests fail when they differ from what that command would write.
"""

from __future__ import annotations

import json
from typing import Any

from statemgr.model import SCHEMA_VERSION, Snapshot, SnapshotSummary, Transition
from statemgr.store.reader_generated import structure_snapshot, structure_transition


def _current(document: object) -> dict[str, Any]:
    """``document`` when it is an object of the current schema version; else raise."""
    if type(document) is not dict or document.get("schema_version") != SCHEMA_VERSION:
        raise ValueError("not a document of the current schema version")
    if type(document["schema_version"]) is not int:
        raise TypeError("schema_version is not an integer")
    return document


def fast_snapshot(document: object) -> Snapshot:
    """The snapshot of a current-schema document, through the generated functions only.

    Raises on anything else (any exception: the caller falls back to the converter).
    """
    return structure_snapshot(_current(document))


def fast_summary(document: object) -> SnapshotSummary:
    """What ``list`` shows of a current-schema document, through the generated functions."""
    from statemgr.model.listed import REQUIRED_KEYS, SNAPSHOT_KEYS, picked
    from statemgr.store.reader_listed_generated import structure_listed_fields

    current = _current(document)
    if not REQUIRED_KEYS <= current.keys() <= SNAPSHOT_KEYS:
        raise ValueError("missing or extra top-level keys")
    return structure_listed_fields(picked(current)).summary()


def loads(data: bytes, source: str) -> Snapshot:
    """The snapshot in the bytes of a state file (``serialization.loads``, faster)."""
    try:
        document = json.loads(data)
    except Exception:
        from statemgr.serialization import loads as converter_loads

        return converter_loads(data, source)  # says what is wrong with the JSON
    try:
        return fast_snapshot(document)
    except Exception:
        from statemgr.serialization import from_document

        return from_document(document, source)


def summary(data: bytes, source: str) -> SnapshotSummary:
    """What ``list`` shows of the bytes of a state file (``serialization.summary``, faster)."""
    try:
        return fast_summary(json.loads(data))
    except Exception:
        from statemgr.serialization import summary as converter_summary

        return converter_summary(data, source)


def transition(line: bytes, source: str) -> Transition:
    """The transition in a line of history.jsonl (``serialization`` names what is wrong)."""
    try:
        return structure_transition(json.loads(line))
    except Exception:
        from statemgr.serialization import _parse_json, transition_from_document

        return transition_from_document(_parse_json(line, source), source)
