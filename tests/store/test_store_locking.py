"""The command lock, with real second processes: refusal, waiting, SIGKILL, readers, contention."""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest

from statemgr.errors import EnvironmentLocked, EnvironmentNotFound, RevisionConflict
from statemgr.model import Snapshot
from statemgr.store import FileStore
from statemgr.store.holders import flock_pids

from .store_support import fork, fresh_snapshot, wait_exit, with_line

HOLDER = """
import sys, time
from statemgr.layout import Layout
from statemgr.store import FileStore
from statemgr.store.holders import flock_pids

store = FileStore(Layout(sys.argv[1]))
with store.lock(sys.argv[2], sys.argv[3], timeout=0):
    print("locked", flush=True)
    if float(sys.argv[4]) < 0:
        sys.stdin.readline()  # hold until the test closes stdin
    else:
        time.sleep(float(sys.argv[4]))
print("released", flush=True)
"""


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        raise AssertionError(f"no line from pid {process.pid} within {timeout}s")
    return process.stdout.readline().strip()


@contextlib.contextmanager
def held_by_another_process(
    store: FileStore, name: str = "web", command: str = "provision", hold: float = -1
) -> Iterator[subprocess.Popen[str]]:
    """A fresh python process holding the lock (until stdin closes, or for ``hold`` s)."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(store.layout.root), name, command, str(hold)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert _read_line(process, 20) == "locked"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def test_timeout_0_fails_at_once_naming_the_holder(store: FileStore, web: Snapshot) -> None:
    with held_by_another_process(store, command="provision") as holder:
        started = time.monotonic()
        with pytest.raises(EnvironmentLocked) as locked, store.lock("web", "configure", 0):
            pytest.fail("acquired a lock another process holds")
        elapsed = time.monotonic() - started
    error = locked.value
    assert elapsed < 3, f"timeout 0 took {elapsed:.3f}s"  # it does not wait for the holder
    assert error.pid == holder.pid
    assert (error.host, error.command) == (os.uname().nodename, "provision")
    assert error.since is not None and datetime.fromisoformat(error.since).tzinfo is not None
    assert f"pid {holder.pid}" in str(error) and "'provision'" in str(error)
    assert isinstance(error, TimeoutError) and error.exit_code == 4


def test_a_reader_sees_the_live_holder(store: FileStore, web: Snapshot) -> None:
    assert store.holder("web") is None
    with held_by_another_process(store, command="deploy") as holder:
        found = store.holder("web")
        assert found is not None
        assert (found.pid, found.command, found.host) == (holder.pid, "deploy", os.uname().nodename)
        # the kernel's own entry matched on device and inode, not on the inode alone
        assert flock_pids(store.layout.lock_file("web")) == ([holder.pid], [])
    assert store.holder("web") is None


def test_with_a_timeout_it_waits_and_then_proceeds(store: FileStore, web: Snapshot) -> None:
    """The holder releases after 0.6 s; a timeout of 20 s waits for it, then holds the lock."""
    with held_by_another_process(store, hold=0.6) as holder:
        started = time.monotonic()
        with store.lock("web", "configure", timeout=20) as held:
            waited = time.monotonic() - started
            assert _read_line(holder, 5) == "released"
            assert held.holder.pid == os.getpid()
            current = store.holder("web")
            assert current is not None and current.command == "configure"
            store.save(with_line(store.load("web"), "after waiting"))
        assert holder.wait(10) == 0
    assert 0.2 < waited < 10, f"waited {waited:.3f}s"
    assert store.load("web").revision == 2


def test_a_timeout_that_runs_out_is_refused_after_waiting_it(
    store: FileStore, web: Snapshot
) -> None:
    with held_by_another_process(store) as holder:
        started = time.monotonic()
        with pytest.raises(EnvironmentLocked) as locked, store.lock("web", "configure", 0.4):
            pytest.fail("acquired a lock another process holds")
        elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 3, f"gave up after {elapsed:.3f}s"
    assert locked.value.pid == holder.pid and locked.value.waited == 0.4
    assert "after waiting 0.4s" in str(locked.value)


def test_a_sigkilled_holder_frees_the_lock_at_once(store: FileStore, web: Snapshot) -> None:
    """No stale lock: the kernel drops it. The dead holder's record is left but not trusted."""
    lock_file = store.layout.lock_file("web")
    with held_by_another_process(store) as holder:
        found = store.holder("web")
        assert found is not None and found.pid == holder.pid
        holder.send_signal(signal.SIGKILL)
        assert holder.wait(10) == -signal.SIGKILL
        assert str(holder.pid).encode() in lock_file.read_bytes()  # the record survives...
        assert store.holder("web") is None  # ...but the kernel says nobody holds the lock
        started = time.monotonic()
        with store.lock("web", "recover", timeout=0) as held:
            assert time.monotonic() - started < 0.5
            assert held.holder.command == "recover"
            current = store.holder("web")
            assert current is not None and current.pid == os.getpid()


def test_release_clears_the_record_and_keeps_the_lock_file(store: FileStore, web: Snapshot) -> None:
    lock_file = store.layout.lock_file("web")
    with store.lock("web", "provision") as held:
        inode = os.stat(lock_file).st_ino
        assert held.name == "web" and held.path == lock_file
        assert str(os.getpid()).encode() in lock_file.read_bytes()
        assert stat.S_IMODE(os.stat(lock_file).st_mode) == 0o600
    assert lock_file.read_bytes() == b""
    assert os.stat(lock_file).st_ino == inode  # rewritten in place, never replaced
    assert store.holder("web") is None


def test_lock_of_a_missing_environment_is_not_found(store: FileStore) -> None:
    with pytest.raises(EnvironmentNotFound), store.lock("ghost", "provision"):
        pytest.fail("locked an environment that does not exist")
    assert not store.layout.data_dir("ghost").exists()


def test_lock_with_create_makes_the_folder_and_undoes_it_when_nothing_was_written(
    store: FileStore,
) -> None:
    folder = store.layout.data_dir("new")
    with store.lock("new", "create", create=True):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert not folder.exists()  # a create that wrote no state leaves nothing behind
    with store.lock("new", "create", create=True):
        store.create(fresh_snapshot("new"))
    assert sorted(os.listdir(folder)) == ["history.jsonl", "state.json", "state.lock"]


def test_the_lock_is_not_reentrant_even_in_one_process(store: FileStore, web: Snapshot) -> None:
    """Hold one lock per command and pass it down: a nested acquire names this very process."""
    with store.lock("web", "deploy"):
        with pytest.raises(EnvironmentLocked) as locked, store.lock("web", "provision"):
            pytest.fail("a nested acquire succeeded")
        assert locked.value.pid == os.getpid() and locked.value.command == "deploy"


def _wait_in_thread(work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.2)  # let it start waiting for the lock
    return thread, outcome


def test_a_waiter_does_not_lock_a_purged_environment(store: FileStore, web: Snapshot) -> None:
    """The waiter's file was unlinked by purge: it must not believe it holds a lock."""

    def wait_for_lock() -> str:
        with store.lock("web", "provision", timeout=5):
            return "locked"

    with store.lock("web", "purge"):
        thread, outcome = _wait_in_thread(wait_for_lock)
        store.delete("web")
    thread.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], EnvironmentNotFound)


def test_a_waiting_create_gets_the_new_lock_file_after_a_purge(
    store: FileStore, web: Snapshot
) -> None:
    """create=True after purge: the waiter locks the file now at the path, not the dead one."""
    lock_file = store.layout.lock_file("web")

    def create_again() -> tuple[bool, str]:
        with store.lock("web", "create", timeout=5, create=True) as held:
            same = os.path.samestat(os.stat(lock_file), os.stat(held.path))
            store.create(fresh_snapshot("web"))
            current = store.holder("web")
            return same, current.command if current else "nobody"

    with store.lock("web", "purge"):
        thread, outcome = _wait_in_thread(create_again)
        store.delete("web")
    thread.join(10)
    assert outcome == [(True, "create")]
    assert store.load("web").lineage != web.lineage


def _probe_loop(store: FileStore, probe: Callable[[], object], stop: Path, count: Path) -> None:
    probes = 0
    while not stop.exists():
        probe()
        probes += 1
    count.write_text(str(probes))


def _acquires_under_probing(
    store: FileStore, tmp_path: Path, probe: Callable[[], object], cycles: int, stop_early: bool
) -> tuple[int, int, int]:
    """(acquires tried, acquires refused, probes run) with a second process probing."""
    stop, count = tmp_path / "stop", tmp_path / "count"
    child = fork(lambda: _probe_loop(store, probe, stop, count))
    tried = refused = 0
    try:
        time.sleep(0.05)
        for _ in range(cycles):
            tried += 1
            try:
                with store.lock("web", "provision", timeout=0):
                    pass
            except EnvironmentLocked:
                refused += 1
                if stop_early:
                    break
    finally:
        stop.touch()
        assert wait_exit(child, 30) == 0
    return tried, refused, int(count.read_text())


def test_readers_probing_never_make_a_timeout_0_acquire_fail(
    store: FileStore, web: Snapshot, tmp_path: Path
) -> None:
    """A status loop (holder + load) in another process against 1500 timeout-0 acquires."""

    def status() -> object:
        return store.holder("web"), store.load("web").state

    tried, refused, probes = _acquires_under_probing(store, tmp_path, status, 1500, False)
    assert refused == 0, f"{refused} of {tried} acquires failed while a reader probed"
    assert probes > 300, f"the reader ran only {probes} probes: not a concurrent test"


def test_the_probe_test_can_fail_a_shared_lock_probe_does_collide(
    store: FileStore, web: Snapshot, tmp_path: Path
) -> None:
    """Control: the same harness catches the probe the library notes warn about."""
    lock_file = store.layout.lock_file("web")
    with store.lock("web", "create"):
        pass  # make the lock file

    def shared_probe() -> object:
        with open(lock_file, "rb") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(handle, fcntl.LOCK_UN)
            return True

    tried, refused, _ = _acquires_under_probing(store, tmp_path, shared_probe, 50_000, True)
    assert refused == 1, f"no acquire of {tried} collided with a LOCK_SH probe"


def _locked_cycles(store: FileStore, worker: int, cycles: int) -> None:
    for cycle in range(cycles):
        with store.lock("web", f"worker-{worker}", timeout=60):
            snapshot = store.load("web")
            store.save(with_line(snapshot, f"w{worker}-c{cycle}"))


def test_8_processes_x_50_locked_cycles_lose_no_update(store: FileStore, web: Snapshot) -> None:
    workers, cycles = 8, 50
    children = [fork(partial(_locked_cycles, store, w, cycles)) for w in range(workers)]
    assert [wait_exit(child, 120) for child in children] == [0] * workers
    final = store.load("web")
    assert final.revision == web.revision + workers * cycles
    labels = [line.command for line in store.history("web")[1:]]
    assert sorted(labels) == sorted(f"w{w}-c{c}" for w in range(workers) for c in range(cycles))
    for worker in range(workers):  # each worker's cycles in its own order
        own = [label for label in labels if label.startswith(f"w{worker}-")]
        assert own == [f"w{worker}-c{c}" for c in range(cycles)]


def _lockless_cycles(store: FileStore, worker: int, cycles: int) -> None:
    done = 0
    while done < cycles:
        snapshot = store.load("web")
        try:
            store.save(with_line(snapshot, f"u{worker}-c{done}"))
        except RevisionConflict:
            continue  # somebody else saved first: load again and retry
        done += 1


def test_writers_that_skip_the_lock_still_lose_no_update(store: FileStore, web: Snapshot) -> None:
    """4 processes x 25 load-modify-save cycles without the lock: conflicts, never a loss."""
    workers, cycles = 4, 25
    children = [fork(partial(_lockless_cycles, store, w, cycles)) for w in range(workers)]
    assert [wait_exit(child, 120) for child in children] == [0] * workers
    final = store.load("web")
    assert final.revision == web.revision + workers * cycles
    assert len(store.history("web")) == 1 + workers * cycles
