"""The store interface the rest of statemgr uses; backends (file, PostgreSQL) implement it."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from statemgr.errors import StatemgrError

if TYPE_CHECKING:  # not imported by status and list (attrs: see statemgr.model.behaviour)
    from statemgr.model import Snapshot, SnapshotSummary, Transition
    from statemgr.model.traces import TraceRun

TRACE_CHUNK = 1 << 20
"""The most ``read_trace`` returns by default (1 MiB): read a long trace in pieces."""


def recorded(snapshot: Snapshot, revision: int) -> Snapshot:
    """``snapshot`` as a store writes it at ``revision``. A latest transition that is not in
    the history yet (its revision None) is recorded at that revision: the store appends it
    to the history in the same write. A save that only records progress appends nothing."""
    import attrs  # writers only

    latest = snapshot.latest
    if latest.revision is None:
        latest = attrs.evolve(latest, revision=revision)
    return attrs.evolve(snapshot, revision=revision, latest=latest)


class LockHolder(NamedTuple):
    """Who holds an environment's lock: written by the holder right after acquiring it.

    ``pid`` is None for a holder that wrote no record (another tool's flock): "an unknown
    process".
    """

    pid: int | None
    host: str
    command: str
    since: datetime


class Listing(NamedTuple):
    """One environment in ``list``: its summary, or the error that kept it from being read."""

    name: str
    summary: SnapshotSummary | None
    error: StatemgrError | None = None
    held: bool | None = None  # whether a live command holds it, when the store read that too


class OpenedTrace(NamedTuple):
    """A command run's trace: a new local file the steps append to, and the run's name.

    ``name`` is what ``failure.trace_file`` records and ``logs --run`` accepts.
    """

    path: Path
    name: str


class EnvironmentLock(Protocol):
    """A held lock, and every write to its environment: writes go through the lock that
    holds it (in PostgreSQL, the very session that holds it). Released when the ``with``
    block of ``Store.lock`` ends; unusable after that.
    """

    @property
    def name(self) -> str: ...

    @property
    def holder(self) -> LockHolder: ...

    def load(self) -> Snapshot:
        """The environment's snapshot as last saved."""
        ...

    def create(self, snapshot: Snapshot) -> Snapshot:
        """Store the environment's first snapshot at revision 1 and return it.

        Refused with ``EnvironmentExists`` when the name already has a state.
        """
        ...

    def save(self, snapshot: Snapshot) -> Snapshot:
        """Store ``snapshot`` as revision ``snapshot.revision + 1`` and return what was written.

        ``snapshot.revision`` is the revision the writer loaded; when the stored revision (or
        lineage) is another one, nothing is written and ``RevisionConflict`` is raised.
        """
        ...

    def delete(self) -> None:
        """Remove the environment's data (state, history, traces)."""
        ...

    def import_snapshot(self, snapshot: Snapshot, history: tuple[Transition, ...]) -> Snapshot:
        """Store a new environment's ``snapshot`` as it is (revision, lineage, times) and
        its ``history`` (oldest first, ``snapshot.latest`` last): ``store copy``.
        ``EnvironmentExists`` when the name has a state."""
        ...

    def import_trace(self, run: str, command: str, data: bytes) -> None:
        """Store the whole trace ``data`` of a run under its name ``run`` (``store copy``)."""
        ...

    def open_trace(self, command: str) -> OpenedTrace:
        """A new trace for a run of ``command`` (``StorageError`` when it cannot be made)."""
        ...

    def watch(self, on_lost: Callable[[StatemgrError], None]) -> None:
        """Call ``on_lost`` with the error to raise (from another thread) if the lock is
        lost while held; a no-op where a lock is lost only with its process."""
        ...


class Store(Protocol):
    """Durable snapshots of environments, one per name: the readers, and the lock through
    which every write goes (``EnvironmentLock``).

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

    def history(self, name: str) -> tuple[Transition, ...]:
        """Every transition of the environment, oldest first."""
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

    # --- traces (read by ``statemgr logs``; never wait, never disturb a writer) ---------

    def runs(self, name: str) -> builtins.list[TraceRun]:
        """The traced command runs of the environment, oldest first.

        ``EnvironmentNotFound`` when the environment has no state.
        """
        ...

    def read_trace(self, name: str, run: str, offset: int = 0, limit: int = TRACE_CHUNK) -> bytes:
        """At most ``limit`` bytes of the trace of ``run`` (a ``TraceRun.run``, or the
        ``trace_file`` of a failure), from byte ``offset``; empty at its current end.

        ``TraceNotFound`` when the environment has no such run.
        """
        ...
