"""The fields of a state file that ``list`` shows, in the file's own shape.

``list`` reads these (and the file's top-level keys) instead of structuring whole snapshots:
``statemgr.serialization.summary`` through the converter, and the generated reader
(``statemgr.store.reader``) through functions generated from that converter.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import attrs

from machines.names import StateName
from statemgr.model.behaviour import ListedMethods
from statemgr.model.names import EnvironmentName
from statemgr.model.snapshot import Operation, Snapshot


@attrs.frozen
class NamePart:
    """``environment`` as ``list`` reads it: its name (the other keys are not read)."""

    name: EnvironmentName


@attrs.frozen
class StatePart:
    """``state`` as ``list`` reads it: its name (the failure is not read)."""

    name: StateName


@attrs.frozen
class ListedFields(ListedMethods):
    """The fields of a state file that ``list`` shows."""

    lineage: uuid.UUID
    revision: int
    environment: NamePart
    state: StatePart
    updated_at: datetime
    operation: Operation | None


SNAPSHOT_KEYS = frozenset(field.name for field in attrs.fields(Snapshot))
REQUIRED_KEYS = frozenset(
    field.name for field in attrs.fields(Snapshot) if field.default is attrs.NOTHING
)
LISTED_KEYS = tuple(field.name for field in attrs.fields(ListedFields))


def picked(document: dict[str, object]) -> dict[str, object]:
    """The listed fields of a (current-schema) document; a missing one is None."""
    return {key: document.get(key) for key in LISTED_KEYS}
