"""A signal at any moment of start-up exits 130/143 without a traceback (issue 12, item 11),
through the installed ``statemgr``.

"Start-up" is statemgr's: from the first line of ``statemgr.__main__`` (which takes SIGINT
and SIGTERM before importing anything else) to the command's own handlers. The moments
before it, while the interpreter itself starts, are Python's; the test waits for the
process to catch SIGTERM (``/proc/PID/status``: Python itself does not), then signals it
at a random moment of the next 0.15 s. The command is a destroy whose step sleeps a
second, so the signal always lands before the command could end on its own: a signal
that was swallowed would show as exit 0.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cli.support import STATEMGR, start_installed

from .support import clean_env, created, installed, no_traceback

pytestmark = pytest.mark.skipif(not STATEMGR.exists(), reason=f"{STATEMGR} is not installed")

TRIES = 24


def _catches_sigterm(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line for line in text.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)))


def _started(argv: list[str], cwd: Path) -> subprocess.Popen[str]:
    process = start_installed(*argv, cwd=cwd, env=clean_env())
    deadline = time.monotonic() + 30
    while not _catches_sigterm(process.pid):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "statemgr never took SIGTERM"
        time.sleep(0.0005)
    return process


def test_item11_a_signal_at_any_moment_of_start_up_exits_130_or_143(workdir: Path) -> None:
    """Item 11: SIGINT or SIGTERM in the first 0.15 s of statemgr's start-up: exit 130 or
    143 (never -2, never 0), no traceback, and the environment readable after."""
    created(workdir, "web", destroy=[{"name": "slow", "run": ["sleep", "1"]}])
    rng = random.Random()
    for attempt in range(TRIES):
        number = signal.SIGINT if attempt % 2 == 0 else signal.SIGTERM
        process = _started(["destroy", "web"], workdir)
        time.sleep(rng.uniform(0, 0.15))
        process.send_signal(number)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 128 + number, (attempt, process.returncode, err)
        assert no_traceback(err), err
        assert "stopped by" in err, err
    status = installed("--json", "status", "web", cwd=workdir)
    assert status.code == 0, status
    assert status.json()["state"] == "created"  # interrupted destroys keep the state


def test_item11_reading_commands_too(workdir: Path) -> None:
    """Item 11: status and list, signalled while they start, exit 130/143 or finish."""
    created(workdir, "web")
    rng = random.Random()
    for attempt in range(TRIES // 2):
        number = signal.SIGINT if attempt % 2 == 0 else signal.SIGTERM
        argv = ["status", "web"] if attempt % 4 < 2 else ["list"]
        process = _started(argv, workdir)
        time.sleep(rng.uniform(0, 0.03))
        if process.poll() is None:
            process.send_signal(number)
        _, err = process.communicate(timeout=60)
        assert process.returncode in (0, 128 + number), (argv, process.returncode, err)
        assert no_traceback(err), err
