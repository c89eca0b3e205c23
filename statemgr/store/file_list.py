"""``FileStore.list``: every environment's summary, and whether a live command holds it.

A list may read 10,000 environments (it must stay under a second), so it does per
environment only what it must, with the same checks and errors as ``status``:

- data/ is checked once; whether data/NAME is a real folder or a link comes from the
  folder listing itself (a link is checked, and refused, as ``status`` refuses it);
- paths are built as strings, not ``Path`` objects (half of the CPU of a list once);
- the state file is read as ``status`` reads it (``safe_paths.read_file``) and summarized
  by the generated reader, into views (``statemgr.store.reader``);
- the kernel's list of locks is read once for all, after the state files, as ``status``
  probes after it reads (a command that finished meanwhile makes one look interrupted,
  and the caller asks again then); only an environment whose lock file's inode has a
  flock in that list is asked about (``holders.live_holder``).
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from statemgr.errors import EnvironmentNotFound, StatemgrError
from statemgr.store.base import Listing
from statemgr.store.holders import flock_inodes, live_holder

if TYPE_CHECKING:
    from statemgr.store.file import FileStore


def list_environments(store: FileStore) -> list[Listing]:
    """What ``FileStore.list`` returns: a ``Listing`` for each folder under data/ with a
    valid name, sorted by name (a folder without a state file is not an environment)."""
    base = str(store.layout.data_root)
    listings: list[Listing] = []
    for name, linked in store._entries():
        path = f"{base}/{name}/state.json"
        shown = f"data/{name}/state.json"
        try:
            data = store._read(
                name, path, shown=shown, root_checked=True, folder_checked=not linked
            )
            listings.append(Listing(name, store._summarize(name, path, data, shown)))
        except EnvironmentNotFound:
            continue
        except StatemgrError as error:
            listings.append(Listing(name, None, error))
    locks = store.kernel_locks()
    if locks is None:  # no /proc/locks: the caller asks ``holder`` about each
        return listings
    inodes = flock_inodes(locks)
    return [
        found._replace(held=_held(store, base, found.name, locks, inodes))
        if found.summary
        else found
        for found in listings
    ]


def _held(store: FileStore, base: str, name: str, locks: str, inodes: frozenset[int]) -> bool:
    """Whether a live command holds ``name`` (``live_holder``, asked only when a flock is
    held on its lock file's inode)."""
    try:
        status = os.lstat(f"{base}/{name}/state.lock")
    except OSError:
        return False
    if not stat.S_ISREG(status.st_mode) or status.st_ino not in inodes:
        return False
    return live_holder(store.layout.lock_file(name), locks) is not None
