"""data/NAME/history.jsonl: every transition of an environment, one JSON object a line.

A save costs the same with 10 or 10,000 transitions behind it: state.json holds only the
latest transition, and a transition is appended here. The file store writes it only under
the folder guard, as part of a save, before it replaces state.json:

1. lines whose revision is above the revision in state.json (left by a writer that died
   between appending its line and replacing state.json), and a torn last line (one that
   died while appending), are cut off (``trim``);
2. the save's new transition, if any, is appended and fsynced (``append``);
3. the caller replaces state.json.

Readers read state.json first and ignore lines above its revision, so a crash between 2
and 3 leaves nothing a reader sees (``read_history``). A state file older than schema 4
holds its history itself: the first save after it writes that history here (``replace``),
and the file store reads it from state.json until then.

Files are opened through ``statemgr.safe_paths`` (never through a link, never a FIFO, at
most 64 MiB read). The module-level ``_write_all`` and ``_fsync`` of ``atomic`` are the
seams the tests use to make a write fail.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from statemgr.errors import StateFileUnreadable, StatemgrError, StorageError, UnsafePath
from statemgr.layout import Layout
from statemgr.model.behaviour import SCHEMA_VERSION
from statemgr.model.names import EnvironmentName
from statemgr.safe_paths import MAX_STATE_BYTES, open_file, read_file
from statemgr.store import atomic
from statemgr.store.reader import Kinds, transition

if TYPE_CHECKING:  # ``history`` reads into views, never importing attrs (store.reader)
    from statemgr.model import Transition

# How ``dumps`` begins a state file of the current schema (the version is its first key):
# such a file holds no history of its own.
CURRENT_PREFIX = b'{\n  "schema_version": %d,' % SCHEMA_VERSION

_CHUNK = 4096
_TAIL = 64  # bytes read from the end of the file to see whether its last line is whole


# --- what the file store calls --------------------------------------------------------


def history_of(
    layout: Layout, name: EnvironmentName, state: bytes, revision: int, kinds: Kinds | None = None
) -> tuple[Transition, ...]:
    """The history of ``name``, whose state.json holds ``state`` at ``revision``: an older
    file's own history, else history.jsonl's lines up to ``revision`` (read into the
    classes of ``kinds``, see ``statemgr.store.reader``)."""
    older = older_history(layout, name, state)
    if older is not None:
        return older
    path = layout.history_file(name)
    shown = layout.relative(path)
    with _errors(name, shown, "read"):
        try:
            return read_history(path, shown, revision, kinds)
        except FileNotFoundError:
            raise missing(shown) from None
        except UnsafePath as unsafe:  # reading: the file is unreadable (exit 6)
            raise StateFileUnreadable(shown, [unsafe.problem]) from None


def older_history(
    layout: Layout, name: EnvironmentName, state: bytes
) -> tuple[Transition, ...] | None:
    """The history inside ``state``, a state file older than schema 4; None for a newer one."""
    if state.startswith(CURRENT_PREFIX):  # as dumps writes it: a current file
        return None
    from statemgr.serialization import _parse_json, legacy_history

    shown = layout.relative(layout.state_file(name))
    with _errors(name, shown, "read"):
        return legacy_history(_parse_json(state, shown), shown)


def start_history(layout: Layout, name: EnvironmentName, line: bytes, folder_fd: int) -> None:
    """A new environment's history.jsonl, holding its first ``line`` (whatever was left)."""
    path = layout.history_file(name)
    with _errors(name, layout.relative(path), "write"):
        replace(path, line, folder_fd)


def before_save(
    layout: Layout,
    name: EnvironmentName,
    state: bytes,
    revision: int,
    line: bytes,
    folder_fd: int,
) -> None:
    """history.jsonl before state.json (which holds ``state`` at ``revision``) is replaced:
    the lines above ``revision`` cut off and ``line`` appended; an older state file's
    history moved out of it first. Call it under the folder guard."""
    from statemgr.serialization import transition_line

    path = layout.history_file(name)
    shown = layout.relative(path)
    older = older_history(layout, name, state)
    with _errors(name, shown, "write"):
        if older is not None:
            replace(path, b"".join(map(transition_line, older)) + line, folder_fd)
            return
        try:
            fd = open_for_append(path, shown)
        except FileNotFoundError:
            raise missing(shown) from None
        try:
            trim(fd, revision)
            if line:
                append(fd, line)
        finally:
            os.close(fd)


@contextmanager
def _errors(name: EnvironmentName, shown: str, action: str) -> Iterator[None]:
    """Errors name the environment; an OSError is a ``StorageError`` naming the history
    file (the state was left as it was: state.json is replaced after this)."""
    try:
        yield
    except StatemgrError as error:
        error.env = name
        raise
    except OSError as error:
        kept = action == "write"
        raise StorageError(shown, action, error, env=name, state_kept=kept) from error


# --- the file ----------------------------------------------------------------------


def read_history(
    path: Path, shown: str, up_to: int, kinds: Kinds | None = None
) -> tuple[Transition, ...]:
    """The transitions in the file at ``path`` whose revision is at most ``up_to``, oldest
    first. ``FileNotFoundError`` when it is missing; ``StateFileUnreadable`` naming the
    line when a line is not a transition; ``UnsafePath`` when the path is unsafe."""
    lines = read_file(path, shown, limit=MAX_STATE_BYTES).split(b"\n")
    found = []
    for number, line in enumerate(lines[:-1], start=1):  # the last is b"" or torn
        entry = transition(line, f"{shown} line {number}", kinds)
        if entry.revision is None or entry.revision <= up_to:
            found.append(entry)
    return tuple(found)


def missing(shown: str) -> StateFileUnreadable:
    return StateFileUnreadable(
        shown,
        [
            "the history file is missing: restore it, or create it empty to go on "
            "without the history before"
        ],
    )


def open_for_append(path: Path, shown: str) -> int:
    """The history file, open for ``trim`` and ``append`` (``FileNotFoundError`` if missing)."""
    return open_file(path, os.O_RDWR | os.O_APPEND, shown)


def trim(fd: int, up_to: int) -> None:
    """Cut off the torn last line, and the last lines whose revision is above ``up_to``."""
    size = os.fstat(fd).st_size
    if size and os.pread(fd, _TAIL, max(0, size - _TAIL)).endswith(b'"revision":%d}\n' % up_to):
        # As usual: the last line is whole and ends the object with the revision on disk
        # (as ``transition_line`` writes it). Parsed or not, such a line ends the trim.
        return
    end = size
    if end and os.pread(fd, 1, end - 1) != b"\n":
        end = _line_start(fd, end)[0]  # torn: its writer died before state.json changed
    while end:
        start, line = _line_start(fd, end - 1)
        revision = _revision_of(line)
        if revision is None or revision <= up_to:
            break
        end = start
    if end < size:
        os.ftruncate(fd, end)
        atomic._fsync(fd)


def append(fd: int, line: bytes) -> None:
    """Append ``line`` (one transition, ending in a newline) and fsync it."""
    atomic._write_all(fd, line)
    atomic._fsync(fd)


def replace(path: Path, lines: bytes, folder_fd: int) -> None:
    """The history file replaced by ``lines``, atomically and durably: a new environment's
    first line, or the history moved out of an older state file (a crash leaves the old
    file or the new one)."""
    atomic.replace_file(path, lines, folder_fd)


def _line_start(fd: int, stop: int) -> tuple[int, bytes]:
    """(offset, bytes) of the line whose text ends at ``stop`` (its newline excluded)."""
    begin = stop
    tail = b""
    chunk = _CHUNK
    while begin > 0:
        at = max(0, begin - chunk)
        piece = os.pread(fd, begin - at, at)
        newline = piece.rfind(b"\n")
        if newline >= 0:
            return at + newline + 1, piece[newline + 1 :] + tail
        tail = piece + tail
        begin = at
        chunk *= 2
    return 0, tail


def _revision_of(line: bytes) -> int | None:
    """The revision a history line records, or None when it does not say (or is no line)."""
    try:
        document = json.loads(line)
    except ValueError:
        return None
    revision = document.get("revision") if isinstance(document, dict) else None
    return revision if isinstance(revision, int) and not isinstance(revision, bool) else None
