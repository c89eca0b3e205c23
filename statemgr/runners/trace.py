"""The trace file of one command run: data/NAME/traces/<UTC time>-<command>-<id>.log.

Every write is a plain append that is closed (so flushed to the kernel) before the call
returns: what is in the trace stays there even if statemgr is SIGKILLed right after.
Command steps also append to the same file straight from the child process (see
``statemgr.runners.command``); appends from several writers never overwrite each other.

Files and the traces/ folder are opened through ``statemgr.safe_paths``: a link or a FIFO
at traces/ or at a trace file is refused (``UnsafePath``), never followed or waited on.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import socket
from datetime import UTC, datetime
from pathlib import Path

import attrs

from statemgr.model.traces import END_TEXT, trace_file_name
from statemgr.safe_paths import ensure_folder, make_workspace_folder, open_file

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _line_time() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@attrs.frozen
class Trace:
    """One trace file. ``Trace(path)`` appends to an existing one; ``Trace.open`` creates one."""

    path: Path = attrs.field(converter=Path)

    @classmethod
    def open(cls, traces_dir: Path, command: str) -> Trace:
        """Create a new trace file for ``command`` in ``traces_dir`` (folder 0700, file 0600)."""
        traces_dir = Path(traces_dir)
        make_workspace_folder(traces_dir.parent)  # data/NAME: there (and checked) in a store
        ensure_folder(traces_dir, str(traces_dir))
        safe_command = _UNSAFE.sub("_", command) or "command"
        now = datetime.now(UTC)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND
        for _attempt in range(5):
            name = trace_file_name(now, safe_command, secrets.token_hex(3))
            path = traces_dir / name
            try:
                descriptor = open_file(path, flags, str(path))
            except FileExistsError:
                continue
            os.close(descriptor)
            return cls.started(path, command)
        raise FileExistsError(f"cannot create a new trace file in {traces_dir}")

    @classmethod
    def started(cls, path: Path, command: str) -> Trace:
        """The trace at ``path`` (a new, empty file) with its first line: who writes it."""
        trace = cls(path)
        trace.note(f"statemgr trace of '{command}': pid {os.getpid()} on {socket.gethostname()}")
        return trace

    def note(self, text: str) -> None:
        """Append ``text`` as a timestamped line (starting on a fresh line)."""
        self.write(f"{_line_time()} {text.rstrip()}\n", fresh_line=True)

    def end(self, result: str) -> None:
        """The run's last line: how it ended (``statemgr.model.traces.RESULTS``)."""
        self.note(f"{END_TEXT}{result}")

    def write(self, text: str | bytes, *, fresh_line: bool = False) -> None:
        """Append ``text`` as it is; with ``fresh_line``, first end an unfinished last line."""
        data = text.encode("utf-8", errors="replace") if isinstance(text, str) else text
        with open(self.descriptor(os.O_RDWR | os.O_APPEND | os.O_CREAT), "a+b") as stream:
            if fresh_line and _ends_mid_line(stream):
                data = b"\n" + data
            stream.write(data)

    def descriptor(self, flags: int) -> int:
        """A descriptor of the trace file (``UnsafePath`` if it is a link, a FIFO, ...)."""
        return open_file(self.path, flags, str(self.path))

    def size(self) -> int:
        """The current length of the file in bytes."""
        return self.path.lstat().st_size

    def read_from(self, offset: int, limit: int) -> bytes:
        """At most the last ``limit`` bytes written after ``offset``."""
        with open(self.descriptor(os.O_RDONLY), "rb") as stream:
            end = stream.seek(0, os.SEEK_END)
            stream.seek(max(offset, end - limit))
            return stream.read(limit)


def _ends_mid_line(stream: io.BufferedRandom) -> bool:
    """Whether the file open in ``stream`` has an unfinished last line."""
    end = stream.seek(0, os.SEEK_END)
    if end == 0:
        return False
    stream.seek(end - 1)
    return stream.read(1) != b"\n"
