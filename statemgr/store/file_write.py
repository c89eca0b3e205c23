"""The file store's write half: create, save, delete and the command lock.

``FileStore``'s writing methods call these (``statemgr.store.file`` keeps the reading
half); each takes the store and goes through its reading helpers. Every write of
state.json holds the folder guard (``statemgr.store.atomic.folder_guard``) from checking
the revision on disk until the new file is in place.

This module is imported only by the writes (``FileStore``'s writing methods import it when
they are called): the reading commands never pay for it, nor for what it imports (cattrs,
through the converter; portalocker and loguru are imported when a lock is taken).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from statemgr.errors import (
    EnvironmentExists,
    EnvironmentNotFound,
    RevisionConflict,
    StatemgrError,
    StorageError,
    UnsafePath,
)
from statemgr.model import EnvironmentName, Snapshot
from statemgr.safe_paths import ensure_folder, make_workspace_folder, remove_tree
from statemgr.serialization import dumps, transition_line
from statemgr.store.atomic import (
    folder_guard,
    is_temp_name,
    remove_stale_temps,
    replace_file,
    sync_folder,
)
from statemgr.store.base import recorded
from statemgr.store.file import LineageConflict, OnDisk, _checked
from statemgr.store.file_lock import FileLock
from statemgr.store.history_file import before_save, start_history
from statemgr.store.locking import hold_lock

SEEN_LIMIT = 32  # environments whose last state a store remembers (``load_held``)

if TYPE_CHECKING:
    from statemgr.model import Transition
    from statemgr.store.file import FileStore


def load_held(store: FileStore, name: str) -> tuple[Snapshot, OnDisk]:
    """``FileLock.load``: the snapshot in state.json, and what state.json held.

    When state.json holds byte for byte what this store last wrote or read there, the
    snapshot it wrote or read then is returned again instead of parsing the same bytes
    (a third of a lock-load-save cycle's CPU). That is the same value: reading is a pure
    function of the bytes, a written snapshot reads back equal to itself (the round-trip
    tests), and snapshots are values that nothing changes in place. Any other byte is
    read, checked and structured as ``FileStore.load`` does. The folders and the file
    are checked on every call either way.
    """
    checked = _checked(name)
    path = store.layout.state_file(checked)
    data = store._read(checked, path)
    seen = store.seen.get(checked)
    if seen is not None and seen[0].data == data:
        return seen[1], seen[0]
    snapshot = store._parse(checked, path, data)
    known = OnDisk.of(snapshot, data)
    _remember(store, checked, known, snapshot)
    return snapshot, known


def write_new(
    store: FileStore, written: Snapshot, history: tuple[Transition, ...]
) -> tuple[Snapshot, OnDisk]:
    """Store ``written`` as it is (revision, lineage, times) as a new environment, with
    its ``history``; what was written, and what state.json now holds."""
    layout = store.layout
    name = _checked(written.environment.name)
    folder, target = layout.data_dir(name), layout.state_file(name)
    data = dumps(written)
    with storage_errors(store, name, target, "write"):
        make_folders(store, name)
        with folder_guard(folder) as folder_fd:
            if target.exists():
                raise EnvironmentExists(name)
            remove_stale_temps(folder)
            lines = b"".join(map(transition_line, history))
            start_history(layout, name, lines, folder_fd)
            try:
                replace_file(target, data, folder_fd)
            except BaseException:  # no state: no environment, so no history either
                if not target.exists():
                    with contextlib.suppress(OSError):
                        os.unlink(layout.history_file(name))
                raise
    return _seen(store, written, data)


def save_known(
    store: FileStore, snapshot: Snapshot, known: OnDisk | None = None
) -> tuple[Snapshot, OnDisk]:
    """``FileStore.save``; ``known`` is what the writer read or last wrote there: when the
    disk holds exactly that, the revision and lineage check needs no parsing. Returns what
    was written, and what state.json now holds."""
    layout = store.layout
    name = _checked(snapshot.environment.name)
    folder, target = layout.data_dir(name), layout.state_file(name)
    written = recorded(snapshot, snapshot.revision + 1)
    data = dumps(written)
    appended = written.latest is not snapshot.latest
    line = transition_line(written.latest) if appended else b""
    with storage_errors(store, name, target, "write"):
        try:
            with folder_guard(folder) as folder_fd:
                on_disk = _check_on_disk(store, name, target, snapshot, known)
                remove_stale_temps(folder)
                before_save(layout, name, on_disk, snapshot.revision, line, folder_fd)
                replace_file(target, data, folder_fd)
        except FileNotFoundError:  # the folder or the state went away under us
            raise RevisionConflict(name, snapshot.revision, None) from None
    return _seen(store, written, data)


def delete(store: FileStore, name: str) -> None:
    """Remove data/NAME. The state goes last but one step: a failure before it leaves
    the environment whole (purge can run again); after it, only the folder is left."""
    layout = store.layout
    checked = _checked(name)
    folder = layout.data_dir(checked)
    try:
        store._check_folders(checked, owned=True)
    except FileNotFoundError:
        raise EnvironmentNotFound(checked, store._shown(folder)) from None
    with storage_errors(store, checked, folder, "remove"):
        keep = {
            layout.state_file(checked).name,
            layout.history_file(checked).name,  # goes with the folder, after the state
            layout.lock_file(checked).name,
        }
        _remove_all_but(folder, keep)
        with folder_guard(folder) as folder_fd:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(layout.state_file(checked))
            sync_folder(folder_fd)
        store.seen.pop(checked, None)
        _remove_folder(folder)  # the lock file, and whatever arrived meanwhile


@contextlib.contextmanager
def lock(
    store: FileStore, name: str, command: str, timeout: float = 0.0, *, create: bool = False
) -> Iterator[FileLock]:
    """``FileStore.lock``: hold the environment's command lock (``statemgr.store.locking``)."""
    layout = store.layout
    checked = _checked(name)
    folder, target = layout.data_dir(checked), layout.state_file(checked)
    lock_file = layout.lock_file(checked)
    made: list[bool] = []

    def prepare() -> None:  # every state-changing command passes here, before any write
        if create:
            with storage_errors(store, checked, folder, "create"):
                made.append(make_folders(store, checked))
            return
        try:
            store._check_folders(checked, owned=True)
        except FileNotFoundError:
            raise EnvironmentNotFound(checked, store._shown(target)) from None
        except UnsafePath as unsafe:
            unsafe.env = checked
            raise
        except OSError as error:
            raise StorageError(store._shown(folder), "read", error, env=checked) from None
        _check_state_file(store, checked, target)

    shown = store._shown(lock_file)
    with hold_lock(lock_file, checked, command, timeout, prepare, shown) as held:
        try:
            yield FileLock(store, held)
        finally:
            if any(made) and not target.exists():
                _remove_unused(folder, lock_file)


def _seen(store: FileStore, written: Snapshot, data: bytes) -> tuple[Snapshot, OnDisk]:
    """What was written, and what state.json now holds; remembered for ``load_held``."""
    known = OnDisk.of(written, data)
    _remember(store, written.environment.name, known, written)
    return written, known


def _remember(store: FileStore, name: str, known: OnDisk, snapshot: Snapshot) -> None:
    """Keep what state.json of ``name`` holds, for the environments used last."""
    seen = store.seen
    seen.pop(name, None)
    seen[name] = (known, snapshot)
    if len(seen) > SEEN_LIMIT:  # a process that locks many environments in turn
        del seen[next(iter(seen))]


def make_folders(store: FileStore, name: EnvironmentName) -> bool:
    """Make data/ and data/NAME (0700) where missing, checking both; True when data/NAME
    was made by this call."""
    layout = store.layout
    make_workspace_folder(layout.root)
    root = layout.data_root
    ensure_folder(root, store._shown(root) + "/", owned=True)
    folder = layout.data_dir(name)
    return ensure_folder(folder, store._shown(folder) + "/", owned=True)


@contextlib.contextmanager
def storage_errors(store: FileStore, name: str, path: Path, action: str) -> Iterator[None]:
    """Turn an OSError (ENOSPC, EACCES, EROFS, ...) into ``StorageError`` naming ``path``."""
    try:
        yield
    except StatemgrError:
        raise  # ours, even when also an OSError (EnvironmentExists, EnvironmentLocked)
    except OSError as error:
        kept = action == "write" and not getattr(error, "after_replace", False)
        raise StorageError(store._shown(path), action, error, env=name, state_kept=kept) from error


def _check_state_file(store: FileStore, name: EnvironmentName, target: Path) -> None:
    """``FileStore.exists`` for folders just checked: state.json is there, a regular file
    (anything else there is refused as unreadable, naming what it is)."""
    try:
        status = os.lstat(target)
    except FileNotFoundError:
        raise EnvironmentNotFound(name, store._shown(target)) from None
    except OSError as error:
        raise StorageError(store._shown(target), "read", error, env=name) from None
    if not stat.S_ISREG(status.st_mode):
        store._read(name, target)  # raises StateFileUnreadable naming what is there


def _check_on_disk(
    store: FileStore,
    name: EnvironmentName,
    target: Path,
    snapshot: Snapshot,
    known: OnDisk | None,
) -> bytes:
    """Refuse a save unless the disk holds the revision and lineage the writer loaded;
    the bytes of state.json."""
    try:
        data = store._read(name, target)
    except EnvironmentNotFound:
        raise RevisionConflict(name, snapshot.revision, None) from None
    if known == OnDisk.of(snapshot, data):  # byte for byte what this writer saw there
        return data
    # The summary reads what this needs (and refuses garbage, a newer schema, another
    # environment's file) at a third of the cost of structuring the whole file.
    on_disk = store._summarize(name, target, data)
    if on_disk.revision != snapshot.revision:
        raise RevisionConflict(name, snapshot.revision, on_disk.revision)
    if on_disk.lineage != snapshot.lineage:
        raise LineageConflict(name, snapshot.lineage, on_disk.lineage, snapshot.revision)
    return data


def _remove_all_but(folder: Path, keep: set[str]) -> None:
    """Remove the environment's traces and other files, but not ``keep`` nor temp files."""

    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name in keep or is_temp_name(entry.name):
                continue
            if entry.name == "traces" and entry.is_dir(follow_symlinks=False):
                _remove_traces(Path(entry.path))
            else:
                remove_tree(Path(entry.path))  # a link goes, never what it points to


def _remove_traces(traces: Path) -> None:
    """traces/: the side files of each run (a step's stderr and outputs, left there by a
    killed command) before the traces themselves, then the folder. A purge killed half-way
    leaves traces, or traces with some of their side files, never a side file alone."""
    with os.scandir(traces) as entries:
        files = [entry.name for entry in entries if entry.is_file(follow_symlinks=False)]
    for name in sorted(files, key=lambda name: name.endswith(".log")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(traces / name)
    remove_tree(traces)


def _remove_folder(folder: Path) -> None:
    """Remove data/NAME whole; a command that made a lock file in it meanwhile (it finds
    the environment gone and lets go) may make the first attempts fail with ENOTEMPTY."""
    for _attempt in range(20):
        try:
            remove_tree(folder)
            return
        except OSError as error:
            if error.errno != errno.ENOTEMPTY:
                raise
    remove_tree(folder)


def _remove_unused(folder: Path, lock_file: Path) -> None:
    """Undo a ``lock(create=True)`` whose command wrote no state (still holding the lock)."""
    with contextlib.suppress(OSError):
        os.unlink(lock_file)
        os.rmdir(folder)
