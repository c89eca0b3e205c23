"""Traces of command runs: how a run ends in its trace, and reading them back (``logs``).

Works through the ``Store``'s trace readers only, so it reads every store alike.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from statemgr.errors import Interrupted, StepFailed, TraceNotFound
from statemgr.model.traces import TraceRun
from statemgr.service.signals import Signalled

if TYPE_CHECKING:  # the reading commands do not import the runners
    from statemgr.runners.trace import Trace
    from statemgr.store import Store

FOLLOW_POLL_SECONDS = 0.2


def result_of(error: BaseException | None) -> str:
    """How a command that raised ``error`` (None: returned) ended, for its trace's last line."""
    if error is None:
        return "done"
    if isinstance(error, StepFailed):
        return "failed"
    if isinstance(error, Interrupted | Signalled | KeyboardInterrupt):
        return "interrupted"
    return "error"


def end_trace(trace: Trace | None, error: BaseException | None) -> None:
    """Close the run's trace with its end line; a trace that cannot be written is let be."""
    if trace is not None:
        with contextlib.suppress(OSError):
            trace.end(result_of(error))


def find_run(store: Store, name: str, run: str | None) -> TraceRun | None:
    """The run named ``run`` (its id, or its file name), or the latest when ``run`` is None."""
    runs = store.runs(name)
    if run is None:
        return runs[-1] if runs else None
    wanted = _file_part(run)
    for candidate in reversed(runs):
        if run == candidate.run or wanted == _file_part(candidate.run):
            return candidate
    raise TraceNotFound(name, run)


def follow(
    store: Store,
    name: str,
    run: TraceRun,
    write: Callable[[bytes], None],
    *,
    poll: float = FOLLOW_POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> TraceRun:
    """Pass the run's trace to ``write`` as it grows, until the run has ended.

    A run ends with its end line, or when no live command holds the environment any more
    (its command died). Returns the run as last seen (``result`` None: it died).
    """
    offset = 0
    while True:
        offset += _drain(store, name, run.run, offset, write)
        current = find_run(store, name, run.run) or run
        if current.result is not None or store.holder(name) is None:
            _drain(store, name, run.run, offset, write)
            return find_run(store, name, run.run) or current
        sleep(poll)


def copy_trace(store: Store, name: str, run: str, write: Callable[[bytes], None]) -> int:
    """The whole trace of ``run`` to ``write``, piece by piece; the number of bytes."""
    return _drain(store, name, run, 0, write)


def _drain(store: Store, name: str, run: str, offset: int, write: Callable[[bytes], None]) -> int:
    copied = 0
    while True:
        data = store.read_trace(name, run, offset + copied)
        if not data:
            return copied
        write(data)
        copied += len(data)


def _file_part(run: str) -> str:
    return run.replace("\\", "/").rpartition("/")[2]
