"""status and list never call a healthy environment interrupted, and show another tool's
lock as held by an unknown process (issue 12, item 10)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from statemgr.layout import Layout
from statemgr.service.status import ReadOnlyWorkspace
from statemgr.store import FileStore, LockHolder

from .support import STATEMGR, clean_env, created, installed, no_traceback

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")

WAIT_FOR_GO = {"name": "wait", "run": "while [ ! -f go ]; do sleep 0.01; done"}


class FinishBeforeTheProbe(FileStore):
    """A file store whose first lock probe lets the running command finish first: the
    interleaving that made status say 'interrupted' (read the snapshot, the command
    saves its final state and lets go, then probe the lock)."""

    def __init__(self, layout: Layout, finish: Callable[[], None]) -> None:
        super().__init__(layout)
        self.finish: Callable[[], None] | None = finish

    def holder(self, name: str) -> LockHolder | None:
        self._finish_first()
        return super().holder(name)

    def kernel_locks(self) -> str | None:  # list probes every environment at once
        self._finish_first()
        return super().kernel_locks()

    def _finish_first(self) -> None:
        if self.finish is not None:
            finish, self.finish = self.finish, None
            finish()


def _running_provision(workdir: Path) -> subprocess.Popen[str]:
    created(workdir, "web", provision=[WAIT_FOR_GO])
    process = subprocess.Popen(
        [str(STATEMGR), "provision", "web"],
        cwd=workdir,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader = ReadOnlyWorkspace(workdir)
    for _ in range(2000):
        report = reader.status("web")
        if report.in_progress and report.snapshot.operation is not None:
            return process
        assert process.poll() is None, process.communicate()
        subprocess.run(["sleep", "0.01"], check=True)
    raise AssertionError("provision never started its step")


def _finisher(workdir: Path, process: subprocess.Popen[str]) -> Callable[[], None]:
    def finish() -> None:
        (workdir / "build" / "web" / "go").touch()
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err

    return finish


def test_item10_a_command_finishing_between_read_and_probe_is_not_interrupted(
    workdir: Path,
) -> None:
    """Item 10: status read 'provisioning', the command finished, then the lock was free:
    status answers 'provisioned', not interrupted."""
    process = _running_provision(workdir)
    store = FinishBeforeTheProbe(Layout(workdir), _finisher(workdir, process))
    report = ReadOnlyWorkspace(workdir, store=store).status("web")
    assert report.interrupted is False
    assert report.snapshot.state.name.value == "provisioned"
    assert report.snapshot.operation is None


def test_item10_list_confirms_before_saying_interrupted(workdir: Path) -> None:
    """Item 10: the same interleaving in list."""
    process = _running_provision(workdir)
    store = FinishBeforeTheProbe(Layout(workdir), _finisher(workdir, process))
    [entry] = ReadOnlyWorkspace(workdir, store=store).list()
    assert (entry.name, entry.interrupted, entry.in_progress) == ("web", False, False)
    assert entry.state is not None and entry.state.value == "provisioned"


def test_item10_a_dead_command_is_still_interrupted(workdir: Path) -> None:
    """Item 10, the other way: a command that was SIGKILLed is interrupted once its lock is
    free (the confirmation re-read finds nothing new)."""
    process = _running_provision(workdir)
    process.kill()
    process.communicate(timeout=30)
    try:
        # The kernel frees the lock when the last descriptor of it closes: a step being
        # started at the moment of the kill holds one until its exec, on a busy machine
        # for a while. Until then the environment is rightly "in progress".
        for _ in range(500):
            report = ReadOnlyWorkspace(workdir).status("web")
            if report.holder is None:
                break
            subprocess.run(["sleep", "0.02"], check=True)
        assert report.interrupted is True
    finally:
        (workdir / "build" / "web" / "go").touch()  # the orphaned step's loop ends


def test_item10_another_tools_flock_is_held_by_an_unknown_process(workdir: Path) -> None:
    """Item 10: an outside ``flock`` on state.lock: status shows ``lock`` with a null pid and
    "held by an unknown process"; destroy is refused (exit 4) naming no "None"."""
    created(workdir, "web")
    lock = workdir / "data" / "web" / "state.lock"
    holder = subprocess.Popen(
        ["flock", "--exclusive", str(lock), "sleep", "60"], stdout=subprocess.DEVNULL
    )
    try:
        for _ in range(500):
            status = installed("--json", "status", "web", cwd=workdir)
            if status.json()["lock"] is not None:
                break
        document = status.json()
        assert document["lock"]["pid"] is None and document["in_progress"] is True
        assert document["interrupted"] is False
        shown = installed("status", "web", cwd=workdir)
        assert "held by an unknown process" in shown.out and "None" not in shown.out
        refused = installed("destroy", "web", cwd=workdir)
        assert refused.code == 4, refused
        assert "unknown process" in refused.err and "None" not in refused.err
        assert no_traceback(refused.err)
    finally:
        holder.kill()
        holder.wait()
