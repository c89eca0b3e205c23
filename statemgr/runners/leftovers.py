"""What is left of a step whose statemgr died: find its processes and stop them.

After a SIGKILL nothing could stop the step: its processes (a session of their own) run on.
Every process of a step, and whatever it starts, inherits the variables statemgr gave the
step, so they are found in /proc by their environment: STATEMGR_DATA_DIR (this workspace's
environment), STATEMGR_PHASE and STATEMGR_STEP. A process that cleared its environment, or
that belongs to another user, is not seen. Linux only; elsewhere nothing is found.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from statemgr.runners.process import GRACE_SECONDS, KILL_WAIT_SECONDS, POLL_SECONDS

_PROC = Path("/proc")


def step_processes(data_dir: Path, phase: str, step: str) -> list[int]:
    """The live processes that run (or were started by) ``step`` of ``phase``."""
    wanted = {
        b"STATEMGR_DATA_DIR=" + os.fsencode(str(data_dir)),
        b"STATEMGR_PHASE=" + phase.encode(),
        b"STATEMGR_STEP=" + step.encode(),
    }
    mine = os.getpid()
    found = []
    with contextlib.suppress(FileNotFoundError), os.scandir(_PROC) as entries:
        for entry in entries:
            if not entry.name.isdigit() or int(entry.name) == mine:
                continue
            try:
                variables = set(Path(entry.path, "environ").read_bytes().split(b"\0"))
            except OSError:  # gone meanwhile, or not ours to read
                continue
            if wanted <= variables and _alive(int(entry.name)):
                found.append(int(entry.name))
    return sorted(found)


def stop_processes(pids: list[int], grace: float = GRACE_SECONDS) -> list[int]:
    """SIGTERM, then SIGKILL after ``grace`` seconds; returns the pids still alive after."""
    _send(pids, signal.SIGTERM)
    if _wait_gone(pids, time.monotonic() + grace):
        return []
    _send(pids, signal.SIGKILL)
    _wait_gone(pids, time.monotonic() + KILL_WAIT_SECONDS)
    return [pid for pid in pids if _alive(pid)]


def _send(pids: list[int], signal_number: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal_number)


def _wait_gone(pids: list[int], deadline: float) -> bool:
    while any(_alive(pid) for pid in pids):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)
    return True


def _alive(pid: int) -> bool:
    """Running, not a zombie (an orphan's zombie lingers where init does not reap)."""
    try:
        stat = Path(_PROC, str(pid), "stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :][:1] not in ("Z", "X", "x", "")
