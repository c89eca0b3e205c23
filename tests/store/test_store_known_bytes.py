"""A save through the held lock checks the revision and lineage on disk by comparing the
bytes there with what the lock last read or wrote; whatever else is there is parsed, as
before, and a changed revision or lineage is still refused."""

from __future__ import annotations

import json

import attrs
import pytest

from statemgr.errors import RevisionConflict
from statemgr.model import Snapshot, StateName
from statemgr.store import FileStore, LineageConflict

from .store_support import fresh_snapshot


def moved(snapshot: Snapshot) -> Snapshot:
    return snapshot.transitioned(StateName.destroyed, "destroy", "destroy", 1, "test-host")


def test_saves_through_the_lock_follow_each_other(store: FileStore, web: Snapshot) -> None:
    """Tried: load and three saves in one held lock (each save checks against the last)."""
    with store.lock("web", "test") as lock:
        snapshot = lock.load()
        for _ in range(3):
            snapshot = lock.save(moved(snapshot))
    assert store.load("web") == snapshot and snapshot.revision == 4


def test_a_revision_written_behind_the_locks_back_is_refused(
    store: FileStore, web: Snapshot
) -> None:
    """Tried: while the lock is held, another writer that skipped the lock saves revision 2;
    the lock's save of what it loaded (revision 1) is refused and changes nothing."""
    with store.lock("web", "test") as lock:
        loaded = lock.load()
        other = store.save(attrs.evolve(moved(web), revision=1))
        with pytest.raises(RevisionConflict):
            lock.save(moved(loaded))
    assert store.load("web") == other


def test_a_new_lineage_with_the_same_revision_is_refused(store: FileStore, web: Snapshot) -> None:
    """Tried: the environment purged and created again (revision 1 again, a new lineage)
    between the lock's load and its save."""
    state_file = store.layout.state_file("web")
    with store.lock("web", "test") as lock:
        loaded = lock.load()
        again = attrs.evolve(fresh_snapshot("web"), revision=0)
        state_file.unlink()
        store.create(again)
        with pytest.raises(LineageConflict):
            lock.save(moved(loaded))


def test_the_same_revision_in_other_bytes_is_parsed_and_accepted(
    store: FileStore, web: Snapshot
) -> None:
    """Tried: someone re-indents state.json (same revision and lineage, other bytes)
    between the load and the save: the file is parsed, and the save goes through."""
    state_file = store.layout.state_file("web")
    with store.lock("web", "test") as lock:
        loaded = lock.load()
        state_file.write_text(json.dumps(json.loads(state_file.read_bytes()), indent=4))
        saved = lock.save(moved(loaded))
    assert saved.revision == 2 and store.load("web") == saved


def test_a_load_through_the_lock_after_a_save_is_what_a_fresh_read_gives(
    store: FileStore, web: Snapshot
) -> None:
    """Tried: a save through one lock, then a load through the next: the snapshot the store
    remembers for the bytes it wrote equals what another store parses from the file."""
    with store.lock("web", "test") as lock:
        saved = lock.save(moved(lock.load()))
    with store.lock("web", "test") as lock:
        again = lock.load()
    fresh = FileStore(store.layout).load("web")
    assert again == fresh == saved and again.revision == 2


def test_other_bytes_on_disk_are_read_again_not_remembered(store: FileStore, web: Snapshot) -> None:
    """Tried: after a save, someone edits state.json (an output added, same revision): the
    next load through the lock reads the edit, and the next save keeps it."""
    with store.lock("web", "test") as lock:
        lock.save(moved(lock.load()))
    state_file = store.layout.state_file("web")
    document = json.loads(state_file.read_bytes())
    document["outputs"] = {"url": "http://edited"}
    state_file.write_text(json.dumps(document, indent=2) + "\n")
    with store.lock("web", "test") as lock:
        loaded = lock.load()
        assert loaded.outputs == {"url": "http://edited"} and loaded.revision == 2
        saved = lock.save(attrs.evolve(loaded, outputs={**loaded.outputs, "port": "80"}))
    assert store.load("web").outputs == {"url": "http://edited", "port": "80"} == saved.outputs
