"""Damaged state files: each maps onto one clear error naming the file, and stays as it was."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from statemgr.errors import NewerSchema, StateFileUnreadable
from statemgr.model import SCHEMA_VERSION, Snapshot
from statemgr.serialization import dumps
from statemgr.store import FileStore

from .store_support import fresh_snapshot, store_at, with_line

SHOWN = "data/web/state.json"


def _document(snapshot: Snapshot) -> dict[str, object]:
    document: dict[str, object] = json.loads(dumps(snapshot))
    return document


def _edited(edit: Callable[[dict[str, object]], object]) -> Callable[[Snapshot], bytes]:
    def damage(snapshot: Snapshot) -> bytes:
        document = _document(snapshot)
        edit(document)
        return json.dumps(document).encode()

    return damage


def _unknown_state(document: dict[str, object]) -> None:
    document["state"] = {"name": "exploded", "failure": None}


# (input tried, how to damage the valid file, the error, words the message must contain)
DAMAGES: list[tuple[str, Callable[[Snapshot], bytes], type[Exception], str]] = [
    ("garbage-bytes", lambda s: bytes(range(256)) * 3, StateFileUnreadable, "not valid JSON"),
    ("empty-file", lambda s: b"", StateFileUnreadable, "not valid JSON"),
    ("truncated-half", lambda s: dumps(s)[: len(dumps(s)) // 2], StateFileUnreadable, "JSON"),
    ("truncated-last-byte", lambda s: dumps(s).rstrip()[:-1], StateFileUnreadable, "JSON"),
    ("nul-bytes", lambda s: b"\0" * 4096, StateFileUnreadable, "not valid JSON"),
    ("json-list-not-object", lambda s: b"[1, 2, 3]", StateFileUnreadable, "JSON object"),
    ("json-null", lambda s: b"null", StateFileUnreadable, "JSON object"),
    (
        "missing-state-field",
        _edited(lambda d: d.pop("state")),
        StateFileUnreadable,
        "state",
    ),
    (
        "revision-is-a-string",
        _edited(lambda d: d.update(revision="3")),
        StateFileUnreadable,
        "revision",
    ),
    ("extra-unknown-key", _edited(lambda d: d.update(extra=1)), StateFileUnreadable, "extra"),
    ("unknown-state-name", _edited(_unknown_state), StateFileUnreadable, "exploded"),
    (
        "schema-version-999",
        _edited(lambda d: d.update(schema_version=999)),
        NewerSchema,
        "999",
    ),
    (
        "schema-version-zero",
        _edited(lambda d: d.update(schema_version=0)),
        StateFileUnreadable,
        "schema_version",
    ),
    ("latin-1-not-utf-8", lambda s: b'{"name": "caf\xe9"}', StateFileUnreadable, "JSON"),
]


@pytest.fixture(params=DAMAGES, ids=[damage[0] for damage in DAMAGES])
def damaged(
    request: pytest.FixtureRequest, store: FileStore, web: Snapshot
) -> tuple[bytes, type[Exception], str]:
    """The environment 'web' whose state.json was replaced by a damaged one."""
    _, damage, expected, words = request.param
    data = damage(web)
    store.layout.state_file("web").write_bytes(data)
    return data, expected, words


def _unchanged(store: FileStore, data: bytes, stamp: os.stat_result) -> None:
    path = store.layout.state_file("web")
    assert path.read_bytes() == data
    now = os.stat(path)
    assert (now.st_ino, now.st_mtime_ns, now.st_size) == (
        stamp.st_ino,
        stamp.st_mtime_ns,
        stamp.st_size,
    )


def test_load_raises_the_error_naming_the_file_and_leaves_it(
    store: FileStore, damaged: tuple[bytes, type[Exception], str]
) -> None:
    data, expected, words = damaged
    stamp = os.stat(store.layout.state_file("web"))
    with pytest.raises(expected) as caught:
        store.load("web")
    error = caught.value
    assert type(error) is expected
    assert isinstance(error, StateFileUnreadable)
    assert error.path == SHOWN and SHOWN in str(error)
    assert words in str(error)
    assert error.env == "web"
    _unchanged(store, data, stamp)


def test_save_over_a_damaged_file_is_refused_and_leaves_it(
    store: FileStore, web: Snapshot, damaged: tuple[bytes, type[Exception], str]
) -> None:
    """A writer never overwrites a file it cannot read (a newer schema above all)."""
    data, expected, _ = damaged
    stamp = os.stat(store.layout.state_file("web"))
    with pytest.raises(expected):
        store.save(with_line(web, "would overwrite"))
    _unchanged(store, data, stamp)
    assert sorted(os.listdir(store.layout.data_dir("web"))) == ["history.jsonl", "state.json"]


def test_list_shows_the_damaged_one_with_its_error(
    store: FileStore, damaged: tuple[bytes, type[Exception], str]
) -> None:
    data, expected, _ = damaged
    store.create(fresh_snapshot("other"))
    listings = store.list()
    assert [listing.name for listing in listings] == ["other", "web"]
    assert type(listings[1].error) is expected and listings[1].summary is None
    assert listings[0].summary is not None
    assert store.layout.state_file("web").read_bytes() == data


def test_newer_schema_names_both_versions(store: FileStore, web: Snapshot) -> None:
    document = _document(web)
    document["schema_version"] = 999
    store.layout.state_file("web").write_text(json.dumps(document))
    with pytest.raises(NewerSchema) as newer:
        store.load("web")
    assert (newer.value.found, newer.value.supported) == (999, SCHEMA_VERSION)
    assert "999" in str(newer.value) and str(SCHEMA_VERSION) in str(newer.value)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(garbage=st.binary(max_size=512) | st.text(max_size=200).map(str.encode))
def test_any_garbage_is_unreadable_never_a_crash(tmp_path: Path, garbage: bytes) -> None:
    """Random bytes and random text: StateFileUnreadable (never another error), file unchanged."""
    store = store_at(tmp_path / "garbage")
    path = store.layout.state_file("web")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(garbage)
    with pytest.raises(StateFileUnreadable):
        store.load("web")
    assert path.read_bytes() == garbage


@pytest.mark.parametrize("views", [False, True], ids=["model", "views"])
def test_list_refuses_links_and_fifos_as_status_does(
    store: FileStore, web: Snapshot, tmp_path: Path, views: bool
) -> None:
    """Tried: a link at data/NAME (to a real environment's folder), a link at a state file
    and a FIFO at one, among good environments: ``list`` names each as ``status`` would
    (unsafe folder; unreadable state), never follows a link, never waits on the FIFO."""
    from statemgr.errors import UnsafePath

    data = store.layout.data_root
    (data / "alias").symlink_to(data / "web")
    store.create(fresh_snapshot("linked"))
    state = store.layout.state_file("linked")
    state.unlink()
    state.symlink_to(store.layout.state_file("web"))
    store.create(fresh_snapshot("piped"))
    store.layout.state_file("piped").unlink()
    os.mkfifo(store.layout.state_file("piped"))
    reader = FileStore(store.layout, views=views)
    found = {listing.name: listing for listing in reader.list()}
    assert sorted(found) == ["alias", "linked", "piped", "web"]
    assert isinstance(found["alias"].error, UnsafePath) and found["alias"].summary is None
    for name in ("linked", "piped"):
        error = found[name].error
        assert isinstance(error, StateFileUnreadable) and found[name].summary is None
        assert f"data/{name}/state.json" in str(error)
        with pytest.raises(type(error)):
            reader.load(name)
    assert found["web"].summary is not None and found["web"].held is False
