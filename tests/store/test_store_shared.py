"""What every store must do, run against each store (the file store and PostgreSQL), so
that the two cannot drift: the same calls, the same errors, the same answers.

Writes go through the held lock (``EnvironmentLock``); second commands are real second
processes (``python -c``), never threads or mocks.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from statemgr.errors import (
    EnvironmentExists,
    EnvironmentLocked,
    EnvironmentNotFound,
    InvalidName,
    RevisionConflict,
    TraceNotFound,
)
from statemgr.layout import Layout
from statemgr.model import Snapshot, StateName
from statemgr.store import LineageConflict, Store, open_store

from .store_support import fresh_snapshot, with_line

STORES = ("file", "postgresql")

HOLDER = """
import sys, time
from statemgr.layout import Layout
from statemgr.store import open_store

store = open_store(sys.argv[1], Layout(sys.argv[2]))
with store.lock(sys.argv[3], sys.argv[4], timeout=float(sys.argv[5])) as held:
    print("locked", held.holder.pid, flush=True)
    sys.stdin.readline()  # hold until the test closes stdin
print("released", flush=True)
"""

COUNTER = """
import sys, attrs
from statemgr.layout import Layout
from statemgr.store import open_store

store = open_store(sys.argv[1], Layout(sys.argv[2]))
for _ in range(int(sys.argv[3])):
    with store.lock("web", "count", timeout=60) as held:
        snapshot = held.load()
        held.save(attrs.evolve(snapshot, updated_at=snapshot.updated_at))
print("done", flush=True)
"""


@attrs.frozen
class StoreUnderTest:
    """A store, how to name it to ``open_store`` (in a child process), and its workspace."""

    store: Store
    spec: str
    root: Path

    def reopen(self) -> Store:
        """The same store as another process would open it."""
        return open_store(self.spec, Layout(self.root))


@pytest.fixture(params=STORES)
def under_test(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreUnderTest]:
    spec = "file" if request.param == "file" else request.getfixturevalue("pg_url")
    root = tmp_path / "workspace"
    store = open_store(spec, Layout(root))
    yield StoreUnderTest(store, spec, root)
    close = getattr(store, "close", None)
    if close is not None:
        close()


@pytest.fixture
def any_store(under_test: StoreUnderTest) -> Store:
    return under_test.store


def create(store: Store, snapshot: Snapshot) -> Snapshot:
    with store.lock(snapshot.environment.name, "create", create=True) as held:
        return held.create(snapshot)


def save(store: Store, snapshot: Snapshot) -> Snapshot:
    with store.lock(snapshot.environment.name, "test") as held:
        return held.save(snapshot)


@pytest.fixture
def web(any_store: Store) -> Snapshot:
    return create(any_store, fresh_snapshot("web"))


# --- load, create, save, delete ---------------------------------------------------------


def test_create_stores_revision_1_and_load_reads_it_back(any_store: Store) -> None:
    created = create(any_store, fresh_snapshot("web"))
    assert created.revision == 1
    assert any_store.load("web") == created
    assert any_store.exists("web") and not any_store.exists("other")
    assert any_store.names() == ["web"]
    assert any_store.history("web") == (created.latest,)
    assert created.latest.revision == 1


def test_create_refuses_an_existing_name(any_store: Store, web: Snapshot) -> None:
    with pytest.raises(EnvironmentExists):
        create(any_store, fresh_snapshot("web"))
    assert any_store.load("web") == web


def test_save_writes_the_next_revision(any_store: Store, web: Snapshot) -> None:
    saved = save(any_store, with_line(web, "first"))
    assert saved.revision == 2
    again = save(any_store, with_line(saved, "second", seconds=2))
    assert any_store.load("web") == again
    assert [line.command for line in any_store.history("web")] == ["create", "first", "second"]


def test_a_stale_save_is_refused_and_writes_nothing(any_store: Store, web: Snapshot) -> None:
    newer = save(any_store, with_line(web, "writer A"))
    with pytest.raises(RevisionConflict) as conflict:
        save(any_store, with_line(web, "writer B"))
    assert (conflict.value.expected, conflict.value.found) == (1, 2)
    assert any_store.load("web") == newer


def test_a_save_onto_another_lineage_is_refused(any_store: Store, web: Snapshot) -> None:
    with any_store.lock("web", "purge") as held:
        held.delete()
    recreated = create(any_store, fresh_snapshot("web"))
    with pytest.raises(LineageConflict):
        save(any_store, with_line(web, "old writer"))
    assert any_store.load("web") == recreated


def test_delete_removes_the_environment(any_store: Store, web: Snapshot) -> None:
    with any_store.lock("web", "purge") as held:
        held.delete()
    assert not any_store.exists("web")
    assert any_store.list() == []
    with pytest.raises(EnvironmentNotFound):
        any_store.load("web")
    with pytest.raises(EnvironmentNotFound), any_store.lock("web", "provision"):
        pass


def test_missing_environments_and_bad_names(any_store: Store) -> None:
    with pytest.raises(EnvironmentNotFound):
        any_store.load("ghost")
    with pytest.raises(EnvironmentNotFound), any_store.lock("ghost", "provision"):
        pass
    assert any_store.holder("ghost") is None
    for call in (any_store.load, any_store.exists, any_store.holder):
        with pytest.raises(InvalidName):
            call("../etc")


def test_list_is_sorted_and_summarises(any_store: Store) -> None:
    for name in ("zeta", "alpha", "mid"):
        create(any_store, fresh_snapshot(name))
    listed = any_store.list()
    assert [entry.name for entry in listed] == ["alpha", "mid", "zeta"]
    for entry in listed:
        assert entry.error is None and entry.summary is not None
        assert entry.summary.state is StateName.created and entry.summary.revision == 1


def test_an_empty_store_lists_nothing(any_store: Store) -> None:
    assert any_store.list() == [] and any_store.names() == []


# --- the lock, with other processes -----------------------------------------------------


def _line(process: subprocess.Popen[str], timeout: float = 30) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, f"no line from pid {process.pid} within {timeout}s"
    return process.stdout.readline().strip()


@contextlib.contextmanager
def holder_process(
    under_test: StoreUnderTest, command: str = "provision", timeout: float = 0
) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock of 'web' until its stdin closes."""
    argv = [sys.executable, "-c", HOLDER, under_test.spec, str(under_test.root), "web"]
    process = subprocess.Popen(
        [*argv, command, str(timeout)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert _line(process).startswith("locked")
        yield process
    finally:
        _let_go(process)


def _let_go(process: subprocess.Popen[str]) -> None:
    """Close its stdin so that it lets go of the lock and ends (killed if it does not)."""
    assert process.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        process.stdin.close()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def test_a_held_lock_refuses_another_command_naming_the_holder(
    under_test: StoreUnderTest, web: Snapshot
) -> None:
    store = under_test.store
    with holder_process(under_test, "provision") as other:
        with pytest.raises(EnvironmentLocked) as locked, store.lock("web", "configure"):
            pass
        assert (locked.value.pid, locked.value.command) == (other.pid, "provision")
        assert locked.value.host == os.uname().nodename
        holder = store.holder("web")
        assert holder is not None and holder.pid == other.pid and holder.command == "provision"
        assert holder.since.utcoffset() is not None
        # readers answer while it is held, and see it held
        assert store.load("web") == web
        assert [entry.name for entry in store.list()] == ["web"]
    assert store.holder("web") is None


def test_a_waiting_command_gets_the_lock_once_it_is_let_go(
    under_test: StoreUnderTest, web: Snapshot
) -> None:
    store = under_test.store
    with holder_process(under_test) as other:
        assert other.stdin is not None
        argv = [sys.executable, "-c", HOLDER, under_test.spec, str(under_test.root), "web"]
        waiter = subprocess.Popen(
            [*argv, "configure", "30"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            time.sleep(0.3)  # let it try and wait (a wait, not a timed assertion)
            assert waiter.poll() is None
            other.stdin.close()
            assert _line(waiter).startswith("locked")
            holder = store.holder("web")
            assert holder is not None and holder.command == "configure"
        finally:
            _let_go(waiter)


def test_a_killed_holder_frees_the_lock(under_test: StoreUnderTest, web: Snapshot) -> None:
    store = under_test.store
    with holder_process(under_test) as other:
        other.send_signal(signal.SIGKILL)
        other.wait()
        deadline = time.monotonic() + 2.0  # the contract: free again within 2 s
        while store.holder("web") is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert store.holder("web") is None
        with store.lock("web", "recover") as held:
            assert held.holder.pid == os.getpid()


def test_concurrent_commands_never_lose_an_update(
    under_test: StoreUnderTest, web: Snapshot
) -> None:
    workers, rounds = 8, 5
    argv = [sys.executable, "-c", COUNTER, under_test.spec, str(under_test.root), str(rounds)]
    processes = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(workers)]
    for process in processes:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0 and out.strip() == "done"
    assert under_test.store.load("web").revision == 1 + workers * rounds


# --- traces -----------------------------------------------------------------------------


def trace_run(store: Store, command: str, *lines: str, result: str | None = "done") -> bytes:
    """A run's trace as a command makes it (through its lock); the bytes written."""
    from statemgr.runners.trace import Trace

    with store.lock("web", command) as held:
        opened = held.open_trace(command)
        trace = Trace.started(opened.path, command)
        for line in lines:
            trace.write(line + "\n")
        if result is not None:
            trace.end(result)
        return opened.path.read_bytes()


def test_traces_are_listed_and_read_back(any_store: Store, web: Snapshot) -> None:
    assert any_store.runs("web") == []
    first = trace_run(any_store, "deploy", "hello", "x" * 5000, result="failed")
    second = trace_run(any_store, "destroy", "bye", result=None)
    runs = any_store.runs("web")
    assert [(run.command, run.result) for run in runs] == [("deploy", "failed"), ("destroy", None)]
    assert runs[0].run.startswith("data/web/traces/") and runs[0].started.utcoffset() is not None
    assert any_store.read_trace("web", runs[0].run) == first
    assert any_store.read_trace("web", runs[1].run.rpartition("/")[2]) == second
    pieces = [any_store.read_trace("web", runs[0].run, at, 1000) for at in range(0, 6000, 1000)]
    assert b"".join(pieces) == first
    assert any_store.read_trace("web", runs[0].run, len(first)) == b""


def test_unknown_traces(any_store: Store, web: Snapshot) -> None:
    trace_run(any_store, "deploy", "hello")
    for run in ("nope", "../state.json", "20261129T130000.000000Z-x-abcdef.log"):
        with pytest.raises(TraceNotFound):
            any_store.read_trace("web", run)
    with pytest.raises(EnvironmentNotFound):
        any_store.runs("ghost")
    with pytest.raises(EnvironmentNotFound):
        any_store.read_trace("ghost", "nope")
