"""Trace files of command runs: data/NAME/traces/<UTC time>-<command>-<id>.log.

The store makes the (empty, private) file; the steps' runners append to it.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _file_time(moment: datetime) -> str:
    """``20261129T130000.123456Z``: sortable, no characters a file name dislikes."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def new_trace_file(traces_dir: Path, command: str) -> Path:
    """Create a new, empty trace file for ``command`` in ``traces_dir`` (0700 / 0600)."""
    traces_dir.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    os.chmod(traces_dir, FOLDER_MODE)
    safe_command = _UNSAFE.sub("_", command) or "command"
    now = datetime.now(UTC)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC
    for _attempt in range(5):
        path = traces_dir / f"{_file_time(now)}-{safe_command}-{secrets.token_hex(3)}.log"
        try:
            descriptor = os.open(path, flags, FILE_MODE)
        except FileExistsError:
            continue
        os.close(descriptor)
        return path
    raise FileExistsError(f"cannot create a new trace file in {traces_dir}")
