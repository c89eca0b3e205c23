"""Storage of snapshots behind one interface (``Store``); the file store is the default."""

from statemgr.store.base import EnvironmentLock, Listing, LockHolder, Store

__all__ = ["EnvironmentLock", "Listing", "LockHolder", "Store"]
