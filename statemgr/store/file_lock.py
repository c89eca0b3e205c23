"""The file store's held lock: the flock on data/NAME/state.lock, and the writes that go
through it (``statemgr.store.EnvironmentLock``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from statemgr.errors import StatemgrError, StorageError, UnsafePath
from statemgr.model import Snapshot, Transition
from statemgr.store.base import LockHolder, OpenedTrace
from statemgr.store.locking import HeldLock
from statemgr.store.traces import new_trace_file, write_copied_trace

if TYPE_CHECKING:
    from statemgr.store.file import FileStore, OnDisk


@attrs.define
class FileLock:
    """A lock this process holds on one environment of a ``FileStore``.

    It remembers what state.json held when it last read or wrote it (``known``): while the
    file still holds exactly those bytes, a save checks the revision without parsing it.
    """

    store: FileStore
    held: HeldLock
    known: OnDisk | None = None

    @property
    def name(self) -> str:
        return self.held.name

    @property
    def holder(self) -> LockHolder:
        return self.held.holder

    @property
    def path(self) -> Path:
        """The lock file."""
        return self.held.path

    def load(self) -> Snapshot:
        from statemgr.store.file_write import load_held

        snapshot, self.known = load_held(self.store, self.name)
        return snapshot

    def create(self, snapshot: Snapshot) -> Snapshot:
        self._check(snapshot)
        written, self.known = self.store.create_known(snapshot)
        return written

    def save(self, snapshot: Snapshot) -> Snapshot:
        self._check(snapshot)
        written, self.known = self.store.save_known(snapshot, self.known)
        return written

    def delete(self) -> None:
        self.store.delete(self.name)

    def import_snapshot(self, snapshot: Snapshot, history: tuple[Transition, ...]) -> Snapshot:
        self._check(snapshot)
        written, self.known = self.store.write_new(snapshot, history)
        return written

    def import_trace(self, run: str, command: str, data: bytes) -> None:
        layout = self.store.layout
        folder = layout.traces_dir(self.name)
        try:
            write_copied_trace(folder, run, command, data)
        except OSError as error:
            where = layout.relative(folder)
            raise StorageError(where, "copy a trace into", error, env=self.name) from None

    def open_trace(self, command: str) -> OpenedTrace:
        layout = self.store.layout
        folder = layout.traces_dir(self.name)
        try:
            path = new_trace_file(folder, command, layout.relative(folder))
        except UnsafePath as unsafe:  # a link at traces/: its own message and fix
            unsafe.env = self.name
            raise
        except OSError as error:
            where = layout.relative(folder)
            raise StorageError(where, "create a trace file in", error, env=self.name) from None
        return OpenedTrace(path=path, name=layout.relative(path))

    def watch(self, on_lost: Callable[[StatemgrError], None]) -> None:
        """A flock is lost only with its process: nothing to watch."""

    def _check(self, snapshot: Snapshot) -> None:
        if snapshot.environment.name != self.name:
            raise ValueError(
                f"the lock of '{self.name}' cannot write '{snapshot.environment.name}'"
            )
