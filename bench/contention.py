"""Contention: 1, 2, 4 and 8 processes doing locked read-modify-write cycles, all on one
environment and each on its own; cycles per second, and a check that no update was lost.

A cycle is what a state-changing command does around one write: ``FileStore.lock`` (with
a lock timeout, as ``--lock-timeout 60``), ``load``, append one history line
(``Snapshot.transitioned``), ``save``, unlock. Every configuration makes the same total
number of cycles, so the files grow alike. No update is lost when, at the end, the
revision grew by exactly the number of cycles, the history has one line per cycle, and
every worker's cycles are in it. Run: ``python -m bench.contention [--quick]``.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import Section, median, ms, run_standalone, sample_snapshot, scratch
from statemgr.layout import Layout
from statemgr.store import FileStore

if TYPE_CHECKING:
    from multiprocessing.queues import Queue
    from multiprocessing.synchronize import Event

TITLE = "contention"
LOCK_TIMEOUT = 60.0


def worker(
    workdir: str, name: str, cycles: int, start: Event, tag: str, waits: Queue[list[float]]
) -> None:
    store = FileStore(Layout(Path(workdir)))
    waited = []
    start.wait()
    for _ in range(cycles):
        asked = time.perf_counter()
        with store.lock(name, tag, LOCK_TIMEOUT):
            waited.append(time.perf_counter() - asked)
            snapshot = store.load(name)
            state = snapshot.state.name
            store.save(snapshot.transitioned(state, "bench", tag, os.getpid(), "bench-host"))
    waits.put(waited)


def one_run(
    workdir: Path, processes: int, shared: bool, total: int
) -> tuple[float, list[str], list[float]]:
    """Seconds for ``total`` cycles split over ``processes``, the problems found (none: ok)
    and every cycle's wait for the lock."""
    store = FileStore(Layout(workdir))
    names = ["shared"] if shared else [f"own-{i}" for i in range(processes)]
    before = {}
    for name in names:
        store.create(sample_snapshot(name))
        snapshot = store.load(name)
        before[name] = (snapshot.revision, len(store.history(name)))
    per_worker = total // processes
    context = multiprocessing.get_context("fork")
    start = context.Event()
    waits: Queue[list[float]] = context.Queue()
    workers = []
    for index in range(processes):
        name = names[0] if shared else names[index]
        tag = f"w{index}"
        workers.append(
            context.Process(target=worker, args=(str(workdir), name, per_worker, start, tag, waits))
        )
    for process in workers:
        process.start()
    time.sleep(0.2)  # let every worker reach the start line
    started = time.perf_counter()
    start.set()
    waited = []
    for _ in workers:
        waited += waits.get(timeout=600)
    for process in workers:
        process.join()
    seconds = time.perf_counter() - started
    problems = [f"worker exited {p.exitcode}" for p in workers if p.exitcode != 0]
    expected_per_name = per_worker * processes if shared else per_worker
    for name in names:
        snapshot = store.load(name)
        transitions = store.history(name)
        revision, history = before[name]
        grew = snapshot.revision - revision
        lines = len(transitions) - history
        if grew != expected_per_name or lines != expected_per_name:
            problems.append(
                f"{name}: revision +{grew}, history +{lines}, expected +{expected_per_name}"
            )
        by_worker = Counter(line.command for line in transitions[history:])
        for tag, count in by_worker.items():
            if count != per_worker:
                problems.append(f"{name}: {tag} has {count} history lines, made {per_worker}")
    return seconds, problems, waited


def run(quick: bool) -> Section:
    section = Section(TITLE)
    counts = [1, 2] if quick else [1, 2, 4, 8]
    total = 16 if quick else 240
    section.note(f"{total} cycles per configuration, {os.cpu_count()} CPUs")
    with scratch("contention") as folder:
        for shared in (True, False):
            where = "one environment" if shared else "own environments"
            single = None
            for processes in counts:
                workdir = folder / f"{'one' if shared else 'own'}-{processes}"
                seconds, problems, waited = one_run(workdir, processes, shared, total)
                cycles = (total // processes) * processes
                rate = cycles / seconds
                single = single or rate
                lost = "none lost" if not problems else "; ".join(problems[:3])
                waited.sort()
                section.note(
                    f"{where}, {processes} processes: {rate:,.0f} cycles/s, {lost}; wait for "
                    f"the lock: median {ms(median(waited))}, p90 "
                    f"{ms(waited[int(len(waited) * 0.9)])}, max {ms(waited[-1])}"
                )
                section.add(
                    f"{where}, {processes} process{'es' if processes > 1 else ''}",
                    f"{rate:,.0f} cycles/s",
                    f"1 process {single:,.0f}/s",
                    f"{rate / single:.2f}x",
                    "no update lost",
                    not problems,
                )
    return section


def main(argv: list[str] | None = None) -> int:
    return run_standalone(TITLE, run, argv)


if __name__ == "__main__":
    sys.exit(main())
