"""The file store: one folder per environment under data/, as the contract lays it out.

    data/NAME/state.json   the snapshot, replaced atomically (see ``statemgr.store.atomic``)
    data/NAME/state.lock   the command lock, with the holder's record inside

Every write holds a flock on data/NAME itself (``folder_guard``) from checking the revision
on disk until the new file is in place, so no update is lost even by a writer that skipped
the command lock. Readers take no lock at all.

Paths are used as ``statemgr.safe_paths`` says: data/ and data/NAME must be real folders
(for every state-changing command: ours, and writable by nobody else), state.json and
state.lock regular files, never followed through a link, never a FIFO a reader could
hang on. An unsafe state.json reads as unreadable (exit 6), any other unsafe path is a
``StorageError`` (``UnsafePath``, exit 7).

This module is the reading half. The writes (``create``, ``save``, ``delete``, ``lock``)
live in ``statemgr.store.file_write``, which the methods here call. The read path
(``exists``, ``load``, ``names``, ``list``, ``holder``) imports neither portalocker, loguru
nor cattrs (it reads through ``statemgr.store.reader``); ``lock`` and the writes import
them when they are called.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import stat
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from statemgr.errors import (
    EnvironmentNotFound,
    InvalidName,
    RevisionConflict,
    StateFileUnreadable,
    StorageError,
    UnsafePath,
)
from statemgr.layout import Layout
from statemgr.model.behaviour import SnapshotSummary
from statemgr.model.names import EnvironmentName
from statemgr.safe_paths import MAX_STATE_BYTES, check_folder, read_file
from statemgr.store.base import TRACE_CHUNK, Listing, LockHolder, recorded
from statemgr.store.holders import live_holder, read_proc_locks
from statemgr.store.reader import Kinds, kinds_for, loads, summary


class OnDisk(NamedTuple):
    """What a writer knows state.json holds: the bytes it read or last wrote there, and
    the revision and lineage in them. A save that finds exactly these bytes on disk knows
    the revision and lineage without parsing the file again."""

    data: bytes
    revision: int
    lineage: uuid.UUID

    @classmethod
    def of(cls, snapshot: Snapshot, data: bytes) -> OnDisk:
        return cls(data, snapshot.revision, snapshot.lineage)


class LineageConflict(RevisionConflict):
    """A save onto an environment that was purged and created again since it was loaded."""

    def __init__(self, env: str, expected: uuid.UUID, found: uuid.UUID, revision: int) -> None:
        super().__init__(env, revision, revision)
        self.expected_lineage = expected
        self.found_lineage = found
        self.message = (
            f"environment '{env}' changed under this command: the state on disk has lineage "
            f"{found}, not {expected} as loaded (it was removed and created again); "
            f"nothing was written"
        )
        self.args = (self.message,)


if TYPE_CHECKING:
    from statemgr.model import Snapshot, Transition
    from statemgr.model.traces import TraceRun
    from statemgr.store.file_lock import FileLock

_Read = TypeVar("_Read", "Snapshot", SnapshotSummary)


def _checked(name: str) -> EnvironmentName:
    return EnvironmentName(name)


def _name_or_none(text: str) -> EnvironmentName | None:
    try:
        return EnvironmentName(text)
    except InvalidName:
        return None


class FileStore:
    """Snapshots in files under ``layout.data_root``; implements ``statemgr.store.Store``."""

    def __init__(self, layout: Layout, *, views: bool = False) -> None:
        """``views``: read snapshots into read-only views, as the reading commands do (they
        never import attrs; see ``statemgr.store.reader``); else into the attrs classes."""
        self.layout = layout
        self.views = views
        # What this store last wrote or read through a held lock, per environment: the
        # bytes of state.json and their snapshot (``file_write.load_held``).
        self.seen: dict[str, tuple[OnDisk, Snapshot]] = {}

    def __repr__(self) -> str:
        return f"FileStore({str(self.layout.root)!r})"

    # --- reading -----------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        """Whether data/NAME/state.json is there; anything but a regular file there (a FIFO,
        a link) is refused as an unreadable state, a link at data/ or data/NAME as unsafe."""
        checked = _checked(name)
        path = self.layout.state_file(checked)
        try:
            self._check_folders(checked)
            status = os.lstat(path)
        except FileNotFoundError:
            return False
        except UnsafePath as unsafe:
            unsafe.env = checked
            raise
        except OSError as error:
            raise StorageError(self._shown(path), "read", error, env=checked) from None
        if not stat.S_ISREG(status.st_mode):
            self._read(checked, path)  # raises StateFileUnreadable naming what is there
        return True

    def load(self, name: str) -> Snapshot:
        return self.load_known(name)[0]

    def load_known(self, name: str) -> tuple[Snapshot, OnDisk]:
        """The snapshot, and what state.json held (for the next ``save``'s check)."""
        checked = _checked(name)
        path = self.layout.state_file(checked)
        data = self._read(checked, path)
        snapshot = self._parse(checked, path, data)
        return snapshot, OnDisk.of(snapshot, data)

    def history(self, name: str) -> tuple[Transition, ...]:
        """state.json first (its revision, and an older file's own history), then
        history.jsonl up to that revision."""
        from statemgr.store.history_file import history_of

        checked = _checked(name)
        path = self.layout.state_file(checked)
        data = self._read(checked, path)
        snapshot = self._parse(checked, path, data)
        return history_of(self.layout, checked, data, snapshot.revision, kinds_for(self.views))

    def names(self) -> builtins.list[str]:
        return [name for name in self._folders() if self.layout.state_file(name).is_file()]

    def list(self) -> list[Listing]:
        """Every environment's summary, and whether a live command holds it
        (``statemgr.store.file_list``)."""
        from statemgr.store.file_list import list_environments

        return list_environments(self)

    def kernel_locks(self) -> str | None:
        """The kernel's list of locks now (``holders.read_proc_locks``)."""
        return read_proc_locks()

    def holder(self, name: str) -> LockHolder | None:
        return live_holder(self.layout.lock_file(_checked(name)))

    def runs(self, name: str) -> builtins.list[TraceRun]:
        from statemgr.store.traces import list_runs  # not needed by status and list

        return list_runs(self.layout, _checked(name))

    def read_trace(self, name: str, run: str, offset: int = 0, limit: int = TRACE_CHUNK) -> bytes:
        from statemgr.store.traces import read_trace

        return read_trace(self.layout, _checked(name), run, offset, limit)

    # --- writing (through ``FileLock``, the held lock): ``statemgr.store.file_write`` ---

    def create(self, snapshot: Snapshot) -> Snapshot:
        return self.create_known(snapshot)[0]

    def create_known(self, snapshot: Snapshot) -> tuple[Snapshot, OnDisk]:
        """``create``, and what state.json now holds (for the next ``save``'s check)."""
        written = recorded(snapshot, 1)
        return self.write_new(written, (written.latest,))

    def write_new(
        self, written: Snapshot, history: tuple[Transition, ...]
    ) -> tuple[Snapshot, OnDisk]:
        """Store ``written`` as it is (revision, lineage, times) as a new environment, with
        its ``history``; what was written, and what state.json now holds."""
        from statemgr.store import file_write

        return file_write.write_new(self, written, history)

    def save(self, snapshot: Snapshot) -> Snapshot:
        return self.save_known(snapshot)[0]

    def save_known(
        self, snapshot: Snapshot, known: OnDisk | None = None
    ) -> tuple[Snapshot, OnDisk]:
        """``save``; ``known`` is what the writer read or last wrote there: when the disk
        holds exactly that, the revision and lineage check needs no parsing. Returns what
        was written, and what state.json now holds."""
        from statemgr.store import file_write

        return file_write.save_known(self, snapshot, known)

    def delete(self, name: str) -> None:
        """Remove data/NAME. The state goes last but one step: a failure before it leaves
        the environment whole (purge can run again); after it, only the folder is left."""
        from statemgr.store import file_write

        file_write.delete(self, name)

    def lock(
        self, name: str, command: str, timeout: float = 0.0, *, create: bool = False
    ) -> contextlib.AbstractContextManager[FileLock]:
        """Hold the environment's command lock for a ``with`` block (``FileLock``)."""
        from statemgr.store import file_write

        return file_write.lock(self, name, command, timeout, create=create)

    # --- helpers -----------------------------------------------------------------------

    def _shown(self, path: Path | str) -> str:
        return self.layout.relative(path)

    def _check_folders(
        self, name: EnvironmentName, *, owned: bool = False, root_checked: bool = False
    ) -> None:
        """data/ and data/NAME are real folders (with ``owned``: ours and private);
        ``root_checked``: data/ was checked already (``list`` checks it once for all).

        ``FileNotFoundError`` when one is missing; ``UnsafePath`` when one is unsafe.
        """
        if not root_checked:
            check_folder(self.layout.data_root, "data/", owned=owned)
        check_folder(self.layout.data_dir(name), f"data/{name}/", owned=owned)

    def _folders(self) -> builtins.list[EnvironmentName]:
        """Sorted names under data/ that are valid environment names: the folders, and the
        links (``list`` reports those as unsafe rather than hiding them)."""
        return [name for name, _linked in self._entries()]

    def _entries(self) -> builtins.list[tuple[EnvironmentName, bool]]:
        """``_folders``, each with whether it is a link (as the folder listing says)."""
        root = self.layout.data_root
        try:
            check_folder(root, "data/")
            with os.scandir(root) as entries:
                found = [
                    (e.name, e.is_symlink())
                    for e in entries
                    if e.is_symlink() or e.is_dir(follow_symlinks=False)
                ]
        except FileNotFoundError:
            return []
        except UnsafePath:
            raise
        except OSError as error:
            raise StorageError(self._shown(root), "list", error) from None
        named = ((_name_or_none(text), linked) for text, linked in sorted(found))
        return [(name, linked) for name, linked in named if name is not None]

    def _read(
        self,
        name: EnvironmentName,
        path: Path | str,
        *,
        shown: str | None = None,
        root_checked: bool = False,
        folder_checked: bool = False,
    ) -> bytes:
        """The bytes of a state file: never through a link, never blocking, at most 64 MiB.

        An unsafe data/ or data/NAME is a ``StorageError`` (exit 7); anything but a regular
        file at the state file itself, or one too large, makes it unreadable (exit 6).
        ``root_checked``, ``folder_checked``: data/, or data/ and data/NAME, are known to be
        real folders already (``list`` knows it from the folder listing).
        """
        shown = shown or self._shown(path)
        try:
            if not folder_checked:
                self._check_folders(name, root_checked=root_checked)
            return read_file(path, shown, limit=MAX_STATE_BYTES)
        except FileNotFoundError:
            raise EnvironmentNotFound(name, shown) from None
        except UnsafePath as unsafe:
            if unsafe.path != shown:  # a folder on the way
                unsafe.env = name
                raise
            raise StateFileUnreadable(shown, [unsafe.problem], env=name) from None
        except OSError as error:
            raise StorageError(shown, "read", error, env=name) from None

    def _parse(self, name: EnvironmentName, path: Path, data: bytes) -> Snapshot:
        snapshot = self._read_as(loads, name, path, data)
        self._check_folder(name, path, snapshot.environment.name)
        return snapshot

    def _summarize(
        self, name: EnvironmentName, path: Path | str, data: bytes, shown: str | None = None
    ) -> SnapshotSummary:
        found = self._read_as(summary, name, path, data, shown)
        self._check_folder(name, path, found.name, shown)
        return found

    def _read_as(
        self,
        reader: Callable[[bytes, str, Kinds], _Read],
        name: EnvironmentName,
        path: Path | str,
        data: bytes,
        shown: str | None = None,
    ) -> _Read:
        try:
            return reader(data, shown or self._shown(path), kinds_for(self.views))
        except StateFileUnreadable as error:
            error.env = name
            raise

    def _check_folder(
        self, name: EnvironmentName, path: Path | str, found: str, shown: str | None = None
    ) -> None:
        if found != name:
            raise StateFileUnreadable(
                shown or self._shown(path),
                [f"environment.name is {found!r}, but the file is in the folder of {name!r}"],
                env=name,
            )
