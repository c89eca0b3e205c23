"""Storage failures (disk full, I/O error, read-only, permission) raise StorageError, and the
previous state stays intact and loadable.

Root ignores permission bits, so when the tests run as root the permission checks run in a
forked child that dropped to ``nobody`` on a workspace owned by ``nobody``; the read-only
file system and the real disk-full checks mount a bind mount and a 64 KiB tmpfs, and are
skipped (with the reason) when mounting is not possible.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from statemgr.errors import StorageError
from statemgr.model import Snapshot
from statemgr.store import FileStore, atomic

from .store_support import (
    NOBODY,
    big_snapshot,
    describe_error,
    fresh_snapshot,
    run_as,
    store_at,
    temp_files,
)

STATE = "data/web/state.json"
HISTORY = "data/web/history.jsonl"


def _assert_intact(store: FileStore, before: Snapshot, data: bytes) -> None:
    assert store.load("web") == before
    assert store.layout.state_file("web").read_bytes() == data
    assert temp_files(store.layout.data_dir("web")) == []


# --- injected faults: always run -----------------------------------------------------------


def _failing(code: int) -> Callable[..., None]:
    def fail(*_args: object) -> None:
        raise OSError(code, os.strerror(code))

    return fail


@pytest.mark.parametrize(
    ("seam", "code"),
    [
        ("_write_all", errno.ENOSPC),
        ("_fsync", errno.EIO),
        ("_replace", errno.EROFS),
    ],
    ids=["write-ENOSPC", "fsync-EIO", "rename-EROFS"],
)
def test_an_injected_failure_during_save_leaves_the_previous_state(
    store: FileStore, web: Snapshot, monkeypatch: pytest.MonkeyPatch, seam: str, code: int
) -> None:
    data = store.layout.state_file("web").read_bytes()
    with monkeypatch.context() as patch:
        patch.setattr(atomic, seam, _failing(code))
        with pytest.raises(StorageError) as failed:
            store.save(big_snapshot(web, 10))
    error = failed.value
    # A write or fsync fails first on the history line, appended before state.json.
    where = STATE if seam == "_replace" else HISTORY
    assert error.errno_value == code and error.cause.errno == code
    assert error.path == where and where in str(error) and os.strerror(code) in str(error)
    assert isinstance(error, OSError) and error.exit_code == 7 and error.env == "web"
    _assert_intact(store, web, data)
    assert store.history("web") == (web.latest,)  # a line that got in is above the state
    assert store.save(web).revision == 2  # once the fault is gone, saving works again
    assert store.history("web") == (web.latest,)


def test_an_injected_disk_full_during_create_leaves_no_environment(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(atomic, "_write_all", _failing(errno.ENOSPC))
    with pytest.raises(StorageError) as failed:
        store.create(fresh_snapshot("web"))
    assert failed.value.errno_value == errno.ENOSPC
    assert not store.exists("web") and store.names() == []
    assert os.listdir(store.layout.data_dir("web")) == []


# --- a real disk full: a 64 KiB tmpfs --------------------------------------------------------


def _mount(*arguments: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting needs root; the injected ENOSPC test covers disk full")
    done = subprocess.run(["mount", *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({done.stderr.strip() or done.returncode})")


def _unmount(path: Path) -> None:
    subprocess.run(["umount", str(path)], check=True)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, mounted for the test."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    _mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point))
    try:
        yield mount_point
    finally:
        _unmount(mount_point)


def test_disk_full_on_a_64k_tmpfs_leaves_the_previous_state(tiny_disk: Path) -> None:
    store = store_at(tiny_disk)
    web = store.create(fresh_snapshot("web"))
    data = store.layout.state_file("web").read_bytes()
    with pytest.raises(StorageError) as failed:
        store.save(big_snapshot(web, 600))  # well over 64 KiB of JSON
    assert failed.value.errno_value == errno.ENOSPC and failed.value.path == STATE
    _assert_intact(store, web, data)
    assert store.save(big_snapshot(web, 3)).revision == 2  # the temp file freed its space


# --- a read-only file system: a read-only bind mount ---------------------------------------


@pytest.fixture
def read_only_workspace(tmp_path: Path) -> Iterator[tuple[FileStore, Snapshot]]:
    """A workspace with 'web' created, then bind-mounted read-only over itself."""
    root = tmp_path / "ro"
    store = store_at(root)
    web = store.create(fresh_snapshot("web"))
    _mount("--bind", str(root), str(root))
    try:
        remount = subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(root)], capture_output=True, text=True
        )
        if remount.returncode != 0:
            pytest.skip(f"cannot remount read-only here ({remount.stderr.strip()})")
        yield store, web
    finally:
        _unmount(root)


def test_save_on_a_read_only_file_system_is_a_storage_error(
    read_only_workspace: tuple[FileStore, Snapshot],
) -> None:
    store, web = read_only_workspace
    data = store.layout.state_file("web").read_bytes()
    with pytest.raises(StorageError) as failed:
        store.save(big_snapshot(web, 2))
    assert failed.value.errno_value == errno.EROFS
    _assert_intact(store, web, data)
    with pytest.raises(StorageError) as no_lock, store.lock("web", "provision"):
        pytest.fail("locked on a read-only file system")
    assert no_lock.value.errno_value == errno.EROFS
    assert no_lock.value.path == "data/web/state.lock"


# --- permissions: as an unprivileged user ----------------------------------------------------

Attempt = Callable[[Callable[[], Any]], tuple[str, Any]]


def _attempt_here(work: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", work()
    except Exception as error:
        return "error", describe_error(error)


@pytest.fixture
def unprivileged(tmp_path: Path) -> Iterator[tuple[FileStore, Snapshot, Attempt]]:
    """'web' created, and a way to run code as a user that permission bits apply to."""
    if os.geteuid() != 0:
        store = store_at(tmp_path / "workspace")
        yield store, store.create(fresh_snapshot("web")), _attempt_here
        return
    root = Path(tempfile.mkdtemp(prefix="statemgr-store-test-"))
    try:
        os.chmod(root, 0o755)  # nobody must reach it; pytest's tmp_path is root-only
        store = store_at(root / "workspace")
        web = store.create(fresh_snapshot("web"))
        for folder, _, files in os.walk(root):
            os.chown(folder, NOBODY, NOBODY)
            for name in files:
                os.chown(os.path.join(folder, name), NOBODY, NOBODY)
        yield store, web, lambda work: run_as(NOBODY, work)
    finally:
        shutil.rmtree(root)


def test_save_into_a_read_only_folder_is_a_storage_error(
    unprivileged: tuple[FileStore, Snapshot, Attempt],
) -> None:
    """data/web chmod 0500: no temp file can be made. EACCES, and the state is as it was."""
    store, web, attempt = unprivileged
    data = store.layout.state_file("web").read_bytes()

    def save_read_only() -> Any:
        os.chmod(store.layout.data_dir("web"), 0o500)
        return store.save(big_snapshot(web, 2))

    outcome, details = attempt(save_read_only)
    assert outcome == "error" and details["type"] == "StorageError", details
    assert details["errno"] == errno.EACCES and details["path"] == STATE
    outcome, revision = attempt(lambda: store.load("web").revision)
    assert (outcome, revision) == ("ok", 1)
    _assert_intact(store, web, data)


def test_create_in_a_read_only_data_folder_is_a_storage_error(
    unprivileged: tuple[FileStore, Snapshot, Attempt],
) -> None:
    store, _, attempt = unprivileged

    def create_read_only() -> Any:
        os.chmod(store.layout.data_root, 0o500)
        return store.create(fresh_snapshot("new"))

    outcome, details = attempt(create_read_only)
    assert outcome == "error" and details["type"] == "StorageError", details
    assert details["errno"] == errno.EACCES
    assert attempt(store.names) == ("ok", ["web"])


def test_a_state_file_without_read_permission_is_a_storage_error(
    unprivileged: tuple[FileStore, Snapshot, Attempt],
) -> None:
    """state.json chmod 000: load says storage (exit 7), not unreadable; list carries it."""
    store, web, attempt = unprivileged
    path = store.layout.state_file("web")

    def load_unreadable() -> Any:
        os.chmod(path, 0o000)
        return store.load("web")

    outcome, details = attempt(load_unreadable)
    assert outcome == "error" and details["type"] == "StorageError", details
    assert details["errno"] == errno.EACCES and details["path"] == STATE

    def listed() -> Any:
        return [(item.name, type(item.error).__name__) for item in store.list()]

    assert attempt(listed) == ("ok", [("web", "StorageError")])
    os.chmod(path, 0o600)
    assert store.load("web") == web


def test_a_lock_file_that_cannot_be_opened_is_a_storage_error(
    unprivileged: tuple[FileStore, Snapshot, Attempt],
) -> None:
    store, _, attempt = unprivileged

    def lock_read_only() -> Any:
        os.chmod(store.layout.data_dir("web"), 0o500)
        with store.lock("web", "provision"):
            return "locked"

    outcome, details = attempt(lock_read_only)
    assert outcome == "error" and details["type"] == "StorageError", details
    assert details["errno"] == errno.EACCES and details["path"] == "data/web/state.lock"


def test_a_purge_that_cannot_remove_the_traces_leaves_the_environment_whole(
    unprivileged: tuple[FileStore, Snapshot, Attempt],
) -> None:
    """traces/ chmod 0500 with a file inside: delete fails before the state goes."""
    store, web, attempt = unprivileged
    traces = store.layout.traces_dir("web")

    def delete_stuck() -> Any:
        traces.mkdir()
        (traces / "run.log").write_text("trace")
        os.chmod(traces, 0o500)
        store.delete("web")

    outcome, details = attempt(delete_stuck)
    assert outcome == "error" and details["type"] == "StorageError", details
    assert details["errno"] == errno.EACCES and details["path"] == "data/web"
    assert store.load("web") == web and store.names() == ["web"]
    os.chmod(traces, 0o700)
    assert attempt(lambda: store.delete("web")) == ("ok", None)  # as the folder's owner
    assert not store.layout.data_dir("web").exists()
