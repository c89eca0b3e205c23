"""Trace runs: the log of one command run, as every store lists it (``statemgr logs``).

A run is named by its ``run`` id, the value that ``failure.trace_file`` and
``operation.trace_file`` hold (in the file store, ``data/NAME/traces/<file>.log``). Its
file name says when it started and which command made it:
``<UTC time>-<command>-<6 hex digits>.log``. The last line of a finished run is
``<time> statemgr trace end: RESULT``; a run without one is in progress, or its command
died without finishing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import attrs

END_TEXT = "statemgr trace end: "
RESULTS = ("done", "failed", "interrupted", "error")
TRACE_NAME = re.compile(r"^(\d{8}T\d{6}\.\d{6}Z)-([A-Za-z0-9_.-]+)-([0-9a-f]{6})\.log$")
_TIME_FORMAT = "%Y%m%dT%H%M%S.%fZ"
_END = re.compile(rb"\d{4}-\d\d-\d\dT[\d:.]+\+00:00 statemgr trace end: ([a-z]+)")


@attrs.frozen
class TraceRun:
    """One command run's trace: its id, when it started, the command, and how it ended.

    ``result`` is one of ``RESULTS``, or None while the run has no end line (in progress,
    or its command died without finishing).
    """

    run: str
    started: datetime
    command: str
    result: str | None = None


def trace_file_name(moment: datetime, command: str, token: str) -> str:
    """``20261129T130000.123456Z-deploy-4ee64f.log``: sortable, safe in any file system."""
    return f"{moment.astimezone(UTC).strftime(_TIME_FORMAT)}-{command}-{token}.log"


def parse_trace_name(name: str) -> tuple[datetime, str] | None:
    """(started, command) of a trace file name, or None when it is not one."""
    match = TRACE_NAME.fullmatch(name)
    if match is None:
        return None
    started = datetime.strptime(match.group(1), _TIME_FORMAT).replace(tzinfo=UTC)
    return started, match.group(2)


def end_line_result(tail: bytes) -> str | None:
    """The result named by the end line that closes ``tail`` (the end of a trace), or None.

    Only the very last line counts: a step that printed such a line earlier ends nothing.
    """
    last = tail.rstrip(b"\n").rpartition(b"\n")[2]
    match = _END.fullmatch(last)
    if match is None:
        return None
    result = match.group(1).decode("ascii")
    return result if result in RESULTS else None
