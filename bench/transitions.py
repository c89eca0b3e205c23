"""Durable transitions: how many lock + load + transition + atomic write cycles per second
the library does, against a raw loop that writes the same bytes with temp file + fsync +
rename + folder fsync and nothing else.

The library cycle is the one a state-changing command makes (``Workspace._command`` and
``CommandRun.save_transition``): ``FileStore.lock`` (flock + holder record), ``load``
through the held lock, ``Snapshot.transitioned``, ``save`` through the held lock (folder
guard, revision check, stale temp sweep, temp file, fsync, rename, folder fsync), unlock.
The statechart itself is left out (about 0.14 ms a transition, see library-notes).

Each cycle is one transition: a line appended to history.jsonl and a new state.json (the
size of a deployed environment's); the raw loop writes the bytes the library wrote to
state.json, and nothing else. A third loop does the I/O the contract asks of a transition
and nothing else (the raw loop with the library's history line appended and fsynced
first): the floor of a library cycle on this disk, before any CPU.
Run: ``python -m bench.transitions [--quick]``.
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from bench.common import Section, median, ms3, run_standalone, sample_snapshot, scratch
from statemgr.layout import Layout
from statemgr.model import ErrorKind, Failure, Phase, Snapshot, StateName, utc_now
from statemgr.serialization import dumps
from statemgr.store import FileStore

TITLE = "durable transitions"
GOAL = 0.45
STATES = ("running", "run_failed")  # alternated; the store does not consult the chart
WARM_UP = 5


def _moved(snapshot: Snapshot, index: int, failure: Failure) -> Snapshot:
    """The next snapshot: one transition further."""
    target = StateName(STATES[index % 2])
    return snapshot.transitioned(
        target, "bench", "bench", 4242, "bench-host", failure=failure if target.is_failed else None
    )


def _setup(workdir: Path) -> tuple[FileStore, Failure]:
    store = FileStore(Layout(workdir))
    store.create(sample_snapshot("web"))
    now = utc_now()
    failure = Failure(Phase.run, "start_app", ErrorKind.command_failed, "exit 1", now, now, 1)
    return store, failure


def library_cycles(workdir: Path, count: int) -> tuple[list[float], dict[str, float], bytes]:
    """``count`` library cycles; per-cycle wall times, time per part, the last bytes written."""
    store, failure = _setup(workdir)
    parts: dict[str, float] = defaultdict(float)
    times = []
    clock = time.perf_counter
    for index in range(-WARM_UP, count):
        t0 = clock()
        with store.lock("web", "bench") as lock:
            t1 = clock()
            snapshot = lock.load()
            t2 = clock()
            moved = _moved(snapshot, index, failure)
            t3 = clock()
            lock.save(moved)
            t4 = clock()
        t5 = clock()
        if index < 0:
            continue
        times.append(t5 - t0)
        parts["lock + unlock"] += (t1 - t0) + (t5 - t4)
        parts["load"] += t2 - t1
        parts["transitioned"] += t3 - t2
        parts["save"] += t4 - t3
    last = store.load("web")
    state_file = store.layout.state_file("web")
    parts["of save: dumps (serialize)"] = _timed(lambda: dumps(last), count)
    parts["of save: revision check (read + compare)"] = _timed(state_file.read_bytes, count)
    return times, dict(parts), state_file.read_bytes()


def history_line(workdir: Path) -> bytes:
    """The last line the library appended to history.jsonl."""
    lines = Layout(workdir).history_file("web").read_bytes().splitlines()
    return lines[-1] + b"\n"


def held_cycles(workdir: Path, count: int) -> list[float]:
    """Transitions as one command makes them: lock held throughout, snapshot in memory."""
    store, failure = _setup(workdir)
    times = []
    with store.lock("web", "bench") as lock:
        snapshot = lock.load()
        for index in range(-WARM_UP, count):
            started = time.perf_counter()
            snapshot = lock.save(_moved(snapshot, index, failure))
            if index >= 0:
                times.append(time.perf_counter() - started)
    return times


def _timed(action: Callable[[], object], count: int) -> float:
    """Total seconds of ``count`` calls of ``action`` (a figure for the breakdown)."""
    started = time.perf_counter()
    for _ in range(count):
        action()
    return time.perf_counter() - started


def raw_cycles(folder: Path, data: bytes, count: int, line: bytes = b"") -> list[float]:
    """The floor: temp file, write, fsync, rename, fsync the folder. Nothing else.

    With ``line``: the I/O the contract asks of a transition, that line appended to a
    history file and fsynced first, then the same."""
    folder.mkdir()
    target = str(folder / "state.json")
    temp = str(folder / ".state.json.tmp")
    history = str(folder / "history.jsonl")
    folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    times = []
    try:
        for index in range(-WARM_UP, count):
            started = time.perf_counter()
            if line:
                _append_synced(history, line)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, target)
            os.fsync(folder_fd)
            if index >= 0:
                times.append(time.perf_counter() - started)
    finally:
        os.close(folder_fd)
    return times


def _append_synced(path: str, line: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def run(quick: bool) -> Section:
    section = Section(TITLE)
    count = 40 if quick else 1000
    rounds = 1 if quick else 3
    library: list[float] = []
    held: list[float] = []
    raw: list[float] = []
    floor: list[float] = []
    parts_all: dict[str, float] = defaultdict(float)
    with scratch("transitions") as folder:
        for round_ in range(rounds):  # interleaved, so that disk drift hits all alike
            times, parts, data = library_cycles(folder / f"ws{round_}", count)
            library += times
            for key, value in parts.items():
                parts_all[key] += value
            raw += raw_cycles(folder / f"raw{round_}", data, count)
            line = history_line(folder / f"ws{round_}")
            floor += raw_cycles(folder / f"floor{round_}", data, count, line)
            held += held_cycles(folder / f"held{round_}", count)
    total = len(library)
    section.note(
        f"{total} cycles each, state.json {len(data)} bytes and a history line; "
        f"mean (median): library {ms3(mean(library))} ({ms3(median(library))}), lock held "
        f"{ms3(mean(held))} ({ms3(median(held))}), raw {ms3(mean(raw))} ({ms3(median(raw))}), "
        f"raw with the history line {ms3(mean(floor))} ({ms3(median(floor))})"
    )
    section.note("library cycle, mean time per part:")
    for key, value in parts_all.items():
        section.note(f"  {key}: {ms3(value / total)}")
    # Rates from the median cycle: other work on the machine (someone else's fsyncs) puts
    # long stalls into a few cycles, which would decide the mean; the means are above.
    raw_rate = 1 / median(raw)
    for label, times, goal in (
        ("library transitions/s (lock, load, transition, save)", library, True),
        ("transitions/s within one held lock (save only, as a phase saves)", held, False),
    ):
        rate = 1 / median(times)
        ratio = rate / raw_rate
        section.add(
            label,
            f"{rate:,.0f}/s",
            f"raw temp+fsync+rename+dir fsync {raw_rate:,.0f}/s",
            f"{ratio:.0%}",
            f">= {GOAL:.0%} of raw" if goal else "",
            (ratio >= GOAL) if goal else None,
        )
    section.add(
        "the contract's I/O alone (raw, with a history line fsynced first)",
        f"{1 / median(floor):,.0f}/s",
        f"raw temp+fsync+rename+dir fsync {raw_rate:,.0f}/s",
        f"{median(raw) / median(floor):.0%}",
    )
    section.add(
        "library cost over raw, per transition (median cycles)",
        ms3(median(library) - median(raw)),
        f"raw {ms3(median(raw))}",
    )
    return section


def main(argv: list[str] | None = None) -> int:
    return run_standalone(TITLE, run, argv)


if __name__ == "__main__":
    sys.exit(main())
