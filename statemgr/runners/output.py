"""Live step output: the lines a step prints, passed on as they come (``StepContext.on_output``).

The files stay the record: a command step's stdout goes to the trace and its stderr to a
side file (see ``statemgr.runners.command``); a ``FileTap`` reads what is new in one of
them each time the runner's wait ticks, and hands complete lines to the callback. A
Python step's prints go through a ``Tee``, which writes the trace and hands the lines on.

What is shown is bounded, whatever the step prints: a line longer than ``MAX_LINE``
characters is cut, and when a step prints faster than it can be shown (more than
``MAX_LAG`` bytes waiting at a tick), the tap skips ahead to the last ``KEEP`` bytes and
says how much it left out. So a step printing 50 MB costs neither time nor memory here;
all of it is in the trace.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from statemgr.safe_paths import open_file

OutputCallback = Callable[[str, str], None]
"""``callback(stream, line)``: stream is "stdout" or "stderr"; line has no newline."""

TICK_SECONDS = 0.1
MAX_LINE = 4096
MAX_LAG = 256 * 1024
KEEP = 16 * 1024
_CHUNK = 64 * 1024


class LineSplitter:
    """Bytes in, complete lines out (to ``emit``); a partial line waits, cut at ``MAX_LINE``."""

    def __init__(self, stream: str, emit: OutputCallback) -> None:
        self.stream = stream
        self.emit = emit
        self._partial = b""
        self._cut = False

    def feed(self, data: bytes) -> None:
        *complete, rest = (self._partial + data).split(b"\n")
        for line in complete:
            self._line(line)
        if len(rest) > MAX_LINE:  # an endless line: show its start once, drop the rest
            if not self._cut:
                self._line(rest[:MAX_LINE], cut=True)
            self._cut = True
            rest = b""
        self._partial = rest

    def skip(self, count: int) -> None:
        """``count`` bytes were not read: say so, and drop the rest of the line they cut."""
        self._partial, self._cut = b"", True
        self.emit(self.stream, f"[... {_size(count)} not shown here: all of it is in the trace]")

    def flush(self) -> None:
        """The end: a last line without a newline is a line too."""
        if self._partial:
            self._line(self._partial)
        self._partial, self._cut = b"", False

    def _line(self, line: bytes, *, cut: bool = False) -> None:
        if self._cut and not cut:  # the end of a line already shown cut
            self._cut = False
            return
        text = line.decode("utf-8", errors="replace").rstrip("\r")
        if len(text) > MAX_LINE:
            text, cut = text[:MAX_LINE], True
        self.emit(self.stream, text + (" [...]" if cut else ""))


class FileTap:
    """Follows a file that another process appends to, from ``offset`` on."""

    def __init__(self, path: Path, offset: int, stream: str, emit: OutputCallback) -> None:
        self.path = path
        self.offset = offset
        self.lines = LineSplitter(stream, emit)

    def pump(self) -> None:
        """Pass on what is new; when too much is waiting, skip ahead (see the module doc)."""
        try:
            with open(open_file(self.path, os.O_RDONLY, str(self.path)), "rb") as source:
                end = source.seek(0, os.SEEK_END)
                if end - self.offset > MAX_LAG:
                    self.lines.skip(end - KEEP - self.offset)
                    self.offset = end - KEEP
                source.seek(self.offset)
                while self.offset < end:
                    data = source.read(min(_CHUNK, end - self.offset))
                    if not data:
                        break
                    self.offset += len(data)
                    self.lines.feed(data)
        except OSError:  # gone, or not a regular file any more (UnsafePath): nothing to show
            return

    def close(self) -> None:
        self.pump()
        self.lines.flush()


class Tee(io.TextIOBase):
    """A text stream for a Python step's prints: to the trace, and line by line on."""

    def __init__(self, target: TextIO, stream: str, emit: OutputCallback) -> None:
        super().__init__()
        self.target = target
        self.lines = LineSplitter(stream, emit)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.target.write(text)
        self.lines.feed(text.encode("utf-8", errors="replace"))
        return len(text)

    def flush(self) -> None:
        self.target.flush()

    def close(self) -> None:
        self.lines.flush()
        super().close()


def _size(count: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} bytes"
