"""The installed ``statemgr`` on a pseudo-terminal, as a person at a terminal runs it:
stdin, stdout and stderr are the terminal; the test reads the screen's bytes and types."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from .support import STATEMGR, clean_env


class Terminal:
    """One ``statemgr`` run on a pty. ``read_until`` waits (at most ``limit`` seconds, a
    safety net, not a measurement) for text; ``type`` sends keys; ``finish`` waits for the
    exit and returns the code."""

    def __init__(
        self, argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.leader, follower = pty.openpty()
        self.process = subprocess.Popen(
            [str(STATEMGR), *argv],
            cwd=cwd,
            env=dict(env) if env is not None else clean_env(),
            stdin=follower,
            stdout=follower,
            stderr=follower,
        )
        os.close(follower)
        self.screen = ""

    def _read(self, wait: float) -> bool:
        """Read what is there within ``wait`` seconds; False at the end of the output."""
        ready, _, _ = select.select([self.leader], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(self.leader, 65536)
        except OSError:  # EIO: the other side is closed
            return False
        if not chunk:
            return False
        self.screen += chunk.decode(errors="replace")
        return True

    def read_until(self, text: str, limit: float = 30.0) -> str:
        deadline = time.monotonic() + limit
        while text not in self.screen:
            if time.monotonic() > deadline or not self._read(0.1):
                raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen}")
        return self.screen

    def type(self, text: str) -> None:
        os.write(self.leader, text.encode())

    def finish(self, limit: float = 60.0) -> int:
        deadline = time.monotonic() + limit
        while self._read(0.1) and time.monotonic() < deadline:
            pass
        code = self.process.wait(timeout=max(1.0, deadline - time.monotonic()))
        os.close(self.leader)
        return code
