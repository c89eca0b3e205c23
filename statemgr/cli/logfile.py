"""logs/statemgr.log: appended to by every command of a workspace at once, rotated at 10 MB.

The log is not the state: nothing here ever raises. A log that cannot be opened or written
(disk full, read-only, a link or a FIFO at its path, a file where logs/ should be) costs
one warning through ``warn`` and is left alone for the rest of the command.

Concurrent commands never lose a line, across rotation too:

- each line is one ``write`` on a descriptor opened with ``O_APPEND`` (whole lines, never
  interleaved);
- before each line the descriptor is checked against the path (inode); after a rotation
  it is reopened, and a line written in between lands in ``statemgr.log.1``, not nowhere;
- rotation holds a flock on the logs/ folder and looks at the size again under it, so
  that one command rotates and the others, seeing a new file, do not rotate it again:
  ``statemgr.log`` -> ``.1`` -> ... -> ``.5``, the oldest dropped.

Files are opened through ``statemgr.safe_paths``: never through a link, never blocking on
a FIFO, created 0600 in a logs/ folder created 0700, whatever the umask.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable
from pathlib import Path

from statemgr.safe_paths import ensure_folder, make_workspace_folder, open_file

MAX_BYTES = 10 * 1024 * 1024
KEEP = 5


class LogFile:
    """The log of one workspace, as one process appends to it."""

    def __init__(
        self,
        path: Path,
        warn: Callable[[str], None],
        *,
        max_bytes: int = MAX_BYTES,
        keep: int = KEEP,
        shown: str | None = None,
    ) -> None:
        self.path = path
        self.shown = shown or str(path)
        self.warn = warn
        self.max_bytes = max_bytes
        self.keep = keep
        self.broken = False
        self._fd: int | None = None

    def write(self, text: str) -> bool:
        """Append ``text`` (whole lines); False when the log is not written (warned once)."""
        if self.broken:
            return False
        try:
            fd = self._current()
            _write_all(fd, text.encode("utf-8", errors="replace"))
            if os.fstat(fd).st_size >= self.max_bytes:
                self._rotate()
        except Exception as error:  # the log never breaks a command
            self._give_up(error)
            return False
        return True

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def _current(self) -> int:
        """The descriptor of the file at ``path`` now (reopened after a rotation)."""
        if self._fd is not None:
            try:
                same = os.path.samestat(os.fstat(self._fd), os.lstat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                return self._fd
            self.close()
        folder = self.path.parent
        make_workspace_folder(folder.parent)
        ensure_folder(folder, str(folder))
        self._fd = open_file(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, str(self.path))
        return self._fd

    def _rotate(self) -> None:
        folder = os.open(
            self.path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
        )
        try:
            fcntl.flock(folder, fcntl.LOCK_EX)
            try:
                if os.lstat(self.path).st_size < self.max_bytes:
                    return  # another command rotated it meanwhile
            except FileNotFoundError:
                return
            name = self.path.name
            for number in range(self.keep - 1, 0, -1):
                with contextlib.suppress(FileNotFoundError):
                    os.rename(f"{name}.{number}", f"{name}.{number + 1}", **_in(folder))
            os.rename(name, f"{name}.1", **_in(folder))
        finally:
            os.close(folder)  # drops the flock
        self.close()

    def _give_up(self, error: Exception) -> None:
        self.broken = True
        self.close()
        reason = getattr(error, "problem", None) or getattr(error, "strerror", None) or error
        self.warn(
            f"cannot write the log {self.shown}: {reason}; going on without it "
            "(the command and its state are not affected)"
        )


def _in(folder: int) -> dict[str, int]:
    return {"src_dir_fd": folder, "dst_dir_fd": folder}


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
