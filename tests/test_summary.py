"""`serialization.summary`: what `list` reads of a state file, without its whole history.

It must agree with `loads` on every field it shows, refuse what `loads` refuses in those
fields and in the file's top-level shape, and never raise anything but the statemgr error.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_serialization import snapshots

from statemgr.errors import NewerSchema, StateFileUnreadable
from statemgr.model import StateName
from statemgr.serialization import dumps, loads, summary

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.json"))


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.name)
def test_summary_of_a_golden_file_matches_the_full_read(path: Path) -> None:
    data = path.read_bytes()
    snapshot, found = loads(data), summary(data)
    assert (found.name, found.state, found.updated_at, found.revision, found.operation) == (
        snapshot.name,
        snapshot.state.name,
        snapshot.updated_at,
        snapshot.revision,
        snapshot.operation,
    )


@settings(max_examples=60, deadline=None)
@given(state=st.sampled_from(list(StateName)), data=st.data())
def test_summary_agrees_with_loads_for_any_snapshot(state: StateName, data: st.DataObject) -> None:
    snapshot = data.draw(snapshots(state, with_extras=True))
    found = summary(dumps(snapshot))
    assert (found.state, found.revision, found.operation) == (
        snapshot.state.name,
        snapshot.revision,
        snapshot.operation,
    )


def _edited(path: Path, edit: object) -> bytes:
    document = json.loads(path.read_bytes())
    edit(document)  # type: ignore[operator]
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("what", "edit", "words"),
    [
        ("unknown state", lambda d: d["state"].update(name="exploded"), "exploded"),
        ("naive updated_at", lambda d: d.update(updated_at="2026-11-29T13:00:00"), "offset"),
        ("revision as text", lambda d: d.update(revision="4"), "revision"),
        ("extra top-level key", lambda d: d.update(extra=1), "extra"),
        ("missing state key", lambda d: d.pop("state"), "state"),
        ("bad environment name", lambda d: d["environment"].update(name="Web.1"), "name"),
        ("operation with a bad pid", lambda d: d.update(operation={"pid": "x"}), "operation"),
    ],
)
def test_summary_refuses_what_loads_refuses_in_its_fields(
    what: str, edit: object, words: str
) -> None:
    data = _edited(GOLDEN[0], edit)
    with pytest.raises(StateFileUnreadable) as refused:
        summary(data, "data/web/state.json")
    assert words in str(refused.value), what
    with pytest.raises(StateFileUnreadable):
        loads(data)


def test_summary_refuses_a_newer_schema() -> None:
    data = _edited(GOLDEN[0], lambda d: d.update(schema_version=999))
    with pytest.raises(NewerSchema):
        summary(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_raise_the_statemgr_error(data: bytes) -> None:
    with contextlib.suppress(StateFileUnreadable):
        summary(data)


def test_the_trade_off_a_broken_latest_transition_is_seen_by_loads_not_by_summary() -> None:
    """Documented in docs/state-file.md: `list` shows it, `status` reports exit 6."""
    data = _edited(GOLDEN[0], lambda d: d["latest"].update(pid="not a pid"))
    assert summary(data).state is loads(GOLDEN[0].read_bytes()).state.name
    with pytest.raises(StateFileUnreadable):
        loads(data)
