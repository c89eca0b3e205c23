"""Who holds an environment's lock, found without touching the lock.

The holder writes its pid, host, command and start time into state.lock right after
acquiring it, and empties the file when it releases. Whether the lock is *live* is asked
of the kernel, whatever the file holds (another tool's flock leaves it empty): Linux
lists every flock in ``/proc/locks`` as ``dev major:minor:inode`` and the holder's pid.
Reading that list and the lock file takes no lock at all, so a reader (``status``,
``list``) can never make a writer's non-blocking acquire fail, the way a probe with
``LOCK_SH | LOCK_NB`` would.

On a system without ``/proc/locks`` the holder's record is trusted when its host is this
host and its pid is alive.

A lock held by a process that wrote no record (another tool's ``flock``, or a holder in
the microseconds before it writes) is reported with ``pid`` None: "an unknown process".
state.lock is read with ``statemgr.safe_paths``: never through a link, never blocking on
a FIFO, never more than a small record.

This module is on the read path: it imports no portalocker and no loguru.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from statemgr.errors import StatemgrError
from statemgr.safe_paths import MAX_SMALL_BYTES, read_file
from statemgr.store.base import LockHolder

PROC_LOCKS = Path("/proc/locks")


def this_host() -> str:
    return os.uname().nodename


def encode_holder(holder: LockHolder) -> bytes:
    """The bytes a holder writes into state.lock."""
    document = {
        "pid": holder.pid,
        "host": holder.host,
        "command": holder.command,
        "since": holder.since.isoformat(),
    }
    return (json.dumps(document) + "\n").encode()


def decode_holder(data: bytes) -> LockHolder | None:
    """The holder recorded in state.lock, or None when it is empty or not a record."""
    try:
        document = json.loads(data)
        pid, host, command = document["pid"], document["host"], document["command"]
        since = datetime.fromisoformat(document["since"])
    except (ValueError, TypeError, KeyError):
        return None
    if not (isinstance(pid, int) and isinstance(host, str) and isinstance(command, str)):
        return None
    if since.tzinfo is None:
        return None
    return LockHolder(pid=pid, host=host, command=command, since=since)


def read_holder(lock_file: Path, attempts: int = 3) -> LockHolder | None:
    """The record in ``lock_file``; re-read a few times in case a holder is mid-write."""
    for _ in range(attempts):
        try:
            data = read_file(lock_file, str(lock_file), limit=MAX_SMALL_BYTES)
        except (OSError, StatemgrError):
            return None
        holder = decode_holder(data)
        if holder is not None or not data:
            return holder
    return None


def read_proc_locks() -> str | None:
    """The kernel's list of locks now, or None when this system has none (not Linux)."""
    try:
        return PROC_LOCKS.read_text()
    except FileNotFoundError:
        return "" if PROC_LOCKS.exists() else None
    except OSError:
        return None


def flock_pids(
    lock_file: Path, status: os.stat_result | None = None, locks: str | None = None
) -> tuple[list[int], list[int]] | None:
    """Pids holding a flock on ``lock_file`` per ``/proc/locks``; None when it cannot tell.

    Returns the pids whose entry matches device and inode, and those that match the inode
    alone: where ``stat`` and the kernel name the device differently (btrfs subvolumes,
    overlay) only the inode agrees, and the caller confirms such a pid against the
    holder's record. Waiters (``->`` lines) do not count. ``locks``: the kernel's list as
    read a moment ago (``read_proc_locks``), for a caller that asks about many files.
    """
    try:
        status = status or os.lstat(lock_file)
    except OSError:
        return None
    text = read_proc_locks() if locks is None else locks
    if text is None:
        return None
    inode = f":{status.st_ino}"
    device = f"{os.major(status.st_dev):02x}:{os.minor(status.st_dev):02x}{inode}"
    exact: list[int] = []
    same_inode: list[int] = []
    for line in text.splitlines():
        if inode not in line:
            continue
        fields = line.split()
        if len(fields) < 6 or fields[1] != "FLOCK":  # a waiter's line has "->" in field 1
            continue
        if fields[5] == device:
            exact.append(int(fields[4]))
        elif fields[5].endswith(inode):
            same_inode.append(int(fields[4]))
    return exact, same_inode


def flock_inodes(locks: str) -> frozenset[int]:
    """The inodes of the files some process holds a flock on, per the kernel's list of locks
    (``read_proc_locks``); waiters do not count. A file whose inode is not among them is
    held by nobody: ``list`` asks ``live_holder`` only about the others."""
    inodes = set()
    for line in locks.splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK":
            inodes.add(int(fields[5].rsplit(":", 1)[1]))
    return frozenset(inodes)


def live_holder(lock_file: Path, locks: str | None = None) -> LockHolder | None:
    """The live command holding ``lock_file``, or None. Never locks, never waits.

    The kernel says whether anyone holds it (a record left by a holder that died, even by
    SIGKILL, is not trusted); the record says who. A lock file that is not a regular file
    (a link, a FIFO) is nobody's lock: statemgr never opens it. ``locks``: the kernel's
    list of locks as ``read_proc_locks`` read it (else it is read now).
    """
    try:
        status = os.lstat(lock_file)
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode):
        return None
    found = flock_pids(lock_file, status, locks)
    if found is None:
        return _holder_by_pid(lock_file)
    exact, same_inode = found
    if not exact and not same_inode:
        return None
    recorded = read_holder(lock_file)
    if not exact:  # matched on the inode alone: only the record can confirm it
        return recorded if recorded is not None and recorded.pid in same_inode else None
    if recorded is not None:
        return recorded
    return unknown_holder(lock_file)


def unknown_holder(lock_file: Path) -> LockHolder:
    """A lock held by a process that wrote no record: another tool's flock, or a holder in
    the moment before it writes its record. ``since`` is when the lock file last changed."""
    try:
        since = datetime.fromtimestamp(os.lstat(lock_file).st_mtime, UTC)
    except OSError:
        since = datetime.now(UTC)
    return LockHolder(pid=None, host=this_host(), command="unknown", since=since)


def _holder_by_pid(lock_file: Path) -> LockHolder | None:
    """Without /proc/locks: the record, if its process is alive on this host."""
    recorded = read_holder(lock_file)
    if recorded is None or recorded.pid is None or recorded.host != this_host():
        return recorded
    try:
        os.kill(recorded.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return recorded
    return recorded
