"""Fixtures of the store tests: a workspace in a temp folder, with or without an environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from statemgr.model import Snapshot
from statemgr.store import FileStore

from .store_support import fresh_snapshot, store_at


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    """A file store over an empty workspace (no data/ folder yet)."""
    return store_at(tmp_path / "workspace")


@pytest.fixture
def web(store: FileStore) -> Snapshot:
    """The environment 'web', created: revision 1 on disk."""
    return store.create(fresh_snapshot("web"))
