"""Trace files of command runs in the file store: data/NAME/traces/<UTC time>-<command>-<id>.log.

The store makes the (empty, private) file; the steps' runners append to it. The readers
(``list_runs``, ``read_trace``) are what ``statemgr logs`` reads through ``FileStore``.

A run's name is the file's path relative to the workspace (``data/NAME/traces/X.log``),
as ``failure.trace_file`` holds it; ``read_trace`` also takes the bare file name or any
path ending in it, so a ``trace_file`` copied from another machine's output works too.
Only names of the trace pattern inside the environment's own traces folder are read,
through ``statemgr.safe_paths``: a link or a FIFO at traces/ or at a trace is refused.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

from statemgr.errors import EnvironmentNotFound, StatemgrError, StorageError, TraceNotFound
from statemgr.layout import Layout
from statemgr.model.traces import (
    TRACE_NAME,
    TraceRun,
    end_line_result,
    parse_trace_name,
    trace_file_name,
)
from statemgr.safe_paths import check_folder, ensure_folder, make_workspace_folder, open_file

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_TAIL = 4096


def write_copied_trace(traces_dir: Path, run: str, command: str, data: bytes) -> Path:
    """A trace copied from another store, written whole under the run's own file name
    (a new name when it is not a trace name)."""
    file_name = run.replace("\\", "/").rpartition("/")[2]
    if TRACE_NAME.fullmatch(file_name):
        make_workspace_folder(traces_dir.parent)
        ensure_folder(traces_dir, str(traces_dir))
        path = traces_dir / file_name
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND
        descriptor = open_file(path, flags, str(path))
    else:
        path = new_trace_file(traces_dir, command)
        descriptor = open_file(path, os.O_WRONLY | os.O_APPEND, str(path))
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)
    return path


def new_trace_file(traces_dir: Path, command: str, shown: str | None = None) -> Path:
    """Create a new, empty trace file for ``command`` in ``traces_dir`` (0700 / 0600).

    ``shown``: the folder as messages name it (``UnsafePath`` for a link at traces/).
    """
    make_workspace_folder(traces_dir.parent)  # data/NAME (the PostgreSQL store keeps none)
    ensure_folder(traces_dir, (shown or str(traces_dir)).rstrip("/") + "/")
    safe_command = _UNSAFE.sub("_", command) or "command"
    now = datetime.now(UTC)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND
    for _attempt in range(5):
        token = os.urandom(3).hex()  # secrets.token_hex(3), without importing secrets
        path = traces_dir / trace_file_name(now, safe_command, token)
        try:
            descriptor = open_file(path, flags, str(path))
        except FileExistsError:
            continue
        os.close(descriptor)
        return path
    raise FileExistsError(f"cannot create a new trace file in {traces_dir}")


# --- reading ------------------------------------------------------------------------------


def list_runs(layout: Layout, name: str) -> list[TraceRun]:
    """Every trace of ``name``, oldest first (the names sort by their start time)."""
    _check_exists(layout, name)
    folder = layout.traces_dir(name)
    try:
        check_folder(folder, layout.relative(folder) + "/")
        with os.scandir(folder) as entries:
            found = sorted(e.name for e in entries if TRACE_NAME.fullmatch(e.name))
    except FileNotFoundError:
        return []
    except StatemgrError:
        raise
    except OSError as error:
        raise StorageError(layout.relative(folder), "list", error, env=name) from None
    runs = []
    for file_name in found:
        parsed = parse_trace_name(file_name)
        assert parsed is not None  # matched TRACE_NAME
        path = folder / file_name
        started, command = parsed
        result = end_line_result(_tail(layout, name, path))
        runs.append(TraceRun(layout.relative(path), started, command, result))
    return runs


def read_trace(layout: Layout, name: str, run: str, offset: int, limit: int) -> bytes:
    """At most ``limit`` bytes of the run's trace from ``offset``."""
    path = trace_path(layout, name, run)
    try:
        with open(_open(layout, path), "rb") as stream:
            stream.seek(max(0, offset))
            return stream.read(max(0, limit))
    except FileNotFoundError:
        _check_exists(layout, name)
        raise TraceNotFound(name, run) from None
    except StatemgrError:
        raise
    except OSError as error:
        raise StorageError(layout.relative(path), "read", error, env=name) from None


def trace_path(layout: Layout, name: str, run: str) -> Path:
    """The file of ``run``: its last path part must be a trace name; nothing else is read."""
    file_name = run.replace("\\", "/").rpartition("/")[2]
    if not TRACE_NAME.fullmatch(file_name):
        _check_exists(layout, name)
        raise TraceNotFound(name, run)
    return layout.traces_dir(name) / file_name


def _check_exists(layout: Layout, name: str) -> None:
    state = layout.state_file(name)
    if not state.is_file():
        raise EnvironmentNotFound(name, layout.relative(state))


def _open(layout: Layout, path: Path) -> int:
    """A trace, read-only: a link, FIFO or folder there is refused (``UnsafePath``)."""
    check_folder(path.parent, layout.relative(path.parent) + "/")
    return open_file(path, os.O_RDONLY, layout.relative(path))


def _tail(layout: Layout, name: str, path: Path) -> bytes:
    try:
        with open(_open(layout, path), "rb") as stream:
            end = stream.seek(0, os.SEEK_END)
            stream.seek(max(0, end - _TAIL))
            return stream.read()
    except FileNotFoundError:  # removed meanwhile (purge)
        return b""
    except StatemgrError:
        raise
    except OSError as error:
        raise StorageError(layout.relative(path), "read", error, env=name) from None
