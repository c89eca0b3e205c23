"""Storage of snapshots behind one interface (``Store``); the file store is the default,
PostgreSQL the shared one. Submodules are imported on first use (``open_store`` picks one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from statemgr.model.traces import TraceRun
    from statemgr.store.base import EnvironmentLock, Listing, LockHolder, OpenedTrace, Store
    from statemgr.store.file import FileStore, LineageConflict
    from statemgr.store.select import open_store

__all__ = [
    "EnvironmentLock",
    "FileStore",
    "LineageConflict",
    "Listing",
    "LockHolder",
    "OpenedTrace",
    "Store",
    "TraceRun",
    "open_store",
]

_HOMES = {
    "EnvironmentLock": "statemgr.store.base",
    "Listing": "statemgr.store.base",
    "LockHolder": "statemgr.store.base",
    "OpenedTrace": "statemgr.store.base",
    "Store": "statemgr.store.base",
    "TraceRun": "statemgr.model.traces",
    "FileStore": "statemgr.store.file",
    "LineageConflict": "statemgr.store.file",
    "open_store": "statemgr.store.select",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
