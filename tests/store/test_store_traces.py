"""The trace readers of the Store interface (``runs``, ``read_trace``): what ``logs`` reads."""

from __future__ import annotations

import pytest

from statemgr.errors import EnvironmentNotFound, TraceNotFound
from statemgr.model import Snapshot
from statemgr.runners.trace import Trace
from statemgr.store import FileStore


def _trace(store: FileStore, command: str, *lines: str, result: str | None = None) -> Trace:
    trace = Trace.open(store.layout.traces_dir("web"), command)
    for line in lines:
        trace.write(line + "\n")
    if result is not None:
        trace.end(result)
    return trace


def test_runs_are_listed_oldest_first_with_command_and_result(
    store: FileStore, web: Snapshot
) -> None:
    assert store.runs("web") == []
    first = _trace(store, "deploy", "hello", result="failed")
    second = _trace(store, "destroy", "bye")
    runs = store.runs("web")
    assert [run.command for run in runs] == ["deploy", "destroy"]
    assert [run.result for run in runs] == ["failed", None]
    assert runs[0].run == store.layout.relative(first.path)
    assert runs[1].run == store.layout.relative(second.path)
    assert runs[0].started <= runs[1].started
    assert runs[0].started.utcoffset() is not None


def test_a_step_printing_an_end_line_early_ends_nothing(store: FileStore, web: Snapshot) -> None:
    _trace(store, "deploy", "2026-11-29T13:00:00.000000+00:00 statemgr trace end: done", "more")
    assert store.runs("web")[0].result is None


def test_read_trace_in_pieces_by_id_or_file_name(store: FileStore, web: Snapshot) -> None:
    trace = _trace(store, "deploy", "x" * 5000, result="done")
    run = store.runs("web")[0].run
    whole = trace.path.read_bytes()
    assert store.read_trace("web", run) == whole
    pieces = [store.read_trace("web", run, offset, 1000) for offset in range(0, len(whole), 1000)]
    assert b"".join(pieces) == whole
    assert store.read_trace("web", run, len(whole)) == b""
    assert store.read_trace("web", trace.path.name) == whole
    assert store.read_trace("web", f"/elsewhere/data/web/traces/{trace.path.name}") == whole


@pytest.mark.parametrize(
    "run", ["nope", "../state.json", "data/web/state.json", "20261129T130000.000000Z-x-abcdef.log"]
)
def test_no_such_run_reads_nothing_else(store: FileStore, web: Snapshot, run: str) -> None:
    _trace(store, "deploy", "hello")
    with pytest.raises(TraceNotFound) as caught:
        store.read_trace("web", run)
    assert caught.value.exit_code == 2


def test_traces_of_a_missing_environment(store: FileStore) -> None:
    with pytest.raises(EnvironmentNotFound):
        store.runs("web")
    with pytest.raises(EnvironmentNotFound):
        store.read_trace("web", "nope")
