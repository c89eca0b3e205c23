"""Builders and process helpers shared by the store tests (plain functions, no fixtures)."""

from __future__ import annotations

import os
import pickle
import signal
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from statemgr.layout import Layout
from statemgr.model import Environment, Snapshot, StateName, Step, Transition, new_snapshot
from statemgr.store import FileStore
from statemgr.store.atomic import is_temp_name

T0 = datetime(2026, 11, 29, 13, 0, 0, tzinfo=UTC)
NOBODY = 65534


def fresh_snapshot(name: str = "web") -> Snapshot:
    """A new environment's first snapshot (revision 0, as ``create`` receives it)."""
    return new_snapshot(Environment.new(name), "create", pid=4242, host="test-host", at=T0)


def with_line(snapshot: Snapshot, label: str, seconds: float = 1.0) -> Snapshot:
    """``snapshot`` with one more transition (its latest, appended to the history when it
    is saved) whose command is ``label``."""
    line = Transition(
        at=T0 + timedelta(seconds=seconds),
        from_state=snapshot.state.name,
        to=StateName.created,
        event="test",
        command=label,
        pid=os.getpid(),
        host="test-host",
    )
    return attrs.evolve(snapshot, latest=line)


def big_snapshot(snapshot: Snapshot, steps: int) -> Snapshot:
    """``snapshot`` with ``steps`` more provision steps (about 250 bytes of JSON each) and
    one more transition."""
    environment = snapshot.environment
    added = tuple(
        Step(name=f"step_{index}", run=("echo", f"step {index} " + "x" * 80))
        for index in range(steps)
    )
    phases = attrs.evolve(environment.phases, provision=environment.phases.provision + added)
    bigger = attrs.evolve(snapshot, environment=attrs.evolve(environment, phases=phases))
    return with_line(bigger, f"{steps} more steps")


def temp_files(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if is_temp_name(name))


def fork(work: Callable[[], object]) -> int:
    """Run ``work`` in a forked child; it exits 0 when ``work`` returns, 1 when it raises.

    Forking reuses this interpreter's imports, so a child starts in about a millisecond.
    """
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            work()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return pid


def wait_exit(pid: int, timeout: float = 60.0) -> int:
    """The exit code of child ``pid`` (negative: killed by that signal); kills it on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"child {pid} did not finish within {timeout}s")
        time.sleep(0.005)


def run_as(uid: int, work: Callable[[], Any]) -> tuple[str, Any]:
    """Run ``work`` in a child that dropped to ``uid``; ("ok", value) or ("error", details).

    details is (type name, errno, message, is-an-instance-of-each-of-our-errors) so the
    parent can assert on what the child saw.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            os.setgid(uid)
            os.setuid(uid)
            result: tuple[str, Any] = ("ok", work())
        except BaseException as error:
            result = ("error", describe_error(error))
        with os.fdopen(write_end, "wb") as out:
            pickle.dump(result, out)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as source:
        data = source.read()
    assert wait_exit(pid) == 0
    outcome: tuple[str, Any] = pickle.loads(data)
    return outcome


def describe_error(error: BaseException) -> dict[str, Any]:
    return {
        "type": type(error).__name__,
        "errno": getattr(error, "errno_value", None) or getattr(error, "errno", None),
        "message": str(error),
        "path": getattr(error, "path", None),
    }


def store_at(root: Path) -> FileStore:
    return FileStore(Layout(root))
