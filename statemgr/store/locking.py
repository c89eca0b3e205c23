"""The environment's lock: an exclusive flock on state.lock, held for a command's whole run.

portalocker takes the lock (flock on POSIX); the kernel drops it when the holder dies, even
on SIGKILL, so a lock is never stale and no timestamp is ever guessed from. Right after
acquiring it, the holder writes its record (pid, host, command, since) into the lock file,
in place: the file's inode *is* the lock, so it is truncated and rewritten, never
replaced. Releasing empties it again.

This module imports portalocker and the logger lazily, inside ``hold_lock``: only commands
that change state pay for them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from statemgr.errors import EnvironmentLocked, StatemgrError, StorageError
from statemgr.safe_paths import open_file
from statemgr.store.base import LockHolder
from statemgr.store.holders import encode_holder, read_holder, this_host

CHECK_INTERVAL = 0.02  # seconds between attempts while waiting for a lock
RECORD_GRACE = 0.05  # how long a refused acquire waits for a fresh holder's record
MAX_ATTEMPTS = 100  # acquires that may land on a lock file purged meanwhile


@attrs.frozen
class HeldLock:
    """A lock this process holds (the ``EnvironmentLock`` of the file store)."""

    name: str
    holder: LockHolder
    path: Path


def _safe_opener(shown: str) -> Callable[[str, int], int]:
    """portalocker's opener: no link, no FIFO, nothing but a regular file, 0600 exactly."""

    def opener(path: str, flags: int) -> int:
        return open_file(path, flags, shown)

    return opener


def _same_file(fd: int, path: Path) -> bool:
    """Whether ``fd`` is still the file at ``path`` (not unlinked or replaced since)."""
    try:
        return os.path.samestat(os.fstat(fd), os.lstat(path))
    except FileNotFoundError:
        return False


def locked_error(lock_file: Path, env: str, waited: float) -> EnvironmentLocked:
    """The refusal, naming the holder from its record (or its pid from /proc/locks)."""
    deadline = time.monotonic() + RECORD_GRACE
    holder = read_holder(lock_file)
    while holder is None and time.monotonic() < deadline:
        time.sleep(0.005)  # the holder has the lock but has not written its record yet
        holder = read_holder(lock_file)
    if holder is not None:
        return EnvironmentLocked(
            env, holder.pid, holder.host, holder.command, holder.since.isoformat(), waited
        )
    return EnvironmentLocked(env, None, None, None, None, waited)


def _write_record(fd: int, holder: LockHolder) -> None:
    """Put the holder's record into the locked file; a failure costs only the record."""
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.write(fd, encode_holder(holder))


def _clear_record(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)


def _acquire(lock_file: Path, env: str, timeout: float, requested: float, shown: str) -> Any | None:
    """One portalocker acquire of ``lock_file`` within ``timeout``; the held ``Lock``.

    ``requested`` is the command's whole lock timeout, as the refusal reports it. None
    when the environment's folder went away meanwhile (a concurrent purge): the caller's
    ``prepare`` then says what is there now.
    """
    import portalocker

    lock = portalocker.Lock(
        str(lock_file),
        mode="a",
        timeout=timeout,
        check_interval=CHECK_INTERVAL,
        fail_when_locked=False,
        flags=portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING,
        opener=_safe_opener(shown),
    )
    try:
        lock.acquire()
    except portalocker.AlreadyLocked:
        raise locked_error(lock_file, env, requested) from None
    except StatemgrError:
        raise  # UnsafePath: a link, FIFO or folder at state.lock
    except FileNotFoundError:
        return None
    except portalocker.LockException as error:
        cause = error.__cause__ if isinstance(error.__cause__, OSError) else OSError(str(error))
        raise StorageError(shown, "lock", cause, env=env) from error
    except OSError as error:
        raise StorageError(shown, "open", error, env=env) from error
    return lock


@contextlib.contextmanager
def hold_lock(
    lock_file: Path,
    env: str,
    command: str,
    timeout: float,
    prepare: Callable[[], None],
    shown: str,
) -> Iterator[HeldLock]:
    """Hold ``lock_file`` exclusively for the ``with`` block, with the holder's record in it.

    ``shown`` is the lock file's path as errors name it. ``prepare`` runs before every
    attempt: it makes the folder, or raises when the environment is missing. An acquire
    that lands on a lock file unlinked meanwhile (the environment was purged, and maybe
    created again) lets go and tries again.
    """
    from statemgr.log import logger

    timeout = max(0.0, timeout)
    started = time.monotonic()
    deadline = started + timeout
    for _attempt in range(MAX_ATTEMPTS):
        prepare()
        remaining = max(0.0, deadline - time.monotonic())
        lock = _acquire(lock_file, env, remaining, timeout, shown)
        if lock is None:
            continue
        try:
            if _same_file(lock.fh.fileno(), lock_file):
                break
        except BaseException:
            lock.release()
            raise
        lock.release()
    else:  # the lock file keeps disappearing under us: say so rather than spin
        vanishing = OSError(errno.ENOENT, "it keeps disappearing (removed by another command)")
        raise StorageError(shown, "open", vanishing, env=env)
    fd = lock.fh.fileno()
    try:
        holder = LockHolder(pid=os.getpid(), host=this_host(), command=command, since=_now())
        _write_record(fd, holder)
        waited = time.monotonic() - started
        logger.bind(env=env).debug("lock acquired by {} after {:.3f}s", command, waited)
        yield HeldLock(name=env, holder=holder, path=lock_file)
    finally:
        _clear_record(fd)
        lock.release()
        logger.bind(env=env).debug("lock released by {}", command)


def _now() -> datetime:
    return datetime.now(UTC)
