"""A writer SIGKILLed at random moments never leaves a state file that fails to load."""

from __future__ import annotations

import os
import random
import select
import signal
import struct
import time
from datetime import timedelta

import attrs

from statemgr.model import Snapshot, StateName, Transition
from statemgr.store import FileStore
from statemgr.store.base import recorded

from .store_support import T0, fork, temp_files

KILLS = 200


def version(base: Snapshot, revision: int) -> Snapshot:
    """What the writer saves as ``revision``: a new transition, of a length that varies."""
    line = Transition(
        at=T0 + timedelta(seconds=revision),
        from_state=StateName.created,
        to=StateName.created,
        event="test",
        command=f"revision {revision} " + "x" * (revision % 300),
        pid=1,
        host="writer",
        vars={f"V{index}": "y" * 40 for index in range(revision % 13)},
    )
    return attrs.evolve(base, revision=revision, latest=line)


def _history_revisions(store: FileStore) -> list[int | None]:
    return [line.revision for line in store.history("web")]


def _write_forever(store: FileStore, base: Snapshot, report: int) -> None:
    """Save the next version in a tight loop; report each revision once it is on disk."""
    current = store.load("web").revision
    os.write(report, b"R")
    while True:
        store.save(attrs.evolve(version(base, current + 1), revision=current))
        current += 1
        os.write(report, struct.pack("<I", current))


def _revisions_reported(read_end: int) -> list[int]:
    data = b""
    while chunk := os.read(read_end, 65536):
        data += chunk
    whole = len(data) - len(data) % 4
    return [value for (value,) in struct.iter_unpack("<I", data[:whole])]


def _one_kill(store: FileStore, base: Snapshot, rng: random.Random) -> tuple[int, int, int]:
    """Start a writer, SIGKILL it 0-30 ms after it is ready: (before, last reported, on disk)."""
    before = store.load("web").revision
    read_end, write_end = os.pipe()
    child = fork(lambda: _write_forever(store, base, write_end))
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 20)
        assert ready and os.read(read_end, 1) == b"R", "the writer did not start"
        time.sleep(rng.uniform(0, 0.030))
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        reported = _revisions_reported(read_end)
    finally:
        os.close(read_end)
    last = reported[-1] if reported else before
    return before, last, store.load("web").revision  # load() must never fail


def test_sigkill_at_random_moments_leaves_the_old_or_the_new_snapshot(
    store: FileStore, web: Snapshot
) -> None:
    rng = random.Random(20261129)
    folder = store.layout.data_dir("web")
    in_flight = temps_left = 0
    for kill in range(KILLS):
        before, last, on_disk = _one_kill(store, web, rng)
        assert on_disk in (last, last + 1), (
            f"kill {kill}: disk has revision {on_disk}, the writer last finished {last}"
        )
        expected = web if on_disk == 1 else recorded(version(web, on_disk), on_disk)
        assert store.load("web") == expected, f"kill {kill}: revision {on_disk} is not as written"
        assert on_disk >= before
        if kill % 10 == 0:  # every save added a line; a line the kill left above is unseen
            assert _history_revisions(store) == list(range(1, on_disk + 1)), f"kill {kill}"
        leftovers = temp_files(folder)
        assert len(leftovers) <= 1, f"kill {kill}: temp files piled up: {leftovers}"
        in_flight += on_disk == last + 1
        temps_left += len(leftovers)
    # The kills landed inside writes, not only between them (else the test proves little).
    assert temps_left > 0, "no kill ever landed while a temp file existed"
    final = store.load("web")
    store.save(final)  # the next writer clears what the last killed one left
    assert temp_files(folder) == []
    assert sorted(os.listdir(folder)) == ["history.jsonl", "state.json"]
    assert store.load("web").revision == final.revision + 1
    assert _history_revisions(store) == list(range(1, final.revision + 1))
    lines = store.layout.history_file("web").read_bytes().splitlines()
    assert len(lines) == final.revision  # what a killed writer appended above it is gone
    print(f"{KILLS} kills: {temps_left} left a temp file, {in_flight} after the rename")
