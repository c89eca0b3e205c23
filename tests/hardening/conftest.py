"""Fixtures of the hardening tests (issue 12): workspaces, mounts, a second user."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli.support import workdir  # noqa: F401  (the one workspace fixture)


@pytest.fixture
def shared_root() -> Iterator[Path]:
    """A folder another user (nobody) can reach: pytest's tmp_path is root-only (0700)."""
    if os.geteuid() != 0:
        pytest.skip("needs root: it plays root and a second user (nobody)")
    if shutil.which("runuser") is None:
        pytest.skip("needs runuser to act as a second user")
    root = Path(tempfile.mkdtemp(prefix="statemgr-hardening-"))
    os.chmod(root, 0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def mount(*arguments: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    done = subprocess.run(["mount", *arguments], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({done.stderr.strip() or done.returncode})")


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    """Mount points the test mounts; each is unmounted after it, whatever happened."""
    mounted: list[Path] = []
    try:
        yield mounted
    finally:
        for point in reversed(mounted):
            unmount(point)
