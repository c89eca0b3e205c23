"""The process group of a command step: is any of it alive, and stopping all of it.

A step runs as the leader of a new session, so its process group id is its pid and every
process it starts without leaving the group (``setsid``) can be found and signalled
through that id. A zombie does not count as alive: on hosts whose init does not reap
orphans, killed grandchildren stay zombies forever and must not make a stop wait.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

GRACE_SECONDS = 2.0
"""How long a step's processes get between SIGTERM and SIGKILL."""
KILL_WAIT_SECONDS = 5.0
"""How long to wait for SIGKILLed processes to be gone (only one stuck in the kernel lingers)."""
POLL_SECONDS = 0.02
INTERRUPTING_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_PROC = Path("/proc")


def group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process is in the process group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not _PROC.is_dir():
        return True
    return bool(live_members(pgid))


def live_members(pgid: int) -> list[int]:
    """The pids of the live (not zombie) processes of the group ``pgid``, read from /proc."""
    members = []
    with os.scandir(_PROC) as entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
            fields = stat[stat.rfind(")") + 1 :].split()
            if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X", "x"):
                members.append(int(entry.name))
    return members


def stop_group(process: subprocess.Popen[bytes], grace: float = GRACE_SECONDS) -> None:
    """Stop every process of the step's group: SIGTERM, then SIGKILL after ``grace`` seconds.

    The leader is reaped. When an exception (a second interruption) arrives during the grace
    period, the group is SIGKILLed at once and the exception propagates.
    """
    pgid = process.pid
    _signal_group(pgid, signal.SIGTERM)
    ended = False
    try:
        ended = _wait_group(process, time.monotonic() + grace)
    finally:
        if not ended:
            _signal_group(pgid, signal.SIGKILL)
            process.wait()
    if not ended:
        _wait_group(process, time.monotonic() + KILL_WAIT_SECONDS)


def _wait_group(process: subprocess.Popen[bytes], deadline: float) -> bool:
    """Wait until the leader has exited and no process of its group is alive; False at deadline."""
    while True:
        if process.poll() is not None and not group_alive(process.pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_SECONDS)


def _signal_group(pgid: int, signal_number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal_number)


@contextlib.contextmanager
def deferred_interruptions() -> Iterator[None]:
    """Hold back Python SIGINT/SIGTERM handlers while a child starts; run them right after.

    A handler that raised between fork and the end of ``Popen()`` would leave a running
    child whose pid nobody knows. Inside this block such a signal is only recorded; on
    leaving it the handlers are restored and a recorded signal is raised again, so its
    handler runs (and may raise) once the caller holds the ``Popen``. Only the main thread
    runs signal handlers, so elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def record(signal_number: int, _frame: FrameType | None) -> None:
        pending.append(signal_number)

    saved = {}
    for interrupting in INTERRUPTING_SIGNALS:
        handler = signal.getsignal(interrupting)
        if callable(handler):
            saved[interrupting] = handler
            signal.signal(interrupting, record)
    try:
        yield
    finally:
        for interrupting, handler in saved.items():
            signal.signal(interrupting, handler)
        for signal_number in pending:
            signal.raise_signal(signal_number)


def interruption_name(error: BaseException) -> str:
    """``SIGINT`` for a KeyboardInterrupt or a signal carried by the exception, else its type."""
    number = getattr(error, "signal_number", None)
    if isinstance(number, int):
        with contextlib.suppress(ValueError):
            return signal.Signals(number).name
    if isinstance(error, KeyboardInterrupt):
        return "SIGINT"
    return type(error).__name__
