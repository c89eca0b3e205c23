"""History growth: a save, ``status`` and ``list`` with 10 transitions behind an environment
against the same with 10,000, in the same run.

Two environments are made, one with a history of 10 transitions and one of 10,000 (the
library's own bytes: state.json from ``dumps`` at the last revision, history.jsonl from
``transition_line``, one line a revision; writing 10,000 durable saves would take
minutes and prove the same). Then, in turns so that the machine's other work hits both
alike:

- a durable save cycle as a command makes it (lock, load, transition, save through the
  held lock), on each environment in turn; medians;
- ``statemgr status NAME --json`` and ``statemgr list --json`` as new processes, from a
  regular install (``bench.install``); medians;
- ``statemgr history NAME --json``, which reads the whole history and may grow with it.

Run: ``python -m bench.history [--quick]``.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

import attrs

from bench.common import (
    Section,
    median,
    ms,
    ms3,
    run_in_turns,
    run_standalone,
    sample_snapshot,
    scratch,
)
from bench.install import regular_install
from statemgr.layout import Layout
from statemgr.model import ErrorKind, Failure, Phase, Snapshot, StateName, Transition, utc_now
from statemgr.serialization import dumps, transition_line
from statemgr.store import FileStore

TITLE = "history growth"
SIZES = (10, 10_000)
GOAL = 1.5  # the 10,000 figure within 1.5x of the 10 one
STATES = ("running", "run_failed")


def with_history(workdir: Path, name: str, transitions: int) -> Snapshot:
    """data/NAME with ``transitions`` transitions: state.json at that revision, and a line
    of history.jsonl for each revision (as that many saves would have left them)."""
    store = FileStore(Layout(workdir))
    created = store.create(sample_snapshot(name))  # a deployed environment: running
    start = utc_now()
    lines = []
    latest = created.latest
    for revision in range(1, transitions + 1):
        latest = Transition(
            at=start + timedelta(seconds=revision),
            from_state=None if revision == 1 else StateName.running,
            to=StateName.created if revision == 1 else StateName.running,
            event="create" if revision == 1 else "bench",
            command="create" if revision == 1 else "bench",
            pid=4242,
            host="bench-host",
            revision=revision,
        )
        lines.append(transition_line(latest))
    snapshot = attrs.evolve(created, revision=transitions, latest=latest)
    layout = store.layout
    layout.history_file(name).write_bytes(b"".join(lines))
    layout.state_file(name).write_bytes(dumps(snapshot))
    return snapshot


def save_cycles(workdir: Path, names: list[str], count: int) -> dict[str, list[float]]:
    """``count`` durable save cycles on each of ``names``, in turns: the time of each."""
    store = FileStore(Layout(workdir))
    now = utc_now()
    failure = Failure(Phase.run, "start_app", ErrorKind.command_failed, "exit 1", now, now, 1)
    times: dict[str, list[float]] = {name: [] for name in names}
    for index in range(-3, count):
        target = StateName(STATES[index % 2])
        for name in names:
            started = time.perf_counter()
            with store.lock(name, "bench") as lock:
                snapshot = lock.load()
                lock.save(
                    snapshot.transitioned(
                        target,
                        "bench",
                        "bench",
                        4242,
                        "bench-host",
                        failure=failure if target.is_failed else None,
                    )
                )
            if index >= 0:
                times[name].append(time.perf_counter() - started)
    return times


def _growth_row(section: Section, measure: str, small: float, large: float, goal: bool) -> None:
    ratio = large / small
    section.add(
        f"{measure}, {SIZES[1]:,} transitions",
        ms3(large) if large < 0.01 else ms(large),
        f"{SIZES[0]} transitions {ms3(small) if small < 0.01 else ms(small)}",
        f"{ratio:.2f}x",
        f"<= {GOAL}x" if goal else "",
        ratio <= GOAL if goal else None,
    )


def run(quick: bool) -> Section:
    section = Section(TITLE)
    cycles = 30 if quick else 600
    runs = 3 if quick else 20
    with scratch("history") as folder:
        statemgr = str(regular_install(folder / "venv"))
        workdir = folder / "ws"
        names = {size: f"h{size}" for size in SIZES}
        for size, name in names.items():
            with_history(workdir, name, size)
        sizes = {
            size: (len(Layout(workdir).history_file(name).read_bytes()), name)
            for size, name in names.items()
        }
        for size, (bytes_, name) in sizes.items():
            section.note(f"{name}: {size:,} transitions, history.jsonl {bytes_:,} bytes")
        saves = save_cycles(workdir, list(names.values()), cycles)
        small, large = (median(saves[names[size]]) for size in SIZES)
        section.note(f"save cycles: {cycles} each, in turns; medians {ms3(small)}, {ms3(large)}")
        _growth_row(section, "save (lock, load, transition, save)", small, large, True)
        base = [statemgr, "--workdir", str(workdir)]
        commands = {
            f"status {size}": ([*base, "status", names[size], "--json"], None) for size in SIZES
        }
        commands.update(
            {f"history {size}": ([*base, "history", names[size], "--json"], None) for size in SIZES}
        )
        commands["list"] = ([*base, "list", "--json"], None)
        found = run_in_turns(list(commands.values()), runs + 2)
        medians = {}
        for label, results in zip(commands, found, strict=True):
            failed = [r.status for r in results if r.status != 0]
            if failed:
                raise RuntimeError(f"{label} exited {failed[0]}")
            medians[label] = median([r.seconds for r in results[2:]])
        section.note(
            "processes, in turns (medians): "
            + ", ".join(f"{label} {ms(value)}" for label, value in medians.items())
        )
        status = (medians[f"status {size}"] for size in SIZES)
        _growth_row(section, "statemgr status NAME --json", *status, True)
        history = (medians[f"history {size}"] for size in SIZES)
        _growth_row(section, "statemgr history NAME --json (reads it all)", *history, False)
        section.note(
            f"statemgr list --json over both environments: {ms(medians['list'])} "
            f"(list reads state.json only)"
        )
    return section


def main(argv: list[str] | None = None) -> int:
    return run_standalone(TITLE, run, argv)


if __name__ == "__main__":
    sys.exit(main())
