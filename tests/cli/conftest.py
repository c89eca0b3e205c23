"""Fixtures of the CLI tests: a workspace of its own for every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty workspace; the tests run in it and STATEMGR_WORKDIR/NO_COLOR are unset."""
    folder = tmp_path / "ws"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("STATEMGR_WORKDIR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    yield folder
