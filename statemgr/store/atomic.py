"""Replacing a file atomically and durably, and guarding a folder while doing it.

A state file is replaced by a temp file in the same folder: write, fsync, ``os.replace``
over the old file, fsync the folder. A reader sees the old bytes or the new bytes, never
a mix, and a crash at any instant leaves one of the two on disk.

Temp files are named ``.state.json.<random>.tmp``: hidden, inside the environment's
folder, never a valid environment name. A writer removes its own temp file on any error;
one killed mid-write (SIGKILL, power loss) leaves it behind, and the next writer of that
folder removes it while it holds the folder guard (see ``remove_stale_temps``).

The module-level ``_write_all``, ``_fsync`` and ``_replace`` are the seams through which
the tests inject failures (ENOSPC, EIO) without mocking the file system.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from statemgr.safe_paths import open_file

TEMP_PREFIX = ".state.json."
TEMP_SUFFIX = ".tmp"

# errno values that mean "this file system cannot fsync a folder", not "the data is lost".
_NO_FOLDER_SYNC = frozenset({errno.EINVAL, errno.ENOTSUP, errno.EBADF})


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync(fd: int) -> None:
    os.fsync(fd)


def _replace(source: str, target: str) -> None:
    os.replace(source, target)


@contextlib.contextmanager
def folder_guard(folder: Path) -> Iterator[int]:
    """Hold an exclusive flock on ``folder`` itself and yield its descriptor.

    Every writer of a state file holds it from reading the revision on disk until the new
    file is in place, so a check-then-replace is atomic even for a writer that skipped the
    environment's lock. Readers never take it. It is a different inode from state.lock, so
    it never collides with the command lock or with ``holder()``.
    """
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        with contextlib.suppress(OSError):  # a file system without flock: go on unguarded
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing the only descriptor drops the flock


def is_temp_name(name: str) -> bool:
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def remove_stale_temps(folder: Path) -> int:
    """Remove temp files left by killed writers; call it only under ``folder_guard``.

    A live writer creates its temp file only while it holds the guard, so whatever temp
    file exists while we hold it belongs to a writer that died. Returns how many went.
    """
    removed = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if is_temp_name(entry.name):  # unlink removes a link, never its target
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


def sync_folder(folder_fd: int) -> None:
    """fsync a folder, so a rename or unlink in it survives a power loss."""
    try:
        _fsync(folder_fd)
    except OSError as error:
        if error.errno not in _NO_FOLDER_SYNC:
            raise


def replace_file(target: Path, data: bytes, folder_fd: int) -> None:
    """Put ``data`` at ``target`` atomically and durably, with mode 0600.

    ``folder_fd`` is the open folder of ``target`` (from ``folder_guard``). On any error
    the temp file is removed and ``target`` is as it was; the error propagates as it is.
    """
    temp = target.parent / f"{TEMP_PREFIX}{os.urandom(6).hex()}{TEMP_SUFFIX}"
    fd = open_file(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, str(temp))  # 0600 exactly
    replaced = False
    try:
        try:
            _write_all(fd, data)
            _fsync(fd)
        finally:
            os.close(fd)
        _replace(str(temp), str(target))
        replaced = True
    finally:
        if not replaced:
            with contextlib.suppress(OSError):
                os.unlink(temp)
    try:
        sync_folder(folder_fd)
    except OSError as error:
        error.after_replace = True  # type: ignore[attr-defined]  # the new state is in place
        raise
