"""Real signals in the middle of a step: SIGINT, SIGTERM, SIGKILL and recover."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from machines.names import StateName
from statemgr.errors import EnvironmentInterrupted
from statemgr.service.status import ReadOnlyWorkspace
from statemgr.service.workspace import Workspace

from .conftest import ConfigWriter, RecordingObserver

DRIVER = """
import sys
from statemgr.api import Workspace, errors
workspace = Workspace(sys.argv[1])
try:
    getattr(workspace, sys.argv[2])(sys.argv[3])
except errors.StatemgrError as error:
    print(error.kind, error.message, file=sys.stderr)
    sys.exit(error.exit_code)
"""

SLOW = """
[[provision.steps]]
name = "quick"
run = ["true"]

[[provision.steps]]
name = "slow_apply"
run = ["sh", "-c", "echo $$ > step.pid; sleep 60 & echo $! > child.pid; wait"]
"""


def _start(workdir: Path, command: str, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(workdir), command, name],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell job would be
    )


def _wait_for(path: Path, timeout: float = 15.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        time.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_dead(pids: list[int], timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if _alive(pid)]
        if not alive:
            return []
        time.sleep(0.05)
    return [pid for pid in pids if _alive(pid)]


@pytest.mark.parametrize(
    ("how", "expected_exit"),
    [("sigint-to-group", 130), ("sigterm-to-statemgr", 143)],
)
def test_signal_mid_step_records_interrupted_and_stops_the_step(
    workspace: Workspace, write_config: ConfigWriter, how: str, expected_exit: int
) -> None:
    workspace.create(write_config("web", SLOW))
    build = workspace.layout.build_dir("web")
    driver = _start(workspace.layout.root, "provision", "web")
    try:
        step_pid = _wait_for(build / "step.pid")
        child_pid = _wait_for(build / "child.pid")
        if how == "sigint-to-group":
            os.killpg(driver.pid, signal.SIGINT)
        else:
            os.kill(driver.pid, signal.SIGTERM)
        _, stderr = driver.communicate(timeout=20)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == expected_exit, stderr
    assert "interrupted" in stderr
    assert _wait_dead([step_pid, child_pid]) == [], "a step process survived"

    snapshot = workspace.load("web")
    assert snapshot.state.name is StateName.provision_failed
    failure = snapshot.state.failure
    assert failure is not None
    assert (failure.error_kind.value, failure.failed_step) == ("interrupted", "slow_apply")
    assert snapshot.operation is None
    # The lock was released: the next command runs at once.
    assert workspace.destroy("web").state.name is StateName.destroyed


def _killed_mid_step(workspace: Workspace) -> tuple[int, int]:
    """provision web, SIGKILLed in its slow step; the step's pid and its child's pid."""
    build = workspace.layout.build_dir("web")
    driver = _start(workspace.layout.root, "provision", "web")
    try:
        step_pid = _wait_for(build / "step.pid")
        child_pid = _wait_for(build / "child.pid")
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait(timeout=10)
    finally:
        if driver.poll() is None:
            driver.kill()
    # Nothing could stop the step: it runs on, an orphan in its own group.
    assert _alive(step_pid) and _alive(child_pid)
    return step_pid, child_pid


def _cleanup(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def test_sigkill_mid_step_leaves_it_interrupted_until_recover(
    workspace: Workspace, write_config: ConfigWriter, observer: RecordingObserver
) -> None:
    workspace.create(write_config("web", SLOW))
    step_pid, child_pid = _killed_mid_step(workspace)

    report = ReadOnlyWorkspace(workspace.layout.root).status("web")
    assert report.interrupted and not report.in_progress and report.holder is None
    assert report.snapshot.state.name is StateName.provisioning
    assert report.snapshot.operation is not None
    assert report.snapshot.operation.step == "slow_apply"
    assert report.allowed_commands == ("destroy", "recover")
    assert any("recover" in line for line in report.next_steps)

    with pytest.raises(EnvironmentInterrupted) as refused:
        workspace.provision("web")
    assert refused.value.exit_code == 3 and "recover" in (refused.value.hint or "")

    try:
        recovered = workspace.recover("web")
        # recover stopped what was left of the step, and said so.
        assert _wait_dead([step_pid, child_pid]) == []
        notes = [event[1] for event in observer.events if event[0] == "note"]
        assert any("left of step 'slow_apply'" in str(note) for note in notes), notes
    finally:
        _cleanup(step_pid)
    assert recovered.state.name is StateName.provision_failed
    failure = recovered.state.failure
    assert failure is not None
    assert (failure.error_kind.value, failure.failed_step) == ("interrupted", "slow_apply")
    assert recovered.operation is None
    assert recovered.latest.command == "recover"
    assert recovered.latest.event == "provision_failed"
    # It points at the dead command's trace, which holds what the step printed so far.
    assert failure.trace_file == report.snapshot.operation.trace_file
    assert failure.trace_file is not None and "-provision-" in failure.trace_file
    assert "slow_apply" in (workspace.layout.root / failure.trace_file).read_text()


def test_destroy_of_an_interrupted_environment_first_stops_the_dead_step(
    workspace: Workspace, write_config: ConfigWriter
) -> None:
    """Tried: SIGKILL of statemgr mid-step, then destroy (no recover): the step still running
    is stopped before the destroy steps run, and the environment ends destroyed."""
    workspace.create(write_config("web", SLOW))
    step_pid, child_pid = _killed_mid_step(workspace)
    try:
        assert workspace.destroy("web").state.name is StateName.destroyed
        assert _wait_dead([step_pid, child_pid]) == []
    finally:
        _cleanup(step_pid)


def test_recover_refuses_an_environment_that_was_not_interrupted(
    workspace: Workspace, write_config: ConfigWriter
) -> None:
    from statemgr.errors import CommandNotAllowed

    workspace.create(write_config("web", ""))
    before = workspace.layout.state_file("web").read_bytes()
    with pytest.raises(CommandNotAllowed):
        workspace.recover("web")
    assert workspace.layout.state_file("web").read_bytes() == before


MANY_QUICK_STEPS = "".join(
    f'[[provision.steps]]\nname = "s{i}"\nrun = ["true"]\n\n' for i in range(120)
)


def test_sigterm_at_random_moments_always_leaves_a_recorded_consistent_state(
    workspace: Workspace, write_config: ConfigWriter
) -> None:
    """Tried: SIGTERM at 25 random moments of a phase of 120 quick steps, once the command
    holds the lock (so it often lands in a save, or between steps). Each time the command ends
    with 143 (or it had finished), the file loads, and nothing is left in flight."""
    import random

    from statemgr.errors import StatemgrError

    rng = random.Random(20261129)
    workspace.create(write_config("web", MANY_QUICK_STEPS))
    for attempt in range(25):
        driver = _start(workspace.layout.root, "provision", "web")
        reader = ReadOnlyWorkspace(workspace.layout.root)
        while reader.store.holder("web") is None and driver.poll() is None:
            time.sleep(0.002)  # until the command holds the lock: its handlers are in place
        time.sleep(rng.uniform(0.0, 0.2))
        driver.send_signal(signal.SIGTERM)
        _, stderr = driver.communicate(timeout=30)
        snapshot = workspace.load("web")
        finished = snapshot.state.name is StateName.provisioned
        # -15: the signal came after the command was over, while Python was exiting.
        assert driver.returncode in (0, 143) or (finished and driver.returncode == -15), (
            attempt,
            driver.returncode,
            stderr,
        )
        assert snapshot.operation is None, (attempt, stderr)
        assert snapshot.state.name in (
            StateName.created,
            StateName.provisioned,
            StateName.provision_failed,
        ), (attempt, snapshot.state.name)
        if snapshot.state.name is not StateName.created:
            try:
                workspace.destroy("web")
                workspace.purge("web")
            except StatemgrError as error:  # pragma: no cover - shows what went wrong
                raise AssertionError(f"attempt {attempt}: {error}") from error
            workspace.create(write_config("web", MANY_QUICK_STEPS))
