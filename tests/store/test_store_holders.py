"""How a reader finds the live holder: /proc/locks entries, the record, and the fallback.

``holders.PROC_LOCKS`` is the one seam: pointed at a file the test writes, it shows how
each kind of /proc/locks line is read; pointed at a missing file, it shows the fallback
for systems without /proc/locks. The lock itself is always real.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from statemgr.model import Snapshot
from statemgr.store import FileStore, holders
from statemgr.store.base import LockHolder
from statemgr.store.holders import decode_holder, encode_holder

from .store_support import fork, wait_exit

RECORD_PID = 31337


def _record(store: FileStore, pid: int = RECORD_PID) -> os.stat_result:
    """A holder record in web's lock file, as a holder writes it; the lock file's stat."""
    lock_file = store.layout.lock_file("web")
    with store.lock("web", "create"):
        pass
    holder = LockHolder(pid=pid, host=os.uname().nodename, command="deploy", since=_since())
    lock_file.write_bytes(encode_holder(holder))
    return os.stat(lock_file)


def _since() -> datetime:
    return datetime(2026, 11, 29, 13, 0, tzinfo=UTC)


def _proc_locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *lines: str) -> None:
    fake = tmp_path / "locks"
    fake.write_text("".join(line + "\n" for line in lines))
    monkeypatch.setattr(holders, "PROC_LOCKS", fake)


def _device(status: os.stat_result) -> str:
    return f"{os.major(status.st_dev):02x}:{os.minor(status.st_dev):02x}"


def test_an_exact_flock_entry_means_held(
    store: FileStore, web: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status = _record(store)
    entry = f"1: FLOCK  ADVISORY  WRITE {RECORD_PID} {_device(status)}:{status.st_ino} 0 EOF"
    _proc_locks(tmp_path, monkeypatch, entry)
    found = store.holder("web")
    assert found is not None and (found.pid, found.command) == (RECORD_PID, "deploy")
    assert listed_as_held(store) is True


def listed_as_held(store: FileStore) -> bool | None:
    """What ``list`` says of web (it reads /proc/locks once for all, and asks only about
    lock files whose inode has a flock there): it must agree with ``holder``."""
    (listing,) = store.list()
    return listing.held


@pytest.mark.parametrize(
    "line",
    [
        "1: -> FLOCK  ADVISORY  WRITE {pid} {dev}:{ino} 0 EOF",
        "1: POSIX  ADVISORY  WRITE {pid} {dev}:{ino} 0 EOF",
        "1: OFDLCK ADVISORY  WRITE -1 {dev}:{ino} 0 EOF",
        "1: FLOCK  ADVISORY  WRITE {pid} {dev}:{ino}7 0 EOF",
        "1: FLOCK  ADVISORY  WRITE {pid} {dev}:7{ino} 0 EOF",
    ],
    ids=["a-waiter", "a-posix-lock", "an-ofd-lock", "a-longer-inode", "an-inode-suffix"],
)
def test_other_entries_do_not_count_as_the_holder(
    store: FileStore,
    web: Snapshot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    line: str,
) -> None:
    """Only a granted flock on this very inode is a holder; the dead record is ignored."""
    status = _record(store)
    entry = line.format(pid=RECORD_PID, dev=_device(status), ino=status.st_ino)
    _proc_locks(tmp_path, monkeypatch, entry)
    assert store.holder("web") is None
    assert listed_as_held(store) is False


def test_an_inode_only_match_counts_when_the_record_confirms_the_pid(
    store: FileStore, web: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """btrfs and overlay name the device differently in stat and in /proc/locks."""
    status = _record(store)
    confirmed = f"1: FLOCK  ADVISORY  WRITE {RECORD_PID} 00:99:{status.st_ino} 0 EOF"
    _proc_locks(tmp_path, monkeypatch, confirmed)
    found = store.holder("web")
    assert found is not None and found.pid == RECORD_PID
    assert listed_as_held(store) is True
    other_pid = f"1: FLOCK  ADVISORY  WRITE {RECORD_PID + 1} 00:99:{status.st_ino} 0 EOF"
    _proc_locks(tmp_path, monkeypatch, other_pid)
    assert store.holder("web") is None
    assert listed_as_held(store) is False


@pytest.mark.parametrize("data", [b'{"pid": 12', b""], ids=["half-written", "empty"])
def test_held_without_a_record_is_an_unknown_process(
    store: FileStore,
    web: Snapshot,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    data: bytes,
) -> None:
    """Item 10 (issue 12): a flock with no record (another tool's, or a holder mid-write)
    is held, by an unknown process: pid None, never a made-up one, never "free"."""
    status = _record(store)
    store.layout.lock_file("web").write_bytes(data)
    entry = f"1: FLOCK  ADVISORY  WRITE 4321 {_device(status)}:{status.st_ino} 0 EOF"
    _proc_locks(tmp_path, monkeypatch, entry)
    found = store.holder("web")
    assert found is not None and (found.pid, found.command) == (None, "unknown")
    assert listed_as_held(store) is True


def _hold_until_killed(store: FileStore, ready: Path) -> None:
    with store.lock("web", "provision"):
        ready.touch()
        signal.pause()


def test_without_proc_locks_a_live_pid_on_this_host_is_trusted(
    store: FileStore, web: Snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(holders, "PROC_LOCKS", tmp_path / "no-proc-locks")
    ready = tmp_path / "ready"
    child = fork(lambda: _hold_until_killed(store, ready))
    try:
        deadline = time.monotonic() + 20
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        found = store.holder("web")
        assert found is not None and (found.pid, found.command) == (child, "provision")
    finally:
        os.kill(child, signal.SIGKILL)
        wait_exit(child)
    assert store.layout.lock_file("web").read_bytes()  # the dead holder's record remains
    assert store.holder("web") is None  # its pid is gone


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[]",
        b'{"pid": "1", "host": "h", "command": "c", "since": "x"}',
        b'{"pid": 1, "host": "h", "command": "c", "since": "2026-11-29T13:00:00"}',
    ],
    ids=["empty", "not-json", "a-list", "pid-a-string", "naive-since"],
)
def test_a_record_that_is_not_one_is_none(data: bytes) -> None:
    assert decode_holder(data) is None


def test_a_record_round_trips() -> None:
    holder = LockHolder(pid=7, host="ops-1", command="deploy", since=_since())
    assert decode_holder(encode_holder(holder)) == holder
