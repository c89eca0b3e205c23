"""``statemgr logs NAME [--run RUN] [--follow] [--list]``: the traces of command runs.

(Not to be confused with ``statemgr.cli.logs``, the tool's own log.) A reading command:
it takes no lock and never makes a running command wait.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from statemgr.cli import render
from statemgr.cli.console import Console
from statemgr.cli.reading import workspace
from statemgr.errors import UsageError
from statemgr.model.traces import TraceRun
from statemgr.service.traces import copy_trace, find_run, follow


def logs(arguments: argparse.Namespace, console: Console) -> int:
    name = arguments.name
    if arguments.follow and (console.json_mode or arguments.list):
        raise UsageError(
            "--follow shows a trace as it grows; it goes with neither --json nor --list"
        )
    store = workspace(console).store
    if arguments.list:
        return _list(console, name, store.runs(name), store.holder(name) is not None)
    run = find_run(store, name, arguments.run)
    if run is None:
        if console.json_mode:
            console.json(None)
        console.info(f"environment '{name}' has no traced runs yet: its steps have not run")
        return 0
    if console.json_mode:
        pieces: list[bytes] = []
        copy_trace(store, name, run.run, pieces.append)
        text = b"".join(pieces).decode("utf-8", errors="replace")
        console.json({**run_json(run), "trace": text})
        return 0
    write = _stdout_writer(console)
    if arguments.follow:
        ended = follow(store, name, run, write)
        if ended.result is None:
            console.info(f"the run ended without an end line: its command died ({run.run})")
        return 0
    copy_trace(store, name, run.run, write)
    return 0


def run_json(run: TraceRun) -> dict[str, Any]:
    return {
        "run": run.run,
        "started": run.started.isoformat(),
        "command": run.command,
        "result": run.result,
    }


def _list(console: Console, name: str, runs: list[TraceRun], held: bool) -> int:
    if console.json_mode:
        console.json([run_json(run) for run in runs])
        return 0
    if not runs:
        console.out(f"environment '{name}' has no traced runs yet: its steps have not run")
        return 0
    rows = []
    for index, run in enumerate(runs):
        latest = index == len(runs) - 1
        result = run.result or ("in progress" if latest and held else "unfinished")
        rows.append([render.when(run.started.isoformat()), run.command, result, run.run])
    for line in render.table(["STARTED", "COMMAND", "RESULT", "RUN"], rows):
        console.out(line)
    return 0


def _stdout_writer(console: Console) -> Callable[[bytes], None]:
    """Bytes to stdout as they come (a trace is bytes; the step may print any)."""
    stream = console.stdout
    buffer = getattr(stream, "buffer", None)

    def write(data: bytes) -> None:
        if buffer is not None:
            buffer.write(data)
            buffer.flush()
        else:  # a text stream without bytes (tests capturing stdout)
            stream.write(data.decode("utf-8", errors="replace"))
            stream.flush()

    stream.flush()
    return write
