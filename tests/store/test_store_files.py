"""The file store's files: layout, modes, revisions, lineage, listing, delete, names."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from statemgr.errors import (
    EnvironmentExists,
    EnvironmentNotFound,
    InvalidName,
    RevisionConflict,
    StateFileUnreadable,
)
from statemgr.model import EnvironmentName, Snapshot
from statemgr.serialization import dumps
from statemgr.store import FileStore, LineageConflict, Store

from .store_support import fresh_snapshot, temp_files, with_line


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_file_store_satisfies_the_store_protocol(store: FileStore) -> None:
    typed: Store = store  # mypy checks the protocol; this checks the methods exist
    for method in ("exists", "load", "create", "save", "delete", "names", "list", "lock"):
        assert callable(getattr(typed, method))
    assert callable(typed.holder)


def test_create_writes_revision_1_with_private_modes(store: FileStore) -> None:
    """create: data/ and data/NAME are 0700, state.json is 0600, even under umask 000."""
    old_umask = os.umask(0)
    try:
        created = store.create(fresh_snapshot("web"))
    finally:
        os.umask(old_umask)
    assert created.revision == 1
    layout = store.layout
    assert mode(layout.data_root) == 0o700
    assert mode(layout.data_dir("web")) == 0o700
    assert mode(layout.state_file("web")) == 0o600
    assert store.load("web") == created
    assert layout.state_file("web").read_bytes() == dumps(created)
    assert sorted(os.listdir(layout.data_dir("web"))) == ["history.jsonl", "state.json"]


def test_create_refuses_an_existing_name_and_leaves_it(store: FileStore, web: Snapshot) -> None:
    before = store.layout.state_file("web").read_bytes()
    with pytest.raises(EnvironmentExists) as refused:
        store.create(fresh_snapshot("web"))
    assert refused.value.env == "web"
    assert store.layout.state_file("web").read_bytes() == before


def test_save_writes_the_next_revision_and_returns_it(store: FileStore, web: Snapshot) -> None:
    changed = with_line(web, "first change")
    saved = store.save(changed)
    assert saved == attrs.evolve(
        changed, revision=2, latest=attrs.evolve(changed.latest, revision=2)
    )
    assert store.load("web") == saved
    again = store.save(with_line(saved, "second change", seconds=2))
    assert again.revision == 3
    assert [line.command for line in store.history("web")] == [
        "create",
        "first change",
        "second change",
    ]
    assert mode(store.layout.state_file("web")) == 0o600


def test_save_of_a_stale_revision_is_refused_and_writes_nothing(
    store: FileStore, web: Snapshot
) -> None:
    """Two writers loaded revision 1; the second save must not overwrite the first."""
    store.save(with_line(web, "writer A"))
    on_disk = store.layout.state_file("web").read_bytes()
    with pytest.raises(RevisionConflict) as conflict:
        store.save(with_line(web, "writer B"))
    assert (conflict.value.expected, conflict.value.found) == (1, 2)
    assert store.layout.state_file("web").read_bytes() == on_disk


def test_save_from_a_revision_ahead_of_disk_is_refused(store: FileStore, web: Snapshot) -> None:
    with pytest.raises(RevisionConflict) as conflict:
        store.save(attrs.evolve(web, revision=7))
    assert (conflict.value.expected, conflict.value.found) == (7, 1)


def test_save_of_another_lineage_is_refused(store: FileStore, web: Snapshot) -> None:
    """Purged and created again: same name and revision, another lineage. Nothing written."""
    store.delete("web")
    recreated = store.create(fresh_snapshot("web"))
    on_disk = store.layout.state_file("web").read_bytes()
    assert recreated.revision == web.revision and recreated.lineage != web.lineage
    with pytest.raises(LineageConflict) as conflict:
        store.save(with_line(web, "old writer"))
    assert isinstance(conflict.value, RevisionConflict)
    assert str(web.lineage) in str(conflict.value)
    assert str(recreated.lineage) in str(conflict.value)
    assert store.layout.state_file("web").read_bytes() == on_disk


def test_save_after_delete_is_a_conflict_with_no_state(store: FileStore, web: Snapshot) -> None:
    store.delete("web")
    with pytest.raises(RevisionConflict) as conflict:
        store.save(with_line(web, "too late"))
    assert conflict.value.found is None
    assert not store.layout.data_dir("web").exists()


def test_load_of_a_missing_environment_names_the_file(store: FileStore) -> None:
    with pytest.raises(EnvironmentNotFound) as missing:
        store.load("ghost")
    assert missing.value.env == "ghost"
    assert missing.value.path == "data/ghost/state.json"
    assert not store.exists("ghost")


def test_a_folder_whose_state_file_is_not_there_is_not_an_environment(
    store: FileStore, web: Snapshot
) -> None:
    """data/half/ with only a lock file (a create that wrote nothing): not listed, not found."""
    half = store.layout.data_dir("half")
    half.mkdir()
    (half / "state.lock").write_bytes(b"")
    assert not store.exists("half")
    assert store.names() == ["web"]
    assert [listing.name for listing in store.list()] == ["web"]
    with pytest.raises(EnvironmentNotFound):
        store.load("half")
    assert store.create(fresh_snapshot("half")).revision == 1


def test_a_file_for_another_environment_is_unreadable(store: FileStore, web: Snapshot) -> None:
    """data/copy/state.json holding 'web' (a copied folder): refused, and left as it is."""
    copy = store.layout.data_dir("copy")
    copy.mkdir()
    data = store.layout.state_file("web").read_bytes()
    (copy / "state.json").write_bytes(data)
    with pytest.raises(StateFileUnreadable) as unreadable:
        store.load("copy")
    assert "'web'" in str(unreadable.value) and "data/copy/state.json" in str(unreadable.value)
    assert (copy / "state.json").read_bytes() == data


def test_names_and_list_are_sorted_and_skip_what_is_not_an_environment(
    store: FileStore,
) -> None:
    for name in ("zeta", "alpha", "mid-1", "b"):
        store.create(fresh_snapshot(name))
    data = store.layout.data_root
    (data / "lost+found").mkdir()
    (data / ".hidden").mkdir()
    (data / "Upper").mkdir()
    (data / "notes.txt").write_text("not an environment")
    (data / "file-env").write_text("a file, not a folder")
    expected = ["alpha", "b", "mid-1", "zeta"]
    assert store.names() == expected
    listings = store.list()
    assert [listing.name for listing in listings] == expected
    assert all(listing.error is None and listing.summary for listing in listings)
    assert [listing.summary.name for listing in listings if listing.summary] == expected


def test_list_reports_an_unreadable_environment_with_its_error(store: FileStore) -> None:
    for name in ("alpha", "broken", "gamma"):
        store.create(fresh_snapshot(name))
    store.layout.state_file("broken").write_bytes(b"{ not json")
    listings = {listing.name: listing for listing in store.list()}
    assert sorted(listings) == ["alpha", "broken", "gamma"]
    assert listings["broken"].summary is None
    assert isinstance(listings["broken"].error, StateFileUnreadable)
    assert "data/broken/state.json" in str(listings["broken"].error)
    assert listings["alpha"].summary is not None and listings["gamma"].summary is not None


def test_an_empty_workspace_lists_nothing(store: FileStore) -> None:
    assert store.names() == []
    assert store.list() == []
    assert not store.layout.data_root.exists()


def test_delete_removes_the_whole_folder(store: FileStore, web: Snapshot, tmp_path: Path) -> None:
    """Tried: traces with a killed run's side files, a folder, and a link to a file
    outside: all of it goes, never what the link points to."""
    traces = store.layout.traces_dir("web")
    traces.mkdir()
    (traces / "run.log").write_text("trace")
    (traces / "run.provision-slow-ab12.stderr").write_text("half a step's stderr")
    (traces / "run.provision-slow-cd34ef.output").write_text("PORT=8080\n")
    (traces / "odd").mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    (traces / "link.log").symlink_to(outside)
    store.delete("web")
    assert outside.read_text() == "keep me"
    assert not store.layout.data_dir("web").exists()
    assert not store.exists("web")
    assert store.names() == []
    with pytest.raises(EnvironmentNotFound):
        store.delete("web")


def test_a_stale_temp_file_is_ignored_by_readers_and_removed_by_the_next_save(
    store: FileStore, web: Snapshot
) -> None:
    """A writer killed mid-write leaves .state.json.<random>.tmp behind."""
    folder = store.layout.data_dir("web")
    stale = folder / ".state.json.deadbeef0000.tmp"
    stale.write_bytes(b'{"half": ')
    assert store.names() == ["web"]
    assert store.load("web") == web
    store.save(with_line(web, "next"))
    assert temp_files(folder) == []
    assert sorted(os.listdir(folder)) == ["history.jsonl", "state.json"]


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.load("../etc"),
        lambda s: s.exists("Web"),
        lambda s: s.delete("web/x"),
        lambda s: s.holder(".state.json.0.tmp"),
        lambda s: s.lock("", "provision").__enter__(),
        lambda s: s.load("a" * 64),
    ],
    ids=["load-dotdot", "exists-upper", "delete-slash", "holder-temp-name", "lock-empty", "64"],
)
def test_a_bad_name_is_refused_before_any_file_is_touched(store: FileStore, call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidName):
        call(store)
    assert not store.layout.root.exists()


def test_list_of_2000_environments_lists_them_all(store: FileStore) -> None:
    """Thousands are listed, each with its summary. (How fast is measured in bench/, as a
    same-run ratio: `python -m bench --only scale`; a timed assertion here would fail on a
    loaded machine and prove nothing.)"""
    template = fresh_snapshot("x")
    data = store.layout.data_root
    data.mkdir(parents=True)
    for index in range(2000):
        name = f"env-{index:05d}"
        snapshot = attrs.evolve(
            template,
            environment=attrs.evolve(template.environment, name=EnvironmentName(name)),
            revision=1,
        )
        (data / name).mkdir()
        (data / name / "state.json").write_bytes(dumps(snapshot))
    listings = store.list()
    assert len(listings) == 2000 and all(listing.summary for listing in listings)
    assert [listing.name for listing in listings] == sorted(listing.name for listing in listings)


READ_PATH = """
import json, sys
from statemgr.layout import Layout
from statemgr.store import FileStore
store = FileStore(Layout(sys.argv[1]))
store.exists("web"); store.load("web"); store.names(); store.list(); store.holder("web")
heavy = ("portalocker", "loguru", "statemachine")
before = sorted(m for m in heavy if m in sys.modules)
with store.lock("web", "provision"):
    pass
after = sorted(m for m in heavy if m in sys.modules)
print(json.dumps([before, after]))
"""


def test_the_read_path_imports_no_portalocker_loguru_or_statemachine(
    store: FileStore, web: Snapshot
) -> None:
    """exists/load/names/list/holder in a fresh interpreter; lock() then pulls them in."""
    result = subprocess.run(
        [sys.executable, "-c", READ_PATH, str(store.layout.root)],
        capture_output=True,
        text=True,
        check=True,
    )
    before, after = json.loads(result.stdout)
    assert before == []
    assert "portalocker" in after and "loguru" in after  # the check can see an import
