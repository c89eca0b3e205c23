"""The environment's lock: an exclusive flock on state.lock, held for a command's whole run.

portalocker takes the lock (flock on POSIX) on a descriptor opened by ``safe_paths.open_file``
(its functional ``lock``: the ``Lock`` class and its file object cost a fifth of a
lock-and-save cycle's CPU); the kernel drops it when the holder dies, even on SIGKILL, so a
lock is never stale and no timestamp is ever guessed from. Right after
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


def _same_file(fd: int, path: Path) -> os.stat_result | None:
    """``fd``'s status when it is still the file at ``path`` (not unlinked or replaced
    since), else None."""
    try:
        status = os.fstat(fd)
        return status if os.path.samestat(status, os.lstat(path)) else None
    except FileNotFoundError:
        return None


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


def _write_record(fd: int, holder: LockHolder, size: int) -> None:
    """Put the holder's record into the locked file, which holds ``size`` bytes (a record
    left by a holder that died: emptied first); a failure costs only the record."""
    with contextlib.suppress(OSError):
        if size:
            os.ftruncate(fd, 0)
        os.write(fd, encode_holder(holder))


def _clear_record(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)


def _acquire(lock_file: Path, env: str, timeout: float, requested: float, shown: str) -> int | None:
    """The descriptor of ``lock_file``, open and locked exclusively within ``timeout``.

    ``requested`` is the command's whole lock timeout, as the refusal reports it. None
    when the environment's folder went away meanwhile (a concurrent purge): the caller's
    ``prepare`` then says what is there now.
    """
    try:  # no link, no FIFO, nothing but a regular file, 0600 exactly
        fd = open_file(lock_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, shown)
    except StatemgrError:
        raise  # UnsafePath: a link, FIFO or folder at state.lock
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StorageError(shown, "open", error, env=env) from error
    try:
        _lock(fd, lock_file, env, timeout, requested, shown)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _lock(fd: int, lock_file: Path, env: str, timeout: float, requested: float, shown: str) -> None:
    """portalocker's exclusive flock on ``fd``: tried at once, then every ``CHECK_INTERVAL``
    until ``timeout`` has passed (as ``portalocker.Lock`` waits, without its file object)."""
    import portalocker

    flags = portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING
    deadline = time.monotonic() + timeout
    while True:
        try:
            portalocker.lock(fd, flags)
            return
        except portalocker.AlreadyLocked:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise locked_error(lock_file, env, requested) from None
            time.sleep(min(CHECK_INTERVAL, remaining))
        except portalocker.LockException as error:
            cause = error.__cause__ if isinstance(error.__cause__, OSError) else OSError(str(error))
            raise StorageError(shown, "lock", cause, env=env) from error


def _release(fd: int, *, clear: bool = True) -> None:
    """Empty the record, let go of the flock, close the descriptor."""
    import portalocker

    if clear:
        _clear_record(fd)
    try:
        with contextlib.suppress(portalocker.LockException):
            portalocker.unlock(fd)  # also for a copy of the descriptor a fork may hold
    finally:
        os.close(fd)


def _acquire_current(
    lock_file: Path, env: str, timeout: float, prepare: Callable[[], None], shown: str
) -> tuple[int, os.stat_result]:
    """The locked descriptor of the lock file that is at ``lock_file`` now, and its status.
    An acquire that lands on a lock file unlinked meanwhile (the environment was purged,
    and maybe created again) lets go and tries again; ``prepare`` runs before every
    attempt."""
    deadline = time.monotonic() + timeout
    for _attempt in range(MAX_ATTEMPTS):
        prepare()
        remaining = max(0.0, deadline - time.monotonic())
        fd = _acquire(lock_file, env, remaining, timeout, shown)
        if fd is None:
            continue
        try:
            status = _same_file(fd, lock_file)
        except BaseException:
            _release(fd, clear=False)
            raise
        if status is not None:
            return fd, status
        _release(fd, clear=False)  # not the lock file any more: another's record, if any
    # the lock file keeps disappearing under us: say so rather than spin
    vanishing = OSError(errno.ENOENT, "it keeps disappearing (removed by another command)")
    raise StorageError(shown, "open", vanishing, env=env)


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
    attempt: it makes the folder, or raises when the environment is missing.
    """
    from statemgr.log import logger

    started = time.monotonic()
    fd, status = _acquire_current(lock_file, env, max(0.0, timeout), prepare, shown)
    try:
        holder = LockHolder(pid=os.getpid(), host=this_host(), command=command, since=_now())
        _write_record(fd, holder, status.st_size)
        waited = time.monotonic() - started
        logger.bind(env=env).debug("lock acquired by {} after {:.3f}s", command, waited)
        yield HeldLock(name=env, holder=holder, path=lock_file)
    finally:
        _release(fd)
        logger.bind(env=env).debug("lock released by {}", command)


def _now() -> datetime:
    return datetime.now(UTC)
