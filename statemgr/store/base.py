"""The store interface the rest of statemgr uses; backends (file, later PostgreSQL) implement it."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

import attrs

from statemgr.errors import StatemgrError
from statemgr.model import Snapshot, SnapshotSummary


@attrs.frozen
class LockHolder:
    """Who holds an environment's lock: written by the holder right after acquiring it."""

    pid: int
    host: str
    command: str
    since: datetime


@attrs.frozen
class Listing:
    """One environment in ``list``: its summary, or the error that kept it from being read."""

    name: str
    summary: SnapshotSummary | None
    error: StatemgrError | None = None


class EnvironmentLock(Protocol):
    """A held lock. Released when the ``with`` block of ``Store.lock`` ends."""

    @property
    def name(self) -> str: ...

    @property
    def holder(self) -> LockHolder: ...


class Store(Protocol):
    """Durable snapshots of environments, one per name.

    Errors (all from ``statemgr.errors``): ``EnvironmentNotFound``, ``EnvironmentExists``,
    ``StateFileUnreadable`` / ``NewerSchema`` (the file is left byte for byte as it was),
    ``RevisionConflict``, ``EnvironmentLocked``, ``StorageError`` (the previous state is
    still intact and readable).
    """

    def exists(self, name: str) -> bool:
        """Whether the environment has a state."""
        ...

    def load(self, name: str) -> Snapshot:
        """The environment's snapshot as last saved."""
        ...

    def create(self, snapshot: Snapshot) -> Snapshot:
        """Store a new environment's first snapshot at revision 1 and return it.

        Refused with ``EnvironmentExists`` when the name already has a state.
        """
        ...

    def save(self, snapshot: Snapshot) -> Snapshot:
        """Store ``snapshot`` as revision ``snapshot.revision + 1`` and return what was written.

        ``snapshot.revision`` is the revision the writer loaded; when the revision on disk is
        another one, nothing is written and ``RevisionConflict`` is raised.
        """
        ...

    def delete(self, name: str) -> None:
        """Remove the environment's data (state, lock, traces)."""
        ...

    def names(self) -> list[str]:
        """The names of all environments, sorted."""
        ...

    def list(self) -> list[Listing]:
        """Every environment, sorted by name; an unreadable one carries its error.

        Each file is read as ``serialization.summary`` reads it (the listed fields, the schema
        version and the top-level shape), not structured whole: ``load`` checks the rest.
        """
        ...

    def lock(
        self, name: str, command: str, timeout: float = 0.0, *, create: bool = False
    ) -> AbstractContextManager[EnvironmentLock]:
        """Hold the environment's lock for a command's whole run.

        ``timeout`` 0 fails at once with ``EnvironmentLocked`` naming the holder; N waits up
        to N seconds. ``create=True`` (for ``create``) makes the environment's folder first;
        otherwise a missing environment raises ``EnvironmentNotFound``.
        """
        ...

    def holder(self, name: str) -> LockHolder | None:
        """The live command holding the lock, or None; never waits and never disturbs a writer."""
        ...
