"""The generated read path (statemgr.store.reader): generated from the converter, current,
and never different from it: the same snapshot when it reads one, the converter's own
error when it does not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_serialization import (
    GOLDEN_DOCUMENT,
    GOLDEN_PATHS,
    _replaced,
    json_values,
    snapshots,
)

from statemgr import serialization
from statemgr.errors import StateFileUnreadable
from statemgr.model import Phase, Snapshot, SnapshotSummary, StateName
from statemgr.store import reader
from statemgr.store.reader_codegen import COMMAND, path_of, render_generated

GOLDEN = sorted((Path(__file__).parent.parent / "golden").rglob("*.json"))
GOLDEN_PATHS_DATA = json.dumps(GOLDEN_DOCUMENT)
SOME = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(("module", "source"), list(render_generated().items()))
def test_the_generated_reader_is_current(module: str, source: str) -> None:
    """Tried: generating each module again from the converter as it is now."""
    assert path_of(module).read_text() == source, (
        f"{module} is stale: the classes or the converter changed; run `{COMMAND}`"
    )


def outcome(read: Any, data: bytes) -> Snapshot | SnapshotSummary | tuple[str, list[str]]:
    """What ``read`` makes of ``data``: its result, or the message and problems it raised."""
    try:
        result: Snapshot | SnapshotSummary = read(data, "data/x/state.json")
    except StateFileUnreadable as unreadable:
        return unreadable.message, unreadable.problems
    return result


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_golden_files_read_the_same_both_ways(path: Path) -> None:
    """Tried: every committed golden file (older schema versions too)."""
    data = path.read_bytes()
    assert outcome(reader.loads, data) == outcome(serialization.loads, data)
    assert outcome(reader.summary, data) == outcome(serialization.summary, data)


@pytest.mark.parametrize("with_extras", [False, True])
@pytest.mark.parametrize("state", list(StateName))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_fast_path_reads_every_snapshot_as_the_converter_does(
    state: StateName, with_extras: bool, data: st.DataObject
) -> None:
    """Tried: random snapshots in each state; read by the generated functions alone (no
    fallback), they must equal the snapshot and the converter's reading of it."""
    snapshot = data.draw(snapshots(state, with_extras))
    document = json.loads(serialization.dumps(snapshot))
    assert reader.fast_snapshot(document) == snapshot
    assert serialization.from_document(document) == snapshot
    assert reader.fast_summary(document) == serialization.summary(json.dumps(document))
    view = reader.fast_snapshot(document, reader.view_kinds())
    assert type(view) is not Snapshot and fields_of(view) == fields_of(snapshot)
    assert asked_of(view) == asked_of(snapshot)
    summary = reader.fast_summary(document, reader.view_kinds())
    assert fields_of(summary) == fields_of(reader.fast_summary(document))


def fields_of(value: Any) -> Any:
    """``value`` as plain data, whether an attrs instance or a view: the class's name and
    every field, in order, all the way down."""
    names = getattr(type(value), "_names", None)  # a view
    if names is None and attrs.has(type(value)):
        names = tuple(field.name for field in attrs.fields(type(value)))
    if names is not None:
        return (type(value).__name__, [(n, fields_of(getattr(value, n))) for n in names])
    if isinstance(value, tuple | list):
        return [fields_of(item) for item in value]
    if isinstance(value, dict):
        return {key: fields_of(item) for key, item in value.items()}
    return (type(value), value)


def asked_of(snapshot: Any) -> dict[str, Any]:
    """What the reading commands ask of a snapshot (``statemgr.model.behaviour``)."""
    steps = [step for phase in Phase for step in snapshot.environment.phases.steps(phase)]
    return {
        "properties": [
            getattr(snapshot, name)
            for name in ("name", "state_name", "display_name", "is_failed", "is_in_progress")
        ],
        "failure": fields_of(snapshot.failure),
        "since": snapshot.since,
        "details": snapshot.details,
        "allowed": (snapshot.allowed_events(), snapshot.allowed_commands()),
        "steps": [(step.attempts, step.kind, step.texts) for step in steps],
    }


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_views_read_golden_files_as_the_attrs_classes_do(path: Path) -> None:
    """Tried: every golden file, read into views (as the reading commands read) and into
    the attrs classes: the same fields, the same answers, or the same error."""
    data = path.read_bytes()
    views = outcome(lambda d, s: reader.loads(d, s, reader.view_kinds()), data)
    model = outcome(reader.loads, data)
    if isinstance(model, tuple):  # refused: the views refuse it in the same words
        assert views == model
        return
    assert fields_of(views) == fields_of(model) and asked_of(views) == asked_of(model)


@SOME
@given(st.sampled_from(GOLDEN_PATHS), json_values)
def test_views_refuse_what_the_attrs_classes_refuse(path: tuple[Any, ...], new: object) -> None:
    """Tried: the failed golden document with one value replaced by random JSON, read into
    views: what the attrs classes' checks refuse, the views' checks refuse too."""
    document = _replaced(GOLDEN_DOCUMENT, path, new)
    try:
        model = reader.fast_snapshot(document)
    except Exception as error:
        with pytest.raises(type(error)):
            reader.fast_snapshot(document, reader.view_kinds())
        return
    assert fields_of(reader.fast_snapshot(document, reader.view_kinds())) == fields_of(model)


def test_a_view_cannot_be_changed() -> None:
    """Tried: setting and deleting fields of a view, as one would of a frozen attrs class."""
    view = reader.fast_snapshot(json.loads(GOLDEN_PATHS_DATA), reader.view_kinds())
    for target in (view, view.state, view.environment.phases):
        with pytest.raises(AttributeError, match="read-only"):
            target.revision = 7  # type: ignore[misc]
        with pytest.raises(AttributeError, match="read-only"):
            del target.environment  # type: ignore[misc]
    assert view == reader.fast_snapshot(json.loads(GOLDEN_PATHS_DATA), reader.view_kinds())
    assert "Snapshot(lineage=UUID(" in repr(view) and hash(view.latest) == hash(view.latest)


@SOME
@given(st.sampled_from(GOLDEN_PATHS), json_values)
def test_a_wrong_value_anywhere_reads_as_the_converter_reads_it(
    path: tuple[Any, ...], new: object
) -> None:
    """Tried: the failed golden document with one value, anywhere, replaced by random JSON.
    The reader gives what the converter gives: the same snapshot, or the same problems."""
    data = json.dumps(_replaced(GOLDEN_DOCUMENT, path, new)).encode()
    assert outcome(reader.loads, data) == outcome(serialization.loads, data)
    assert outcome(reader.summary, data) == outcome(serialization.summary, data)
    try:
        fast = reader.fast_snapshot(json.loads(data))
    except Exception:
        return
    assert fast == serialization.loads(data)  # what the fast path takes, the converter takes


@SOME
@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_garbage_reads_as_the_converter_reads_it(data: bytes) -> None:
    """Tried: random bytes and random JSON values."""
    assert outcome(reader.loads, data) == outcome(serialization.loads, data)
    assert outcome(reader.summary, data) == outcome(serialization.summary, data)


# What status and list do not need, and once imported (each costs milliseconds of start-up).
HEAVY = (
    "attr",
    "attrs",
    "cattrs",
    "statemachine",
    "loguru",
    "portalocker",
    "argparse",
    "shutil",
    "hashlib",
    "subprocess",
)
READING = f"""
import json, sys
from statemgr.cli import main
code = main(sys.argv[1:])
print(json.dumps([code, sorted(m for m in {HEAVY!r} if m in sys.modules)]))
"""


@pytest.mark.parametrize("command", ["status", "list", "history", "output"])
def test_status_and_list_import_nothing_heavy(tmp_path: Path, command: str) -> None:
    """Tried: status, list, history and output in a fresh interpreter, on a workspace with
    one environment: none imports attrs, cattrs, the statechart, the write path's
    libraries, nor the standard modules that cost start-up time and that they do not use."""
    from test_serialization import healthy_running

    from statemgr.layout import Layout
    from statemgr.store import FileStore

    snapshot = FileStore(Layout(tmp_path)).create(healthy_running())
    named = [command] if command == "list" else [command, snapshot.name]
    argv = [sys.executable, "-c", READING, "--workdir", str(tmp_path), *named, "--json"]
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    code, heavy = json.loads(done.stdout.splitlines()[-1])
    assert (code, heavy) == (0, [])


def test_status_on_the_postgresql_store_imports_no_attrs(tmp_path: Path, pg_url: str) -> None:
    """Tried: status and list through the PostgreSQL store in a fresh interpreter: they
    read into views too, so neither attrs nor cattrs is imported (the driver is)."""
    from test_serialization import healthy_running

    from statemgr.layout import Layout
    from statemgr.store.postgres import PostgresStore

    store = PostgresStore(pg_url, Layout(tmp_path))
    try:
        with store.lock("staging", "create", create=True) as held:
            snapshot = held.create(healthy_running())
    finally:
        store.close()
    for named in (["status", snapshot.name], ["list"]):
        argv = [sys.executable, "-c", READING, "--store", pg_url, *named, "--json"]
        done = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=tmp_path)
        code, heavy = json.loads(done.stdout.splitlines()[-1])
        assert code == 0 and not {"attr", "attrs", "cattrs", "statemachine"} & set(heavy)
