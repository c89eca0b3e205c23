"""data/NAME/history.jsonl: one line per transition, appended and fsynced before state.json
is replaced; lines above state.json's revision (a writer that died in between) are not
seen by readers and are removed by the next writer; a state file of an older schema is
read with its own history and moved to the new layout on its next write."""

from __future__ import annotations

import json
import os
from pathlib import Path

import attrs
import pytest

from statemgr.errors import StateFileUnreadable, StorageError
from statemgr.model import Snapshot
from statemgr.serialization import SCHEMA_VERSION
from statemgr.store import FileStore, atomic

from .store_support import big_snapshot, with_line

GOLDEN = Path(__file__).parent.parent / "golden"


def lines_of(store: FileStore) -> list[dict[str, object]]:
    data = store.layout.history_file("web").read_bytes()
    return [json.loads(line) for line in data.splitlines()]


def saved_through_the_lock(store: FileStore, *labels: str) -> Snapshot:
    with store.lock("web", "test") as lock:
        snapshot = lock.load()
        for index, label in enumerate(labels):
            snapshot = lock.save(with_line(snapshot, label, seconds=index + 1))
    return snapshot


def test_each_transition_is_one_line_and_state_json_keeps_the_latest(
    store: FileStore, web: Snapshot
) -> None:
    """Tried: create, three transitions, then a save that only records progress."""
    last = saved_through_the_lock(store, "one", "two", "three")
    assert [(line["command"], line["revision"]) for line in lines_of(store)] == [
        ("create", 1),
        ("one", 2),
        ("two", 3),
        ("three", 4),
    ]
    document = json.loads(store.layout.state_file("web").read_bytes())
    assert "history" not in document and document["latest"]["command"] == "three"
    with store.lock("web", "test") as lock:
        progress = lock.save(attrs.evolve(lock.load(), operation=None))  # no new transition
    assert progress.revision == 5 and len(lines_of(store)) == 4
    assert [line.command for line in store.history("web")] == ["create", "one", "two", "three"]
    assert store.history("web")[-1] == last.latest == progress.latest


def test_state_json_does_not_grow_with_the_history(store: FileStore, web: Snapshot) -> None:
    """Tried: 3 and then 200 more transitions: state.json stays the same size (but for the
    digits of the revision); history.jsonl grows."""
    state_file = store.layout.state_file("web")
    saved_through_the_lock(store, *(f"t{index:03d}" for index in range(3)))
    early = len(state_file.read_bytes())
    saved_through_the_lock(store, *(f"t{index:03d}" for index in range(200)))
    assert abs(len(state_file.read_bytes()) - early) <= 4
    assert len(lines_of(store)) == 204


def _fail_state_replace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next replace of a state.json fails (as a crash right before it would)."""
    real = atomic._replace

    def replace(source: str, target: str) -> None:
        if target.endswith("state.json"):
            raise OSError(5, "injected: the machine died here")
        real(source, target)

    monkeypatch.setattr(atomic, "_replace", replace)


def test_a_line_above_state_json_is_unseen_and_the_next_writer_removes_it(
    store: FileStore, web: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tried: a save whose line reached history.jsonl but whose state.json did not; then a
    save that records only progress (it must not adopt the orphan line as its own)."""
    with monkeypatch.context() as patched:
        _fail_state_replace(patched)
        with pytest.raises(StorageError):
            saved_through_the_lock(store, "never happened")
    assert [line["command"] for line in lines_of(store)] == ["create", "never happened"]
    assert [line.command for line in store.history("web")] == ["create"]
    assert store.load("web") == web
    with store.lock("web", "test") as lock:
        lock.save(attrs.evolve(lock.load(), operation=None))  # revision 2, no transition
    assert [line["command"] for line in lines_of(store)] == ["create"]
    saved_through_the_lock(store, "real")
    assert [(line["command"], line["revision"]) for line in lines_of(store)] == [
        ("create", 1),
        ("real", 3),
    ]


def test_a_torn_last_line_is_unseen_and_the_next_writer_removes_it(
    store: FileStore, web: Snapshot
) -> None:
    """Tried: half a line at the end (a writer killed while appending it)."""
    history = store.layout.history_file("web")
    whole = history.read_bytes()
    with history.open("ab") as file:
        file.write(b'{"at":"2026-11-29T13:05:00+00:00","from":"created","to":"pro')
    assert [line.command for line in store.history("web")] == ["create"]
    saved_through_the_lock(store, "after the tear")
    assert history.read_bytes().startswith(whole)
    assert [line["command"] for line in lines_of(store)] == ["create", "after the tear"]


def test_lines_written_by_another_tool_are_read_for_their_revision(
    store: FileStore, web: Snapshot
) -> None:
    """Tried: history.jsonl rewritten with spaces after the colons (as json.dumps writes,
    not as statemgr does), and an orphan line above state.json's revision in that form:
    the next save still finds each line's revision, cuts the orphan and keeps the rest."""
    history = store.layout.history_file("web")
    spaced = [json.loads(line) for line in history.read_bytes().splitlines()]
    orphan = {**spaced[-1], "command": "never happened", "revision": 2}
    history.write_text("".join(json.dumps(line) + "\n" for line in [*spaced, orphan]))
    saved_through_the_lock(store, "real")
    assert [(line["command"], line["revision"]) for line in lines_of(store)] == [
        ("create", 1),
        ("real", 2),
    ]
    saved_through_the_lock(store, "again")  # the last line is spaced no more
    assert [line.command for line in store.history("web")] == ["create", "real", "again"]


def _older_file(store: FileStore, version: int) -> Snapshot:
    """data/staging/state.json as schema ``version`` wrote it (history inside, no history.jsonl)."""
    folder = store.layout.data_dir("staging")
    folder.mkdir(parents=True, mode=0o700)
    os.chmod(store.layout.data_root, 0o700)
    old = (GOLDEN / f"v{version}" / "healthy_running.json").read_bytes()
    store.layout.state_file("staging").write_bytes(old)
    os.chmod(store.layout.state_file("staging"), 0o600)
    return store.load("staging")


@pytest.mark.parametrize("version", [1, 2, 3])
def test_an_older_state_file_is_read_as_it_is_and_moved_out_on_its_next_write(
    store: FileStore, version: int
) -> None:
    """Tried: the healthy golden file of schema 1, 2 and 3 as an environment's state file."""
    loaded = _older_file(store, version)
    document = json.loads(store.layout.state_file("staging").read_bytes())
    older = [entry["event"] for entry in document["history"]]
    assert [line.event for line in store.history("staging")] == older
    assert {line.revision for line in store.history("staging")} == {loaded.revision}
    assert loaded.latest.event == older[-1] and loaded.latest.revision == loaded.revision
    assert [entry.name for entry in store.list()] == ["staging"]
    assert not store.layout.history_file("staging").exists()

    with store.lock("staging", "test") as lock:
        lock.save(with_line(lock.load(), "first write"))
    document = json.loads(store.layout.state_file("staging").read_bytes())
    assert document["schema_version"] == SCHEMA_VERSION and "history" not in document
    moved = [line.event for line in store.history("staging")]
    assert moved == [*older, "test"]
    assert store.history("staging")[-1].revision == loaded.revision + 1


def test_a_missing_history_file_is_unreadable_and_refuses_saves(
    store: FileStore, web: Snapshot
) -> None:
    """Tried: history.jsonl deleted by hand: history says so (exit 6), status still works,
    and a save is refused rather than starting a history that silently lost the past."""
    store.layout.history_file("web").unlink()
    with pytest.raises(StateFileUnreadable, match=r"history\.jsonl") as refused:
        store.history("web")
    assert refused.value.exit_code == 6 and refused.value.env == "web"
    assert store.load("web") == web
    with pytest.raises(StateFileUnreadable, match="missing"):
        saved_through_the_lock(store, "refused")
    assert store.load("web") == web


def test_a_bad_line_is_named_with_its_number(store: FileStore, web: Snapshot) -> None:
    """Tried: a line that is JSON but not a transition, between two good ones."""
    saved_through_the_lock(store, "good")
    history = store.layout.history_file("web")
    first, second = history.read_bytes().splitlines(keepends=True)
    history.write_bytes(first + b'{"at": "yesterday"}\n' + second)
    with pytest.raises(StateFileUnreadable) as unreadable:
        store.history("web")
    assert "data/web/history.jsonl line 2" in str(unreadable.value)
    assert unreadable.value.exit_code == 6


def test_a_link_at_the_history_file_is_refused(
    store: FileStore, web: Snapshot, tmp_path: Path
) -> None:
    """Tried: history.jsonl replaced by a symbolic link to a file outside the workspace:
    reading is refused (exit 6), writing too (exit 7), and the target is never touched."""
    history = store.layout.history_file("web")
    outside = tmp_path / "outside.jsonl"
    outside.write_bytes(history.read_bytes())
    history.unlink()
    history.symlink_to(outside)
    with pytest.raises(StateFileUnreadable, match="symbolic link") as unreadable:
        store.history("web")
    assert unreadable.value.exit_code == 6
    with pytest.raises(StorageError, match="symbolic link") as refused:
        saved_through_the_lock(store, "through the link")
    assert refused.value.exit_code == 7
    assert len(outside.read_bytes().splitlines()) == 1


def test_a_big_state_file_and_a_line_go_together(store: FileStore, web: Snapshot) -> None:
    """Tried: a save of a snapshot of 100 more steps (state.json ~30 KiB) and a transition."""
    with store.lock("web", "test") as lock:
        saved = lock.save(big_snapshot(lock.load(), 100))
    assert store.load("web") == saved
    assert store.history("web")[-1] == saved.latest


def test_a_create_that_fails_leaves_no_history_behind(
    store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tried: create, with the replace of state.json failing after history.jsonl was made."""
    from .store_support import fresh_snapshot

    _fail_state_replace(monkeypatch)
    with pytest.raises(StorageError):
        store.create(fresh_snapshot("web"))
    assert not store.exists("web")
    assert not store.layout.history_file("web").exists()
