"""Storage of snapshots behind one interface (``Store``); the file store is the default."""

from statemgr.store.base import EnvironmentLock, Listing, LockHolder, Store
from statemgr.store.file import FileStore, LineageConflict

__all__ = ["EnvironmentLock", "FileStore", "LineageConflict", "Listing", "LockHolder", "Store"]
